#include "simulators/scenario.h"

#include <cmath>
#include <filesystem>
#include <initializer_list>
#include <numbers>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/civil_time.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "routing_rules/rules_loader.h"

namespace acd::sim {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::TextFormat;

class ProblemCollector final : public google::protobuf::io::ErrorCollector {
 public:
  ProblemCollector(std::string file, std::vector<ScenarioProblem>* out)
      : file_(std::move(file)), out_(out) {}
  void AddError(int line, int column, const std::string& message) override {
    out_->push_back(ScenarioProblem{file_, line + 1, column + 1, message});
  }
  void AddWarning(int line, int column, const std::string& message) override {
    out_->push_back(
        ScenarioProblem{file_, line + 1, column + 1, absl::StrCat("warning: ", message)});
  }

 private:
  std::string file_;
  std::vector<ScenarioProblem>* out_;
};

// One step of a path into the scenario: a field name, and an index for repeated fields.
struct Step {
  const char* field;
  int index = -1;
};

// Collects problems with the position of the field they concern.
class Problems {
 public:
  Problems(const std::string& file, const TextFormat::ParseInfoTree& tree,
           std::vector<ScenarioProblem>* out)
      : file_(file), tree_(tree), out_(out) {}

  // A problem at `path` (e.g. {{"arrivals", 2}, {"queue"}}). Falls back to the nearest
  // enclosing element that has a position.
  void Add(std::initializer_list<Step> path, std::string message) {
    ScenarioProblem p{file_, 0, 0, std::move(message)};
    const TextFormat::ParseInfoTree* tree = &tree_;
    const Descriptor* type = v1::Scenario::descriptor();
    for (const Step& step : path) {
      if (tree == nullptr || type == nullptr) break;
      const FieldDescriptor* f = type->FindFieldByName(step.field);
      if (f == nullptr) break;
      const int index = f->is_repeated() ? std::max(step.index, 0) : -1;
      const TextFormat::ParseLocation loc = tree->GetLocation(f, index);
      if (loc.line >= 0) {
        p.line = loc.line + 1;
        p.column = loc.column + 1;
      }
      if (f->type() != FieldDescriptor::TYPE_MESSAGE) break;
      tree = tree->GetTreeForNested(f, index);
      type = f->message_type();
    }
    out_->push_back(std::move(p));
  }

 private:
  const std::string& file_;
  const TextFormat::ParseInfoTree& tree_;
  std::vector<ScenarioProblem>* out_;
};

bool ValidDistribution(const v1::Distribution& d, std::string* why) {
  switch (d.kind_case()) {
    case v1::Distribution::kExponentialMeanSeconds:
      if (!(d.exponential_mean_seconds() > 0) || !std::isfinite(d.exponential_mean_seconds())) {
        *why = "exponential_mean_seconds must be > 0";
        return false;
      }
      return true;
    case v1::Distribution::kLognormal:
      if (!(d.lognormal().mean_seconds() > 0) || !(d.lognormal().stddev_seconds() >= 0) ||
          !std::isfinite(d.lognormal().mean_seconds()) ||
          !std::isfinite(d.lognormal().stddev_seconds())) {
        *why = "lognormal needs mean_seconds > 0 and stddev_seconds >= 0";
        return false;
      }
      return true;
    case v1::Distribution::kFixedSeconds:
      if (!(d.fixed_seconds() >= 0) || !std::isfinite(d.fixed_seconds())) {
        *why = "fixed_seconds must be >= 0";
        return false;
      }
      return true;
    case v1::Distribution::KIND_NOT_SET:
      break;
  }
  *why = "a distribution needs one of exponential_mean_seconds, lognormal, fixed_seconds";
  return false;
}

bool ValidShare(double share) { return share >= 0 && share <= 1; }

void CheckBehaviour(const v1::AgentBehaviour& b, std::initializer_list<Step> at,
                    Problems& problems) {
  if (!(b.miss_offer_probability() >= 0 && b.miss_offer_probability() < 1)) {
    problems.Add(at, "miss_offer_probability must be in [0, 1)");
  }
  std::string why;
  if (b.has_time_to_accept() && !ValidDistribution(b.time_to_accept(), &why)) {
    problems.Add(at, absl::StrCat("time_to_accept: ", why));
  }
  if (!(b.ready_again_after_rona_seconds() >= 0)) {
    problems.Add(at, "ready_again_after_rona_seconds must be >= 0");
  }
}

}  // namespace

