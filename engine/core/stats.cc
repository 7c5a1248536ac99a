#include "engine/core/stats.h"

#include <algorithm>

namespace acd::core {

double QueueCounters::service_level() const {
  const int64_t denominator = answered + abandoned;
  if (denominator == 0) return 1.0;
  return static_cast<double>(answered_within_threshold) / static_cast<double>(denominator);
}

absl::Duration QueueCounters::asa() const {
  return answered == 0 ? absl::ZeroDuration() : answered_wait_total() / answered;
}

absl::Duration QueueCounters::aht() const {
  return handled == 0 ? absl::ZeroDuration() : handle_time_total() / handled;
}

double QueueCounters::abandon_rate() const {
  return offered == 0 ? 0.0 : static_cast<double>(abandoned) / static_cast<double>(offered);
}

QueueCounters& QueueCounters::operator+=(const QueueCounters& o) {
  offered += o.offered;
  answered += o.answered;
  answered_within_threshold += o.answered_within_threshold;
  abandoned += o.abandoned;
  overflowed += o.overflowed;
  transferred_out += o.transferred_out;
  handled += o.handled;
  answered_wait_total_us += o.answered_wait_total_us;
  handle_time_total_us += o.handle_time_total_us;
  return *this;
}

RollingCounters::RollingCounters(absl::Duration window)
    : bucket_us_(std::max<int64_t>(1, absl::ToInt64Microseconds(window) / kBuckets)) {
  bucket_period_.fill(-1);
}

QueueCounters& RollingCounters::MoveTo(int64_t now_us) {
  const int64_t period = now_us / bucket_us_;
  const size_t slot = static_cast<size_t>(period % kBuckets);
  if (bucket_period_[slot] != period) {
    buckets_[slot] = QueueCounters{};
    bucket_period_[slot] = period;
  }
  last_start_us_ = period * bucket_us_;
  last_slot_ = slot;
  return buckets_[slot];
}

QueueCounters RollingCounters::Sum(int64_t now_us) const {
  const int64_t newest = now_us / bucket_us_;
  QueueCounters sum;
  for (size_t i = 0; i < kBuckets; ++i) {
    if (bucket_period_[i] > newest - kBuckets && bucket_period_[i] <= newest) sum += buckets_[i];
  }
  return sum;
}

}  // namespace acd::core
