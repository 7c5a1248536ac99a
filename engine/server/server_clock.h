// ServerClock: acdd's Clock for the core.
//
// By default it is the wall clock, absl::Now(). For demos and load tests it can instead
// start at a given time and run `speed` times as fast as real time (acdd --clock-start,
// --clock-speed): a scenario played X times faster (acd-sim load --speed X) against a server
// whose clock starts at the scenario's start and runs at X then meets business hours,
// holidays, offer timeouts, wrap-ups and maximum waits when the scenario does. Every time
// the server reports (snapshots, waits, EWTs, offers' expiry) is then in the clock's time.
//
// Invariants: a reading is never earlier than the one before it when scaled or started
// (those count from a steady clock, so stepping the system clock does not move them); the
// plain wall clock follows the system clock, and the core treats a reading that goes
// backwards as equal to the previous one. speed() is finite and in [kMinSpeed, kMaxSpeed].
// Thread-safety: every method is const and safe from any thread.
#ifndef ACD_ENGINE_SERVER_SERVER_CLOCK_H_
#define ACD_ENGINE_SERVER_SERVER_CLOCK_H_

#include <chrono>
#include <cmath>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "engine/core/clock.h"

namespace acd::server {

class ServerClock final : public core::Clock {
 public:
  static constexpr double kMinSpeed = 0.001;
  static constexpr double kMaxSpeed = 10'000;
  // Starts allowed: a demo's or a load test's dates. From the latest start at the highest
  // speed, the clock takes months of real time to leave what a protobuf Timestamp holds
  // (year 9999).
  static constexpr absl::Time kEarliestStart = absl::UnixEpoch();
  static absl::Time LatestStart() {
    return absl::FromCivil(absl::CivilDay(3000, 1, 1), absl::UTCTimeZone());
  }

  struct Options {
    std::optional<absl::Time> start;  // the first reading; nullopt: now
    double speed = 1;                 // clock seconds per real second
  };

  // The wall clock.
  ServerClock() = default;

  // INVALID_ARGUMENT if the speed is not a number in [kMinSpeed, kMaxSpeed], or the start
  // not in [kEarliestStart, LatestStart()).
  [[nodiscard]] static absl::StatusOr<ServerClock> Create(const Options& options) {
    if (!std::isfinite(options.speed) || options.speed < kMinSpeed || options.speed > kMaxSpeed) {
      return absl::InvalidArgumentError(absl::StrCat(
          "clock speed ", options.speed, " is not between ", kMinSpeed, " and ", kMaxSpeed));
    }
    if (options.start.has_value() &&
        (*options.start < kEarliestStart || *options.start >= LatestStart())) {
      return absl::InvalidArgumentError(absl::StrCat(
          "clock start ", absl::FormatTime(absl::RFC3339_sec, *options.start, absl::UTCTimeZone()),
          " is not between 1970-01-01 and 3000-01-01"));
    }
    ServerClock clock;
    if (options.start.has_value() || options.speed != 1) {
      clock.counted_ = true;
      clock.speed_ = options.speed;
      clock.start_ = options.start.value_or(absl::Now());
      clock.anchor_ = std::chrono::steady_clock::now();
    }
    return clock;
  }

  absl::Time Now() const override {
    if (!counted_) return absl::Now();
    return start_ + absl::FromChrono(std::chrono::steady_clock::now() - anchor_) * speed_;
  }
  // Floor division: the same as absl::ToUnixMicros(Now()), also before 1970.
  int64_t NowUnixMicros() const override {
    if (counted_) return absl::ToUnixMicros(Now());
    const int64_t ns = absl::GetCurrentTimeNanos();
    return ns / 1000 - (ns % 1000 < 0 ? 1 : 0);
  }

  double speed() const { return speed_; }
  // False for the wall clock.
  bool counted() const { return counted_; }

  // The real time until this clock reads `t`: (t - Now()) / speed, zero if it already has.
  absl::Duration RealTimeUntil(absl::Time t) const {
    const absl::Duration ahead = t - Now();
    return ahead <= absl::ZeroDuration() ? absl::ZeroDuration() : ahead / speed_;
  }

 private:
  bool counted_ = false;  // counts from anchor_ rather than reading the wall clock
  double speed_ = 1;
  absl::Time start_;
  std::chrono::steady_clock::time_point anchor_;
};

}  // namespace acd::server

#endif  // ACD_ENGINE_SERVER_SERVER_CLOCK_H_
