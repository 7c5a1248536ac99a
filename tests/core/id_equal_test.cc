#include "engine/core/id_equal.h"

#include <string>

#include <catch2/catch.hpp>

namespace acd::core {
namespace {

TEST_CASE("IdEqual agrees with string equality at every length and every differing byte") {
  // Lengths around each path's edges (0, 1-3, 4-7, 8-16, longer), each byte changed in
  // turn, and strings that differ only in length.
  for (size_t n = 0; n <= 40; ++n) {
    std::string a(n, 'x');
    for (size_t i = 0; i < n; ++i) a[i] = static_cast<char>('a' + (i * 7) % 26);
    const std::string same = a;  // another buffer
    CHECK(IdEqual(a, same));
    for (size_t i = 0; i < n; ++i) {
      std::string b = a;
      b[i] = static_cast<char>(b[i] ^ 0x20);
      INFO("length " << n << ", byte " << i);
      CHECK_FALSE(IdEqual(a, b));
      CHECK_FALSE(IdEqual(b, a));
    }
    CHECK_FALSE(IdEqual(a, a + "x"));
    CHECK_FALSE(IdEqual(a + "x", a));
  }
  // Bytes of any value, not only text.
  const std::string zeros("\0\0\0\0\0\0\0\0\0", 9);
  std::string high("\0\0\0\0\0\0\0\0\0", 9);
  high[4] = '\xff';
  CHECK_FALSE(IdEqual(zeros, high));
  CHECK(IdEqual(absl::string_view(), absl::string_view("")));
}

TEST_CASE("NameIndex finds names by string_view") {
  NameIndex<int> index;
  index.emplace("cardiology", 1);
  index.emplace("cardiology-2", 2);
  CHECK(index.find(absl::string_view("cardiology"))->second == 1);
  CHECK(index.find(absl::string_view("cardiology-2"))->second == 2);
  CHECK(index.find(absl::string_view("cardiology-3")) == index.end());
}

}  // namespace
}  // namespace acd::core
