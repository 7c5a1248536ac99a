// Skill expansion ("bullseye") and the preferred agent's fallback.
#include "tests/core/engine_fixture.h"

namespace acd::core::testing {
namespace {

EngineConfig BullseyeConfig() {
  QueueConfig q;
  q.name = "triage";
  q.requirements = {{"a", 8}};
  q.expansion = {{absl::Seconds(30), 5, {}},            // after 30 s: level 5 will do
                 {absl::Seconds(90), 1, {}},            // after 90 s: anyone with the skill
                 {absl::Seconds(180), 0, {{"e", 1}}}};  // after 180 s: the overflow group
  q.max_length = 100;
  return TestConfig({q});
}

TEST_CASE("requirements relax step by step as the contact waits") {
  EngineFixture f(BullseyeConfig());
  f.Ready("level3", {{"a", 3}});
  f.Ready("level6", {{"a", 6}});
  f.Ready("overflow", {{"e", 1}});
  REQUIRE(f.Enqueue("c1", "triage").ok());
  REQUIRE(f.Enqueue("c2", "triage").ok());
  REQUIRE(f.Enqueue("c3", "triage").ok());
  f.Tick(absl::Seconds(29));
  CHECK(f.StateOf("c1") == ContactState::kWaiting);
  f.Tick(absl::Seconds(1));
  CHECK(f.AgentOf("c1") == "level6");  // step 1 reached at 30 s
  REQUIRE(f.engine->Accept("level6", "c1").ok());
  CHECK(f.StateOf("c2") == ContactState::kWaiting);
  f.Tick(absl::Seconds(60));
  CHECK(f.AgentOf("c2") == "level3");  // step 2 at 90 s
  REQUIRE(f.engine->Accept("level3", "c2").ok());
  f.Tick(absl::Seconds(90));
  CHECK(f.AgentOf("c3") == "overflow");  // step 3 at 180 s
  auto expanded = f.sink.Of(EventType::kContactExpanded);
  CHECK(expanded.size() == 6);  // c1 reached step 1, c2 step 2, c3 step 3
  CHECK(f.engine->GetContact("c3")->expansion_step == 3);
  f.engine->CheckInvariants();
}

TEST_CASE("expansion keeps counting while a contact is offered") {
  EngineConfig config = BullseyeConfig();
  config.queues[0].offer_timeout = absl::Seconds(40);
  EngineFixture f(config);
  f.Ready("expert", {{"a", 9}});
  REQUIRE(f.Enqueue("c1", "triage").ok());
  CHECK(f.AgentOf("c1") == "expert");
  f.Ready("level6", {{"a", 6}});
  f.Tick(absl::Seconds(40));  // RONA after step 1 was reached during the offer
  CHECK(f.AgentOf("c1") == "level6");
  f.engine->CheckInvariants();
}

TEST_CASE("language requirements survive expansion") {
  EngineConfig config = BullseyeConfig();
  EngineFixture f(config);
  f.Ready("english_overflow", {{"e", 1}});
  f.Ready("spanish_overflow", {{"e", 1}, {"spanish", 3}});
  EnqueueRequest r;
  r.contact_id = "c1";
  r.queue = "triage";
  r.language = "spanish";
  REQUIRE(f.engine->Enqueue(r).ok());
  f.Tick(absl::Seconds(180));
  CHECK(f.AgentOf("c1") == "spanish_overflow");
}

TEST_CASE("a preferred agent is waited for, then anyone may take the contact") {
  QueueConfig q;
  q.name = "q";
  q.requirements = {{"a", 1}};
  q.strategy = "preferred_agent";
  q.strategy_params = {{"fallback_after_seconds", "20"}};
  EngineFixture f(TestConfig({q}));
  f.Ready("alice");
  f.Ready("bob");
  EnqueueRequest r;
  r.contact_id = "c1";
  r.queue = "q";
  r.preferred_agent_id = "carol";  // not even logged in yet
  REQUIRE(f.engine->Enqueue(r).ok());
  CHECK(f.StateOf("c1") == ContactState::kWaiting);
  r.contact_id = "c2";
  r.preferred_agent_id = "bob";
  REQUIRE(f.engine->Enqueue(r).ok());
  CHECK(f.AgentOf("c2") == "bob");
  REQUIRE(f.engine->Accept("bob", "c2").ok());
  f.Ready("carol");
  CHECK(f.AgentOf("c1") == "carol");
  REQUIRE(f.engine->Accept("carol", "c1").ok());
  r.contact_id = "c3";
  r.preferred_agent_id = "dave";
  REQUIRE(f.engine->Enqueue(r).ok());
  f.Tick(absl::Seconds(19));
  CHECK(f.StateOf("c3") == ContactState::kWaiting);
  f.Tick(absl::Seconds(1));
  CHECK(f.AgentOf("c3") == "alice");
  f.engine->CheckInvariants();
}

TEST_CASE("other strategies ignore a preferred agent") {
  EngineFixture f;
  f.Ready("alice");
  EnqueueRequest r;
  r.contact_id = "c1";
  r.queue = "q";
  r.preferred_agent_id = "carol";
  REQUIRE(f.engine->Enqueue(r).ok());
  CHECK(f.AgentOf("c1") == "alice");
}

}  // namespace
}  // namespace acd::core::testing
