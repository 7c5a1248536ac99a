// Scenario report: renders a ScenarioResult (simulators/scenario_sim.h) as the KPI table
// people read, the one JSON object `acd-sim run SCENARIO --json` prints, and the
// 15-minute interval CSV of `--intervals`. Pure functions; the same result gives the same
// bytes.
#ifndef ACD_SIMULATORS_SCENARIO_REPORT_H_
#define ACD_SIMULATORS_SCENARIO_REPORT_H_

#include <string>

#include "nlohmann/json.hpp"
#include "simulators/scenario.h"
#include "simulators/scenario_sim.h"

namespace acd::sim {

// {"scenario", "seed", "offered", "answered", "abandoned", "p_wait", "mean_wait_s",
//  "asa_s", "service_level", "abandon_rate", "occupancy", ..., "contacts_per_second"
//  (left out when wall_seconds is 0), "queues": [{"queue", "offered", ...}, ...]}.
nlohmann::ordered_json ScenarioResultToJson(const Scenario& scenario, const ScenarioResult& r);

// A table: one row per queue that was offered anything, then "overall".
std::string ScenarioResultToText(const Scenario& scenario, const ScenarioResult& r);

// Header "interval_start,queue,offered,answered,..." then one line per interval and queue;
// interval_start is local time in the scenario's zone ("2026-11-23 08:15").
std::string IntervalsToCsv(const Scenario& scenario, const ScenarioResult& r);

}  // namespace acd::sim

#endif  // ACD_SIMULATORS_SCENARIO_REPORT_H_
