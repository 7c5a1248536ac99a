#include "engine/core/assert.h"

#include <cstdio>
#include <cstdlib>

namespace acd::core {

void AssertFail(const char* file, int line, const char* expr) {
  // The one place the core writes anywhere: a crash report, then abort.
  std::fprintf(stderr, "%s:%d: assertion failed: %s\n", file, line, expr);
  std::fflush(stderr);
  std::abort();
}

}  // namespace acd::core
