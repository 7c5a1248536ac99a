#include "tests/core/strategies/strategy_fixture.h"

namespace acd::core::testing {
namespace {

TEST_CASE("preferred_agent: the preferred agent gets the contact even if others idle longer") {
  EngineFixture f(StrategyConfig("preferred_agent", {{"fallback_after_seconds", "45"}}));
  f.Ready("a1");
  f.Tick(absl::Seconds(60));
  f.Ready("a2");
  EnqueueRequest r;
  r.contact_id = "c1";
  r.queue = "q";
  r.preferred_agent_id = "a2";
  REQUIRE(f.engine->Enqueue(r).ok());
  CHECK(f.AgentOf("c1") == "a2");
  // Without a preference it is longest idle.
  REQUIRE(f.Enqueue("c2").ok());
  CHECK(f.AgentOf("c2") == "a1");
}

TEST_CASE("preferred_agent: a busy preferred agent is waited for until the fallback") {
  EngineFixture f(StrategyConfig("preferred_agent", {{"fallback_after_seconds", "45"}}));
  f.Ready("a1");
  f.Ready("a2");
  REQUIRE(f.Enqueue("busy").ok());
  REQUIRE(f.engine->Accept("a1", "busy").ok());
  EnqueueRequest r;
  r.contact_id = "c1";
  r.queue = "q";
  r.preferred_agent_id = "a1";
  REQUIRE(f.engine->Enqueue(r).ok());
  CHECK(f.StateOf("c1") == ContactState::kWaiting);  // a2 is free but not preferred
  f.Tick(absl::Seconds(30));
  REQUIRE(f.engine->Complete("a1", "busy").ok());
  CHECK(f.AgentOf("c1") == "a1");
  f.engine->CheckInvariants();
}

}  // namespace
}  // namespace acd::core::testing
