// Applying a new rule set while contacts wait and agents work (Engine::ApplyConfig).
#include "tests/core/engine_fixture.h"

namespace acd::core::testing {
namespace {

EngineConfig Before() {
  QueueConfig refills, flu;
  refills.name = "refills";
  refills.requirements = {{"a", 1}};
  refills.channels = {Channel::kVoice, Channel::kCallback};
  flu.name = "flu";
  flu.requirements = {{"b", 1}};
  return TestConfig({refills, flu});
}

TEST_CASE("waiting contacts keep their place and wait across a rules change") {
  EngineFixture f(Before());
  REQUIRE(f.Enqueue("c1", "refills").ok());
  f.Tick(absl::Seconds(10));
  REQUIRE(f.Enqueue("c2", "refills").ok());
  f.Tick(absl::Seconds(10));
  EngineConfig next = Before();
  next.queues[0].wrap_up = absl::Seconds(30);  // a harmless change
  REQUIRE(f.engine->ApplyConfig(next).ok());
  CHECK(f.engine->GetContact("c1")->position == 1);
  CHECK(f.engine->GetContact("c1")->waited == absl::Seconds(20));
  CHECK(f.engine->GetContact("c2")->position == 2);
  CHECK(f.engine->config().queues[0].wrap_up == absl::Seconds(30));
  CHECK(f.sink.Of(EventType::kRulesApplied).size() == 1);
  CHECK(f.Queue("refills").total.offered == 2);  // statistics carry over
  f.Ready("alice");
  CHECK(f.AgentOf("c1") == "alice");
  f.engine->CheckInvariants();
}

TEST_CASE("a removed queue's contacts move where the rules say, keeping their arrival") {
  EngineFixture f(Before());
  REQUIRE(f.Enqueue("f1", "flu").ok());
  f.Tick(absl::Seconds(30));
  REQUIRE(f.Enqueue("r1", "refills").ok());
  EngineConfig next = Before();
  next.queues.pop_back();  // flu season is over
  const size_t events = f.sink.events.size();
  const absl::Status refused = f.engine->ApplyConfig(next);
  CHECK(refused.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(refused.message().find("queue 'flu'") != absl::string_view::npos);
  CHECK(f.sink.events.size() == events);
  CHECK(f.engine->GetContact("f1")->queue == "flu");  // the old rules stay in force
  next.queue_moves = {{"flu", "refills"}};
  REQUIRE(f.engine->ApplyConfig(next).ok());
  auto f1 = f.engine->GetContact("f1");
  CHECK(f1->queue == "refills");
  CHECK(f1->position == 1);  // arrived first
  CHECK(f1->waited == absl::Seconds(30));
  f.engine->CheckInvariants();
}

TEST_CASE("a rules change that makes an agent eligible routes at once") {
  EngineFixture f(Before());
  f.Ready("alice", {{"c", 5}});
  REQUIRE(f.Enqueue("r1", "refills").ok());
  CHECK(f.StateOf("r1") == ContactState::kWaiting);
  EngineConfig next = Before();
  next.queues[0].requirements = {{"c", 1}};
  REQUIRE(f.engine->ApplyConfig(next).ok());
  CHECK(f.AgentOf("r1") == "alice");
  f.engine->CheckInvariants();
}

TEST_CASE("offers and calls in progress survive a rules change") {
  EngineFixture f(Before());
  f.Ready("alice", {{"a", 5}});
  f.Ready("bob", {{"a", 5}});
  REQUIRE(f.Enqueue("r1", "refills").ok());
  REQUIRE(f.Enqueue("r2", "refills").ok());
  REQUIRE(f.engine->Accept(f.AgentOf("r1"), "r1").ok());
  const std::string ringing = f.AgentOf("r2");
  REQUIRE(f.engine->ApplyConfig(Before()).ok());
  CHECK(f.StateOf("r1") == ContactState::kConnected);
  CHECK(f.AgentOf("r2") == ringing);
  REQUIRE(f.engine->Accept(ringing, "r2").ok());
  f.engine->CheckInvariants();
}

TEST_CASE("an invalid rule set is refused and changes nothing") {
  EngineFixture f(Before());
  REQUIRE(f.Enqueue("r1", "refills").ok());
  EngineConfig bad = Before();
  bad.queues[0].strategy = "nope";
  CHECK(f.engine->ApplyConfig(bad).code() == absl::StatusCode::kInvalidArgument);
  bad = Before();
  bad.skills = {"b", "c", "d", "e", "spanish"};  // drops skill a, which refills needs
  CHECK(f.engine->ApplyConfig(bad).code() == absl::StatusCode::kInvalidArgument);
  EngineConfig no_skill = Before();
  REQUIRE(f.Enqueue("r2", "refills", Channel::kVoice, {}, {{"spanish", 2}}).ok());
  no_skill.skills = {"a", "b", "c", "d", "e"};
  const absl::Status status = f.engine->ApplyConfig(no_skill);
  CHECK(status.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(status.message().find("spanish") != absl::string_view::npos);
  CHECK(f.sink.Of(EventType::kRulesApplied).empty());
}

TEST_CASE("business hours: closed treatments") {
  QueueConfig scheduling, after_hours;
  scheduling.name = "scheduling";
  scheduling.channels = {Channel::kVoice, Channel::kCallback, Channel::kChat, Channel::kEmail};
  scheduling.hours.enabled = true;
  scheduling.hours.weekly = {{absl::Weekday::monday, 8 * 60, 17 * 60}};
  after_hours.name = "after_hours";
  after_hours.channels = scheduling.channels;
  EngineConfig config = TestConfig({scheduling, after_hours});
  // 2001-09-09 01:46:40 UTC is a Sunday: the default FakeClock start.
  EngineFixture refuse(config);
  CHECK(refuse.Enqueue("c1", "scheduling").code() == absl::StatusCode::kFailedPrecondition);
  CHECK(refuse.Queue("scheduling").closed);
  refuse.clock.Set(absl::FromCivil(absl::CivilSecond(2001, 9, 10, 9, 0, 0), absl::UTCTimeZone()));
  CHECK(refuse.Enqueue("c1", "scheduling").ok());  // Monday 09:00

  config.queues[0].closed_treatment = ClosedTreatment::kOverflow;
  config.queues[0].closed_overflow_queue = "after_hours";
  EngineFixture overflow(config);
  REQUIRE(overflow.Enqueue("c1", "scheduling").ok());
  CHECK(overflow.engine->GetContact("c1")->queue == "after_hours");

  config.queues[0].closed_treatment = ClosedTreatment::kCallback;
  EngineFixture callback(config);
  REQUIRE(callback.Enqueue("c1", "scheduling").ok());
  CHECK(callback.engine->GetContact("c1")->channel == Channel::kCallback);
  REQUIRE(callback.Enqueue("m1", "scheduling", Channel::kEmail).ok());
  CHECK(callback.Enqueue("chat1", "scheduling", Channel::kChat).code() ==
        absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("business hours follow the local clock across a daylight-saving change") {
  BusinessHours hours;
  hours.enabled = true;
  hours.zone = absl::FixedTimeZone(0);
  REQUIRE(absl::LoadTimeZone("America/New_York", &hours.zone));
  hours.weekly = {{absl::Weekday::monday, 8 * 60, 17 * 60}};
  auto utc = [](int y, int m, int d, int hh, int mm) {
    return absl::FromCivil(absl::CivilSecond(y, m, d, hh, mm, 0), absl::UTCTimeZone());
  };
  // Monday 2026-03-02 (EST, UTC-5): opens 13:00 UTC.
  CHECK_FALSE(hours.IsOpen(utc(2026, 3, 2, 12, 59)));
  CHECK(hours.IsOpen(utc(2026, 3, 2, 13, 0)));
  // DST starts 2026-03-08. Monday 2026-03-09 (EDT, UTC-4): opens 12:00 UTC.
  CHECK_FALSE(hours.IsOpen(utc(2026, 3, 9, 11, 59)));
  CHECK(hours.IsOpen(utc(2026, 3, 9, 12, 0)));
  CHECK_FALSE(hours.IsOpen(utc(2026, 3, 9, 21, 0)));  // 17:00 EDT
  hours.holidays = {absl::CivilDay(2026, 3, 9)};
  CHECK_FALSE(hours.IsOpen(utc(2026, 3, 9, 14, 0)));
}

TEST_CASE("escalation and callback offers") {
  QueueConfig complaints, supervisors;
  complaints.name = "complaints";
  complaints.channels = {Channel::kVoice, Channel::kCallback};
  complaints.escalation_queue = "supervisors";
  complaints.callback_offer_ewt = absl::Seconds(60);
  complaints.default_handle_time = absl::Seconds(300);
  supervisors.name = "supervisors";
  supervisors.channels = {Channel::kVoice, Channel::kCallback};
  supervisors.requirements = {{"e", 1}};
  EngineFixture f(TestConfig({complaints, supervisors}));
  REQUIRE(f.Enqueue("c1", "complaints").ok());
  CHECK(f.engine->GetContact("c1")->callback_offered);  // nobody staffed: EWT unknown
  f.Ready("alice", {{"a", 1}});
  REQUIRE(f.engine->Accept("alice", "c1").ok());
  REQUIRE(f.Enqueue("c2", "complaints").ok());
  CHECK(*f.engine->GetContact("c2")->ewt == absl::Seconds(300));
  CHECK(f.engine->GetContact("c2")->callback_offered);
  REQUIRE(f.engine->Escalate("c1").ok());
  CHECK(f.engine->GetContact("c1")->queue == "supervisors");
  CHECK(f.engine->Escalate("c1").code() == absl::StatusCode::kFailedPrecondition);
  f.engine->CheckInvariants();
}

TEST_CASE("queues are found by name across rules changes that reorder and drop them") {
  // The engine remembers the last queue it found by name: a rules change renumbers the
  // queues, and must not leave it pointing at another queue or past the end.
  EngineFixture f(Before());
  REQUIRE(f.Enqueue("f1", "flu").ok());  // flu is the second queue
  EngineConfig swapped = Before();
  std::swap(swapped.queues[0], swapped.queues[1]);  // flu first now
  REQUIRE(f.engine->ApplyConfig(swapped).ok());
  REQUIRE(f.Enqueue("f2", "flu").ok());
  REQUIRE(f.Enqueue("r1", "refills").ok());  // refills, second, is the last found
  CHECK(f.engine->GetContact("f2")->queue == "flu");
  CHECK(f.engine->GetContact("r1")->queue == "refills");
  CHECK(f.Queue("flu").waiting == 2);
  CHECK(f.Queue("refills").waiting == 1);

  EngineConfig fewer = Before();
  fewer.queues.pop_back();  // refills only
  fewer.queue_moves = {{"flu", "refills"}};
  REQUIRE(f.engine->ApplyConfig(fewer).ok());
  const absl::Status gone = f.Enqueue("f3", "flu");
  CHECK(gone.code() == absl::StatusCode::kNotFound);
  REQUIRE(f.Enqueue("r2", "refills").ok());
  CHECK(f.engine->GetContact("r2")->queue == "refills");
  CHECK(f.Queue("refills").waiting == 4);
  CHECK(f.engine->Transfer("r2", "flu").code() == absl::StatusCode::kNotFound);
  f.engine->CheckInvariants();
}

TEST_CASE("a lower limit on retained ended contacts forgets the oldest at once") {
  EngineConfig config = Before();
  config.limits.max_finished_contacts_retained = 4;
  EngineFixture f(config);
  const auto end = [&](const std::string& id) {
    REQUIRE(f.Enqueue(id, "refills").ok());
    REQUIRE(f.engine->Cancel(id, "").ok());
  };
  for (const char* id : {"c1", "c2", "c3", "c4", "c5"}) end(id);  // c1 forgotten: 4 kept
  const auto known = [&](const std::string& id) { return f.engine->GetContact(id).ok(); };
  CHECK(!known("c1"));
  CHECK(known("c2"));

  EngineConfig fewer = Before();
  fewer.limits.max_finished_contacts_retained = 2;
  REQUIRE(f.engine->ApplyConfig(fewer).ok());
  CHECK(!known("c2"));
  CHECK(!known("c3"));
  CHECK(known("c4"));
  CHECK(f.StateOf("c5") == ContactState::kAbandoned);
  CHECK(f.Enqueue("c2", "refills").ok());  // a forgotten id may be used again
  REQUIRE(f.engine->Cancel("c2", "").ok());  // ends: c4 goes
  CHECK(!known("c4"));
  CHECK(known("c5"));
  f.engine->CheckInvariants();

  EngineConfig more = Before();
  more.limits.max_finished_contacts_retained = 3;
  REQUIRE(f.engine->ApplyConfig(more).ok());
  end("c6");  // room for a third: nothing forgotten
  CHECK(known("c5"));
  end("c7");  // the oldest, c5, goes
  CHECK(!known("c5"));
  CHECK(known("c2"));
  CHECK(known("c6"));
  CHECK(known("c7"));
  f.engine->CheckInvariants();
}

}  // namespace
}  // namespace acd::core::testing
