// KPI report: turns predicted (Erlang C/A) KPIs into the JSON object and the text table
// that `acd-sim erlang` and `acd-sim staff` print. Key names are issue 6's: p_wait,
// mean_wait_s, asa_s, service_level, abandon_rate, occupancy. Pure functions.
#ifndef ACD_SIMULATORS_KPI_REPORT_H_
#define ACD_SIMULATORS_KPI_REPORT_H_

#include <string>

#include "nlohmann/json.hpp"
#include "simulators/queueing_theory.h"

namespace acd::sim {

// {"model": "erlang_c"|"erlang_a", inputs..., "p_wait", "mean_wait_s", "asa_s",
//  "service_level", "abandon_rate", "occupancy", "mean_queue_length"}.
nlohmann::json PredictionToJson(const QueueModel& model, const QueueKpis& kpis);

// A few aligned "name  value" lines for people.
std::string PredictionToText(const QueueModel& model, const QueueKpis& kpis);

}  // namespace acd::sim

#endif  // ACD_SIMULATORS_KPI_REPORT_H_
