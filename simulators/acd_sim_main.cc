// acd-sim: the call-center simulator's command line.
//   acd-sim run ...     simulate one queue in virtual time, every decision by engine/core
//   acd-sim erlang ...  Erlang C (or, with --patience-s, Erlang A) predictions
//   acd-sim staff ...   the fewest agents meeting a service-level target
// See simulators/single_queue_sim.h and simulators/queueing_theory.h for the models and
// the KPI definitions.
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "simulators/kpi_report.h"
#include "simulators/queueing_theory.h"
#include "simulators/single_queue_sim.h"

namespace {

using acd::sim::QueueModel;

// Flags shared by `erlang` and `staff`.
struct ModelFlags {
  double arrivals_per_hour = 0;
  double aht_seconds = 0;
  int agents = 0;
  std::optional<double> patience_seconds;
  double sl_threshold_seconds = 20;
  bool json = false;

  QueueModel ToModel() const {
    QueueModel m;
    m.arrivals_per_hour = arrivals_per_hour;
    m.handle_seconds_mean = aht_seconds;
    m.agents = agents;
    m.patience_seconds_mean = patience_seconds;
    m.sl_threshold_seconds = sl_threshold_seconds;
    return m;
  }
};

void AddModelFlags(CLI::App* app, ModelFlags* f) {
  app->add_option("--arrivals-per-hour", f->arrivals_per_hour, "Poisson arrival rate")
      ->required()
      ->check(CLI::PositiveNumber);
  app->add_option("--aht-s", f->aht_seconds, "mean handle time, seconds (exponential)")
      ->required()
      ->check(CLI::PositiveNumber);
  app->add_option("--patience-s", f->patience_seconds,
                  "mean caller patience, seconds (exponential); omit for none (Erlang C)")
      ->check(CLI::PositiveNumber);
  app->add_option("--sl-threshold-s", f->sl_threshold_seconds,
                  "service-level threshold, seconds (default 20)")
      ->check(CLI::NonNegativeNumber);
  app->add_flag("--json", f->json, "one JSON object on stdout");
}

int Fail(const absl::Status& s) {
  std::cerr << "acd-sim: " << s << "\n";
  return 1;
}

int RunErlang(const ModelFlags& f) {
  const QueueModel model = f.ToModel();
  absl::StatusOr<acd::sim::QueueKpis> kpis = acd::sim::PredictKpis(model);
  if (!kpis.ok()) return Fail(kpis.status());
  if (f.json) {
    std::cout << acd::sim::PredictionToJson(model, *kpis).dump() << "\n";
  } else {
    std::cout << acd::sim::PredictionToText(model, *kpis);
  }
  return 0;
}

int RunStaff(const ModelFlags& f, const acd::sim::StaffingTarget& target) {
  absl::StatusOr<acd::sim::StaffingResult> r = acd::sim::FewestAgents(f.ToModel(), target);
  if (!r.ok()) return Fail(r.status());
  QueueModel model = f.ToModel();
  model.agents = r->agents;
  if (f.json) {
    nlohmann::ordered_json j = acd::sim::PredictionToJson(model, r->kpis);
    j["target_sl"] = target.service_level_min;
    if (target.abandon_rate_max.has_value()) j["max_abandon_rate"] = *target.abandon_rate_max;
    std::cout << j.dump() << "\n";
  } else {
    std::cout << "fewest agents      " << r->agents << "\n"
              << acd::sim::PredictionToText(model, r->kpis);
  }
  return 0;
}

int RunSimulation(const ModelFlags& f, acd::sim::SingleQueueScenario scenario, bool no_timing) {
  scenario.arrivals_per_hour = f.arrivals_per_hour;
  scenario.handle_seconds_mean = f.aht_seconds;
  scenario.agents = f.agents;
  scenario.patience_seconds_mean = f.patience_seconds;
  scenario.sl_threshold_seconds = f.sl_threshold_seconds;
  absl::StatusOr<acd::sim::SimulatedKpis> kpis = acd::sim::RunSingleQueue(scenario);
  if (!kpis.ok()) {
    std::cerr << "acd-sim: seed " << scenario.seed << ": " << kpis.status() << "\n";
    return 1;
  }
  if (no_timing) {
    kpis->contacts_per_second = 0;
    kpis->wall_seconds = 0;
  }
  if (f.json) {
    nlohmann::ordered_json j = acd::sim::SimulationToJson(scenario, *kpis);
    if (no_timing) j.erase("contacts_per_second");
    std::cout << j.dump() << "\n";
  } else {
    std::cout << acd::sim::SimulationToText(scenario, *kpis);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"acd-sim: ACD simulator and queueing-theory reference"};
  app.require_subcommand(1);

  ModelFlags erlang_flags;
  CLI::App* erlang = app.add_subcommand(
      "erlang", "Erlang C (M/M/N) or, with --patience-s, Erlang A (M/M/N+M) predictions");
  AddModelFlags(erlang, &erlang_flags);
  erlang->add_option("--agents", erlang_flags.agents, "agents staffed")
      ->required()
      ->check(CLI::PositiveNumber);

  ModelFlags staff_flags;
  acd::sim::StaffingTarget target;
  std::optional<double> abandon_rate_max;
  CLI::App* staff = app.add_subcommand("staff", "fewest agents that meet a service-level target");
  AddModelFlags(staff, &staff_flags);
  staff
      ->add_option("--target-sl", target.service_level_min,
                   "share answered within the threshold, e.g. 0.8")
      ->required()
      ->check(CLI::Range(0.0, 0.999999));
  staff
      ->add_option("--max-abandon-rate", abandon_rate_max,
                   "also keep abandoned / arrivals at or below this (needs --patience-s)")
      ->check(CLI::Range(0.000001, 1.0));
  staff->add_option("--max-agents", target.agents_max, "give up above this many agents")
      ->check(CLI::PositiveNumber);

  ModelFlags run_flags;
  acd::sim::SingleQueueScenario scenario;
  CLI::App* run = app.add_subcommand(
      "run", "simulate one queue in virtual time; every routing decision by the real engine");
  AddModelFlags(run, &run_flags);
  run->add_option("--agents", run_flags.agents, "agents staffed")
      ->required()
      ->check(CLI::PositiveNumber);
  run->add_option("--contacts", scenario.contacts, "measured arrivals (default 100000)")
      ->check(CLI::PositiveNumber);
  run->add_option("--warmup-contacts", scenario.warmup_contacts,
                  "arrivals simulated before measuring (default contacts/10, >= 1000)")
      ->check(CLI::NonNegativeNumber);
  run->add_option("--seed", scenario.seed, "random seed (default 1); same seed, same KPIs");
  bool no_timing = false;
  run->add_flag("--no-timing", no_timing,
                "leave out the wall-clock speed, so the same seed prints the same bytes");
  run->add_flag("--check-invariants", scenario.check_invariants,
                "engine paranoid mode + Engine::CheckInvariants() after every event (slow)");

  CLI11_PARSE(app, argc, argv);

  if (run->parsed()) return RunSimulation(run_flags, scenario, no_timing);
  if (erlang->parsed()) return RunErlang(erlang_flags);
  if (staff->parsed()) {
    target.abandon_rate_max = abandon_rate_max;
    return RunStaff(staff_flags, target);
  }
  return 1;
}
