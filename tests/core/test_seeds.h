// Seeds for the randomized core tests, taken from the environment so that a failure can
// be replayed and a campaign can run many more seeds than ctest does:
//   <PREFIX>_SEED=n    runs that one seed (the one a failure printed);
//   <PREFIX>_SEEDS=k   runs k seeds: first, first + stride, ... (default: default_count).
// Tests only.
#ifndef ACD_TESTS_CORE_TEST_SEEDS_H_
#define ACD_TESTS_CORE_TEST_SEEDS_H_

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace acd::core::testing {

// The environment variable `name` as a number, or `fallback` if it is not set.
inline uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v == nullptr ? fallback : std::strtoull(v, nullptr, 10);
}

inline std::vector<uint64_t> SeedsFromEnv(const std::string& prefix, uint64_t first,
                                          uint64_t stride, uint64_t default_count) {
  if (const char* one = std::getenv((prefix + "_SEED").c_str()); one != nullptr) {
    return {std::strtoull(one, nullptr, 10)};
  }
  std::vector<uint64_t> seeds;
  const uint64_t count = EnvOr((prefix + "_SEEDS").c_str(), default_count);
  for (uint64_t i = 0; i < count; ++i) seeds.push_back(first + i * stride);
  return seeds;
}

}  // namespace acd::core::testing

#endif  // ACD_TESTS_CORE_TEST_SEEDS_H_
