// KPI report: turns predicted (Erlang C/A) KPIs into the JSON object and the text table
// that `acd-sim erlang` and `acd-sim staff` print. Key names are issue 6's: p_wait,
// mean_wait_s, asa_s, service_level, abandon_rate, occupancy. Pure functions.
#ifndef ACD_SIMULATORS_KPI_REPORT_H_
#define ACD_SIMULATORS_KPI_REPORT_H_

#include <string>

#include "nlohmann/json.hpp"
#include "simulators/queueing_theory.h"
#include "simulators/single_queue_sim.h"

namespace acd::sim {

// {"model": "erlang_c"|"erlang_a", inputs..., "p_wait", "mean_wait_s", "asa_s",
//  "service_level", "abandon_rate", "occupancy", "mean_queue_length"}.
nlohmann::ordered_json PredictionToJson(const QueueModel& model, const QueueKpis& kpis);

// A few aligned "name  value" lines for people.
std::string PredictionToText(const QueueModel& model, const QueueKpis& kpis);

// {"offered", "answered", "abandoned", "p_wait", "mean_wait_s", "asa_s", "service_level",
//  "abandon_rate", "occupancy", "contacts_per_second", scenario echo incl. "seed", and
//  "predicted": PredictionToJson(...) when the Erlang model has a steady state}.
nlohmann::ordered_json SimulationToJson(const SingleQueueScenario& scenario,
                                        const SimulatedKpis& kpis);

std::string SimulationToText(const SingleQueueScenario& scenario, const SimulatedKpis& kpis);

// The Erlang model with the same parameters as `scenario`.
QueueModel ModelOf(const SingleQueueScenario& scenario);

}  // namespace acd::sim

#endif  // ACD_SIMULATORS_KPI_REPORT_H_
