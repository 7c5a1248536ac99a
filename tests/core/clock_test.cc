// FakeClock: its microsecond reading (the core's) always agrees with its absl::Time one.
#include <catch2/catch.hpp>

#include "absl/time/time.h"
#include "engine/core/clock.h"

namespace acd::core::testing {
namespace {

TEST_CASE("FakeClock's NowUnixMicros is ToUnixMicros(Now()) after every move") {
  FakeClock clock;
  CHECK(clock.NowUnixMicros() == absl::ToUnixMicros(clock.Now()));
  clock.Advance(absl::Nanoseconds(1'500));  // sub-microsecond steps add up in Now()
  CHECK(clock.NowUnixMicros() == absl::ToUnixMicros(clock.Now()));
  clock.Advance(absl::Nanoseconds(600));
  CHECK(clock.NowUnixMicros() == absl::ToUnixMicros(clock.Now()));
  clock.Set(absl::FromUnixNanos(-1'500));  // rounded down, as absl does: -2 us
  CHECK(clock.NowUnixMicros() == -2);
  CHECK(FakeClock(absl::FromUnixMicros(42)).NowUnixMicros() == 42);
}

}  // namespace
}  // namespace acd::core::testing
