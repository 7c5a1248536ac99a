// `acd-sim load` against the real acdd binary on port 0: a short scenario at high speed,
// then every contact is accounted for, by the load client and by the server; against a
// server whose clock is the scenario's (acdd --clock-start, --clock-speed) and one whose
// clock is not; and refusals counted by cause.
#include "simulators/live_load.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "simulators/scenario.h"
#include "tests/server/acdd_process.h"

namespace acd::sim {
namespace {

// The general smoke scenario (default rules), cut to `duration`.
Scenario SmokeScenario(absl::Duration duration) {
  absl::StatusOr<Scenario> scenario = LoadScenarioFile(
      std::string(ACD_SOURCE_DIR) + "/simulators/scenarios/general_smoke.textproto");
  INFO(scenario.status());
  REQUIRE(scenario.ok());
  scenario->duration = duration;
  return *std::move(scenario);
}

// Calls the run made to `method`, 0 if none.
int64_t CallsTo(const LoadResult& r, const std::string& method) {
  for (const RpcLatency& l : r.rpcs) {
    if (l.method == method) return l.calls;
  }
  return 0;
}

// Plays `scenario` against `acdd`; the test fails if the run does. The result's text is
// printed with any later failure.
LoadResult Play(const Scenario& scenario, LoadOptions options, const testing::AcddProcess& acdd,
                const std::string& id_prefix) {
  options.target = acdd.target();
  options.id_prefix = id_prefix;
  absl::StatusOr<LoadResult> r = RunLoad(scenario, options);
  INFO(r.status());
  REQUIRE(r.ok());
  UNSCOPED_INFO(LoadResultToText(scenario, options, *r));
  return *std::move(r);
}

// acdd's flags (after `first`) for a clock in step with the smoke scenario played at 60x:
// it starts on Monday 2026-11-23 at 10:00 Eastern.
std::vector<std::string> OnSmokeClock(std::vector<std::string> first = {}) {
  for (const char* flag : {"--clock-start", "2026-11-23T10:00:00-05:00", "--clock-speed", "60"}) {
    first.push_back(flag);
  }
  return first;
}

// The load at 60x, waiting at most `drain_s` (real seconds) for contacts to end.
LoadOptions AtSixty(double drain_s) {
  LoadOptions options;
  options.speed = 60;
  options.drain_seconds_max = drain_s;
  return options;
}

// Every contact ended one way and the server counted the same.
void CheckAccounted(const LoadResult& r) {
  CHECK(r.offered == r.answered + r.abandoned + r.waiting_at_end);
  CHECK(r.server_offered == r.offered);
  CHECK(r.server_answered == r.answered);
  CHECK(r.server_abandoned == r.abandoned);
  CHECK(r.server_waiting_at_end == r.waiting_at_end);
  CHECK(r.refused == r.refused_closed + r.refused_full);
}

TEST_CASE("a scenario played against acdd loses no contact", "[sim][server]") {
  // Four minutes of the smoke scenario at 60x: about 20 contacts in 4 s.
  const Scenario scenario = SmokeScenario(absl::Minutes(4));
  INFO("seed " << scenario.proto.seed());
  testing::AcddProcess acdd;
  const LoadOptions options = AtSixty(2);
  const LoadResult r = Play(scenario, options, acdd, "loadtest");
  CHECK(r.offered > 5);
  CHECK(r.refused == 0);
  CHECK(r.answered > 0);
  CheckAccounted(r);  // the server saw the same contacts end the same way
  CHECK(r.handled == r.answered);
  bool saw_enqueue = false;
  for (const RpcLatency& l : r.rpcs) {
    if (l.method == "Gateway.EnqueueContact") {
      saw_enqueue = true;
      CHECK(l.calls == r.offered);
      CHECK(l.errors == 0);
      CHECK(l.p50_ms <= l.p99_ms);
    }
  }
  CHECK(saw_enqueue);
  // acdd ran the wall clock, at real time: not the scenario's, so the agents ended their
  // wrap-ups themselves (the server's would have lasted 60 times too long).
  CHECK(r.server_clock_speed == 1);
  CHECK_FALSE(r.server_clock_in_step);
  CHECK_THAT(LoadResultToText(scenario, options, r),
             Catch::Contains("server clock: NOT the scenario's") &&
                 Catch::Contains("--clock-start 2026-11-23T10:00:00-05:00 --clock-speed 60"));
  if (r.handled > 1) CHECK(CallsTo(r, "AgentDesk.EndWrapUp") > 0);
  CHECK(acdd.Stop(SIGTERM) == 0);
}

TEST_CASE("against a server on the scenario's clock the server's own timers end wrap-ups",
          "[sim][server]") {
  Scenario scenario = SmokeScenario(absl::Minutes(4));
  // The smoke scenario starts on Monday 2026-11-23 at 10:00 Eastern.
  testing::AcddProcess acdd(OnSmokeClock());
  const LoadOptions options = AtSixty(2);
  const LoadResult r = Play(scenario, options, acdd, "inStep");
  CHECK(r.server_clock_speed == 60);
  CHECK(r.server_clock_in_step);
  // acdd started a moment before the load: its clock is ahead, by seconds of real time.
  CHECK(r.server_clock_offset_seconds >= 0);
  CHECK(r.server_clock_offset_seconds <= absl::ToDoubleSeconds(LoadResult::kClockTolerance));
  CHECK_THAT(LoadResultToText(scenario, options, r),
             Catch::Contains("server clock: in step with the scenario (60x, 2026-11-23 10:00"));
  CHECK(r.offered > 5);
  CHECK(r.answered > 0);
  CHECK(r.refused == 0);
  CheckAccounted(r);
  // No agent ended a wrap-up: the server's 10 s wrap-up timer, at 60x, did.
  CHECK(CallsTo(r, "AgentDesk.EndWrapUp") == 0);
  CHECK(acdd.Stop(SIGTERM) == 0);
}

// A rules file for one test, removed at its end.
class RulesFile {
 public:
  explicit RulesFile(const std::string& text) {
    char name[] = "/tmp/acd-load-rules-XXXXXX";
    const int fd = mkstemp(name);
    REQUIRE(fd >= 0);
    close(fd);
    path_ = name;
    std::ofstream(path_) << text;
  }
  ~RulesFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST_CASE("refused contacts are counted by cause: queue closed, queue full", "[sim][server]") {
  Scenario scenario = SmokeScenario(absl::Minutes(2));
  scenario.proto.clear_roster();  // nobody answers: the backlog grows
  const LoadOptions options = AtSixty(0.5);
  SECTION("closed: the queue opens on Sundays only, and the scenario is a Monday") {
    RulesFile rules(R"(skills: "general"
queues {
  name: "general"
  channels: [VOICE, CHAT]
  requirements { skill: "general" }
  hours {
    time_zone: "America/New_York"
    open { days: [SUNDAY] from: "08:00" to: "17:00" }
  }
}
)");
    testing::AcddProcess acdd(OnSmokeClock({"--rules", rules.path()}));
    const LoadResult r = Play(scenario, options, acdd, "closed");
    CHECK(r.offered == 0);
    CHECK(r.refused > 0);
    CHECK(r.refused_closed == r.refused);
    CHECK(r.refused_full == 0);
    CHECK(CallsTo(r, "Gateway.EnqueueContact") == r.refused);
    CheckAccounted(r);
  }
  SECTION("full: two callers may wait") {
    RulesFile rules(R"(skills: "general"
queues {
  name: "general"
  channels: [VOICE, CHAT]
  requirements { skill: "general" }
  max_length: 2
}
)");
    testing::AcddProcess acdd({"--rules", rules.path()});
    const LoadResult r = Play(scenario, options, acdd, "full");
    // Chats have no patience: two of them, or callers not yet gone, fill the queue.
    CHECK(r.offered >= 2);
    CHECK(r.refused > 0);
    CHECK(r.refused_full == r.refused);
    CHECK(r.refused_closed == 0);
    CheckAccounted(r);
  }
}

TEST_CASE("a contact that overflows to another queue counts once on the server's side",
          "[sim][server]") {
  Scenario scenario = SmokeScenario(absl::Minutes(2));
  scenario.proto.clear_roster();  // nobody answers: every chat overflows after 5 s
  RulesFile rules(R"(skills: "general"
queues {
  name: "general"
  channels: [VOICE, CHAT]
  requirements { skill: "general" }
  max_wait_seconds: 5
  overflow_queue: "overflow"
}
queues {
  name: "overflow"
  channels: [VOICE, CHAT]
  requirements { skill: "general" }
}
)");
  testing::AcddProcess acdd(OnSmokeClock({"--rules", rules.path()}));
  const LoadResult r = Play(scenario, AtSixty(0.5), acdd, "overflow");
  CHECK(r.server_clock_in_step);
  CHECK(r.offered > 0);
  CHECK(r.answered == 0);
  CheckAccounted(r);
}

TEST_CASE("callers offered a callback take it with the scenario's share", "[sim][server]") {
  Scenario scenario = SmokeScenario(absl::Minutes(2));
  scenario.proto.clear_roster();  // nobody answers, so every waiting voice caller is offered one
  RulesFile rules(R"(skills: "general"
queues {
  name: "general"
  channels: [VOICE, CALLBACK, CHAT]
  requirements { skill: "general" }
  callback_offer_ewt_seconds: 60
}
)");
  testing::AcddProcess acdd(OnSmokeClock({"--rules", rules.path()}));
  const LoadOptions options = AtSixty(0.5);
  SECTION("everyone takes it: no voice caller is left on the line to hang up") {
    scenario.proto.mutable_arrivals(0)->set_callback_accept_share(1);  // the voice stream
    const LoadResult r = Play(scenario, options, acdd, "callbackAll");
    const int64_t requests = CallsTo(r, "Gateway.RequestCallback");
    CHECK(requests > 0);
    CHECK(r.callbacks == requests);
    CHECK(r.abandoned == 0);  // chats have no patience; voice callers now wait for the call
    CheckAccounted(r);
  }
  SECTION("nobody takes it: voice callers hang up as before") {
    scenario.proto.mutable_arrivals(0)->set_callback_accept_share(0);
    const LoadResult r = Play(scenario, options, acdd, "callbackNone");
    CHECK(CallsTo(r, "Gateway.RequestCallback") == 0);
    CHECK(r.callbacks == 0);
    CheckAccounted(r);
  }
}

}  // namespace
}  // namespace acd::sim
