// Queue statistics: counters over a period, and a rolling window of them.
//
// Definitions (the ones supervisors and the simulator use):
//  - offered: contacts that entered the queue (enqueued, transferred or overflowed in);
//  - answered: accepted by an agent; answered_within_threshold: with a wait (from the
//    contact's first arrival) no longer than the queue's service-level threshold;
//  - service level = answered_within_threshold / (answered + abandoned);
//  - ASA = total wait of answered contacts / answered;
//  - AHT = total handle time (answer to wrap-up end) / handled;
//  - abandon rate = abandoned / offered.
// Core thread only.
#ifndef ACD_ENGINE_CORE_STATS_H_
#define ACD_ENGINE_CORE_STATS_H_

#include <array>
#include <limits>
#include <cstdint>

#include "absl/time/time.h"

namespace acd::core {

struct QueueCounters {
  int64_t offered = 0;
  int64_t answered = 0;
  int64_t answered_within_threshold = 0;
  int64_t abandoned = 0;
  int64_t overflowed = 0;
  int64_t transferred_out = 0;  // transferred away before being answered
  int64_t handled = 0;          // completed, after wrap-up
  // Totals in microseconds, the core's unit: the engine adds to them on every answer
  // and completion, and an int64 add is inline where absl::Duration's += is a call.
  int64_t answered_wait_total_us = 0;
  int64_t handle_time_total_us = 0;

  absl::Duration answered_wait_total() const { return absl::Microseconds(answered_wait_total_us); }
  absl::Duration handle_time_total() const { return absl::Microseconds(handle_time_total_us); }

  double service_level() const;  // 1.0 when nothing was answered or abandoned
  absl::Duration asa() const;
  absl::Duration aht() const;
  double abandon_rate() const;

  QueueCounters& operator+=(const QueueCounters& other);
};

// Counters over the last `window`, kept in kBuckets time buckets: a count recorded at
// time t stays in the window until the bucket holding t is older than the window, so the
// window is exact to within one bucket (window / kBuckets). Memory is fixed.
class RollingCounters {
 public:
  static constexpr int kBuckets = 30;

  explicit RollingCounters(absl::Duration window);

  // Times are Unix microseconds, the core's own clock.
  // The bucket for `now_us`, cleared if it was last used for an older period. Inline for
  // the usual case, a call in the bucket of the previous one (every count an engine
  // command makes goes through here).
  // REQUIRES: `now_us` never decreases between calls.
  QueueCounters& At(int64_t now_us) {
    if (now_us >= last_start_us_ && now_us - last_start_us_ < bucket_us_) {
      return buckets_[last_slot_];
    }
    return MoveTo(now_us);
  }

  // Sum of the buckets inside the window ending at `now_us`.
  QueueCounters Sum(int64_t now_us) const;

 private:
  QueueCounters& MoveTo(int64_t now_us);  // At() for a new bucket

  int64_t bucket_us_;
  std::array<QueueCounters, kBuckets> buckets_{};
  std::array<int64_t, kBuckets> bucket_period_{};  // absolute bucket number held
  // The bucket At() returned last and where its period starts (max: none yet).
  int64_t last_start_us_ = std::numeric_limits<int64_t>::max();
  size_t last_slot_ = 0;
};

}  // namespace acd::core

#endif  // ACD_ENGINE_CORE_STATS_H_
