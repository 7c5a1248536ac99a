// WallClock: its microsecond reading is absl::Now() in Unix microseconds.
#include "engine/server/wall_clock.h"

#include <catch2/catch.hpp>

namespace acd::server {
namespace {

TEST_CASE("WallClock's NowUnixMicros lies between two readings of Now()") {
  const WallClock clock;
  for (int i = 0; i < 1000; ++i) {
    const int64_t before = absl::ToUnixMicros(clock.Now());
    const int64_t now = clock.NowUnixMicros();
    const int64_t after = absl::ToUnixMicros(clock.Now());
    REQUIRE(before <= now);
    REQUIRE(now <= after);
  }
}

}  // namespace
}  // namespace acd::server
