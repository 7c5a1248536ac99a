// RankIndex: the ranks of the contacts waiting in one queue, in order, so that a caller's
// position (how many wait ahead of it) is counted without visiting them: O(n / kMaxBlock
// + log n) per count, where counting by visiting every waiting contact was O(n) (90 us
// with 100,000 waiting). An IVR that announces positions, and every EnqueueContact reply,
// asks for one.
//
// Ranks are unique 128-bit values ordered as contacts are served (the engine's
// ContactRank: ordering key, then arrival sequence). They are kept in sorted blocks of at
// most kMaxBlock; inserting or erasing one moves at most a block's tail.
//
// Invariants: blocks are sorted, non-empty, and each block's ranks are below the next
// block's; a block holds at least kMaxBlock / 4 ranks unless it is the only one, so there
// are at most 4n / kMaxBlock + 1 blocks. Core thread only.
#ifndef ACD_ENGINE_CORE_RANK_INDEX_H_
#define ACD_ENGINE_CORE_RANK_INDEX_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/core/assert.h"

namespace acd::core {

// The pair (major, minor) as one unsigned 128-bit number that orders as the pair does
// (major's sign bit flipped, so negative keys come first): a heap or an index compares
// such ranks without a branch. The engine ranks contacts by (ordering key, arrival
// sequence) so; the simulator its future events by (time, sequence).
inline unsigned __int128 PairRank(int64_t major, uint64_t minor) {
  return (static_cast<unsigned __int128>(static_cast<uint64_t>(major) ^ (uint64_t{1} << 63))
          << 64) |
         minor;
}

class RankIndex {
 public:
  using Rank = unsigned __int128;
  static constexpr size_t kMaxBlock = 256;

  RankIndex() = default;
  // From ranks in ascending order, each once.
  explicit RankIndex(const std::vector<Rank>& sorted) {
    for (size_t i = 0; i < sorted.size(); i += kMaxBlock / 2) {
      const size_t end = std::min(sorted.size(), i + kMaxBlock / 2);
      blocks_.emplace_back(sorted.begin() + i, sorted.begin() + end);
    }
    if (blocks_.size() > 1 && blocks_.back().size() < kMaxBlock / 4) {  // a short tail
      MergeWithNext(blocks_.size() - 2);
    }
    size_ = sorted.size();
  }

  size_t size() const { return size_; }

  // REQUIRES: `r` is not in the index.
  void Insert(Rank r) {
    ++size_;
    if (blocks_.empty()) {
      blocks_.push_back({r});
      return;
    }
    const size_t i = std::min(BlockFor(r), blocks_.size() - 1);
    std::vector<Rank>& block = blocks_[i];
    auto at = std::lower_bound(block.begin(), block.end(), r);
    ACD_ASSERT(at == block.end() || *at != r);
    block.insert(at, r);
    if (block.size() > kMaxBlock) Split(i);
  }

  // REQUIRES: `r` is in the index.
  void Erase(Rank r) {
    const size_t i = BlockFor(r);
    ACD_ASSERT(i < blocks_.size());
    std::vector<Rank>& block = blocks_[i];
    auto at = std::lower_bound(block.begin(), block.end(), r);
    ACD_ASSERT(at != block.end() && *at == r);
    block.erase(at);
    --size_;
    if (block.size() < kMaxBlock / 4 && blocks_.size() > 1) {
      // Merge with a neighbour: the next one, or the previous for the last block.
      MergeWithNext(i + 1 < blocks_.size() ? i : i - 1);
    } else if (block.empty()) {
      blocks_.clear();  // it was the only block
    }
  }

  // How many ranks in the index are below `r` (`r` itself need not be in it).
  size_t CountBefore(Rank r) const {
    const size_t i = BlockFor(r);
    size_t count = 0;
    for (size_t b = 0; b < i; ++b) count += blocks_[b].size();
    if (i < blocks_.size()) {
      const std::vector<Rank>& block = blocks_[i];
      count += static_cast<size_t>(std::lower_bound(block.begin(), block.end(), r) - block.begin());
    }
    return count;
  }

  // Every rank in ascending order, for invariant checks.
  template <typename F>
  void ForEach(F f) const {
    for (const std::vector<Rank>& block : blocks_) {
      for (Rank r : block) f(r);
    }
  }

  // The structural invariants above (O(n)).
  void CheckInvariants() const {
    size_t total = 0;
    for (size_t b = 0; b < blocks_.size(); ++b) {
      const std::vector<Rank>& block = blocks_[b];
      ACD_ASSERT(!block.empty());
      ACD_ASSERT(block.size() <= kMaxBlock);
      if (blocks_.size() > 1) ACD_ASSERT(block.size() >= kMaxBlock / 4);
      ACD_ASSERT(std::adjacent_find(block.begin(), block.end(), [](Rank x, Rank y) {
                   return !(x < y);
                 }) == block.end());
      if (b > 0) ACD_ASSERT(blocks_[b - 1].back() < block.front());
      total += block.size();
    }
    ACD_ASSERT(total == size_);
  }

 private:
  // The first block whose last rank is >= r (blocks_.size() if none).
  size_t BlockFor(Rank r) const {
    return static_cast<size_t>(
        std::partition_point(blocks_.begin(), blocks_.end(),
                             [r](const std::vector<Rank>& b) { return b.back() < r; }) -
        blocks_.begin());
  }

  // Appends block i + 1 to block i, then splits that in two if it is too big.
  void MergeWithNext(size_t i) {
    std::vector<Rank>& into = blocks_[i];
    const std::vector<Rank>& from = blocks_[i + 1];
    into.insert(into.end(), from.begin(), from.end());
    blocks_.erase(blocks_.begin() + static_cast<std::ptrdiff_t>(i) + 1);
    if (into.size() > kMaxBlock) Split(i);
  }

  void Split(size_t i) {
    std::vector<Rank>& block = blocks_[i];
    const auto half = block.begin() + static_cast<std::ptrdiff_t>(block.size() / 2);
    std::vector<Rank> upper(half, block.end());
    block.erase(half, block.end());
    blocks_.insert(blocks_.begin() + static_cast<std::ptrdiff_t>(i) + 1, std::move(upper));
  }

  std::vector<std::vector<Rank>> blocks_;
  size_t size_ = 0;
};

}  // namespace acd::core

#endif  // ACD_ENGINE_CORE_RANK_INDEX_H_
