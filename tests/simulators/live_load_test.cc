// `acd-sim load` against the real acdd binary on port 0 (default rules): a short scenario at
// high speed, then every contact is accounted for, by the load client and by the server.
#include "simulators/live_load.h"

#include <signal.h>

#include <catch2/catch.hpp>
#include <string>

#include "simulators/scenario.h"
#include "tests/server/acdd_process.h"

namespace acd::sim {
namespace {

TEST_CASE("a scenario played against acdd loses no contact", "[sim][server]") {
  absl::StatusOr<Scenario> scenario = LoadScenarioFile(
      std::string(ACD_SOURCE_DIR) + "/simulators/scenarios/general_smoke.textproto");
  INFO(scenario.status());
  REQUIRE(scenario.ok());
  // Four minutes of the smoke scenario at 60x: about 20 contacts in 4 s.
  scenario->duration = absl::Minutes(4);
  testing::AcddProcess acdd;
  LoadOptions options;
  options.target = acdd.target();
  options.speed = 60;
  options.drain_seconds_max = 2;
  options.id_prefix = "loadtest";
  absl::StatusOr<LoadResult> r = RunLoad(*scenario, options);
  INFO("seed " << scenario->proto.seed() << ": " << r.status());
  REQUIRE(r.ok());
  INFO(LoadResultToText(*scenario, options, *r));
  CHECK(r->offered > 5);
  CHECK(r->refused == 0);
  CHECK(r->answered > 0);
  CHECK(r->offered == r->answered + r->abandoned + r->waiting_at_end);
  // The server saw the same contacts end the same way.
  CHECK(r->server_offered == r->offered);
  CHECK(r->server_answered == r->answered);
  CHECK(r->server_abandoned == r->abandoned);
  CHECK(r->server_waiting_at_end == r->waiting_at_end);
  CHECK(r->handled == r->answered);
  bool saw_enqueue = false;
  for (const RpcLatency& l : r->rpcs) {
    if (l.method == "Gateway.EnqueueContact") {
      saw_enqueue = true;
      CHECK(l.calls == r->offered);
      CHECK(l.errors == 0);
      CHECK(l.p50_ms <= l.p99_ms);
    }
  }
  CHECK(saw_enqueue);
  CHECK(acdd.Stop(SIGTERM) == 0);
}

}  // namespace
}  // namespace acd::sim
