#include "tests/core/strategies/strategy_fixture.h"

namespace acd::core::testing {
namespace {

TEST_CASE("fewest_handled: the agent with the fewest completed contacts goes first") {
  EngineFixture f(StrategyConfig("fewest_handled"));
  f.Ready("a1");
  f.Tick(absl::Seconds(10));
  CHECK(Handle(f, "c1") == "a1");
  f.Tick(absl::Seconds(10));
  f.Ready("a2");
  f.Tick(absl::Seconds(100));  // a1 has now been idle longer than a2
  CHECK(Handle(f, "c2") == "a2");  // but a1 handled one already
  CHECK(Handle(f, "c3") == "a1");  // 1 each: a1 idle longer
}

}  // namespace
}  // namespace acd::core::testing
