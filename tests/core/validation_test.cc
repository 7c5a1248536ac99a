// Every rejected command says why and changes nothing: no events, same snapshot.
#include "tests/core/engine_fixture.h"

namespace acd::core::testing {
namespace {

// Runs `command`, expects `code`, and checks that no event was emitted.
#define CHECK_REJECTED(command, expected)                                   \
  do {                                                                  \
    const size_t before = f.sink.events.size();                         \
    const absl::Status status = (command);                              \
    CHECK(status.code() == (expected));                                     \
    CHECK_FALSE(status.message().empty());                              \
    CHECK(f.sink.events.size() == before);                              \
  } while (0)

TEST_CASE("enqueue refusals") {
  EngineConfig config = TestConfig();
  config.queues[0].max_length = 2;
  config.queues[0].channels = {Channel::kVoice, Channel::kChat};
  QueueConfig closed;
  closed.name = "closed";
  closed.closed = true;
  config.queues.push_back(closed);
  config.limits.max_attributes = 2;
  config.limits.max_attribute_value_bytes = 8;
  EngineFixture f(config);
  EnqueueRequest r;
  r.queue = "q";
  r.contact_id = "";
  CHECK_REJECTED(f.engine->Enqueue(r), absl::StatusCode::kInvalidArgument);
  r.contact_id = "bad id";
  CHECK_REJECTED(f.engine->Enqueue(r), absl::StatusCode::kInvalidArgument);
  r.contact_id = std::string(200, 'x');
  CHECK_REJECTED(f.engine->Enqueue(r), absl::StatusCode::kInvalidArgument);
  r.contact_id = "c1";
  r.queue = "nope";
  CHECK_REJECTED(f.engine->Enqueue(r), absl::StatusCode::kNotFound);
  r.queue = "q";
  r.channel = Channel::kEmail;
  CHECK_REJECTED(f.engine->Enqueue(r), absl::StatusCode::kInvalidArgument);
  r.channel = Channel::kVoice;
  r.priority = 101;
  CHECK_REJECTED(f.engine->Enqueue(r), absl::StatusCode::kInvalidArgument);
  r.priority = -1;
  CHECK_REJECTED(f.engine->Enqueue(r), absl::StatusCode::kInvalidArgument);
  r.priority.reset();
  r.requirements = {{"zz", 1}};
  CHECK_REJECTED(f.engine->Enqueue(r), absl::StatusCode::kInvalidArgument);
  r.requirements = {{"a", 0}};
  CHECK_REJECTED(f.engine->Enqueue(r), absl::StatusCode::kInvalidArgument);
  r.requirements = {{"b", 2}, {"b", 3}};
  CHECK_REJECTED(f.engine->Enqueue(r), absl::StatusCode::kInvalidArgument);
  r.requirements = {};
  r.language = "klingon";
  CHECK_REJECTED(f.engine->Enqueue(r), absl::StatusCode::kInvalidArgument);
  r.language = "";
  r.attributes = {{"a", "1"}, {"b", "2"}, {"c", "3"}};
  CHECK_REJECTED(f.engine->Enqueue(r), absl::StatusCode::kInvalidArgument);
  r.attributes = {{"dob", "1970-01-01-and-more"}};
  const absl::Status long_value = f.engine->Enqueue(r);
  CHECK(long_value.code() == absl::StatusCode::kInvalidArgument);
  // Attribute values can be patient data: never echoed back.
  CHECK(long_value.message().find("1970") == absl::string_view::npos);
  r.attributes = {{"", "x"}};
  CHECK_REJECTED(f.engine->Enqueue(r), absl::StatusCode::kInvalidArgument);
  r.attributes = {{"topic", "refill"}};
  r.queue = "closed";
  CHECK_REJECTED(f.engine->Enqueue(r), absl::StatusCode::kFailedPrecondition);
  r.queue = "q";
  REQUIRE(f.engine->Enqueue(r).ok());
  CHECK(f.engine->GetContact("c1")->attributes.size() == 1);
  CHECK_REJECTED(f.engine->Enqueue(r), absl::StatusCode::kAlreadyExists);
  r.contact_id = "c2";
  REQUIRE(f.engine->Enqueue(r).ok());
  r.contact_id = "c3";
  const absl::Status full = f.engine->Enqueue(r);
  CHECK(full.code() == absl::StatusCode::kResourceExhausted);
  CHECK(full.message() == "queue 'q' is full (max_length 2)");
  f.engine->CheckInvariants();
}

TEST_CASE("finished contact ids stay taken while retained") {
  EngineConfig config = TestConfig();
  config.limits.max_finished_contacts_retained = 2;
  EngineFixture f(config);
  for (const char* id : {"c1", "c2", "c3"}) {
    REQUIRE(f.Enqueue(id).ok());
    REQUIRE(f.engine->Cancel(id, "").ok());
  }
  CHECK(f.StateOf("c3") == ContactState::kAbandoned);
  CHECK(f.Enqueue("c3").code() == absl::StatusCode::kAlreadyExists);
  // c1 is the oldest and was forgotten: the id may be used again.
  CHECK(f.engine->GetContact("c1").status().code() == absl::StatusCode::kNotFound);
  CHECK(f.Enqueue("c1").ok());
  f.engine->CheckInvariants();
}

TEST_CASE("engine-wide limits") {
  EngineConfig config = TestConfig();
  config.limits.max_contacts = 2;
  config.queues[0].max_length = 2;
  config.limits.max_agents = 1;
  config.limits.max_requirement_classes = 2;
  EngineFixture f(config);
  REQUIRE(f.Enqueue("c1").ok());
  REQUIRE(f.Enqueue("c2", "q", Channel::kChat).ok());
  CHECK_REJECTED(f.Enqueue("c3"), absl::StatusCode::kResourceExhausted);
  REQUIRE(f.engine->Cancel("c1", "").ok());
  // c1's class is idle now: a new requirement set may take its place.
  REQUIRE(f.Enqueue("c4", "q", Channel::kEmail).ok());
  f.Ready("alice");
  LoginRequest r;
  r.agent_id = "bob";
  r.skills = {{"a", 1}};
  CHECK_REJECTED(f.engine->Login(r), absl::StatusCode::kResourceExhausted);
}

TEST_CASE("max_requirement_classes counts the classes in use") {
  EngineConfig config = TestConfig();
  config.limits.max_requirement_classes = 2;
  EngineFixture f(config);
  REQUIRE(f.Enqueue("c1").ok());
  REQUIRE(f.Enqueue("c2", "q", Channel::kChat).ok());
  // Both classes have someone waiting: a third distinct requirement set is one too many.
  CHECK_REJECTED(f.Enqueue("c3", "q", Channel::kEmail), absl::StatusCode::kResourceExhausted);
  // Once nobody waits in a class it is retired to make room.
  REQUIRE(f.engine->Cancel("c1", "").ok());
  REQUIRE(f.Enqueue("c3", "q", Channel::kEmail).ok());
  CHECK_REJECTED(f.Enqueue("c4"), absl::StatusCode::kResourceExhausted);
  f.engine->CheckInvariants();
}

TEST_CASE("offer commands check who holds what") {
  EngineFixture f;
  f.Ready("alice");
  f.Ready("bob");
  REQUIRE(f.Enqueue("c1").ok());
  const std::string holder = f.AgentOf("c1");
  const std::string other = holder == "alice" ? "bob" : "alice";
  CHECK_REJECTED(f.engine->Accept(other, "c1"), absl::StatusCode::kFailedPrecondition);
  CHECK_REJECTED(f.engine->Reject(other, "c1"), absl::StatusCode::kFailedPrecondition);
  CHECK_REJECTED(f.engine->Accept(holder, "zz"), absl::StatusCode::kNotFound);
  CHECK_REJECTED(f.engine->Accept("carol", "c1"), absl::StatusCode::kNotFound);
  CHECK_REJECTED(f.engine->Complete(holder, "c1"), absl::StatusCode::kFailedPrecondition);
  CHECK_REJECTED(f.engine->Cancel("c1", std::string(65, 'r')), absl::StatusCode::kInvalidArgument);
  CHECK(f.AgentOf("c1") == holder);
}

TEST_CASE("config validation names the queue and field") {
  auto error = [](EngineConfig config) { return std::string(ValidateConfig(config).message()); };
  EngineConfig base = TestConfig();
  CHECK(ValidateConfig(base).ok());
  CHECK(ValidateConfig(DefaultConfig()).ok());

  EngineConfig c = base;
  c.queues[0].requirements = {{"zz", 1}};
  CHECK(error(c) == "queue 'q': requirements: unknown skill 'zz'");
  c = base;
  c.queues[0].requirements = {{"a", 11}};
  CHECK(error(c) == "queue 'q': requirements: skill 'a' level 11 is outside 1-10");
  c = base;
  c.queues.push_back(c.queues[0]);
  CHECK(error(c) == "queues: duplicate queue 'q'");
  c = base;
  c.queues[0].max_wait = absl::Seconds(10);
  c.queues[0].overflow_queue = "nope";
  CHECK(error(c) == "queue 'q': overflow_queue 'nope' is not a queue");
  c = base;
  c.queues[0].wrap_up = absl::Seconds(-1);
  CHECK(error(c) == "queue 'q': wrap_up is negative");
  c = base;
  c.queues[0].expansion = {{absl::Seconds(30), 5, {}}, {absl::Seconds(20), 1, {}}};
  CHECK(error(c) ==
        "queue 'q' expansion step 2: 'after' must be positive and greater than the previous "
        "step's");
  c = base;
  c.queues[0].rona_reason = "NAP";
  CHECK(error(c) == "queue 'q': rona_reason 'NAP' is not a reason code");
  c = base;
  c.skills.push_back("a");
  CHECK(error(c) == "skills: duplicate skill 'a'");
  c = base;
  c.queues.clear();
  CHECK(error(c) == "queues: at least one queue is needed");

  // Overflow cycles, and targets that cannot take the channel.
  QueueConfig a, b;
  a.name = "a";
  a.max_wait = absl::Seconds(60);
  a.overflow_queue = "b";
  b.name = "b";
  b.max_wait = absl::Seconds(60);
  b.overflow_queue = "a";
  c = TestConfig({a, b});
  CHECK(error(c) == "queues: overflow cycle a -> b -> a");
  b.overflow_queue = "";
  b.channels = {Channel::kChat};
  c = TestConfig({a, b});
  CHECK(error(c) == "queue 'a': overflow_queue 'b' does not take VOICE contacts");
}

TEST_CASE("unknown strategies and bad parameters fail at creation") {
  FakeClock clock;
  EngineConfig c = TestConfig();
  c.queues[0].strategy = "fastest_finger";
  auto engine = Engine::Create(c, clock);
  REQUIRE_FALSE(engine.ok());
  CHECK(engine.status().message().find("unknown routing strategy 'fastest_finger'") !=
        absl::string_view::npos);
  c.queues[0].strategy = "preferred_agent";
  c.queues[0].strategy_params = {{"fallback_after_seconds", "-3"}};
  CHECK(Engine::Create(c, clock).status().code() == absl::StatusCode::kInvalidArgument);
  c.queues[0].strategy_params = {{"colour", "blue"}};
  CHECK(Engine::Create(c, clock).status().code() == absl::StatusCode::kInvalidArgument);
  c.queues[0].strategy = "longest_idle";
  CHECK(Engine::Create(c, clock).status().code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace acd::core::testing