std::string FormatProblem(const ScenarioProblem& p) {
  if (p.line > 0) return absl::StrCat(p.file, ":", p.line, ":", p.column, ": ", p.message);
  return absl::StrCat(p.file, ": ", p.message);
}

double RatePerHourAt(const v1::ArrivalStream& stream, int minute) {
  for (const v1::RateInterval& r : stream.by_time_of_day()) {
    int from = 0, to = 0;
    if (ParseTimeOfDay(r.from(), &from) && ParseTimeOfDay(r.to(), &to) && minute >= from &&
        minute < to) {
      return r.per_hour();
    }
  }
  return stream.rate_per_hour();
}

double DrawSeconds(const v1::Distribution& d, core::Random& random) {
  switch (d.kind_case()) {
    case v1::Distribution::kExponentialMeanSeconds:
      // 1 - U is in (0, 1], so the log is finite.
      return -std::log(1.0 - random.NextDouble()) * d.exponential_mean_seconds();
    case v1::Distribution::kLognormal: {
      const double mean = d.lognormal().mean_seconds();
      const double sd = d.lognormal().stddev_seconds();
      const double sigma2 = std::log(1.0 + (sd * sd) / (mean * mean));
      const double mu = std::log(mean) - sigma2 / 2;
      // Box-Muller, one normal per draw (two uniforms), so draws stay independent of
      // how many were taken before.
      const double u1 = 1.0 - random.NextDouble();
      const double u2 = random.NextDouble();
      const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
      return std::exp(mu + std::sqrt(sigma2) * z);
    }
    case v1::Distribution::kFixedSeconds:
      return d.fixed_seconds();
    case v1::Distribution::KIND_NOT_SET:
      break;
  }
  return 0;
}

