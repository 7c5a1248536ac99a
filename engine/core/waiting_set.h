// WaitingSet: the contacts waiting in one requirement class, served in rank order (the
// engine's ContactRank: ordering key, then arrival sequence), with each entry's position
// told to its owner so it can be removed from anywhere (a caller who hangs up).
//
// Contacts mostly arrive in rank order: in a class, every contact of one priority has a
// later arrival than those already waiting. Those go to the back of a FIFO ring, in
// O(1), and the one served next leaves its front in O(1), with no other entry moving.
// Only a contact that ranks ahead of the ring's back (a higher priority, one back from a
// declined offer, one moved in from another queue with its first arrival) goes to a
// binary heap beside the ring. The head is the better of the ring's front and the
// heap's top. (A heap alone moved every dequeue's replacement down all its levels:
// about 300 instructions a decision at scale 1, with 100 waiting, and two stores per
// level.)
//
// An entry removed from inside the ring is left as a tombstone (contact == kDead) until
// it reaches an end; when the ring fills and at least half of it is tombstones, the live
// entries are packed (and told their new positions) instead of growing it.
//
// Positions: a heap entry's is its index; a ring entry's is kRingBit plus its place
// counted from the ring's creation (mod 2^30), which does not change as the front moves
// or the ring grows. Both are non-negative, so -1 can mean "not waiting". Places are
// 32-bit counters that wrap; the ring's capacity (at most 2^29) divides both 2^30 and
// 2^32, so a place and its position name the same slot across either wrap.
//
// Invariants: the ring's entries (tombstones too) are in ascending rank order; its front
// and back are live; the heap is a binary min-heap; every live entry's owner holds its
// position. Storage is one block (header, then the ring), allocated on the first push;
// the heap is allocated on its first entry. Core thread only.
#ifndef ACD_ENGINE_CORE_WAITING_SET_H_
#define ACD_ENGINE_CORE_WAITING_SET_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

#include "engine/core/assert.h"
#include "engine/core/indexed_heap.h"
#include "engine/core/rank_index.h"

namespace acd::core {

struct WaitingEntry {
  int64_t key;
  uint64_t seq;
  uint32_t contact;
};
inline unsigned __int128 RankOf(const WaitingEntry& e) { return PairRank(e.key, e.seq); }

class WaitingSet {
 public:
  static constexpr uint32_t kDead = ~uint32_t{0};
  static constexpr int32_t kRingBit = int32_t{1} << 30;

  WaitingSet() = default;
  WaitingSet(const WaitingSet&) = delete;
  WaitingSet& operator=(const WaitingSet&) = delete;
  WaitingSet(WaitingSet&& other) noexcept : block_(std::exchange(other.block_, nullptr)) {}
  WaitingSet& operator=(WaitingSet&& other) noexcept {
    if (this != &other) {
      Free(block_);
      block_ = std::exchange(other.block_, nullptr);
    }
    return *this;
  }
  ~WaitingSet() { Free(block_); }

  size_t size() const {
    if (block_ == nullptr) return 0;
    return (block_->end - block_->begin) - block_->tombs + HeapSize();
  }
  bool empty() const { return size() == 0; }

  // The entry served next. REQUIRES: !empty().
  const WaitingEntry& front() const {
    const Block& b = *block_;
    const bool ring = b.begin != b.end;
    if (b.heap == nullptr || b.heap->empty()) return b.ring()[b.begin & b.mask];
    const WaitingEntry& top = b.heap->front();
    if (!ring) return top;
    const WaitingEntry& first = b.ring()[b.begin & b.mask];
    return RankOf(top) < RankOf(first) ? top : first;
  }

  // The live entry at `pos` (a position told to its owner).
  const WaitingEntry& at(int32_t pos) const { return Slot(pos); }

