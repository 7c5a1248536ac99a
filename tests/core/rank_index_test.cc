// RankIndex against a std::set: random inserts and erases through many block splits and
// merges, with every count checked.
#include "engine/core/rank_index.h"

#include <catch2/catch.hpp>

#include <iterator>
#include <limits>
#include <set>
#include <utility>
#include <vector>

#include "engine/core/random.h"

namespace acd::core {
namespace {

using Rank = RankIndex::Rank;

// Ranks as the engine makes them: a key in the high half, a sequence in the low.
Rank MakeRank(uint64_t key, uint64_t seq) { return (Rank{key} << 64) | seq; }

size_t Expected(const std::set<Rank>& set, Rank r) {
  return static_cast<size_t>(std::distance(set.begin(), set.lower_bound(r)));
}

TEST_CASE("a pair's rank orders as the pair does, negative keys first") {
  const std::vector<int64_t> keys = {std::numeric_limits<int64_t>::min(), -5, -1, 0, 1, 7,
                                     std::numeric_limits<int64_t>::max()};
  const std::vector<uint64_t> seqs = {0, 1, 42, std::numeric_limits<uint64_t>::max()};
  for (int64_t ka : keys) {
    for (uint64_t sa : seqs) {
      for (int64_t kb : keys) {
        for (uint64_t sb : seqs) {
          INFO("(" << ka << ", " << sa << ") against (" << kb << ", " << sb << ")");
          CHECK((PairRank(ka, sa) < PairRank(kb, sb)) == (std::pair(ka, sa) < std::pair(kb, sb)));
        }
      }
    }
  }
}

TEST_CASE("an empty index counts nothing before any rank") {
  RankIndex index;
  CHECK(index.size() == 0);
  CHECK(index.CountBefore(MakeRank(5, 5)) == 0);
  index.CheckInvariants();
}

TEST_CASE("counts follow inserts and erases, through splits and merges") {
  Random rng(7);
  RankIndex index;
  std::set<Rank> set;
  std::vector<Rank> present;
  // Grow to a few thousand (many splits), shrink to a few (many merges), grow again.
  for (int phase = 0; phase < 3; ++phase) {
    const size_t target = phase == 1 ? 3 : 3000;
    for (int step = 0; step < 6000; ++step) {
      const bool grow = set.size() < target ? rng.Uniform(4) != 0 : rng.Uniform(4) == 0;
      if (grow || present.empty()) {
        // Few distinct keys, as when many callers share a priority and the clock's
        // microsecond: the sequence decides.
        const Rank r = MakeRank(rng.Uniform(8), rng.Uniform(1u << 30));
        if (!set.insert(r).second) continue;
        index.Insert(r);
        present.push_back(r);
      } else {
        const size_t i = rng.Uniform(present.size());
        const Rank r = present[i];
        present[i] = present.back();
        present.pop_back();
        set.erase(r);
        index.Erase(r);
      }
      REQUIRE(index.size() == set.size());
      if (step % 97 == 0) index.CheckInvariants();
      const Rank probe = MakeRank(rng.Uniform(8), rng.Uniform(1u << 30));
      REQUIRE(index.CountBefore(probe) == Expected(set, probe));
      if (!present.empty()) {
        const Rank member = present[rng.Uniform(present.size())];
        REQUIRE(index.CountBefore(member) == Expected(set, member));
      }
    }
    index.CheckInvariants();
  }
  std::vector<Rank> listed;
  index.ForEach([&](Rank r) { listed.push_back(r); });
  CHECK(listed == std::vector<Rank>(set.begin(), set.end()));
}

TEST_CASE("an index built from sorted ranks is the one inserting them makes") {
  for (size_t n : {0u, 1u, 63u, 64u, 129u, 1000u}) {
    std::vector<Rank> sorted;
    for (size_t i = 0; i < n; ++i) sorted.push_back(MakeRank(1, 10 * i));
    RankIndex built(sorted);
    built.CheckInvariants();
    REQUIRE(built.size() == n);
    for (size_t i = 0; i <= n; ++i) REQUIRE(built.CountBefore(MakeRank(1, 10 * i)) == i);
    // It stays valid as it changes.
    for (size_t i = 0; i < n; i += 2) built.Erase(MakeRank(1, 10 * i));
    built.CheckInvariants();
    REQUIRE(built.size() == n / 2);
  }
}

}  // namespace
}  // namespace acd::core
