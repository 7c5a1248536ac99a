// The basic life of a contact: queued, offered, accepted, completed, wrap-up; and the
// ways an offer ends early: reject, ring-no-answer, cancel while ringing.
#include "tests/core/engine_fixture.h"

namespace acd::core::testing {
namespace {

TEST_CASE("a waiting contact is offered to the first agent who becomes ready") {
  EngineFixture f;
  REQUIRE(f.Enqueue("c1").ok());
  CHECK(f.StateOf("c1") == ContactState::kWaiting);
  CHECK(f.engine->GetContact("c1")->position == 1);
  f.Ready("alice");
  CHECK(f.StateOf("c1") == ContactState::kOffered);
  CHECK(f.AgentOf("c1") == "alice");
  CHECK(f.AgentStateOf("alice") == AgentState::kReserved);
}

TEST_CASE("accept, complete and wrap-up, then ready again by itself") {
  EngineConfig config = TestConfig();
  config.queues[0].wrap_up = absl::Seconds(30);
  EngineFixture f(config);
  f.Ready("alice");
  REQUIRE(f.Enqueue("c1").ok());
  CHECK(f.AgentOf("c1") == "alice");
  f.Tick(absl::Seconds(5));
  REQUIRE(f.engine->Accept("alice", "c1").ok());
  CHECK(f.StateOf("c1") == ContactState::kConnected);
  CHECK(f.AgentStateOf("alice") == AgentState::kBusy);
  f.Tick(absl::Seconds(100));
  REQUIRE(f.engine->Complete("alice", "c1").ok());
  CHECK(f.StateOf("c1") == ContactState::kCompleted);
  CHECK(f.AgentStateOf("alice") == AgentState::kWrapUp);
  // A contact arriving during wrap-up waits.
  REQUIRE(f.Enqueue("c2").ok());
  CHECK(f.StateOf("c2") == ContactState::kWaiting);
  f.Tick(absl::Seconds(29));
  CHECK(f.AgentStateOf("alice") == AgentState::kWrapUp);
  f.Tick(absl::Seconds(1));
  CHECK(f.StateOf("c2") == ContactState::kOffered);
  const QueueStatus q = f.Queue("q");
  CHECK(q.total.offered == 2);
  CHECK(q.total.answered == 1);
  CHECK(q.total.handled == 1);
  CHECK(q.total.aht() == absl::Seconds(130));  // 100 s talk + 30 s wrap-up
  CHECK(q.total.asa() == absl::Seconds(5));
  CHECK(q.total.service_level() == 1.0);
  f.engine->CheckInvariants();
}

TEST_CASE("end wrap-up early") {
  EngineConfig config = TestConfig();
  config.queues[0].wrap_up = absl::Seconds(60);
  EngineFixture f(config);
  f.Ready("alice");
  REQUIRE(f.Enqueue("c1").ok());
  REQUIRE(f.engine->Accept("alice", "c1").ok());
  REQUIRE(f.engine->Complete("alice", "c1").ok());
  CHECK(f.engine->EndWrapUp("bob").code() == absl::StatusCode::kNotFound);
  REQUIRE(f.engine->EndWrapUp("alice").ok());
  CHECK(f.AgentStateOf("alice") == AgentState::kReady);
  CHECK(f.engine->EndWrapUp("alice").code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("reject sends the contact back to its place and the agent to NOT_READY(RONA)") {
  EngineFixture f;
  REQUIRE(f.Enqueue("c1").ok());
  f.Tick(absl::Seconds(1));
  REQUIRE(f.Enqueue("c2").ok());
  f.Ready("alice");
  CHECK(f.AgentOf("c1") == "alice");
  REQUIRE(f.engine->Reject("alice", "c1").ok());
  CHECK(f.StateOf("c1") == ContactState::kWaiting);
  CHECK(f.engine->GetContact("c1")->position == 1);  // still ahead of c2
  CHECK(f.engine->GetContact("c2")->position == 2);
  auto alice = f.engine->GetAgent("alice");
  CHECK(alice->state == AgentState::kNotReady);
  CHECK(alice->reason == "RONA");
  f.Ready("bob");
  CHECK(f.AgentOf("c1") == "bob");
  CHECK(f.sink.Of(EventType::kContactRejected).size() == 1);
}

TEST_CASE("an unanswered offer times out (RONA) and the wait keeps counting") {
  EngineConfig config = TestConfig();
  config.queues[0].offer_timeout = absl::Seconds(15);
  EngineFixture f(config);
  f.Ready("alice");
  REQUIRE(f.Enqueue("c1").ok());
  f.Tick(absl::Seconds(14));
  CHECK(f.StateOf("c1") == ContactState::kOffered);
  f.Tick(absl::Seconds(1));
  CHECK(f.StateOf("c1") == ContactState::kWaiting);
  CHECK(f.engine->GetContact("c1")->waited == absl::Seconds(15));
  auto rona = f.sink.Of(EventType::kContactRona);
  REQUIRE(rona.size() == 1);
  CHECK(rona[0].agent_id == "alice");
  CHECK(f.engine->GetAgent("alice")->reason == "RONA");
  // Accepting the expired offer is refused and changes nothing.
  const auto before = f.sink.events.size();
  CHECK(f.engine->Accept("alice", "c1").code() == absl::StatusCode::kFailedPrecondition);
  CHECK(f.sink.events.size() == before);
  f.engine->CheckInvariants();
}

TEST_CASE("RONA may leave the agent ready when the queue says so") {
  EngineConfig config = TestConfig();
  config.queues[0].rona_sets_not_ready = false;
  EngineFixture f(config);
  f.Ready("alice");
  f.Ready("bob");
  REQUIRE(f.Enqueue("c1").ok());
  const std::string first = f.AgentOf("c1");
  REQUIRE(f.engine->Reject(first, "c1").ok());
  CHECK(f.AgentOf("c1") != first);  // the other ready agent gets it
  CHECK(f.AgentStateOf(first) == AgentState::kReady);
  f.engine->CheckInvariants();
}

TEST_CASE("a caller hanging up while ringing frees the agent") {
  EngineFixture f;
  f.Ready("alice");
  REQUIRE(f.Enqueue("c1").ok());
  REQUIRE(f.Enqueue("c2").ok());
  f.Tick(absl::Seconds(7));
  REQUIRE(f.engine->Cancel("c1", "HANGUP").ok());
  CHECK(f.StateOf("c1") == ContactState::kAbandoned);
  CHECK(f.AgentOf("c2") == "alice");  // alice takes the next one at once
  auto abandoned = f.sink.Of(EventType::kContactAbandoned);
  REQUIRE(abandoned.size() == 1);
  CHECK(abandoned[0].waited == absl::Seconds(7));
  CHECK(abandoned[0].reason == "HANGUP");
  CHECK(f.engine->Cancel("c1", "").code() == absl::StatusCode::kFailedPrecondition);
  CHECK(f.engine->Cancel("nope", "").code() == absl::StatusCode::kNotFound);
  CHECK(f.Queue("q").total.abandoned == 1);
  f.engine->CheckInvariants();
}

TEST_CASE("a connected contact cannot be cancelled, only completed") {
  EngineFixture f;
  f.Ready("alice");
  REQUIRE(f.Enqueue("c1").ok());
  REQUIRE(f.engine->Accept("alice", "c1").ok());
  CHECK(f.engine->Cancel("c1", "").code() == absl::StatusCode::kFailedPrecondition);
  CHECK(f.engine->Complete("bob", "c1").code() == absl::StatusCode::kNotFound);
  f.Ready("bob");
  CHECK(f.engine->Complete("bob", "c1").code() == absl::StatusCode::kFailedPrecondition);
  CHECK(f.engine->Complete("alice", "c1").ok());
}

}  // namespace
}  // namespace acd::core::testing
