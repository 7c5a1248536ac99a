// Queue statistics (rolling window and since start), agent occupancy, position and EWT.
#include "tests/core/engine_fixture.h"

namespace acd::core::testing {
namespace {

// The test queue with a service-level threshold of 20 s.
EngineConfig ThresholdConfig() {
  EngineConfig config = TestConfig();
  config.queues[0].service_level_threshold = absl::Seconds(20);
  return config;
}

TEST_CASE("service level, ASA and abandon rate") {
  EngineFixture f(ThresholdConfig());
  // c1 answered after 10 s, c2 after 30 s, c3 abandons after 5 s.
  REQUIRE(f.Enqueue("c1").ok());
  REQUIRE(f.Enqueue("c2").ok());
  REQUIRE(f.Enqueue("c3").ok());
  f.Tick(absl::Seconds(5));
  REQUIRE(f.engine->Cancel("c3", "HANGUP").ok());
  f.Tick(absl::Seconds(5));
  f.Ready("alice");
  REQUIRE(f.engine->Accept("alice", "c1").ok());
  f.Tick(absl::Seconds(20));
  f.Ready("bob");
  REQUIRE(f.engine->Accept("bob", "c2").ok());
  const QueueStatus q = f.Queue("q");
  CHECK(q.total.offered == 3);
  CHECK(q.total.answered == 2);
  CHECK(q.total.abandoned == 1);
  CHECK(q.total.answered_within_threshold == 1);
  CHECK(q.total.service_level() == Approx(1.0 / 3.0));
  CHECK(q.total.asa() == absl::Seconds(20));
  CHECK(q.total.abandon_rate() == Approx(1.0 / 3.0));
  CHECK(q.window.answered == 2);
}

TEST_CASE("a contact answered exactly at the service-level threshold is within it") {
  EngineFixture f(ThresholdConfig());
  REQUIRE(f.Enqueue("c1").ok());
  REQUIRE(f.Enqueue("c2").ok());
  f.Tick(absl::Seconds(20));
  f.Ready("alice");
  REQUIRE(f.engine->Accept("alice", "c1").ok());  // waited 20 s: within
  f.Tick(absl::Microseconds(1));
  f.Ready("bob");
  REQUIRE(f.engine->Accept("bob", "c2").ok());  // waited 20 s and 1 us: not within
  for (const QueueCounters& counters : {f.Queue("q").total, f.Queue("q").window}) {
    CHECK(counters.answered == 2);
    CHECK(counters.answered_within_threshold == 1);
  }
}

TEST_CASE("the rolling window forgets old contacts; the totals do not") {
  EngineConfig config = TestConfig();
  config.stats_window = absl::Minutes(15);
  EngineFixture f(config);
  REQUIRE(f.Enqueue("c1").ok());
  REQUIRE(f.engine->Cancel("c1", "").ok());
  f.Tick(absl::Minutes(10));
  CHECK(f.Queue("q").window.abandoned == 1);
  f.Tick(absl::Minutes(6));
  CHECK(f.Queue("q").window.abandoned == 0);
  CHECK(f.Queue("q").total.abandoned == 1);
}

TEST_CASE("waiting, longest wait and agents by state") {
  EngineFixture f;
  REQUIRE(f.Enqueue("c1").ok());
  f.Tick(absl::Seconds(40));
  REQUIRE(f.Enqueue("c2").ok());
  f.Tick(absl::Seconds(2));
  LoginRequest r;
  r.agent_id = "idle";
  r.skills = {{"a", 1}};
  REQUIRE(f.engine->Login(r).ok());
  f.Ready("other_skill", {{"b", 1}});
  const QueueStatus q = f.Queue("q");
  CHECK(q.waiting == 2);
  CHECK(q.longest_wait == absl::Seconds(42));
  CHECK(q.agents_by_state[static_cast<int>(AgentState::kNotReady)] == 1);
  CHECK(q.agents_by_state[static_cast<int>(AgentState::kReady)] == 0);
  const EngineSnapshot snap = f.engine->Snapshot();
  CHECK(snap.agents.size() == 2);
  CHECK(snap.agents_by_state[static_cast<int>(AgentState::kReady)] == 1);
  CHECK(snap.sequence == f.sink.events.back().sequence);
}

TEST_CASE("occupancy is work time over work plus ready time") {
  EngineConfig config = TestConfig();
  config.queues[0].wrap_up = absl::Seconds(10);
  EngineFixture f(config);
  f.Ready("alice");
  f.Tick(absl::Seconds(50));  // 50 s idle
  REQUIRE(f.Enqueue("c1").ok());
  REQUIRE(f.engine->Accept("alice", "c1").ok());
  f.Tick(absl::Seconds(40));  // 40 s talk
  REQUIRE(f.engine->Complete("alice", "c1").ok());
  f.Tick(absl::Seconds(10));  // 10 s wrap-up, then ready again
  REQUIRE(f.engine->SetNotReady("alice", "BREAK").ok());
  f.Tick(absl::Seconds(500));  // breaks don't count
  CHECK(f.engine->GetAgent("alice")->occupancy == Approx(0.5));
  CHECK(f.engine->GetAgent("alice")->handled == 1);
}

TEST_CASE("EWT is position x AHT / staffed agents") {
  EngineConfig config = TestConfig();
  config.queues[0].default_handle_time = absl::Seconds(120);
  EngineFixture f(config);
  f.Ready("alice");
  f.Ready("bob");
  REQUIRE(f.Enqueue("busy1").ok());
  REQUIRE(f.Enqueue("busy2").ok());
  REQUIRE(f.engine->Accept(f.AgentOf("busy1"), "busy1").ok());
  REQUIRE(f.engine->Accept(f.AgentOf("busy2"), "busy2").ok());
  REQUIRE(f.Enqueue("c1").ok());
  REQUIRE(f.Enqueue("c2").ok());
  REQUIRE(f.Enqueue("c3").ok());
  auto c3 = f.engine->GetContact("c3");
  CHECK(c3->position == 3);
  REQUIRE(c3->ewt.has_value());
  CHECK(*c3->ewt == absl::Seconds(180));  // 3 x 120 s / 2 agents
  // Measured handle times replace the default.
  f.Tick(absl::Seconds(60));
  REQUIRE(f.engine->Complete(f.AgentOf("busy1"), "busy1").ok());
  REQUIRE(f.engine->Complete(f.AgentOf("busy2"), "busy2").ok());
  c3 = f.engine->GetContact("c3");
  CHECK(c3->position == 1);  // c1 and c2 are being offered now
  CHECK(*c3->ewt == absl::Seconds(30));  // 1 x 60 s / 2
  // Nobody staffed: unknown.
  REQUIRE(f.engine->SetNotReady("alice", "BREAK").ok());
  REQUIRE(f.engine->SetNotReady("bob", "BREAK").ok());
  CHECK_FALSE(f.engine->GetContact("c3")->ewt.has_value());
}

}  // namespace
}  // namespace acd::core::testing
