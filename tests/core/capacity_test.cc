// Per-channel capacity: voice is exclusive, chats and emails up to their maxima, and an
// agent never holds more offers than free capacity.
#include "tests/core/engine_fixture.h"

namespace acd::core::testing {
namespace {

TEST_CASE("a chat agent takes up to its chat capacity at once") {
  EngineFixture f;
  f.Ready("alice", {{"a", 5}}, {{Channel::kChat, 3}});
  for (const char* id : {"c1", "c2", "c3", "c4"}) {
    REQUIRE(f.Enqueue(id, "q", Channel::kChat).ok());
  }
  CHECK(f.AgentOf("c1") == "alice");
  CHECK(f.AgentOf("c2") == "alice");
  CHECK(f.AgentOf("c3") == "alice");
  CHECK(f.StateOf("c4") == ContactState::kWaiting);
  REQUIRE(f.engine->Accept("alice", "c1").ok());
  CHECK(f.AgentStateOf("alice") == AgentState::kReserved);  // two offers still pending
  REQUIRE(f.engine->Accept("alice", "c2").ok());
  REQUIRE(f.engine->Accept("alice", "c3").ok());
  CHECK(f.AgentStateOf("alice") == AgentState::kBusy);
  REQUIRE(f.engine->Complete("alice", "c2").ok());
  CHECK(f.AgentOf("c4") == "alice");
  f.engine->CheckInvariants();
}

TEST_CASE("voice excludes every other channel") {
  EngineFixture f;
  f.Ready("alice", {{"a", 5}}, {{Channel::kVoice, 1}, {Channel::kChat, 2}});
  REQUIRE(f.Enqueue("chat1", "q", Channel::kChat).ok());
  CHECK(f.AgentOf("chat1") == "alice");
  REQUIRE(f.Enqueue("call1", "q", Channel::kVoice).ok());
  CHECK(f.StateOf("call1") == ContactState::kWaiting);  // busy with a chat: no voice
  REQUIRE(f.engine->Accept("alice", "chat1").ok());
  REQUIRE(f.engine->Complete("alice", "chat1").ok());
  CHECK(f.AgentOf("call1") == "alice");
  REQUIRE(f.Enqueue("chat2", "q", Channel::kChat).ok());
  CHECK(f.StateOf("chat2") == ContactState::kWaiting);  // on a call: no chat
  f.engine->CheckInvariants();
}

TEST_CASE("email and chat are routed side by side") {
  EngineFixture f;
  f.Ready("alice", {{"a", 5}}, {{Channel::kChat, 1}, {Channel::kEmail, 2}});
  REQUIRE(f.Enqueue("m1", "q", Channel::kEmail).ok());
  REQUIRE(f.Enqueue("m2", "q", Channel::kEmail).ok());
  REQUIRE(f.Enqueue("m3", "q", Channel::kEmail).ok());
  REQUIRE(f.Enqueue("chat1", "q", Channel::kChat).ok());
  CHECK(f.AgentOf("m1") == "alice");
  CHECK(f.AgentOf("m2") == "alice");
  CHECK(f.StateOf("m3") == ContactState::kWaiting);
  CHECK(f.AgentOf("chat1") == "alice");
  f.engine->CheckInvariants();
}

TEST_CASE("a contact is never offered to an agent without capacity for its channel") {
  EngineFixture f;
  f.Ready("voice_only");
  REQUIRE(f.Enqueue("m1", "q", Channel::kEmail).ok());
  CHECK(f.StateOf("m1") == ContactState::kWaiting);
  f.engine->CheckInvariants();
}

TEST_CASE("login validates skills and capacities") {
  EngineFixture f;
  LoginRequest r;
  r.agent_id = "alice";
  r.skills = {{"a", 11}};
  CHECK(f.engine->Login(r).code() == absl::StatusCode::kInvalidArgument);
  r.skills = {{"nope", 1}};
  CHECK(f.engine->Login(r).code() == absl::StatusCode::kInvalidArgument);
  r.skills = {{"a", 1}, {"a", 2}};
  CHECK(f.engine->Login(r).code() == absl::StatusCode::kInvalidArgument);
  r.skills = {{"a", 1}};
  r.capacities = {{Channel::kVoice, 2}};
  CHECK(f.engine->Login(r).code() == absl::StatusCode::kInvalidArgument);
  r.capacities = {{Channel::kChat, 0}};
  CHECK(f.engine->Login(r).code() == absl::StatusCode::kInvalidArgument);
  r.capacities = {{Channel::kCallback, 1}};
  CHECK(f.engine->Login(r).code() == absl::StatusCode::kInvalidArgument);
  r.capacities = {{Channel::kChat, 2}, {Channel::kChat, 1}};
  CHECK(f.engine->Login(r).code() == absl::StatusCode::kInvalidArgument);
  r.agent_id = "has space";
  r.capacities = {};
  CHECK(f.engine->Login(r).code() == absl::StatusCode::kInvalidArgument);
  CHECK(f.sink.events.empty());
  r.agent_id = "alice";
  REQUIRE(f.engine->Login(r).ok());
  CHECK(f.engine->Login(r).code() == absl::StatusCode::kAlreadyExists);
  auto alice = f.engine->GetAgent("alice");
  CHECK(alice->state == AgentState::kNotReady);
  CHECK(alice->reason == "LOGIN");
}

}  // namespace
}  // namespace acd::core::testing
