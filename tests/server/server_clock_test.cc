// ServerClock: the wall clock by default; started at a given time and scaled when asked.
#include "engine/server/server_clock.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <limits>
#include <thread>

namespace acd::server {
namespace {

TEST_CASE("the default clock is the wall clock, and NowUnixMicros lies between two Now()s") {
  const ServerClock clock;
  CHECK_FALSE(clock.counted());
  CHECK(clock.speed() == 1);
  for (int i = 0; i < 1000; ++i) {
    const int64_t before = absl::ToUnixMicros(clock.Now());
    const int64_t now = clock.NowUnixMicros();
    const int64_t after = absl::ToUnixMicros(clock.Now());
    REQUIRE(before <= now);
    REQUIRE(now <= after);
  }
  // Speed 1 with no start is the wall clock too.
  absl::StatusOr<ServerClock> same = ServerClock::Create({});
  REQUIRE(same.ok());
  CHECK_FALSE(same->counted());
}

TEST_CASE("a clock started at a given time runs `speed` times as fast as real time") {
  const absl::Time start = absl::FromUnixSeconds(1'795'000'000);
  const auto real_before = std::chrono::steady_clock::now();
  absl::StatusOr<ServerClock> clock = ServerClock::Create({start, 1000});
  REQUIRE(clock.ok());
  CHECK(clock->counted());
  CHECK(clock->speed() == 1000);
  const absl::Time first = clock->Now();
  CHECK(first >= start);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const absl::Time later = clock->Now();
  const auto real_after = std::chrono::steady_clock::now();
  // At least the 20 ms slept, at most the real time that passed around it, times 1000.
  CHECK(later - start >= absl::Seconds(20));
  CHECK(later - start <= absl::FromChrono(real_after - real_before) * 1000);
  // Readings never go backwards, and the microsecond form agrees with Now().
  absl::Time previous = later;
  for (int i = 0; i < 1000; ++i) {
    const int64_t before = absl::ToUnixMicros(clock->Now());
    const int64_t now = clock->NowUnixMicros();
    const absl::Time after = clock->Now();
    REQUIRE(before <= now);
    REQUIRE(now <= absl::ToUnixMicros(after));
    REQUIRE(after >= previous);
    previous = after;
  }
}

TEST_CASE("a clock started now at speed 1 counts from a steady clock") {
  const absl::Time wall_before = absl::Now();
  absl::StatusOr<ServerClock> clock = ServerClock::Create({absl::Now(), 1});
  REQUIRE(clock.ok());
  CHECK(clock->counted());
  CHECK(clock->Now() >= wall_before);
}

TEST_CASE("RealTimeUntil divides the clock time still to run by the speed") {
  absl::StatusOr<ServerClock> clock = ServerClock::Create({absl::FromUnixSeconds(0), 10});
  REQUIRE(clock.ok());
  const absl::Time before = clock->Now();
  const absl::Time target = before + absl::Seconds(10);
  const absl::Duration real = clock->RealTimeUntil(target);
  const absl::Time after = clock->Now();
  CHECK(real <= (target - before) / 10);
  CHECK(real >= (target - after) / 10);
  CHECK(clock->RealTimeUntil(before) == absl::ZeroDuration());  // already past
  CHECK(clock->RealTimeUntil(absl::InfinitePast()) == absl::ZeroDuration());
}

TEST_CASE("a speed that is not a number in range is refused") {
  for (const double speed :
       {0.0, -1.0, 0.0009, 10'001.0, std::nan(""), std::numeric_limits<double>::infinity()}) {
    INFO(speed);
    const absl::StatusOr<ServerClock> clock = ServerClock::Create({std::nullopt, speed});
    CHECK(clock.status().code() == absl::StatusCode::kInvalidArgument);
  }
  CHECK(ServerClock::Create({std::nullopt, ServerClock::kMinSpeed}).ok());
  CHECK(ServerClock::Create({std::nullopt, ServerClock::kMaxSpeed}).ok());
}

TEST_CASE("a start before 1970 or from the year 3000 is refused") {
  const absl::TimeZone utc = absl::UTCTimeZone();
  for (const absl::Time start :
       {absl::UnixEpoch() - absl::Seconds(1), absl::FromCivil(absl::CivilDay(1, 1, 1), utc),
        absl::FromCivil(absl::CivilDay(3000, 1, 1), utc), absl::InfiniteFuture(),
        absl::InfinitePast()}) {
    INFO(start);
    const absl::StatusOr<ServerClock> clock = ServerClock::Create({start, 1});
    CHECK(clock.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(clock.status().message()), Catch::Contains("clock start"));
  }
  CHECK(ServerClock::Create({absl::UnixEpoch(), 1}).ok());
  CHECK(ServerClock::Create({ServerClock::LatestStart() - absl::Seconds(1), 1}).ok());
}

}  // namespace
}  // namespace acd::server
