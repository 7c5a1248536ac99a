// LatencyHistogram: records nanosecond latencies into log-linear buckets (HdrHistogram
// style: 64 sub-buckets per power of two, <1.6% error) so benchmarks can report p50, p99
// and p99.9 without storing every sample. Fixed memory; recording never allocates.
#ifndef ACD_BENCHMARKS_LATENCY_HISTOGRAM_H_
#define ACD_BENCHMARKS_LATENCY_HISTOGRAM_H_

#include <array>
#include <bit>
#include <cstdint>

namespace acd::bench {

class LatencyHistogram {
 public:
  void Record(uint64_t ns) {
    ++counts_[Index(ns)];
    ++total_;
  }

  // The smallest recorded value v such that a fraction q of samples are <= v (upper edge
  // of its bucket). 0 if empty.
  uint64_t Quantile(double q) const {
    if (total_ == 0) return 0;
    const uint64_t rank = static_cast<uint64_t>(q * static_cast<double>(total_ - 1)) + 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= rank) return UpperEdge(i);
    }
    return UpperEdge(counts_.size() - 1);
  }

  uint64_t count() const { return total_; }

  // How many samples were above v, to the histogram's resolution: whole buckets whose
  // lower edge is above v.
  uint64_t CountAbove(uint64_t v) const {
    uint64_t above = 0;
    for (size_t i = Index(v) + 1; i < counts_.size(); ++i) above += counts_[i];
    return above;
  }

 private:
  static constexpr int kSubBits = 6;  // 64 sub-buckets per power of two
  static constexpr size_t kBuckets = (64 - kSubBits + 1) << kSubBits;

  static size_t Index(uint64_t v) {
    if (v < (1u << kSubBits)) return static_cast<size_t>(v);
    const int msb = 63 - std::countl_zero(v);
    const int shift = msb - kSubBits;
    const uint64_t sub = (v >> shift) & ((1u << kSubBits) - 1);
    return (static_cast<size_t>(shift + 1) << kSubBits) + sub;
  }
  static uint64_t UpperEdge(size_t index) {
    if (index < (1u << kSubBits)) return index;
    const int shift = static_cast<int>(index >> kSubBits) - 1;
    const uint64_t sub = index & ((1u << kSubBits) - 1);
    return (((uint64_t{1} << kSubBits) | sub) << shift) + ((uint64_t{1} << shift) - 1);
  }

  std::array<uint64_t, kBuckets> counts_{};
  uint64_t total_ = 0;
};

}  // namespace acd::bench

#endif  // ACD_BENCHMARKS_LATENCY_HISTOGRAM_H_
