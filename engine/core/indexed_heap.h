// Binary min-heaps over a std::vector whose entries are told their position, so an entry
// can be removed or re-keyed in O(log n) from outside (a cancelled contact, an agent
// that became busy). `less(a, b)` orders entries; `moved(entry, index)` is called every
// time an entry lands at a new index. Storage is the caller's vector: once warm (its
// capacity reached), no operation allocates. Core thread only.
#ifndef ACD_ENGINE_CORE_INDEXED_HEAP_H_
#define ACD_ENGINE_CORE_INDEXED_HEAP_H_

#include <cstddef>
#include <utility>
#include <vector>

#include "engine/core/assert.h"

namespace acd::core::heap {

template <typename E, typename Less, typename Moved>
void SiftUp(std::vector<E>& h, size_t i, Less less, Moved moved) {
  E item = std::move(h[i]);
  while (i > 0) {
    const size_t parent = (i - 1) / 2;
    if (!less(item, h[parent])) break;
    h[i] = std::move(h[parent]);
    moved(h[i], i);
    i = parent;
  }
  h[i] = std::move(item);
  moved(h[i], i);
}

template <typename E, typename Less, typename Moved>
void SiftDown(std::vector<E>& h, size_t i, Less less, Moved moved) {
  const size_t n = h.size();
  E item = std::move(h[i]);
  while (true) {
    size_t child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && less(h[child + 1], h[child])) ++child;
    if (!less(h[child], item)) break;
    h[i] = std::move(h[child]);
    moved(h[i], i);
    i = child;
  }
  h[i] = std::move(item);
  moved(h[i], i);
}

template <typename E, typename Less, typename Moved>
void Push(std::vector<E>& h, E item, Less less, Moved moved) {
  h.push_back(std::move(item));
  SiftUp(h, h.size() - 1, less, moved);
}

// Removes the entry at index i.
template <typename E, typename Less, typename Moved>
void Erase(std::vector<E>& h, size_t i, Less less, Moved moved) {
  ACD_ASSERT(i < h.size());
  const size_t last = h.size() - 1;
  if (i != last) {
    h[i] = std::move(h[last]);
    h.pop_back();
    moved(h[i], i);
    if (i > 0 && less(h[i], h[(i - 1) / 2])) {
      SiftUp(h, i, less, moved);
    } else {
      SiftDown(h, i, less, moved);
    }
  } else {
    h.pop_back();
  }
}

// Orders all of h as a heap, as after entries were dropped wholesale; tells `moved` the
// index of every entry.
template <typename E, typename Less, typename Moved>
void Make(std::vector<E>& h, Less less, Moved moved) {
  for (size_t i = 0; i < h.size(); ++i) moved(h[i], i);
  for (size_t i = h.size() / 2; i-- > 0;) SiftDown(h, i, less, moved);
}

// Restores order after the entry at index i changed its key.
template <typename E, typename Less, typename Moved>
void Fix(std::vector<E>& h, size_t i, Less less, Moved moved) {
  if (i > 0 && less(h[i], h[(i - 1) / 2])) {
    SiftUp(h, i, less, moved);
  } else {
    SiftDown(h, i, less, moved);
  }
}

// Whether h is ordered as a heap: no entry comes before its parent (for invariant checks).
template <typename E, typename Less>
bool IsHeap(const std::vector<E>& h, Less less) {
  for (size_t i = 1; i < h.size(); ++i) {
    if (less(h[i], h[(i - 1) / 2])) return false;
  }
  return true;
}

}  // namespace acd::core::heap

#endif  // ACD_ENGINE_CORE_INDEXED_HEAP_H_