absl::StatusOr<Scenario> ParseScenario(absl::string_view text, const std::string& file,
                                       std::vector<ScenarioProblem>* problems_out) {
  std::vector<ScenarioProblem> local;
  std::vector<ScenarioProblem>& out = problems_out != nullptr ? *problems_out : local;
  const size_t first_problem = out.size();
  auto fail = [&]() -> absl::Status {
    return absl::InvalidArgumentError(FormatProblem(out[first_problem]));
  };

  Scenario s;
  s.file = file;
  TextFormat::ParseInfoTree tree;
  ProblemCollector collector(file, &out);
  TextFormat::Parser parser;
  parser.RecordErrorsTo(&collector);
  parser.WriteLocationsTo(&tree);
  if (!parser.ParseFromString(std::string(text), &s.proto)) {
    if (out.size() == first_problem) out.push_back({file, 0, 0, "cannot parse"});
    return fail();
  }
  const v1::Scenario& p = s.proto;
  Problems problems(file, tree, &out);

  // The rules.
  if (p.rules_file().empty()) {
    s.rules = core::DefaultConfig();
  } else {
    const std::filesystem::path base = std::filesystem::path(file).parent_path();
    s.rules_path = (base / p.rules_file()).lexically_normal().string();
    std::vector<rules::RuleProblem> rule_problems;
    absl::StatusOr<rules::LoadedRules> loaded = rules::LoadRulesFile(s.rules_path, &rule_problems);
    if (!loaded.ok()) {
      problems.Add({{"rules_file"}}, absl::StrCat("rules file: ", loaded.status().message()));
      for (const rules::RuleProblem& r : rule_problems) {
        out.push_back({s.rules_path, r.line, r.column, r.message});
      }
      return fail();
    }
    s.rules = std::move(loaded->config);
  }
  absl::flat_hash_set<std::string> skills(s.rules.skills.begin(), s.rules.skills.end());
  absl::flat_hash_set<std::string> reasons(s.rules.reason_codes.begin(),
                                           s.rules.reason_codes.end());

  // Length, start and seed.
  const bool by_duration = p.duration_minutes() != 0;
  if (by_duration == (p.contacts() != 0)) {
    problems.Add({{"duration_minutes"}}, "give exactly one of duration_minutes and contacts");
  } else if (by_duration && !(p.duration_minutes() > 0 && p.duration_minutes() <= 7 * 24 * 60)) {
    problems.Add({{"duration_minutes"}}, "duration_minutes must be in (0, 10080]");
  } else if (!by_duration && p.contacts() < 0) {
    problems.Add({{"contacts"}}, "contacts must be > 0");
  }
  if (by_duration) s.duration = absl::Seconds(p.duration_minutes() * 60);
  if (p.drain_minutes_max() < 0) problems.Add({{"drain_minutes_max"}}, "must be >= 0");
  s.drain_max = absl::Minutes(p.drain_minutes_max() == 0 ? 240 : p.drain_minutes_max());
  const std::string zone = p.time_zone().empty() ? "America/New_York" : p.time_zone();
  if (!absl::LoadTimeZone(zone, &s.zone)) {
    problems.Add({{"time_zone"}}, absl::StrCat("unknown time zone '", zone, "'"));
  }
  const std::string start = p.start().empty() ? "2026-11-23 08:00" : p.start();
  absl::CivilMinute start_local;
  if (!absl::ParseCivilTime(absl::StrReplaceAll(start, {{" ", "T"}}), &start_local)) {
    problems.Add({{"start"}}, absl::StrCat("start '", start, "' is not \"YYYY-MM-DD HH:MM\""));
  }
  s.start = absl::FromCivil(start_local, s.zone);
  if (!p.end_of_shift_reason().empty() && !reasons.contains(p.end_of_shift_reason())) {
    problems.Add({{"end_of_shift_reason"}},
                 absl::StrCat("end_of_shift_reason '", p.end_of_shift_reason(),
                              "' is not a reason code of the rules"));
  }

  auto check_languages = [&](const auto& languages, std::initializer_list<Step> at) {
    double total = 0;
    for (const v1::LanguageShare& l : languages) {
      if (!skills.contains(l.skill())) {
        problems.Add(at, absl::StrCat("language '", l.skill(), "' is not a skill of the rules"));
      }
      if (!ValidShare(l.share())) problems.Add(at, "a language share must be in [0, 1]");
      total += l.share();
    }
    if (total > 1 + 1e-9) problems.Add(at, "language shares add up to more than 1");
  };
  check_languages(p.languages(), {{"languages"}});

  // Arrivals.
  if (p.arrivals_size() == 0) problems.Add({{"arrivals"}}, "a scenario needs arrivals");
  for (int i = 0; i < p.arrivals_size(); ++i) {
    const v1::ArrivalStream& a = p.arrivals(i);
    const core::QueueConfig* queue = nullptr;
    for (const core::QueueConfig& q : s.rules.queues) {
      if (q.name == a.queue()) queue = &q;
    }
    if (queue == nullptr) {
      problems.Add({{"arrivals", i}, {"queue"}},
                   absl::StrCat("queue '", a.queue(), "' is not in the rules"));
    } else {
      const core::Channel channel = a.channel() == v1::CHANNEL_UNSPECIFIED
                                        ? core::Channel::kVoice
                                        : static_cast<core::Channel>(a.channel() - 1);
      if (std::find(queue->channels.begin(), queue->channels.end(), channel) ==
          queue->channels.end()) {
        problems.Add({{"arrivals", i}, {"channel"}},
                     absl::StrCat("queue '", a.queue(), "' does not take ",
                                  core::ChannelName(channel), " contacts"));
      }
    }
    if (!(a.rate_per_hour() >= 0) || !std::isfinite(a.rate_per_hour())) {
      problems.Add({{"arrivals", i}, {"rate_per_hour"}}, "rate_per_hour must be >= 0");
    }
    std::vector<std::pair<int, int>> spans;
    for (int k = 0; k < a.by_time_of_day_size(); ++k) {
      const v1::RateInterval& r = a.by_time_of_day(k);
      int from = 0, to = 0;
      if (!ParseTimeOfDay(r.from(), &from) || !ParseTimeOfDay(r.to(), &to) || from >= to ||
          from % 15 != 0 || to % 15 != 0) {
        problems.Add({{"arrivals", i}, {"by_time_of_day", k}},
                     absl::StrCat("interval '", r.from(), "'-'", r.to(),
                                  "' must be HH:MM times on the quarter hour, from < to"));
        continue;
      }
      if (!(r.per_hour() >= 0) || !std::isfinite(r.per_hour())) {
        problems.Add({{"arrivals", i}, {"by_time_of_day", k}}, "per_hour must be >= 0");
      }
      for (auto [f, t] : spans) {
        if (from < t && f < to) {
          problems.Add({{"arrivals", i}, {"by_time_of_day", k}},
                       absl::StrCat("interval '", r.from(), "'-'", r.to(),
                                    "' overlaps another of the same stream"));
        }
      }
      spans.emplace_back(from, to);
    }
    std::string why;
    if (!a.has_handle_time()) {
      problems.Add({{"arrivals", i}}, "arrivals need a handle_time");
    } else if (!ValidDistribution(a.handle_time(), &why)) {
      problems.Add({{"arrivals", i}, {"handle_time"}}, absl::StrCat("handle_time: ", why));
    }
    if (a.has_patience() && !ValidDistribution(a.patience(), &why)) {
      problems.Add({{"arrivals", i}, {"patience"}}, absl::StrCat("patience: ", why));
    }
    if (!ValidShare(a.callback_accept_share())) {
      problems.Add({{"arrivals", i}, {"callback_accept_share"}},
                   "callback_accept_share must be in [0, 1]");
    }
    if (a.priority() < 0 || a.priority() > s.rules.limits.max_priority) {
      problems.Add({{"arrivals", i}, {"priority"}}, "priority out of range");
    }
    check_languages(a.languages(), {{"arrivals", i}, {"languages"}});
  }

  // Roster.
  CheckBehaviour(p.behaviour(), {{"behaviour"}}, problems);
  absl::flat_hash_set<std::string> group_names;
  for (int i = 0; i < p.roster_size(); ++i) {
    const v1::AgentGroup& g = p.roster(i);
    if (g.name().empty() || !group_names.insert(g.name()).second) {
      problems.Add({{"roster", i}, {"name"}}, "each roster group needs a unique name");
    }
    if (g.count() < 0 || g.count() > 10'000) {
      problems.Add({{"roster", i}, {"count"}}, "count must be in [0, 10000]");
    }
    for (int k = 0; k < g.skills_size(); ++k) {
      if (!skills.contains(g.skills(k).skill())) {
        problems.Add({{"roster", i}, {"skills", k}},
                     absl::StrCat("skill '", g.skills(k).skill(), "' is not in the rules"));
      }
      const int level = g.skills(k).level();
      if (level != 0 && (level < core::kMinSkillLevel || level > core::kMaxSkillLevel)) {
        problems.Add({{"roster", i}, {"skills", k}}, "skill levels run from 1 to 10");
      }
    }
    for (int k = 0; k < g.capacities_size(); ++k) {
      const v1::ChannelCapacity& c = g.capacities(k);
      if (c.channel() < v1::VOICE || c.channel() > v1::CALLBACK || c.max() < 1) {
        problems.Add({{"roster", i}, {"capacities", k}}, "a capacity needs a channel and max >= 1");
      }
    }
    if (g.has_shift()) {
      int from = 0, to = 0;
      if (!ParseTimeOfDay(g.shift().from(), &from) || !ParseTimeOfDay(g.shift().to(), &to) ||
          from >= to) {
        problems.Add({{"roster", i}, {"shift"}}, "shift needs HH:MM times with from < to");
      }
    }
    for (int k = 0; k < g.breaks_size(); ++k) {
      const v1::Break& b = g.breaks(k);
      int from = 0;
      if (!ParseTimeOfDay(b.from(), &from) || b.minutes() <= 0 || b.stagger_minutes() < 0) {
        problems.Add({{"roster", i}, {"breaks", k}},
                     "a break needs an HH:MM `from`, minutes > 0 and stagger_minutes >= 0");
      }
      const std::string reason = b.reason().empty() ? "BREAK" : b.reason();
      if (!reasons.contains(reason)) {
        problems.Add({{"roster", i}, {"breaks", k}},
                     absl::StrCat("break reason '", reason, "' is not a reason code of the rules"));
      }
    }
    if (g.has_behaviour()) CheckBehaviour(g.behaviour(), {{"roster", i}, {"behaviour"}}, problems);
  }
  if (p.end_of_shift_reason().empty() && !reasons.contains("BREAK")) {
    problems.Add({{"end_of_shift_reason"}},
                 "the rules have no BREAK reason code: set end_of_shift_reason");
  }

  if (out.size() > first_problem) return fail();
  return s;
}

absl::StatusOr<Scenario> LoadScenarioFile(const std::string& path,
                                          std::vector<ScenarioProblem>* problems) {
  absl::StatusOr<std::string> text = rules::ReadTextFile(path, "scenario");
  if (!text.ok()) return text.status();
  return ParseScenario(*text, path, problems);
}

}  // namespace acd::sim
