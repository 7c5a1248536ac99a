#include "tests/core/strategies/strategy_fixture.h"

namespace acd::core::testing {
namespace {

TEST_CASE("best_skill: the most skilled free agent goes first") {
  EngineFixture f(StrategyConfig("best_skill"));
  f.Ready("novice", {{"a", 2}});
  f.Tick(absl::Seconds(30));
  f.Ready("expert", {{"a", 9}});
  f.Ready("middle", {{"a", 5}});
  REQUIRE(f.Enqueue("c1").ok());
  CHECK(f.AgentOf("c1") == "expert");
  REQUIRE(f.Enqueue("c2").ok());
  CHECK(f.AgentOf("c2") == "middle");
  REQUIRE(f.Enqueue("c3").ok());
  CHECK(f.AgentOf("c3") == "novice");
}

TEST_CASE("best_skill counts the contact's own required skills too") {
  EngineFixture f(StrategyConfig("best_skill"));
  f.Ready("a_expert", {{"a", 9}, {"spanish", 1}});
  f.Ready("bilingual", {{"a", 5}, {"spanish", 9}});
  REQUIRE(f.Enqueue("c1", "q", Channel::kVoice, {}, {{"spanish", 1}}).ok());
  CHECK(f.AgentOf("c1") == "bilingual");  // 5 + 9 > 9 + 1
}

}  // namespace
}  // namespace acd::core::testing
