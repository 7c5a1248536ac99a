// Clock: the only source of time for the core.
//
// The core never reads the system clock. Production code injects a clock that reads
// absl::Now() on the core thread; tests and the simulator inject FakeClock and move it
// by hand, which makes every run replayable. Core thread only.
#ifndef ACD_ENGINE_CORE_CLOCK_H_
#define ACD_ENGINE_CORE_CLOCK_H_

#include <cstdint>

#include "absl/time/time.h"

namespace acd::core {

class Clock {
 public:
  virtual ~Clock() = default;
  // Returns the current time. The engine treats a reading earlier than the previous
  // one as equal to the previous one, so time never runs backwards inside the core.
  virtual absl::Time Now() const = 0;
  // The same reading in whole microseconds since the Unix epoch (rounded down, as
  // absl::ToUnixMicros does), the form the core keeps. It reads the clock once per
  // command, so clocks override this when they can give it without the conversion.
  virtual int64_t NowUnixMicros() const { return absl::ToUnixMicros(Now()); }
};

// A clock that only moves when told to. Starts at the Unix epoch + 1,000,000,000 s.
class FakeClock final : public Clock {
 public:
  FakeClock() = default;
  explicit FakeClock(absl::Time start) { Set(start); }
  absl::Time Now() const override { return now_; }
  int64_t NowUnixMicros() const override { return now_us_; }
  void Set(absl::Time now) {
    now_ = now;
    now_us_ = absl::ToUnixMicros(now);
  }
  void Advance(absl::Duration d) { Set(now_ + d); }

 private:
  absl::Time now_ = absl::FromUnixSeconds(1'000'000'000);
  int64_t now_us_ = int64_t{1'000'000'000} * 1'000'000;  // now_, as NowUnixMicros gives it
};

}  // namespace acd::core

#endif  // ACD_ENGINE_CORE_CLOCK_H_
