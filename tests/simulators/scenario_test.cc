// Scenario files and `acd-sim run SCENARIO`: every shipped scenario loads and runs with
// KPIs that add up; the same seed gives the same bytes; problems in a scenario file are
// reported with file:line:column; more agents never lower the service level.
#include "simulators/scenario.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "simulators/scenario_report.h"
#include "simulators/scenario_sim.h"

namespace acd::sim {
namespace {

const std::string kScenarios = std::string(ACD_SOURCE_DIR) + "/simulators/scenarios/";
// A path beside the shipped scenarios, so a rules_file relative to it resolves.
const std::string kFakeFile = kScenarios + "test.textproto";

Scenario Load(const std::string& name) {
  absl::StatusOr<Scenario> s = LoadScenarioFile(kScenarios + name);
  INFO(name << ": " << s.status());
  REQUIRE(s.ok());
  return *std::move(s);
}

ScenarioResult Run(const Scenario& s, RunOptions options = {}) {
  INFO("scenario " << s.proto.name() << ", seed " << s.proto.seed());
  absl::StatusOr<ScenarioResult> r = RunScenario(s, options);
  INFO(r.status());
  REQUIRE(r.ok());
  r->overall.wall_seconds = 0;
  r->overall.contacts_per_second = 0;
  return *std::move(r);
}

std::string Bytes(const Scenario& s, const ScenarioResult& r) {
  return ScenarioResultToJson(s, r).dump() + IntervalsToCsv(s, r);
}

// The first problem ParseScenario reports for `text`.
ScenarioProblem FirstProblem(const std::string& text) {
  std::vector<ScenarioProblem> problems;
  absl::StatusOr<Scenario> s = ParseScenario(text, kFakeFile, &problems);
  REQUIRE_FALSE(s.ok());
  REQUIRE_FALSE(problems.empty());
  INFO(FormatProblem(problems[0]));
  CHECK(s.status().message() == FormatProblem(problems[0]));
  return problems[0];
}

const char* kSmallScenario = R"(name: "small"
duration_minutes: 60
seed: 7
arrivals {
  queue: "general"
  rate_per_hour: 100
  handle_time { exponential_mean_seconds: 120 }
  patience { exponential_mean_seconds: 90 }
}
roster { name: "a" count: 4 skills { skill: "general" level: 5 } }
)";

TEST_CASE("every shipped scenario runs, and its KPIs add up", "[sim]") {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(kScenarios)) {
    if (entry.path().extension() == ".textproto") names.push_back(entry.path().filename());
  }
  std::sort(names.begin(), names.end());
  CHECK(names.size() >= 4);  // the three healthcare scenarios and general_smoke at least
  for (const std::string& name : names) {
    const Scenario s = Load(name);
    const ScenarioResult r = Run(s);
    const OverallReport& o = r.overall;
    INFO(name << ", seed " << s.proto.seed() << "\n" << ScenarioResultToText(s, r));
    CHECK(o.offered > 0);
    CHECK(o.answered > 0);
    CHECK(o.offered == o.answered + o.abandoned + o.overflowed_out + o.unfinished);
    CHECK(o.service_level > 0.3);
    CHECK(o.service_level <= 1.0);
    CHECK(o.occupancy > 0.2);
    CHECK(o.occupancy < 1.0);
    CHECK(o.handled == o.answered);  // the run ends once every talk has ended
    // Per queue, from the engine: answered + abandoned never exceed offered, and every
    // contact the simulation saw answered was answered in some queue.
    int64_t answered = 0, abandoned = 0;
    for (const QueueReport& q : r.queues) {
      CHECK(q.answered + q.abandoned <= q.offered);
      answered += q.answered;
      abandoned += q.abandoned;
    }
    CHECK(answered == o.answered);
    CHECK(abandoned == o.abandoned);
    // The "ALL" interval rows add up to the run.
    int64_t interval_offered = 0, interval_answered = 0;
    for (const IntervalRow& row : r.intervals) {
      if (row.queue != "ALL") continue;
      interval_offered += row.offered;
      interval_answered += row.answered;
    }
    CHECK(interval_offered == o.offered);
    CHECK(interval_answered == o.answered);
  }
}

