// WallClock: the production Clock for the core: absl::Now(). The core reads it on the
// core thread at the start of every command; it treats a reading that goes backwards as
// equal to the previous one, so a stepped system clock cannot run the core backwards.
// Thread-safety: Now() and NowUnixMicros() are safe from any thread.
#ifndef ACD_ENGINE_SERVER_WALL_CLOCK_H_
#define ACD_ENGINE_SERVER_WALL_CLOCK_H_

#include "absl/time/clock.h"
#include "engine/core/clock.h"

namespace acd::server {

class WallClock final : public core::Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
  // Floor division: the same as absl::ToUnixMicros(Now()), also before 1970.
  int64_t NowUnixMicros() const override {
    const int64_t ns = absl::GetCurrentTimeNanos();
    return ns / 1000 - (ns % 1000 < 0 ? 1 : 0);
  }
};

}  // namespace acd::server

#endif  // ACD_ENGINE_SERVER_WALL_CLOCK_H_
