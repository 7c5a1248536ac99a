// IdEqual: whether two ids or names (contact and agent ids, queue and skill names) are
// the same bytes, compared inline. Every command looks up a few of them (the contact and
// agent indexes, the queue and skill maps), and they are short: as calls into libc's
// memcmp those comparisons were 5-6% of a scale-1 decision cycle (perf). Up to 16 bytes
// this reads each string as at most two overlapping words; longer ones go to memcmp.
// NameIndex: a map keyed by configured names that looks up by string_view and compares
// so.
#ifndef ACD_ENGINE_CORE_ID_EQUAL_H_
#define ACD_ENGINE_CORE_ID_EQUAL_H_

#include <cstdint>
#include <cstring>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"

namespace acd::core {

namespace id_equal_internal {
template <typename Word>
inline bool SameEnds(const char* a, const char* b, size_t n) {  // sizeof(Word) <= n <= 2x
  Word a0, b0, a1, b1;
  std::memcpy(&a0, a, sizeof(Word));
  std::memcpy(&b0, b, sizeof(Word));
  std::memcpy(&a1, a + n - sizeof(Word), sizeof(Word));
  std::memcpy(&b1, b + n - sizeof(Word), sizeof(Word));
  return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}
}  // namespace id_equal_internal

inline bool IdEqual(absl::string_view a, absl::string_view b) {
  const size_t n = a.size();
  if (n != b.size()) return false;
  const char* x = a.data();
  const char* y = b.data();
  if (n >= 8) {
    if (n > 16) return std::memcmp(x, y, n) == 0;
    return id_equal_internal::SameEnds<uint64_t>(x, y, n);
  }
  if (n >= 4) return id_equal_internal::SameEnds<uint32_t>(x, y, n);
  if (n == 0) return true;
  // 1-3 bytes: the first, middle and last are all of them.
  return x[0] == y[0] && x[n / 2] == y[n / 2] && x[n - 1] == y[n - 1];
}

struct NameHash {
  using is_transparent = void;
  size_t operator()(absl::string_view name) const { return absl::Hash<absl::string_view>{}(name); }
};
struct NameEq {
  using is_transparent = void;
  bool operator()(absl::string_view a, absl::string_view b) const { return IdEqual(a, b); }
};
template <typename Value>
using NameIndex = absl::flat_hash_map<std::string, Value, NameHash, NameEq>;

}  // namespace acd::core

#endif  // ACD_ENGINE_CORE_ID_EQUAL_H_