  // Adds `e`; `moved(entry, pos)` is told the position of every entry placed or moved.
  // Returns false if the head is certainly unchanged (`e` joined the back of a non-empty
  // ring), true if it may have changed (`e` started the ring, or went to the heap).
  template <typename Moved>
  bool Push(const WaitingEntry& e, Moved moved) {
    ACD_ASSERT(e.contact != kDead);
    if (block_ == nullptr) block_ = Allocate(kInitialRing);
    Block& b = *block_;
    if (b.begin == b.end || !(RankOf(e) < RankOf(b.ring()[(b.end - 1) & b.mask]))) {
      const bool head_may_change = b.begin == b.end;  // else e ranks behind the front
      if (b.end - b.begin == b.mask + 1) MakeRoom(moved);
      Block& r = *block_;  // MakeRoom may have replaced the block
      r.ring()[r.end & r.mask] = e;
      moved(e, RingPos(r.end));
      ++r.end;
      return head_may_change;
    }
    if (b.heap == nullptr) b.heap = new std::vector<WaitingEntry>();
    heap::Push(*b.heap, e, Less, HeapMoved(moved));
    return true;
  }

  // Removes the entry at `pos`.
  template <typename Moved>
  void Erase(int32_t pos, Moved moved) {
    ACD_ASSERT(pos >= 0);
    Block& b = *block_;
    if ((pos & kRingBit) == 0) {
      ACD_ASSERT(b.heap != nullptr && static_cast<size_t>(pos) < b.heap->size());
      heap::Erase(*b.heap, static_cast<size_t>(pos), Less, HeapMoved(moved));
      return;
    }
    WaitingEntry& slot = Slot(pos);
    ACD_ASSERT(slot.contact != kDead);
    slot.contact = kDead;
    ++b.tombs;
    while (b.begin != b.end && b.ring()[b.begin & b.mask].contact == kDead) {
      ++b.begin;
      --b.tombs;
    }
    while (b.begin != b.end && b.ring()[(b.end - 1) & b.mask].contact == kDead) {
      --b.end;
      --b.tombs;
    }
  }

  // Gives the entry at `pos` the ordering key `key` and puts it in its new place.
  template <typename Moved>
  void Rekey(int32_t pos, int64_t key, Moved moved) {
    if ((pos & kRingBit) == 0) {
      std::vector<WaitingEntry>& h = *block_->heap;
      h[static_cast<size_t>(pos)].key = key;
      heap::Fix(h, static_cast<size_t>(pos), Less, HeapMoved(moved));
      return;
    }
    WaitingEntry e = Slot(pos);
    e.key = key;
    Erase(pos, moved);
    Push(e, moved);
  }

  // Calls f(entry) for every live entry, in no particular order.
  template <typename F>
  void ForEach(F f) const {
    if (block_ == nullptr) return;
    const Block& b = *block_;
    for (uint32_t i = b.begin; i != b.end; ++i) {
      const WaitingEntry& e = b.ring()[i & b.mask];
      if (e.contact != kDead) f(e);
    }
    if (b.heap != nullptr) {
      for (const WaitingEntry& e : *b.heap) f(e);
    }
  }

  // For an empty set: frees its storage if it holds more than `keep` entries' worth, so
  // a class that once had a long queue does not keep the memory after it is retired.
  void ReleaseIfLarge(size_t keep) {
    ACD_ASSERT(empty());
    if (block_ == nullptr) return;
    if (block_->mask + 1 > keep || (block_->heap != nullptr && block_->heap->capacity() > keep)) {
      Free(std::exchange(block_, nullptr));
    }
  }

  // For tests: an empty set counts its ring's places from `place` instead of 0, so a test
  // reaches the wrap of the places (at 2^32) and of the positions (at 2^30) in a few
  // thousand pushes rather than billions. REQUIRES: empty().
  void StartPlacesAtForTest(uint32_t place) {
    ACD_ASSERT(empty());
    if (block_ == nullptr) block_ = Allocate(kInitialRing);
    block_->begin = block_->end = place;
  }

