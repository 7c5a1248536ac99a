// Agent presence: not ready with reason codes, offers withdrawn, logout, supervisor
// force-state, and the wallboard state derived from work.
#include "tests/core/engine_fixture.h"

namespace acd::core::testing {
namespace {

TEST_CASE("not ready withdraws a pending offer; the contact keeps its place") {
  EngineFixture f;
  f.Ready("alice");
  REQUIRE(f.Enqueue("c1").ok());
  CHECK(f.AgentOf("c1") == "alice");
  REQUIRE(f.engine->SetNotReady("alice", "BREAK").ok());
  CHECK(f.StateOf("c1") == ContactState::kWaiting);
  auto alice = f.engine->GetAgent("alice");
  CHECK(alice->state == AgentState::kNotReady);
  CHECK(alice->reason == "BREAK");
  auto rejected = f.sink.Of(EventType::kContactRejected);
  REQUIRE(rejected.size() == 1);
  CHECK(rejected[0].reason == "AGENT_NOT_READY");
  CHECK(f.engine->SetNotReady("alice", "NAP").code() == absl::StatusCode::kInvalidArgument);
  f.engine->CheckInvariants();
}

TEST_CASE("not ready during a call takes effect when the call ends") {
  EngineFixture f;
  f.Ready("alice");
  REQUIRE(f.Enqueue("c1").ok());
  REQUIRE(f.engine->Accept("alice", "c1").ok());
  REQUIRE(f.engine->SetNotReady("alice", "LUNCH").ok());
  CHECK(f.AgentStateOf("alice") == AgentState::kBusy);
  REQUIRE(f.Enqueue("c2").ok());
  REQUIRE(f.engine->Complete("alice", "c1").ok());
  CHECK(f.AgentStateOf("alice") == AgentState::kNotReady);
  CHECK(f.StateOf("c2") == ContactState::kWaiting);
}

TEST_CASE("logout is refused with a connected contact and withdraws offers") {
  EngineFixture f;
  f.Ready("alice", {{"a", 5}}, {{Channel::kChat, 2}});
  REQUIRE(f.Enqueue("c1", "q", Channel::kChat).ok());
  REQUIRE(f.Enqueue("c2", "q", Channel::kChat).ok());
  REQUIRE(f.engine->Accept("alice", "c1").ok());
  CHECK(f.engine->Logout("alice").code() == absl::StatusCode::kFailedPrecondition);
  CHECK(f.AgentOf("c2") == "alice");  // unchanged
  REQUIRE(f.engine->Complete("alice", "c1").ok());
  REQUIRE(f.engine->Logout("alice").ok());
  CHECK(f.StateOf("c2") == ContactState::kWaiting);
  CHECK(f.AgentStateOf("alice") == AgentState::kLoggedOut);
  CHECK(f.engine->SetReady("alice").code() == absl::StatusCode::kFailedPrecondition);
  CHECK(f.engine->SetReady("nobody").code() == absl::StatusCode::kNotFound);
  f.engine->CheckInvariants();
}

TEST_CASE("a supervisor can force ready, not ready or logged out") {
  EngineFixture f;
  LoginRequest r;
  r.agent_id = "alice";
  r.skills = {{"a", 5}};
  REQUIRE(f.engine->Login(r).ok());
  REQUIRE(f.engine->ForceState("alice", AgentState::kReady, "").ok());
  CHECK(f.AgentStateOf("alice") == AgentState::kReady);
  REQUIRE(f.engine->ForceState("alice", AgentState::kNotReady, "").ok());
  CHECK(f.engine->GetAgent("alice")->reason == "SUPERVISOR");
  CHECK(f.engine->ForceState("alice", AgentState::kBusy, "").code() ==
        absl::StatusCode::kInvalidArgument);
  REQUIRE(f.engine->ForceState("alice", AgentState::kLoggedOut, "").ok());
  CHECK(f.AgentStateOf("alice") == AgentState::kLoggedOut);
}

TEST_CASE("agent state changes are events, one per real change") {
  EngineFixture f;
  f.Ready("alice");
  REQUIRE(f.engine->SetReady("alice").ok());  // already ready: nothing happens
  auto changes = f.sink.Of(EventType::kAgentStateChanged);
  REQUIRE(changes.size() == 2);
  CHECK(changes[0].agent_state == AgentState::kNotReady);
  CHECK(changes[0].reason == "LOGIN");
  CHECK(changes[1].agent_state == AgentState::kReady);
}

TEST_CASE("a re-login starts afresh") {
  EngineFixture f;
  f.Ready("alice");
  REQUIRE(f.engine->Logout("alice").ok());
  LoginRequest r;
  r.agent_id = "alice";
  r.skills = {{"b", 5}};
  REQUIRE(f.engine->Login(r).ok());
  REQUIRE(f.engine->SetReady("alice").ok());
  REQUIRE(f.Enqueue("c1").ok());  // needs skill a
  CHECK(f.StateOf("c1") == ContactState::kWaiting);
  f.engine->CheckInvariants();
}

}  // namespace
}  // namespace acd::core::testing
