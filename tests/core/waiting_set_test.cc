// The waiting set against a std::map of ranks: random arrivals (mostly in rank order, some
// ahead of the back), dequeues of the head, cancellations and re-keys anywhere, with the
// head, the size, the invariants (WaitingSet::Valid) and every entry's reported position
// checked after each operation. The ring's growth, its packing when half of it is
// tombstones, and the heap beside it are all reached. ctest runs one seed of the random
// run; ACD_WAITING_SET_SEEDS=<k> runs k, and ACD_WAITING_SET_SEED=<n> replays one.
#include "engine/core/waiting_set.h"

#include <catch2/catch.hpp>

#include <map>
#include <vector>

#include "engine/core/random.h"
#include "tests/core/test_seeds.h"

namespace acd::core {
namespace {

using Rank = unsigned __int128;

// Where each contact's entry is, as the set reports it through `moved`; -1 if not in it.
struct Model {
  std::vector<int32_t> pos;
  std::map<Rank, uint32_t> ranks;  // rank -> contact: the order the set must serve in
  auto Moved() {
    return [this](const WaitingEntry& e, int32_t p) { pos[e.contact] = p; };
  }
};

void Check(const WaitingSet& set, const Model& model) {
  REQUIRE(set.Valid());
  REQUIRE(set.size() == model.ranks.size());
  REQUIRE(set.empty() == model.ranks.empty());
  if (!set.empty()) REQUIRE(set.front().contact == model.ranks.begin()->second);
  size_t visited = 0;
  set.ForEach([&](const WaitingEntry& e) {
    ++visited;
    REQUIRE(model.ranks.count(RankOf(e)) == 1);
    REQUIRE(model.ranks.at(RankOf(e)) == e.contact);
  });
  REQUIRE(visited == model.ranks.size());
  for (const auto& [rank, contact] : model.ranks) {
    const int32_t p = model.pos[contact];
    REQUIRE(p >= 0);
    REQUIRE(set.at(p).contact == contact);
    REQUIRE(RankOf(set.at(p)) == rank);
  }
}

// A live contact, drawn at random from the model.
uint32_t AnyContact(Random& rng, const Model& model) {
  auto it = model.ranks.begin();
  std::advance(it, static_cast<long>(rng.Uniform(model.ranks.size())));
  return it->second;
}

// Pushes contacts n, n + 1, ... up to `count` in all, keys from 100 and sequences in
// arrival order: each ranks behind the one before, so all go to the ring.
void Arrive(WaitingSet& set, Model& model, uint32_t count) {
  while (model.pos.size() < count) {
    const uint32_t c = static_cast<uint32_t>(model.pos.size());
    model.pos.push_back(-1);
    const WaitingEntry e{100 + c, c + 1, c};
    model.ranks.emplace(RankOf(e), c);
    set.Push(e, model.Moved());
  }
}

// One random run (see the TEST_CASE below), the ring's places counted from `first_place`.
void RandomRun(uint64_t seed, uint32_t first_place = 0) {
  Random rng(seed);
  WaitingSet set;
  if (first_place != 0) set.StartPlacesAtForTest(first_place);
  Model model;
  uint64_t seq = 0;
  int64_t now = 1000;
  // Grow to a few hundred, shrink to none, grow again, so the ring grows, wraps, packs
  // and empties. Most arrivals rank behind the back (a later arrival of one priority);
  // some rank ahead (a higher priority, an older arrival coming back).
  for (int phase = 0; phase < 4; ++phase) {
    const size_t target = phase % 2 == 1 ? 0 : 300;
    for (int step = 0; step < 4000; ++step) {
      const bool grow = set.size() < target ? rng.Uniform(4) != 0 : rng.Uniform(4) == 0;
      const uint64_t op = rng.Uniform(10);
      if (grow || set.empty()) {
        now += static_cast<int64_t>(rng.Uniform(3));
        const int64_t key = op < 8 ? now : now - static_cast<int64_t>(rng.Uniform(5000));
        const uint32_t contact = static_cast<uint32_t>(model.pos.size());
        model.pos.push_back(-1);
        const WaitingEntry e{key, ++seq, contact};
        const uint32_t head_before = set.empty() ? WaitingSet::kDead : set.front().contact;
        model.ranks.emplace(RankOf(e), contact);
        if (!set.Push(e, model.Moved())) {
          REQUIRE(set.front().contact == head_before);  // "unchanged" must be true
        }
      } else if (op < 4) {  // dequeue: the head
        const uint32_t contact = set.front().contact;
        model.ranks.erase(model.ranks.begin());
        set.Erase(model.pos[contact], model.Moved());
        model.pos[contact] = -1;
      } else if (op < 8) {  // cancel: anywhere (a caller who hangs up)
        const uint32_t contact = AnyContact(rng, model);
        model.ranks.erase(RankOf(set.at(model.pos[contact])));
        set.Erase(model.pos[contact], model.Moved());
        model.pos[contact] = -1;
      } else {  // re-key: a priority change, up or down
        const uint32_t contact = AnyContact(rng, model);
        WaitingEntry e = set.at(model.pos[contact]);
        model.ranks.erase(RankOf(e));
        e.key = now - static_cast<int64_t>(rng.Uniform(10000)) + 5000;
        model.ranks.emplace(RankOf(e), contact);
        set.Rekey(model.pos[contact], e.key, model.Moved());
      }
      Check(set, model);
    }
  }
}

TEST_CASE("the waiting set serves in rank order through arrivals, dequeues, cancels and re-keys") {
  for (uint64_t seed : testing::SeedsFromEnv("ACD_WAITING_SET", 7, 1, 1)) {
    INFO("seed " << seed << " (replay: ACD_WAITING_SET_SEED=" << seed << ")");
    RandomRun(seed);
  }
}

TEST_CASE("the ring's places and positions wrap without losing or misplacing a contact") {
  // A run moves the ring's places forward by several thousand; these start it just
  // before a position's place bits wrap (2^30) and before the place counter itself wraps
  // (2^32), as a class that has served billions of contacts in a long-running center.
  constexpr uint32_t kBeforePositionWrap = (uint32_t{1} << 30) - 2000;
  constexpr uint32_t kBeforePlaceWrap = ~uint32_t{0} - 2000;
  for (uint32_t first_place : {kBeforePositionWrap, kBeforePlaceWrap}) {
    for (uint64_t seed : testing::SeedsFromEnv("ACD_WAITING_SET", 11, 1, 1)) {
      INFO("first place " << first_place << ", seed " << seed
                          << " (replay: ACD_WAITING_SET_SEED=" << seed << ")");
      RandomRun(seed, first_place);
    }
  }
}

TEST_CASE("a ring that is half tombstones is packed, not grown, and tells the moved entries") {
  WaitingSet set;
  Model model;
  // 8 in order fill a ring of 8 (2, 4, then 8); cancelling every other one but the
  // first and last leaves 3 tombstones inside, then 2 more make 5 of 8.
  Arrive(set, model, 8);
  for (uint32_t c : {1u, 2u, 3u, 4u, 6u}) {
    model.ranks.erase(RankOf(set.at(model.pos[c])));
    set.Erase(model.pos[c], model.Moved());
    model.pos[c] = -1;
  }
  Check(set, model);
  const int32_t last_before = model.pos[7];
  model.pos.push_back(-1);
  const WaitingEntry e{200, 9, 8};
  model.ranks.emplace(RankOf(e), 8);
  set.Push(e, model.Moved());  // full (8 places, 3 live): packs
  Check(set, model);
  CHECK(model.pos[7] != last_before);  // moved down, and told so
}

TEST_CASE("an arrival ahead of the back goes beside the ring and is served first") {
  WaitingSet set;
  Model model;
  Arrive(set, model, 3);
  model.pos.push_back(-1);
  const WaitingEntry urgent{50, 4, 3};  // a higher priority: a smaller key
  model.ranks.emplace(RankOf(urgent), 3);
  set.Push(urgent, model.Moved());
  Check(set, model);
  CHECK(set.front().contact == 3);
  CHECK((model.pos[3] & WaitingSet::kRingBit) == 0);  // in the heap
}

TEST_CASE("an emptied set frees storage only above the size it keeps") {
  WaitingSet set;
  Model model;
  Arrive(set, model, 40);
  for (uint32_t c = 0; c < 40; ++c) set.Erase(model.pos[c], model.Moved());
  REQUIRE(set.empty());
  set.ReleaseIfLarge(16);
  REQUIRE(set.empty());
  REQUIRE(set.Valid());
  set.Push(WaitingEntry{1, 1, 0}, model.Moved());  // usable again
  CHECK(set.front().contact == 0);
}

}  // namespace
}  // namespace acd::core
