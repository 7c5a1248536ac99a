#include "simulators/scenario_report.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"

namespace acd::sim {

nlohmann::ordered_json ScenarioResultToJson(const Scenario& scenario, const ScenarioResult& r) {
  const OverallReport& o = r.overall;
  nlohmann::ordered_json j;
  j["scenario"] = scenario.proto.name();
  j["seed"] = scenario.proto.seed();
  j["offered"] = o.offered;
  j["answered"] = o.answered;
  j["abandoned"] = o.abandoned;
  j["p_wait"] = o.p_wait;
  j["mean_wait_s"] = o.mean_wait_seconds;
  j["asa_s"] = o.asa_seconds;
  j["service_level"] = o.service_level;
  j["abandon_rate"] = o.abandon_rate;
  j["occupancy"] = o.occupancy;
  j["aht_s"] = o.aht_seconds;
  j["refused"] = o.refused;
  j["overflowed_out"] = o.overflowed_out;
  j["unfinished"] = o.unfinished;
  j["callbacks"] = o.callbacks;
  j["ronas"] = o.ronas;
  j["handled"] = o.handled;
  j["simulated_s"] = o.simulated_seconds;
  j["engine_events"] = o.engine_events;
  if (o.wall_seconds > 0) j["contacts_per_second"] = o.contacts_per_second;
  nlohmann::ordered_json queues = nlohmann::ordered_json::array();
  for (const QueueReport& q : r.queues) {
    nlohmann::ordered_json jq;
    jq["queue"] = q.queue;
    jq["offered"] = q.offered;
    jq["answered"] = q.answered;
    jq["abandoned"] = q.abandoned;
    jq["overflowed"] = q.overflowed;
    jq["handled"] = q.handled;
    jq["sl_threshold_s"] = q.sl_threshold_seconds;
    jq["service_level"] = q.service_level;
    jq["asa_s"] = q.asa_seconds;
    jq["aht_s"] = q.aht_seconds;
    jq["abandon_rate"] = q.abandon_rate;
    queues.push_back(std::move(jq));
  }
  j["queues"] = std::move(queues);
  return j;
}

std::string ScenarioResultToText(const Scenario& scenario, const ScenarioResult& r) {
  const OverallReport& o = r.overall;
  std::string out;
  absl::StrAppendFormat(
      &out, "scenario %s, seed %d, start %s (%s)\n", scenario.proto.name(), scenario.proto.seed(),
      absl::FormatTime("%Y-%m-%d %H:%M", scenario.start, scenario.zone), scenario.zone.name());
  absl::StrAppendFormat(&out, "%-18s %8s %8s %8s %8s %7s %8s %8s %7s\n", "queue", "offered",
                        "answered", "abandon", "overflow", "SL", "ASA s", "AHT s", "aband%");
  for (const QueueReport& q : r.queues) {
    if (q.offered == 0) continue;
    absl::StrAppendFormat(&out, "%-18s %8d %8d %8d %8d %6.1f%% %8.1f %8.1f %6.1f%%\n", q.queue,
                          q.offered, q.answered, q.abandoned, q.overflowed, 100 * q.service_level,
                          q.asa_seconds, q.aht_seconds, 100 * q.abandon_rate);
  }
  absl::StrAppendFormat(&out, "%-18s %8d %8d %8d %8d %6.1f%% %8.1f %8.1f %6.1f%%\n", "overall",
                        o.offered, o.answered, o.abandoned, o.overflowed_out, 100 * o.service_level,
                        o.asa_seconds, o.aht_seconds, 100 * o.abandon_rate);
  absl::StrAppendFormat(&out,
                        "occupancy %.1f%%, p_wait %.3f, mean wait %.1f s, callbacks %d, "
                        "RONAs %d, refused %d, unfinished %d\n",
                        100 * o.occupancy, o.p_wait, o.mean_wait_seconds, o.callbacks, o.ronas,
                        o.refused, o.unfinished);
  absl::StrAppendFormat(&out,
                        "(SL = answered within the queue's threshold / offered. Per queue, "
                        "overflow = moved on to another queue, and contacts overflowed in count "
                        "as offered again; overall, each contact counts once and overflow = "
                        "left with nowhere to go)\n");
  if (o.wall_seconds > 0) {
    absl::StrAppendFormat(&out, "%.0f contacts/s (%.3f s wall for %.0f s simulated)\n",
                          o.contacts_per_second, o.wall_seconds, o.simulated_seconds);
  }
  return out;
}

std::string IntervalsToCsv(const Scenario& scenario, const ScenarioResult& r) {
  std::string out =
      "interval_start,queue,offered,answered,answered_within_sl,abandoned,handled,"
      "service_level,asa_s,aht_s,waiting_at_end,agents_ready,agents_busy,agents_not_ready,"
      "occupancy\n";
  // No field needs quoting: queue names are limited to [A-Za-z0-9_.:-] (ValidateConfig).
  for (const IntervalRow& row : r.intervals) {
    absl::StrAppendFormat(&out, "%s,%s,%d,%d,%d,%d,%d,%.4f,%.2f,%.2f,%d,%d,%d,%d,%s\n",
                          absl::FormatTime("%Y-%m-%d %H:%M", row.start, scenario.zone), row.queue,
                          row.offered, row.answered, row.answered_within_threshold, row.abandoned,
                          row.handled, row.service_level, row.asa_seconds, row.aht_seconds,
                          row.waiting_at_end, row.agents_ready_at_end, row.agents_busy_at_end,
                          row.agents_not_ready_at_end,
                          row.queue == "ALL" ? absl::StrFormat("%.4f", row.occupancy) : "");
  }
  return out;
}

}  // namespace acd::sim