TEST_CASE("the healthcare scenarios exercise business hours, callbacks, Spanish and RONA",
          "[sim]") {
  const Scenario s = Load("healthcare_normal_monday.textproto");
  const ScenarioResult r = Run(s);
  INFO(ScenarioResultToText(s, r));
  CHECK(r.overall.callbacks > 0);
  CHECK(r.overall.ronas > 0);
  // Billing opens at 08:00 and closes at 17:00: its calls before and after overflow to
  // information and referral, so billing takes none in the first hour.
  for (const IntervalRow& row : r.intervals) {
    if (row.queue == "billing_insurance" && row.start < s.start + absl::Hours(1)) {
      CHECK(row.offered == 0);
    }
  }
  for (const QueueReport& q : r.queues) {
    if (q.queue == "billing_insurance") CHECK(q.overflowed == 0);
  }
}

TEST_CASE("the same seed gives the same bytes; another seed does not", "[sim]") {
  for (const char* name : {"general_smoke.textproto", "healthcare_flu_surge.textproto"}) {
    Scenario s = Load(name);
    const std::string first = Bytes(s, Run(s));
    const std::string second = Bytes(s, Run(s));
    INFO(name << ", seed " << s.proto.seed());
    CHECK(first == second);
    s.proto.set_seed(s.proto.seed() + 1);
    CHECK(Bytes(s, Run(s)) != first);
  }
}

TEST_CASE("more agents never lower the service level on the same seed", "[sim]") {
  const Scenario base = Load("healthcare_short_staffed_afternoon.textproto");
  for (uint64_t seed : {1130ULL, 7ULL, 99ULL}) {
    Scenario fewer = base;
    fewer.proto.set_seed(seed);
    Scenario more = fewer;
    for (v1::AgentGroup& g : *more.proto.mutable_roster()) {
      g.set_count(g.count() + (g.count() + 1) / 2);
    }
    const ScenarioResult a = Run(fewer), b = Run(more);
    INFO("seed " << seed << "\nfewer:\n"
                 << ScenarioResultToText(fewer, a) << "more:\n"
                 << ScenarioResultToText(more, b));
    CHECK(a.overall.offered == b.overall.offered);  // arrivals do not depend on staffing
    CHECK(b.overall.service_level >= a.overall.service_level);
    CHECK(b.overall.abandon_rate <= a.overall.abandon_rate);
    CHECK(b.overall.occupancy < a.overall.occupancy);
  }
}

TEST_CASE("a scenario run keeps every engine invariant", "[sim]") {
  // Multi-skill agents, several queues, overflow, callbacks, breaks and RONA.
  for (const char* name :
       {"general_smoke.textproto", "healthcare_short_staffed_afternoon.textproto"}) {
    const Scenario s = Load(name);
    RunOptions options;
    options.check_invariants = true;
    const ScenarioResult checked = Run(s, options);
    INFO(name << ", seed " << s.proto.seed());
    CHECK(Bytes(s, checked) == Bytes(s, Run(s)));  // paranoid mode changes no decision
  }
}

TEST_CASE("a contacts-bounded scenario stops after that many arrivals", "[sim]") {
  std::string text = kSmallScenario;
  text.replace(text.find("duration_minutes: 60"), 20, "contacts: 300");
  absl::StatusOr<Scenario> s = ParseScenario(text, kFakeFile);
  INFO(s.status());
  REQUIRE(s.ok());
  const ScenarioResult r = Run(*s);
  CHECK(r.overall.offered == 300);
  CHECK(r.overall.abandoned > 0);  // 100/h at 120 s on 4 agents, patience 90 s
}

TEST_CASE("a contacts-bounded scenario with no arrivals still ends", "[sim]") {
  std::string text = kSmallScenario;
  text.replace(text.find("duration_minutes: 60"), 20, "contacts: 10");
  text.replace(text.find("rate_per_hour: 100"), 18, "rate_per_hour: 0");
  absl::StatusOr<Scenario> s = ParseScenario(text, kFakeFile);
  REQUIRE(s.ok());
  const ScenarioResult r = Run(*s);
  CHECK(r.overall.offered == 0);
  CHECK(r.overall.simulated_seconds <= 7 * 24 * 3600 + 15 * 60);
}

