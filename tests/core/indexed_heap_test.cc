// The indexed heap against a std::multiset: random pushes, erases at any index (the
// root, as a dequeue; anywhere, as a cancellation) and re-keys, with the heap order and
// every entry's reported index checked after each operation.
#include "engine/core/indexed_heap.h"

#include <catch2/catch.hpp>

#include <set>
#include <vector>

#include "engine/core/random.h"

namespace acd::core {
namespace {

struct Entry {
  uint64_t key;
  uint32_t id;  // index into Tracker::index
};

// Where each id's entry is, as the heap reports it through `moved`.
struct Tracker {
  std::vector<size_t> index;
  auto Moved() {
    return [this](const Entry& e, size_t i) { index[e.id] = i; };
  }
};

bool Less(const Entry& a, const Entry& b) { return a.key < b.key; }

void CheckHeap(const std::vector<Entry>& h, const Tracker& tracker,
               const std::multiset<uint64_t>& keys) {
  REQUIRE(h.size() == keys.size());
  for (size_t i = 0; i < h.size(); ++i) {
    REQUIRE(tracker.index[h[i].id] == i);
    if (i > 0) REQUIRE_FALSE(Less(h[i], h[(i - 1) / 2]));
  }
  if (!h.empty()) REQUIRE(h.front().key == *keys.begin());
}

TEST_CASE("the heap keeps order and positions through pushes, erases and re-keys") {
  Random rng(11);
  std::vector<Entry> heap;
  Tracker tracker;
  std::multiset<uint64_t> keys;
  uint64_t arrival = 0;
  // Grow to a few thousand, shrink to none, grow again: keys mostly rise (arrivals, so
  // the last entry is among the largest, the common case), some are random (priorities).
  for (int phase = 0; phase < 3; ++phase) {
    const size_t target = phase == 1 ? 0 : 2000;
    for (int step = 0; step < 5000; ++step) {
      const bool grow = heap.size() < target ? rng.Uniform(4) != 0 : rng.Uniform(4) == 0;
      const uint64_t op = rng.Uniform(10);
      if (grow || heap.empty()) {
        const uint64_t key = op < 7 ? ++arrival : rng.Uniform(arrival + 1);
        tracker.index.push_back(0);
        heap::Push(heap, Entry{key, static_cast<uint32_t>(tracker.index.size() - 1)}, Less,
                   tracker.Moved());
        keys.insert(key);
      } else if (op < 5) {  // dequeue: the root
        keys.erase(keys.find(heap.front().key));
        heap::Erase(heap, 0, Less, tracker.Moved());
      } else if (op < 8) {  // cancel: anywhere
        const size_t i = rng.Uniform(heap.size());
        keys.erase(keys.find(heap[i].key));
        heap::Erase(heap, i, Less, tracker.Moved());
      } else {  // re-key: anywhere, up or down
        const size_t i = rng.Uniform(heap.size());
        keys.erase(keys.find(heap[i].key));
        heap[i].key = rng.Uniform(arrival + 1);
        keys.insert(heap[i].key);
        heap::Fix(heap, i, Less, tracker.Moved());
      }
      CheckHeap(heap, tracker, keys);
    }
  }
}

TEST_CASE("erasing an entry whose replacement belongs above it sifts that one up") {
  // Root 1; left subtree 10 (children 11, 12); right subtree 2 (child 3). Erasing 11
  // (index 3) brings the last entry, 3, into a place under 10: it must rise above 10.
  std::vector<Entry> heap;
  Tracker tracker;
  std::multiset<uint64_t> keys;
  for (uint64_t key : {1, 10, 2, 11, 12, 3}) {
    tracker.index.push_back(0);
    heap::Push(heap, Entry{key, static_cast<uint32_t>(tracker.index.size() - 1)}, Less,
               tracker.Moved());
    keys.insert(key);
  }
  REQUIRE(heap[3].key == 11);
  keys.erase(keys.find(11));
  heap::Erase(heap, 3, Less, tracker.Moved());
  CheckHeap(heap, tracker, keys);
  CHECK(heap[1].key == 3);
}

TEST_CASE("IsHeap tells a heap from an entry above its parent") {
  std::vector<Entry> h = {{1, 0}, {3, 1}, {2, 2}, {4, 3}};
  CHECK(heap::IsHeap(h, Less));
  h[3].key = 0;  // below its parent (3), and the root
  CHECK_FALSE(heap::IsHeap(h, Less));
  CHECK(heap::IsHeap(std::vector<Entry>{}, Less));
}

}  // namespace
}  // namespace acd::core
