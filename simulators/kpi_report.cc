#include "simulators/kpi_report.h"

#include "absl/strings/str_format.h"

namespace acd::sim {

nlohmann::json PredictionToJson(const QueueModel& model, const QueueKpis& kpis) {
  nlohmann::json j;
  j["model"] = model.patience_seconds_mean.has_value() ? "erlang_a" : "erlang_c";
  j["arrivals_per_hour"] = model.arrivals_per_hour;
  j["aht_s"] = model.handle_seconds_mean;
  j["agents"] = model.agents;
  if (model.patience_seconds_mean.has_value()) {
    j["patience_s"] = *model.patience_seconds_mean;
  }
  j["sl_threshold_s"] = model.sl_threshold_seconds;
  j["offered_load_erlangs"] = model.offered_load_erlangs();
  j["p_wait"] = kpis.p_wait;
  j["mean_wait_s"] = kpis.mean_wait_seconds;
  j["asa_s"] = kpis.asa_seconds;
  j["service_level"] = kpis.service_level;
  j["abandon_rate"] = kpis.abandon_rate;
  j["occupancy"] = kpis.occupancy;
  j["mean_queue_length"] = kpis.mean_queue_length;
  return j;
}

std::string PredictionToText(const QueueModel& model, const QueueKpis& kpis) {
  std::string out;
  const bool erlang_a = model.patience_seconds_mean.has_value();
  absl::StrAppendFormat(&out, "model              %s\n",
                        erlang_a ? "Erlang A (M/M/N+M)" : "Erlang C (M/M/N)");
  absl::StrAppendFormat(&out, "offered load       %.4f erlangs\n", model.offered_load_erlangs());
  absl::StrAppendFormat(&out, "agents             %d\n", model.agents);
  absl::StrAppendFormat(&out, "p_wait             %.4f\n", kpis.p_wait);
  absl::StrAppendFormat(&out, "service level      %.4f  (answered within %g s / arrivals)\n",
                        kpis.service_level, model.sl_threshold_seconds);
  absl::StrAppendFormat(&out, "mean wait          %.3f s  (all arrivals)\n",
                        kpis.mean_wait_seconds);
  absl::StrAppendFormat(&out, "ASA                %.3f s  (answered)\n", kpis.asa_seconds);
  absl::StrAppendFormat(&out, "abandon rate       %.4f\n", kpis.abandon_rate);
  absl::StrAppendFormat(&out, "occupancy          %.4f\n", kpis.occupancy);
  absl::StrAppendFormat(&out, "mean queue length  %.4f\n", kpis.mean_queue_length);
  return out;
}

}  // namespace acd::sim
