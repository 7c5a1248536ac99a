#include "tests/core/strategies/strategy_fixture.h"

namespace acd::core::testing {
namespace {

TEST_CASE("longest_idle: the agent free the longest goes first") {
  EngineFixture f(StrategyConfig("longest_idle"));
  f.Ready("a1");
  f.Tick(absl::Seconds(10));
  f.Ready("a2");
  f.Tick(absl::Seconds(10));
  CHECK(Handle(f, "c1") == "a1");  // idle 20 s vs 10 s
  f.Tick(absl::Seconds(1));
  CHECK(Handle(f, "c2") == "a2");  // a1 just finished
  f.Tick(absl::Seconds(1));
  CHECK(Handle(f, "c3") == "a1");
}

}  // namespace
}  // namespace acd::core::testing
