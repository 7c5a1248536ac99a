// acd-sim: the call-center simulator's command line.
//   acd-sim run SCENARIO  play a scenario file in virtual time against engine/core
//                       [--json] [--intervals CSV] [--report HTML] [--no-progress]
//   acd-sim run ...     simulate one queue in virtual time, every decision by engine/core
//   acd-sim load SCENARIO --target HOST:PORT [--speed X]  play it against a running acdd
//   acd-sim erlang ...  Erlang C (or, with --patience-s, Erlang A) predictions
//   acd-sim staff ...   the fewest agents meeting a service-level target
// See simulators/single_queue_sim.h and simulators/queueing_theory.h for the models and
// the KPI definitions.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "simulators/html_report.h"
#include "simulators/kpi_report.h"
#include "simulators/live_load.h"
#include "simulators/progress_bar.h"
#include "simulators/queueing_theory.h"
#include "simulators/scenario.h"
#include "simulators/scenario_report.h"
#include "simulators/scenario_sim.h"
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

// `required`: false for `run`, whose quick form is one of two (the other is a scenario).
void AddModelFlags(CLI::App* app, ModelFlags* f, bool required = true) {
  app->add_option("--arrivals-per-hour", f->arrivals_per_hour, "Poisson arrival rate")
      ->required(required)
      ->check(CLI::PositiveNumber);
  app->add_option("--aht-s", f->aht_seconds, "mean handle time, seconds (exponential)")
      ->required(required)
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

// The progress line on stderr, unless --no-progress or stderr is not a terminal.
std::unique_ptr<acd::sim::ProgressBar> MakeProgressBar(bool no_progress) {
  if (no_progress) return nullptr;
  return acd::sim::ProgressBar::ForTerminal(STDERR_FILENO);
}

// Hooks `bar` (may be null) to a run's progress callback.
std::function<void(const acd::sim::RunProgress&)> ProgressCallback(acd::sim::ProgressBar* bar) {
  if (bar == nullptr) return nullptr;
  return [bar](const acd::sim::RunProgress& p) { bar->Update(p); };
}

// Writes `contents` to `path`; false (having said why on stderr) if it cannot.
bool WriteFile(const std::string& path, const std::string& contents) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file << contents;
  file.close();
  if (!file.good()) {
    std::cerr << "acd-sim: cannot write " << path << "\n";
    return false;
  }
  return true;
}

