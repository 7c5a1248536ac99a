// Priority with linear aging, and changing a waiting contact's priority.
#include <string>
#include <vector>

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

TEST_CASE("positions stay exact as the queue changes after the first one is asked") {
  // The first position asked builds the queue's rank index; from then on enqueues,
  // cancels, priority changes and offers keep it in step. Several hundred callers in three
  // requirement classes, so the index spans several blocks.
  EngineFixture f(AgingConfig(), /*paranoid=*/false);
  struct Caller {
    std::string id;
    int64_t arrival_s;
    int priority;
    int seq;
    bool waiting;
  };
  std::vector<Caller> callers;
  int64_t now_s = 0;
  auto enqueue = [&](int n) {
    for (int i = 0; i < n; ++i) {
      const int k = static_cast<int>(callers.size());
      const int priority = k % 4;
      const std::string id = "c" + std::to_string(k);
      REQUIRE(f.Enqueue(id, "q", Channel::kVoice, priority, {{"a", 1 + k % 3}}).ok());
      callers.push_back({id, now_s, priority, k, true});
    }
  };
  auto check_positions = [&] {
    // Served first: the smaller arrival less priority x 30 s, then the earlier arrival.
    auto before = [](const Caller& x, const Caller& y) {
      const int64_t kx = x.arrival_s - 30 * x.priority, ky = y.arrival_s - 30 * y.priority;
      return kx != ky ? kx < ky : x.seq < y.seq;
    };
    for (const Caller& c : callers) {
      if (!c.waiting) continue;
      int expected = 1;
      for (const Caller& o : callers) expected += o.waiting && before(o, c);
      REQUIRE(f.engine->GetContact(c.id)->position == expected);
    }
  };
  enqueue(400);
  check_positions();  // builds the index, then reads it
  for (int round = 0; round < 3; ++round) {
    f.Tick(absl::Seconds(7));
    now_s += 7;
    enqueue(150);
    for (size_t i = round; i < callers.size(); i += 5) {
      if (!callers[i].waiting) continue;
      REQUIRE(f.engine->Cancel(callers[i].id, "HANGUP").ok());
      callers[i].waiting = false;
    }
    for (size_t i = round; i < callers.size(); i += 7) {
      if (!callers[i].waiting) continue;
      callers[i].priority = (callers[i].priority + 2) % 5;
      REQUIRE(f.engine->ChangePriority(callers[i].id, callers[i].priority).ok());
    }
    check_positions();
    f.engine->CheckInvariants();
  }
  // An agent takes the first few: the rest move up.
  f.Ready("alice", {{"a", 5}});
  for (Caller& c : callers) {
    if (c.waiting && f.StateOf(c.id) != ContactState::kWaiting) c.waiting = false;
  }
  check_positions();
  f.engine->CheckInvariants();
}

}  // namespace
}  // namespace acd::core::testing
