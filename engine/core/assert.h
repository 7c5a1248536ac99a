// ACD_ASSERT: invariant checks that stay on in release builds.
//
// Following TigerBeetle and Envoy, a broken invariant (a contact offered to two agents,
// an agent over capacity) is a bug that must stop the process rather than corrupt a call
// center's state silently. Cheap checks use ACD_ASSERT and are always compiled in;
// expensive whole-state checks live in Engine::CheckInvariants(), which tests and debug
// builds call. Split `ACD_ASSERT(a && b)` into two asserts so a failure says which.
#ifndef ACD_ENGINE_CORE_ASSERT_H_
#define ACD_ENGINE_CORE_ASSERT_H_

namespace acd::core {

// Prints "file:line: assertion failed: expr" to stderr and aborts. Never returns.
[[noreturn]] void AssertFail(const char* file, int line, const char* expr);

}  // namespace acd::core

#define ACD_ASSERT(expr)                                                  \
  do {                                                                    \
    if (__builtin_expect(!(expr), 0)) {                                   \
      ::acd::core::AssertFail(__FILE__, __LINE__, #expr);                 \
    }                                                                     \
  } while (0)

#endif  // ACD_ENGINE_CORE_ASSERT_H_