int RunSimulation(const ModelFlags& f, acd::sim::SingleQueueScenario scenario, bool no_timing,
                  bool no_progress) {
  scenario.arrivals_per_hour = f.arrivals_per_hour;
  scenario.handle_seconds_mean = f.aht_seconds;
  scenario.agents = f.agents;
  scenario.patience_seconds_mean = f.patience_seconds;
  scenario.sl_threshold_seconds = f.sl_threshold_seconds;
  std::unique_ptr<acd::sim::ProgressBar> bar = MakeProgressBar(no_progress);
  scenario.progress = ProgressCallback(bar.get());
  absl::StatusOr<acd::sim::SimulatedKpis> kpis = acd::sim::RunSingleQueue(scenario);
  if (bar != nullptr) bar->Finish();
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

// What `acd-sim run SCENARIO` was asked for.
struct ScenarioRunFlags {
  std::string path;
  bool json = false;
  bool no_timing = false;
  bool no_progress = false;
  bool check_invariants = false;
  std::string intervals_path;    // empty: no CSV
  std::string report_path;       // empty: no HTML page
  std::optional<uint64_t> seed;  // overrides the file's
};

int RunScenarioFile(const ScenarioRunFlags& f) {
  std::vector<acd::sim::ScenarioProblem> problems;
  absl::StatusOr<acd::sim::Scenario> scenario = acd::sim::LoadScenarioFile(f.path, &problems);
  if (!scenario.ok()) {
    if (problems.empty()) return Fail(scenario.status());
    for (const acd::sim::ScenarioProblem& p : problems) {
      std::cerr << acd::sim::FormatProblem(p) << "\n";
    }
    return 1;
  }
  if (f.seed.has_value()) scenario->proto.set_seed(*f.seed);
  acd::sim::RunOptions options;
  options.check_invariants = f.check_invariants;
  std::unique_ptr<acd::sim::ProgressBar> bar = MakeProgressBar(f.no_progress);
  options.progress = ProgressCallback(bar.get());
  absl::StatusOr<acd::sim::ScenarioResult> result = acd::sim::RunScenario(*scenario, options);
  if (bar != nullptr) bar->Finish();
  if (!result.ok()) {
    std::cerr << "acd-sim: " << f.path << ", seed " << scenario->proto.seed() << ": "
              << result.status() << "\n";
    return 1;
  }
  if (f.no_timing) {
    result->overall.wall_seconds = 0;
    result->overall.contacts_per_second = 0;
  }
  if (!f.intervals_path.empty() &&
      !WriteFile(f.intervals_path, acd::sim::IntervalsToCsv(*scenario, *result))) {
    return 1;
  }
  if (!f.report_path.empty() &&
      !WriteFile(f.report_path, acd::sim::ScenarioResultToHtml(*scenario, *result))) {
    return 1;
  }
  if (f.json) {
    std::cout << acd::sim::ScenarioResultToJson(*scenario, *result).dump() << "\n";
  } else {
    std::cout << acd::sim::ScenarioResultToText(*scenario, *result);
  }
  return 0;
}

std::atomic<bool> load_stop{false};

extern "C" void StopLoad(int) { load_stop.store(true); }

int RunLoadFile(const std::string& path, acd::sim::LoadOptions options, bool json) {
  std::vector<acd::sim::ScenarioProblem> problems;
  absl::StatusOr<acd::sim::Scenario> scenario = acd::sim::LoadScenarioFile(path, &problems);
  if (!scenario.ok()) {
    if (problems.empty()) return Fail(scenario.status());
    for (const acd::sim::ScenarioProblem& p : problems) {
      std::cerr << acd::sim::FormatProblem(p) << "\n";
    }
    return 1;
  }
  // Ctrl-C or SIGTERM ends the load early, still with a report (scripts/demo.sh relies on it).
  options.stop = &load_stop;
  std::signal(SIGINT, StopLoad);
  std::signal(SIGTERM, StopLoad);
  absl::StatusOr<acd::sim::LoadResult> result = acd::sim::RunLoad(*scenario, options);
  if (!result.ok()) {
    std::cerr << "acd-sim load: " << path << " against " << options.target << ": "
              << result.status() << "\n";
    return 1;
  }
  if (json) {
    std::cout << acd::sim::LoadResultToJson(*scenario, options, *result).dump() << "\n";
  } else {
    std::cout << acd::sim::LoadResultToText(*scenario, options, *result);
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
  std::string scenario_path;
  run->add_option("scenario", scenario_path,
                  "a scenario file (acd.v1.Scenario text format); without one, the quick "
                  "single-queue form below");
  AddModelFlags(run, &run_flags, /*required=*/false);
  run->add_option("--agents", run_flags.agents, "agents staffed (quick form)")
      ->check(CLI::PositiveNumber);
  ScenarioRunFlags scenario_flags;
  run->add_option("--intervals", scenario_flags.intervals_path,
                  "with a scenario: write 15-minute interval statistics to this CSV file");
  run->add_option("--report", scenario_flags.report_path,
                  "with a scenario: write a self-contained HTML page (KPIs and charts of "
                  "waiting contacts, service level and agents by state) to this file");
  run->add_option("--contacts", scenario.contacts, "measured arrivals (default 100000)")
      ->check(CLI::PositiveNumber);
  run->add_option("--warmup-contacts", scenario.warmup_contacts,
                  "arrivals simulated before measuring (default contacts/10, >= 1000)")
      ->check(CLI::NonNegativeNumber);
  run->add_option("--seed", scenario.seed,
                  "random seed (default 1; with a scenario, overrides its seed); same seed, "
                  "same KPIs");
  bool no_timing = false;
  run->add_flag("--no-timing", no_timing,
                "leave out the wall-clock speed, so the same seed prints the same bytes");
  run->add_flag("--check-invariants", scenario.check_invariants,
                "engine paranoid mode + Engine::CheckInvariants() after every event (slow)");
  bool no_progress = false;
  run->add_flag("--no-progress", no_progress,
                "no progress line on stderr (there is none anyway unless stderr is a terminal "
                "and the run takes over a second)");

  acd::sim::LoadOptions load_options;
  std::string load_path;
  bool load_json = false;
  CLI::App* load = app.add_subcommand(
      "load", "play a scenario in real time (or --speed X faster) against a running acdd");
  load->add_option("scenario", load_path, "a scenario file (acd.v1.Scenario text format)")
      ->required();
  load->add_option("--target", load_options.target, "acdd's HOST:PORT")->required();
  load->add_option("--speed", load_options.speed,
                   "scenario seconds per real second (default 1); start acdd with "
                   "--clock-start at the scenario's start and --clock-speed at the same value "
                   "so its hours and timers follow the scenario")
      ->check(CLI::PositiveNumber);
  load->add_option("--drain-s", load_options.drain_seconds_max,
                   "after arrivals stop, wait at most this many real seconds (default 30)")
      ->check(CLI::NonNegativeNumber);
  load->add_option("--id-prefix", load_options.id_prefix,
                   "contact ids are PREFIX-N (default load<unix ms>)");
  load->add_option("--progress-s", load_options.progress_seconds,
                   "a progress line on stderr every this many real seconds (default none)")
      ->check(CLI::NonNegativeNumber);
  load->add_flag("--json", load_json, "one JSON object on stdout");

  CLI11_PARSE(app, argc, argv);

  if (load->parsed()) return RunLoadFile(load_path, load_options, load_json);

  if (run->parsed()) {
    if (!scenario_path.empty()) {
      scenario_flags.path = scenario_path;
      scenario_flags.json = run_flags.json;
      scenario_flags.no_timing = no_timing;
      scenario_flags.no_progress = no_progress;
      scenario_flags.check_invariants = scenario.check_invariants;
      if (run->count("--seed") > 0) scenario_flags.seed = scenario.seed;  // overrides the file's
      return RunScenarioFile(scenario_flags);
    }
    // The quick form is one steady-state queue with a warm-up: it has no 15-minute
    // intervals to write or chart. Saying so beats ignoring the flag.
    if (!scenario_flags.intervals_path.empty() || !scenario_flags.report_path.empty()) {
      std::cerr << "acd-sim run: --intervals and --report need a scenario file (see "
                   "simulators/scenarios/); the quick single-queue form has no intervals\n";
      return 2;
    }
    if (run_flags.arrivals_per_hour <= 0 || run_flags.aht_seconds <= 0 || run_flags.agents <= 0) {
      std::cerr << "acd-sim run: give a scenario file, or --arrivals-per-hour, --aht-s and "
                   "--agents\n";
      return 2;
    }
    return RunSimulation(run_flags, scenario, no_timing, no_progress);
  }
  if (erlang->parsed()) return RunErlang(erlang_flags);
  if (staff->parsed()) {
    target.abandon_rate_max = abandon_rate_max;
    return RunStaff(staff_flags, target);
  }
  return 1;
}