TEST_CASE("scenario syntax errors name file:line:column", "[sim]") {
  std::string text = kSmallScenario;
  text.replace(text.find("rate_per_hour: 100"), 18, "rate_per_hour: lots");
  const ScenarioProblem p = FirstProblem(text);
  CHECK(p.file == kFakeFile);
  CHECK(p.line == 6);
  CHECK(p.column == 18);

  const ScenarioProblem unknown = FirstProblem(std::string(kSmallScenario) + "colour: \"blue\"\n");
  CHECK(unknown.line == 11);
  CHECK(unknown.column == 7);  // where protobuf notices the name is unknown
  CHECK(absl::StrContains(unknown.message, "colour"));
}

TEST_CASE("scenario rule errors point at the field", "[sim]") {
  SECTION("unknown queue") {
    std::string text = kSmallScenario;
    text.replace(text.find("queue: \"general\""), 16, "queue: \"triage\"");
    const ScenarioProblem p = FirstProblem(text);
    CHECK(p.line == 5);
    CHECK(p.column == 3);
    CHECK(absl::StrContains(p.message, "queue 'triage' is not in the rules"));
  }
  SECTION("unknown skill in the roster") {
    std::string text = kSmallScenario;
    text.replace(text.find("skill: \"general\""), 16, "skill: \"generl\"");
    const ScenarioProblem p = FirstProblem(text);
    CHECK(p.line == 10);
    CHECK(p.column == 29);  // the skills entry
    CHECK(absl::StrContains(p.message, "skill 'generl'"));
  }
  SECTION("a rate interval off the quarter hour") {
    std::string text = kSmallScenario;
    text.replace(text.find("  handle_time"), 0,
                 "  by_time_of_day { from: \"08:00\" to: \"08:10\" per_hour: 5 }\n");
    const ScenarioProblem p = FirstProblem(text);
    CHECK(p.line == 7);
    CHECK(p.column == 3);
    CHECK(absl::StrContains(p.message, "quarter hour"));
  }
  SECTION("neither duration nor contacts") {
    std::string text = kSmallScenario;
    text.replace(text.find("duration_minutes: 60"), 20, "");
    CHECK(absl::StrContains(FirstProblem(text).message, "exactly one of"));
  }
  SECTION("a channel the queue does not take") {
    std::string text = R"(rules_file: "../../routing_rules/healthcare_psc.textproto"
contacts: 10
arrivals {
  queue: "clinical_triage"
  channel: CHAT
  handle_time { fixed_seconds: 60 }
}
)";
    const ScenarioProblem p = FirstProblem(text);
    CHECK(p.line == 5);
    CHECK(p.column == 3);
    CHECK(absl::StrContains(p.message, "does not take CHAT"));
  }
  SECTION("a missing rules file") {
    const ScenarioProblem p =
        FirstProblem(std::string("rules_file: \"nowhere.textproto\"\n") + kSmallScenario);
    CHECK(p.line == 1);
    CHECK(p.column == 1);
    CHECK(absl::StrContains(p.message, "nowhere.textproto"));
  }
}

TEST_CASE("a problem in the rules file is reported in the rules file", "[sim]") {
  const std::string rules = kScenarios + "broken_rules_for_test.textproto";
  {
    std::FILE* f = std::fopen(rules.c_str(), "w");
    REQUIRE(f != nullptr);
    std::fputs("skills: \"general\"\nqueues {\n  name: \"general\"\n  max_length: -3\n}\n", f);
    std::fclose(f);
  }
  std::vector<ScenarioProblem> problems;
  absl::StatusOr<Scenario> s = ParseScenario(
      std::string("rules_file: \"broken_rules_for_test.textproto\"\n") + kSmallScenario, kFakeFile,
      &problems);
  std::remove(rules.c_str());
  REQUIRE_FALSE(s.ok());
  bool found = false;
  for (const ScenarioProblem& p : problems) {
    if (p.file == rules && p.line == 4) found = true;
  }
  CHECK(found);
}

}  // namespace
}  // namespace acd::sim
