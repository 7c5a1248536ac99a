// Leaving a queue other than by an answer: max-wait overflow, transfer/escalation, and
// the voice caller who asks for a callback.
#include "tests/core/engine_fixture.h"

namespace acd::core::testing {
namespace {

EngineConfig TwoQueues() {
  QueueConfig refills;
  refills.name = "refills";
  refills.channels = {Channel::kVoice, Channel::kCallback};
  refills.requirements = {{"a", 1}};
  refills.max_wait = absl::Seconds(120);
  refills.overflow_queue = "general";
  QueueConfig general;
  general.name = "general";
  general.channels = {Channel::kVoice, Channel::kCallback};
  general.requirements = {{"b", 1}};
  general.max_wait = absl::Seconds(300);  // no overflow target: the contact leaves
  return TestConfig({refills, general});
}

TEST_CASE("max wait overflows to the target queue, keeping the first arrival") {
  EngineFixture f(TwoQueues());
  REQUIRE(f.Enqueue("c1", "refills").ok());
  f.Tick(absl::Seconds(119));
  CHECK(f.engine->GetContact("c1")->queue == "refills");
  f.Tick(absl::Seconds(1));
  auto status = f.engine->GetContact("c1");
  CHECK(status->queue == "general");
  CHECK(status->state == ContactState::kWaiting);
  CHECK(status->waited == absl::Seconds(120));
  auto overflowed = f.sink.Of(EventType::kContactOverflowed);
  REQUIRE(overflowed.size() == 1);
  CHECK(overflowed[0].from_queue == "refills");
  CHECK(overflowed[0].queue == "general");
  CHECK(f.Queue("refills").total.overflowed == 1);
  CHECK(f.Queue("general").total.offered == 1);
  f.Ready("bob", {{"b", 1}});
  CHECK(f.AgentOf("c1") == "bob");
  f.engine->CheckInvariants();
}

TEST_CASE("max wait still fires on time after thousands of stale timers were dropped") {
  EngineFixture f(TwoQueues());
  REQUIRE(f.Enqueue("waits", "refills").ok());
  // Each of these leaves its max-wait timer behind when it hangs up: the heap passes its
  // compaction size several times while "waits" still has a live timer in it.
  for (int i = 0; i < 5'000; ++i) {
    const std::string id = absl::StrCat("gone", i);
    REQUIRE(f.Enqueue(id, "refills").ok());
    REQUIRE(f.engine->Cancel(id, "HANGUP").ok());
  }
  f.engine->CheckInvariants();
  f.Tick(absl::Seconds(119));
  CHECK(f.engine->GetContact("waits")->queue == "refills");
  CHECK(f.sink.Of(EventType::kContactOverflowed).empty());
  f.Tick(absl::Seconds(1));
  CHECK(f.engine->GetContact("waits")->queue == "general");
  auto overflowed = f.sink.Of(EventType::kContactOverflowed);
  REQUIRE(overflowed.size() == 1);
  CHECK(overflowed[0].contact_id == "waits");
  f.engine->CheckInvariants();
}

TEST_CASE("max wait without a target ends the contact as OVERFLOWED") {
  EngineFixture f(TwoQueues());
  REQUIRE(f.Enqueue("c1", "general").ok());
  f.Tick(absl::Seconds(300));
  CHECK(f.StateOf("c1") == ContactState::kOverflowed);
  auto overflowed = f.sink.Of(EventType::kContactOverflowed);
  REQUIRE(overflowed.size() == 1);
  CHECK(overflowed[0].queue.empty());
  f.Ready("bob", {{"b", 1}});
  CHECK(f.AgentStateOf("bob") == AgentState::kReady);
  f.engine->CheckInvariants();
}

TEST_CASE("a contact offered at max wait overflows only if the offer comes back") {
  EngineConfig config = TwoQueues();
  config.queues[0].offer_timeout = absl::Seconds(30);
  EngineFixture f(config);
  REQUIRE(f.Enqueue("c1", "refills").ok());
  f.Tick(absl::Seconds(100));
  f.Ready("alice");
  CHECK(f.AgentOf("c1") == "alice");
  f.Tick(absl::Seconds(30));  // max wait passed at 120 s while ringing; RONA at 130 s
  CHECK(f.engine->GetContact("c1")->queue == "general");
  f.engine->CheckInvariants();
}

TEST_CASE("transfer keeps the arrival time and takes the target's rules") {
  EngineFixture f(TwoQueues());
  f.Ready("alice");
  REQUIRE(f.Enqueue("c1", "refills").ok());
  f.Tick(absl::Seconds(10));
  REQUIRE(f.engine->Accept("alice", "c1").ok());
  f.Tick(absl::Seconds(50));
  REQUIRE(f.engine->Transfer("c1", "general").ok());  // escalated by the agent
  auto status = f.engine->GetContact("c1");
  CHECK(status->queue == "general");
  CHECK(status->state == ContactState::kWaiting);
  CHECK(status->waited == absl::Seconds(60));
  CHECK(f.AgentStateOf("alice") == AgentState::kReady);
  f.Ready("bob", {{"b", 1}});
  CHECK(f.AgentOf("c1") == "bob");
  auto transferred = f.sink.Of(EventType::kContactTransferred);
  REQUIRE(transferred.size() == 1);
  CHECK(transferred[0].from_queue == "refills");
  CHECK(f.Queue("refills").total.answered == 1);
  CHECK(f.Queue("refills").total.transferred_out == 0);  // answered first
  f.engine->CheckInvariants();
}

TEST_CASE("transfer of a waiting contact and its refusals") {
  EngineFixture f(TwoQueues());
  REQUIRE(f.Enqueue("c1", "refills").ok());
  CHECK(f.engine->Transfer("c1", "refills").code() == absl::StatusCode::kInvalidArgument);
  CHECK(f.engine->Transfer("c1", "nope").code() == absl::StatusCode::kNotFound);
  CHECK(f.engine->Transfer("nope", "general").code() == absl::StatusCode::kNotFound);
  REQUIRE(f.engine->Transfer("c1", "general").ok());
  CHECK(f.Queue("refills").total.transferred_out == 1);
  // The max-wait clock restarts in the new queue: no overflow at the old deadline.
  f.Tick(absl::Seconds(299));
  CHECK(f.StateOf("c1") == ContactState::kWaiting);
  f.engine->CheckInvariants();
}

TEST_CASE("a waiting caller may ask for a callback and keeps their place") {
  EngineFixture f(TwoQueues());
  REQUIRE(f.Enqueue("c1", "refills").ok());
  f.Tick(absl::Seconds(5));
  REQUIRE(f.Enqueue("c2", "refills").ok());
  REQUIRE(f.engine->RequestCallback("c1").ok());
  auto status = f.engine->GetContact("c1");
  CHECK(status->channel == Channel::kCallback);
  CHECK(status->position == 1);
  CHECK(f.engine->RequestCallback("c1").code() == absl::StatusCode::kFailedPrecondition);
  f.Ready("alice");
  CHECK(f.AgentOf("c1") == "alice");  // voice agents place callbacks
  CHECK(f.sink.Of(EventType::kContactCallbackRequested).size() == 1);
  f.engine->CheckInvariants();
}

TEST_CASE("a queue that takes no callbacks refuses the request") {
  QueueConfig q;
  q.name = "q";
  q.channels = {Channel::kVoice};
  EngineFixture f(TestConfig({q}));
  REQUIRE(f.Enqueue("c1").ok());
  CHECK(f.engine->RequestCallback("c1").code() == absl::StatusCode::kFailedPrecondition);
  CHECK(f.StateOf("c1") == ContactState::kWaiting);
}

}  // namespace
}  // namespace acd::core::testing
