// The routing-rules loader: turns a rules file (protobuf text format of acd.v1.RoutingRules)
// into the core's EngineConfig, and reports every problem it finds with a place an
// administrator can go to: "file:line:column: message" for syntax errors, and for rule
// errors the line of the queue they concern plus the queue and field by name.
//
// A rule set that loads here is one the engine accepts: the loader runs exactly the
// checks Engine::Create runs (ValidateConfig, strategy names and parameters), plus its
// own (time zones, dates, clock times). Loading reads files and time-zone data, so it
// belongs outside engine/core. Thread-compatible; no state.
#ifndef ACD_ROUTING_RULES_RULES_LOADER_H_
#define ACD_ROUTING_RULES_RULES_LOADER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "acd/v1/rules.pb.h"
#include "engine/core/config.h"

namespace acd::rules {

// One thing wrong with a rules file. line and column are 1-based; 0 when unknown.
struct RuleProblem {
  int line = 0;
  int column = 0;
  std::string message;
};

// "file:line:column: message" (or "file: message" without a position).
std::string FormatProblem(absl::string_view file, const RuleProblem& problem);

struct LoadedRules {
  core::EngineConfig config;
  acd::v1::RoutingRules proto;
  std::string version;   // RoutingRules.version
  std::string checksum;  // "fnv1a64:<16 hex digits>" of the file's bytes
};

// Parses and validates `text`. On failure returns INVALID_ARGUMENT whose message is the
// first problem formatted with `file`, and appends every problem found to `problems`
// (if not null).
absl::StatusOr<LoadedRules> ParseRules(absl::string_view text, absl::string_view file,
                                       std::vector<RuleProblem>* problems = nullptr);

// Reads and parses a rules file. NOT_FOUND if it cannot be read.
absl::StatusOr<LoadedRules> LoadRulesFile(const std::string& path,
                                          std::vector<RuleProblem>* problems = nullptr);

// Reads a whole text file (a rules or scenario file). NOT_FOUND naming `what` and the
// path if it cannot be read.
absl::StatusOr<std::string> ReadTextFile(const std::string& path, absl::string_view what);

// The checksum ParseRules reports, of any bytes.
std::string RulesChecksum(absl::string_view text);

// "HH:MM" -> minutes after midnight, 0..1440 ("24:00" is the end of a day). False if
// malformed ("9:00", "12:60", "24:01"). The one parser for times of day: rules' open
// hours, and scenarios' arrival windows, shifts and breaks.
bool ParseTimeOfDay(absl::string_view text, int* minutes);

}  // namespace acd::rules

#endif  // ACD_ROUTING_RULES_RULES_LOADER_H_
