#include "simulators/kpi_report.h"

#include "absl/strings/str_format.h"

namespace acd::sim {

nlohmann::ordered_json PredictionToJson(const QueueModel& model, const QueueKpis& kpis) {
  nlohmann::ordered_json j;
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

QueueModel ModelOf(const SingleQueueScenario& scenario) {
  QueueModel m;
  m.arrivals_per_hour = scenario.arrivals_per_hour;
  m.handle_seconds_mean = scenario.handle_seconds_mean;
  m.agents = scenario.agents;
  m.patience_seconds_mean = scenario.patience_seconds_mean;
  m.sl_threshold_seconds = scenario.sl_threshold_seconds;
  return m;
}

nlohmann::ordered_json SimulationToJson(const SingleQueueScenario& scenario,
                                        const SimulatedKpis& kpis) {
  nlohmann::ordered_json j;
  j["arrivals_per_hour"] = scenario.arrivals_per_hour;
  j["aht_s"] = scenario.handle_seconds_mean;
  j["agents"] = scenario.agents;
  if (scenario.patience_seconds_mean.has_value()) {
    j["patience_s"] = *scenario.patience_seconds_mean;
  }
  j["sl_threshold_s"] = scenario.sl_threshold_seconds;
  j["seed"] = scenario.seed;
  j["offered"] = kpis.offered;
  j["answered"] = kpis.answered;
  j["abandoned"] = kpis.abandoned;
  j["p_wait"] = kpis.p_wait;
  j["mean_wait_s"] = kpis.mean_wait_seconds;
  j["asa_s"] = kpis.asa_seconds;
  j["service_level"] = kpis.service_level;
  j["abandon_rate"] = kpis.abandon_rate;
  j["occupancy"] = kpis.occupancy;
  j["simulated_s"] = kpis.simulated_seconds;
  j["engine_events"] = kpis.engine_events;
  j["contacts_per_second"] = kpis.contacts_per_second;
  const QueueModel model = ModelOf(scenario);
  if (absl::StatusOr<QueueKpis> predicted = PredictKpis(model); predicted.ok()) {
    j["predicted"] = PredictionToJson(model, *predicted);
  }
  return j;
}

std::string SimulationToText(const SingleQueueScenario& scenario, const SimulatedKpis& kpis) {
  const QueueModel model = ModelOf(scenario);
  absl::StatusOr<QueueKpis> predicted = PredictKpis(model);
  std::string out;
  absl::StrAppendFormat(&out, "seed %d, %d agents, %g calls/h, AHT %g s, patience %s\n",
                        scenario.seed, scenario.agents, scenario.arrivals_per_hour,
                        scenario.handle_seconds_mean,
                        scenario.patience_seconds_mean.has_value()
                            ? absl::StrFormat("%g s", *scenario.patience_seconds_mean)
                            : std::string("none"));
  absl::StrAppendFormat(&out, "%-15s %14s %14s\n", "", "simulated",
                        predicted.ok() ? (model.patience_seconds_mean ? "Erlang A" : "Erlang C")
                                       : "(no steady state)");
  auto row = [&](const char* name, double sim, double theory) {
    if (predicted.ok()) {
      absl::StrAppendFormat(&out, "%-15s %14.4f %14.4f\n", name, sim, theory);
    } else {
      absl::StrAppendFormat(&out, "%-15s %14.4f\n", name, sim);
    }
  };
  const QueueKpis p = predicted.ok() ? *predicted : QueueKpis{};
  absl::StrAppendFormat(&out, "%-15s %14d\n", "offered", kpis.offered);
  absl::StrAppendFormat(&out, "%-15s %14d\n", "answered", kpis.answered);
  absl::StrAppendFormat(&out, "%-15s %14d\n", "abandoned", kpis.abandoned);
  row("p_wait", kpis.p_wait, p.p_wait);
  row("service_level", kpis.service_level, p.service_level);
  row("mean_wait_s", kpis.mean_wait_seconds, p.mean_wait_seconds);
  row("asa_s", kpis.asa_seconds, p.asa_seconds);
  row("abandon_rate", kpis.abandon_rate, p.abandon_rate);
  row("occupancy", kpis.occupancy, p.occupancy);
  if (kpis.wall_seconds > 0) {  // zero: timing left out on purpose
    absl::StrAppendFormat(&out, "%-15s %14.0f  (%.2f s wall)\n", "contacts/s",
                          kpis.contacts_per_second, kpis.wall_seconds);
  }
  return out;
}

}  // namespace acd::sim
