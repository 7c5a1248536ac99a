// Scenario files: the loader that turns an acd.v1.Scenario text file (and the rules file
// it names) into a ready-to-run Scenario, reporting every problem as
// "file:line:column: message", plus the random draws the scenario's distributions need.
//
// A Scenario that loads is one both simulation modes can play: every queue, channel,
// skill and reason code it names exists in its rules, every time of day parses, every
// share is in range. Loading reads files and time-zone data. Thread-compatible; no state.
#ifndef ACD_SIMULATORS_SCENARIO_H_
#define ACD_SIMULATORS_SCENARIO_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "acd/v1/scenario.pb.h"
#include "engine/core/config.h"
#include "engine/core/random.h"
#include "routing_rules/rules_loader.h"

namespace acd::sim {

// One thing wrong with a scenario (or its rules) file. line and column are 1-based; 0
// when unknown. `file` is the file the position refers to.
struct ScenarioProblem {
  std::string file;
  int line = 0;
  int column = 0;
  std::string message;
};

// "file:line:column: message" (or "file: message" without a position).
std::string FormatProblem(const ScenarioProblem& problem);

struct Scenario {
  acd::v1::Scenario proto;
  std::string file;        // as given
  std::string rules_path;  // resolved against the scenario's folder; empty: default rules
  core::EngineConfig rules;
  absl::TimeZone zone;
  absl::Time start;
  // Set when the scenario ends by duration; otherwise proto.contacts() arrivals.
  std::optional<absl::Duration> duration;
  absl::Duration drain_max;
};

// Parses and validates `text` as the scenario file `file` (its rules file is read from
// disk, relative to `file`). On failure returns INVALID_ARGUMENT whose message is the
// first problem formatted, and appends every problem to `problems` (if not null).
absl::StatusOr<Scenario> ParseScenario(absl::string_view text, const std::string& file,
                                       std::vector<ScenarioProblem>* problems = nullptr);

// Reads and parses a scenario file. NOT_FOUND if it cannot be read.
absl::StatusOr<Scenario> LoadScenarioFile(const std::string& path,
                                          std::vector<ScenarioProblem>* problems = nullptr);

// A draw from `d`, in seconds (>= 0). REQUIRES: `d` passed validation.
double DrawSeconds(const acd::v1::Distribution& d, core::Random& random);

// The arrival rate of `stream` (per hour) at local minute-of-day `minute` (0..1439).
double RatePerHourAt(const acd::v1::ArrivalStream& stream, int minute);

// "HH:MM" -> minutes after midnight: the rules' parser, so both read times alike.
using rules::ParseTimeOfDay;

}  // namespace acd::sim

#endif  // ACD_SIMULATORS_SCENARIO_H_
