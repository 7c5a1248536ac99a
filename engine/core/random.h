// Random: a small, fast, seeded generator (SplitMix64) whose output is the same on
// every platform and library version, unlike std:: distributions. The core and the
// simulator draw every random choice from one of these, so a printed seed replays a run.
#ifndef ACD_ENGINE_CORE_RANDOM_H_
#define ACD_ENGINE_CORE_RANDOM_H_

#include <cstdint>

namespace acd::core {

class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}

  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

  // Uniform in [0, n). REQUIRES: n > 0. (Lemire's multiply-shift; the tiny bias is
  // irrelevant for routing and simulation.)
  uint64_t Uniform(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >> 64);
  }

  // Uniform in [0, 1) with 53 random bits.
  double NextDouble() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

 private:
  uint64_t state_;
};

}  // namespace acd::core

#endif  // ACD_ENGINE_CORE_RANDOM_H_
