#include "tests/core/strategies/strategy_fixture.h"

namespace acd::core::testing {
namespace {

TEST_CASE("least_occupied: the agent using the least of its capacity goes first") {
  EngineFixture f(StrategyConfig("least_occupied"));
  f.Ready("a1", {{"a", 5}}, {{Channel::kChat, 3}});
  f.Tick(absl::Seconds(10));
  f.Ready("a2", {{"a", 5}}, {{Channel::kChat, 3}});
  REQUIRE(f.Enqueue("c1", "q", Channel::kChat).ok());
  CHECK(f.AgentOf("c1") == "a1");  // both empty: longest idle breaks the tie
  REQUIRE(f.engine->Accept("a1", "c1").ok());
  REQUIRE(f.Enqueue("c2", "q", Channel::kChat).ok());
  CHECK(f.AgentOf("c2") == "a2");  // a1 holds 1 of 3
  REQUIRE(f.engine->Accept("a2", "c2").ok());
  REQUIRE(f.Enqueue("c3", "q", Channel::kChat).ok());
  CHECK(f.AgentOf("c3") == "a1");  // 1 of 3 each: a1 idle since earlier
}

TEST_CASE("least_occupied: longest_idle would choose differently") {
  // The same set-up under longest_idle gives c2 to a1, showing the strategy matters.
  EngineFixture f(StrategyConfig("longest_idle"));
  f.Ready("a1", {{"a", 5}}, {{Channel::kChat, 3}});
  f.Tick(absl::Seconds(10));
  f.Ready("a2", {{"a", 5}}, {{Channel::kChat, 3}});
  REQUIRE(f.Enqueue("c1", "q", Channel::kChat).ok());
  REQUIRE(f.engine->Accept("a1", "c1").ok());
  REQUIRE(f.Enqueue("c2", "q", Channel::kChat).ok());
  CHECK(f.AgentOf("c2") == "a1");
}

}  // namespace
}  // namespace acd::core::testing
