// Priority with linear aging, and changing a waiting contact's priority.
#include "tests/core/engine_fixture.h"

namespace acd::core::testing {
namespace {

EngineConfig AgingConfig() {
  EngineConfig config = TestConfig();
  config.queues[0].aging_per_priority_level = absl::Seconds(30);
  return config;
}

TEST_CASE("higher priority is served first") {
  EngineFixture f(AgingConfig());
  REQUIRE(f.Enqueue("low", "q", Channel::kVoice, 0).ok());
  f.Tick(absl::Seconds(10));
  REQUIRE(f.Enqueue("high", "q", Channel::kVoice, 1).ok());
  CHECK(f.engine->GetContact("high")->position == 1);
  CHECK(f.engine->GetContact("low")->position == 2);
  f.Ready("alice");
  CHECK(f.AgentOf("high") == "alice");
}

TEST_CASE("aging lets a long wait overtake a higher priority") {
  EngineFixture f(AgingConfig());
  REQUIRE(f.Enqueue("low", "q", Channel::kVoice, 0).ok());
  f.Tick(absl::Seconds(31));  // one priority level is worth 30 s
  REQUIRE(f.Enqueue("high", "q", Channel::kVoice, 1).ok());
  f.Ready("alice");
  CHECK(f.AgentOf("low") == "alice");
}

TEST_CASE("equal keys go in arrival order") {
  EngineFixture f(AgingConfig());
  REQUIRE(f.Enqueue("first", "q", Channel::kVoice, 0).ok());
  f.Tick(absl::Seconds(30));
  REQUIRE(f.Enqueue("second", "q", Channel::kVoice, 1).ok());  // same key
  f.Ready("alice");
  CHECK(f.AgentOf("first") == "alice");
}

TEST_CASE("changing priority moves a waiting contact") {
  EngineFixture f(AgingConfig());
  REQUIRE(f.Enqueue("c1").ok());
  REQUIRE(f.Enqueue("c2").ok());
  REQUIRE(f.Enqueue("c3").ok());
  REQUIRE(f.engine->ChangePriority("c3", 5).ok());
  CHECK(f.engine->GetContact("c3")->position == 1);
  CHECK(f.engine->GetContact("c1")->position == 2);
  CHECK(f.engine->ChangePriority("c3", 101).code() == absl::StatusCode::kInvalidArgument);
  CHECK(f.engine->ChangePriority("zz", 1).code() == absl::StatusCode::kNotFound);
  CHECK(f.sink.Of(EventType::kContactPriorityChanged).size() == 1);
  f.Ready("alice");
  CHECK(f.AgentOf("c3") == "alice");
  f.engine->CheckInvariants();
}

TEST_CASE("the queue's default priority applies when none is given") {
  EngineConfig config = AgingConfig();
  config.queues[0].default_priority = 3;
  EngineFixture f(config);
  REQUIRE(f.Enqueue("c1").ok());
  CHECK(f.engine->GetContact("c1")->priority == 3);
}

}  // namespace
}  // namespace acd::core::testing