  // The invariants above (the owners' positions are checked by the caller, with at()).
  bool Valid() const {
    if (block_ == nullptr) return true;
    const Block& b = *block_;
    if (b.end - b.begin > b.mask + 1) return false;
    uint32_t tombs = 0;
    for (uint32_t i = b.begin; i != b.end; ++i) {
      const WaitingEntry& e = b.ring()[i & b.mask];
      if (e.contact == kDead) ++tombs;
      if (i != b.begin && RankOf(e) < RankOf(b.ring()[(i - 1) & b.mask])) return false;
    }
    if (tombs != b.tombs) return false;
    if (b.begin != b.end && (b.ring()[b.begin & b.mask].contact == kDead ||
                             b.ring()[(b.end - 1) & b.mask].contact == kDead)) {
      return false;
    }
    return b.heap == nullptr || heap::IsHeap(*b.heap, Less);
  }

 private:
  static constexpr uint32_t kInitialRing = 2;  // most classes at scale hold one or two
  static constexpr uint32_t kPosMask = uint32_t{kRingBit} - 1;

  // The header; the ring's mask + 1 entries follow it in the same allocation.
  struct Block {
    uint32_t begin = 0;  // place of the front entry, counted from the ring's creation
    uint32_t end = 0;    // place after the back entry
    uint32_t mask = 0;   // ring capacity - 1 (a power of two)
    uint32_t tombs = 0;  // tombstones between begin and end
    std::vector<WaitingEntry>* heap = nullptr;
    WaitingEntry* ring() { return reinterpret_cast<WaitingEntry*>(this + 1); }
    const WaitingEntry* ring() const { return reinterpret_cast<const WaitingEntry*>(this + 1); }
  };
  static_assert(std::is_trivially_copyable_v<WaitingEntry>);
  static_assert(sizeof(Block) % alignof(WaitingEntry) == 0);

  struct RankLess {
    bool operator()(const WaitingEntry& a, const WaitingEntry& b) const {
      return RankOf(a) < RankOf(b);
    }
  };
  static constexpr RankLess Less{};
  static int32_t RingPos(uint32_t place) { return kRingBit | static_cast<int32_t>(place & kPosMask); }
  template <typename Moved>
  static auto HeapMoved(Moved& moved) {
    return [&moved](const WaitingEntry& e, size_t i) { moved(e, static_cast<int32_t>(i)); };
  }

  static Block* Allocate(uint32_t capacity) {
    void* raw = ::operator new(sizeof(Block) + capacity * sizeof(WaitingEntry));
    Block* b = new (raw) Block();
    b->mask = capacity - 1;
    return b;
  }
  static void Free(Block* b) {
    if (b == nullptr) return;
    delete b->heap;
    b->~Block();
    ::operator delete(b);
  }

  size_t HeapSize() const { return block_->heap == nullptr ? 0 : block_->heap->size(); }

  WaitingEntry& Slot(int32_t pos) const {
    if ((pos & kRingBit) == 0) return (*block_->heap)[static_cast<size_t>(pos)];
    return block_->ring()[static_cast<uint32_t>(pos) & block_->mask];
  }

  // The ring is full: packs it if at least half of it is tombstones, else doubles it.
  // Doubling keeps every entry's place, so no position changes.
  template <typename Moved>
  void MakeRoom(Moved& moved) {
    Block& b = *block_;
    const uint32_t capacity = b.mask + 1;
    if (b.tombs * 2 >= capacity) {
      uint32_t to = b.begin;
      for (uint32_t from = b.begin; from != b.end; ++from) {
        const WaitingEntry e = b.ring()[from & b.mask];
        if (e.contact == kDead) continue;
        if (to != from) {
          b.ring()[to & b.mask] = e;
          moved(e, RingPos(to));
        }
        ++to;
      }
      b.end = to;
      b.tombs = 0;
      return;
    }
    ACD_ASSERT(capacity <= kPosMask / 2);
    Block* grown = Allocate(capacity * 2);
    grown->begin = b.begin;
    grown->end = b.end;
    grown->tombs = b.tombs;
    grown->heap = std::exchange(b.heap, nullptr);
    for (uint32_t i = b.begin; i != b.end; ++i) {
      grown->ring()[i & grown->mask] = b.ring()[i & b.mask];
    }
    Free(std::exchange(block_, grown));
  }

  Block* block_ = nullptr;
};

}  // namespace acd::core

#endif  // ACD_ENGINE_CORE_WAITING_SET_H_
