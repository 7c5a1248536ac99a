// An agent who serves several queues takes the contact that ranks first across all of
// them (priority with aging, then arrival), whatever queue it is in.
#include "tests/core/engine_fixture.h"

namespace acd::core::testing {
namespace {

EngineConfig ThreeQueues() {
  QueueConfig scheduling, billing, triage;
  scheduling.name = "scheduling";
  scheduling.requirements = {{"a", 1}};
  billing.name = "billing";
  billing.requirements = {{"b", 1}};
  triage.name = "triage";
  triage.requirements = {{"c", 1}};
  triage.default_priority = 10;
  return TestConfig({scheduling, billing, triage});
}

TEST_CASE("an agent in several queues takes the oldest contact across them") {
  EngineFixture f(ThreeQueues());
  REQUIRE(f.Enqueue("s1", "scheduling").ok());
  f.Tick(absl::Seconds(1));
  REQUIRE(f.Enqueue("b1", "billing").ok());
  f.Tick(absl::Seconds(1));
  REQUIRE(f.Enqueue("s2", "scheduling").ok());
  f.Ready("alice", {{"a", 1}, {"b", 1}});
  CHECK(f.AgentOf("s1") == "alice");
  REQUIRE(f.engine->Accept("alice", "s1").ok());
  REQUIRE(f.engine->Complete("alice", "s1").ok());
  CHECK(f.AgentOf("b1") == "alice");
  REQUIRE(f.engine->Accept("alice", "b1").ok());
  REQUIRE(f.engine->Complete("alice", "b1").ok());
  CHECK(f.AgentOf("s2") == "alice");
  f.engine->CheckInvariants();
}

TEST_CASE("a high-priority queue wins over older contacts elsewhere") {
  EngineFixture f(ThreeQueues());
  REQUIRE(f.Enqueue("s1", "scheduling").ok());
  f.Tick(absl::Seconds(60));
  REQUIRE(f.Enqueue("t1", "triage").ok());  // priority 10 x 60 s aging = 600 s ahead
  f.Ready("nurse", {{"a", 1}, {"c", 1}});
  CHECK(f.AgentOf("t1") == "nurse");
  CHECK(f.StateOf("s1") == ContactState::kWaiting);
}

TEST_CASE("contacts with their own requirements go only to agents who meet them") {
  EngineFixture f(ThreeQueues());
  REQUIRE(f.Enqueue("s1", "scheduling", Channel::kVoice, {}, {{"spanish", 4}}).ok());
  REQUIRE(f.Enqueue("s2", "scheduling").ok());
  f.Ready("english", {{"a", 5}});
  CHECK(f.AgentOf("s2") == "english");
  f.Ready("weak_spanish", {{"a", 5}, {"spanish", 3}});
  CHECK(f.StateOf("s1") == ContactState::kWaiting);
  f.Ready("spanish", {{"a", 5}, {"spanish", 4}});
  CHECK(f.AgentOf("s1") == "spanish");
  f.engine->CheckInvariants();
}

}  // namespace
}  // namespace acd::core::testing
