#include "routing_rules/rules_loader.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "engine/core/clock.h"
#include "engine/core/engine.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"

namespace acd::rules {
namespace {

using google::protobuf::TextFormat;

class ProblemCollector final : public google::protobuf::io::ErrorCollector {
 public:
  explicit ProblemCollector(std::vector<RuleProblem>* out) : out_(out) {}
  void AddError(int line, int column, const std::string& message) override {
    out_->push_back(RuleProblem{line + 1, column + 1, message});
  }
  void AddWarning(int line, int column, const std::string& message) override {
    out_->push_back(RuleProblem{line + 1, column + 1, absl::StrCat("warning: ", message)});
  }

 private:
  std::vector<RuleProblem>* out_;
};

// Where things are in the file, for messages about a queue or one of its fields.
class Locations {
 public:
  Locations(const TextFormat::ParseInfoTree& tree, const v1::RoutingRules& rules)
      : tree_(tree), rules_(rules) {}

  // The position of field `field` of queue `index` (or of the queue block if absent).
  RuleProblem At(int index, absl::string_view field, std::string message) const {
    RuleProblem p{0, 0, std::move(message)};
    const auto* queues = v1::RoutingRules::descriptor()->FindFieldByName("queues");
    const TextFormat::ParseInfoTree* queue = tree_.GetTreeForNested(queues, index);
    if (queue != nullptr) {
      const auto* f = v1::QueueRule::descriptor()->FindFieldByName(std::string(field));
      if (f == nullptr) f = v1::QueueRule::descriptor()->FindFieldByName("name");
      const int field_index = f->is_repeated() ? 0 : -1;
      google::protobuf::TextFormat::ParseLocation loc = queue->GetLocation(f, field_index);
      if (loc.line < 0 && f->name() != "name") {
        loc = queue->GetLocation(v1::QueueRule::descriptor()->FindFieldByName("name"), -1);
      }
      if (loc.line >= 0) {
        p.line = loc.line + 1;
        p.column = loc.column + 1;
      }
    }
    return p;
  }

  // The position of a core validation message "queue 'x'...: ...": the queue's line.
  RuleProblem ForMessage(absl::string_view message) const {
    const absl::string_view prefix = "queue '";
    if (absl::StartsWith(message, prefix)) {
      const absl::string_view rest = message.substr(prefix.size());
      const absl::string_view name = rest.substr(0, rest.find('\''));
      for (int i = 0; i < rules_.queues_size(); ++i) {
        if (rules_.queues(i).name() == name) {
          // Point at the field the message names when it starts with one.
          const size_t colon = rest.find(": ");
          absl::string_view field;
          if (colon != absl::string_view::npos) {
            const absl::string_view what = rest.substr(colon + 2);
            field = what.substr(0, what.find(' '));
            if (absl::EndsWith(field, ":")) field.remove_suffix(1);
          }
          return At(i, field, std::string(message));
        }
      }
    }
    return RuleProblem{0, 0, std::string(message)};
  }

 private:
  const TextFormat::ParseInfoTree& tree_;
  const v1::RoutingRules& rules_;
};

absl::Duration Seconds(int32_t value, int32_t fallback) {
  return absl::Seconds(value == 0 ? fallback : value);
}

// Builds the core's config, appending problems the core's validation cannot see (time
// zones, dates, clock times, unset enums, negative times).
core::EngineConfig ToConfig(const v1::RoutingRules& rules, const Locations& where,
                            std::vector<RuleProblem>* problems) {
  core::EngineConfig config;
  config.skills.assign(rules.skills().begin(), rules.skills().end());
  if (rules.reason_codes_size() > 0) {
    config.reason_codes.assign(rules.reason_codes().begin(), rules.reason_codes().end());
  }
  if (rules.stats_window_seconds() != 0) {
    config.stats_window = absl::Seconds(rules.stats_window_seconds());
  }
  if (rules.random_seed() != 0) config.random_seed = rules.random_seed();
  for (const v1::QueueMove& move : rules.queue_moves()) {
    config.queue_moves.emplace_back(move.queue(), move.moved_to());
  }
  for (int i = 0; i < rules.queues_size(); ++i) {
    const v1::QueueRule& r = rules.queues(i);
    const std::string q = absl::StrCat("queue '", r.name(), "': ");
    auto problem = [&](absl::string_view field, std::string message) {
      problems->push_back(where.At(i, field, absl::StrCat(q, message)));
    };
    for (auto [field, value] :
         {std::pair<const char*, int32_t>{"aging_seconds_per_priority",
                                          r.aging_seconds_per_priority()},
          {"max_length", r.max_length()},
          {"max_wait_seconds", r.max_wait_seconds()},
          {"wrap_up_seconds", r.wrap_up_seconds()},
          {"offer_timeout_seconds", r.offer_timeout_seconds()},
          {"callback_offer_ewt_seconds", r.callback_offer_ewt_seconds()},
          {"default_handle_seconds", r.default_handle_seconds()}}) {
      if (value < 0) problem(field, absl::StrCat(field, " ", value, " is negative"));
    }
    core::QueueConfig c;
    c.name = r.name();
    if (r.channels_size() > 0) c.channels.clear();
    for (int ch : r.channels()) {
      if (ch < v1::VOICE || ch > v1::CALLBACK) {
        problem("channels", "channels must be VOICE, CHAT, EMAIL or CALLBACK");
        continue;
      }
      c.channels.push_back(static_cast<core::Channel>(ch - 1));
    }
    c.default_priority = r.default_priority();
    c.aging_per_priority_level = Seconds(r.aging_seconds_per_priority(), 60);
    for (const v1::SkillRequirement& s : r.requirements()) {
      c.requirements.push_back({s.skill(), s.min_level() == 0 ? 1 : s.min_level()});
    }
    for (const v1::ExpansionStepRule& step : r.expansion()) {
      core::ExpansionStep e;
      e.after = absl::Seconds(step.after_seconds());
      e.min_level_cap = step.min_level_cap();
      for (const v1::SkillRequirement& s : step.also_accept()) {
        e.also_accept.push_back({s.skill(), s.min_level() == 0 ? 1 : s.min_level()});
      }
      c.expansion.push_back(std::move(e));
    }
    if (r.has_strategy()) {
      if (!r.strategy().name().empty()) c.strategy = r.strategy().name();
      // map order in a proto is unspecified: sort for a deterministic config.
      std::vector<core::StrategyParam> params(r.strategy().params().begin(),
                                              r.strategy().params().end());
      std::sort(params.begin(), params.end());
      c.strategy_params = std::move(params);
    }
    if (r.has_service_level()) {
      c.service_level_threshold = Seconds(r.service_level().threshold_seconds(), 20);
      if (r.service_level().target() != 0) c.service_level_target = r.service_level().target();
    }
    if (r.max_length() != 0) c.max_length = r.max_length();
    c.max_wait = absl::Seconds(r.max_wait_seconds());
    c.overflow_queue = r.overflow_queue();
    c.wrap_up = absl::Seconds(r.wrap_up_seconds());
    c.offer_timeout = Seconds(r.offer_timeout_seconds(), 20);
    if (r.has_rona()) {
      if (r.rona().has_set_not_ready()) c.rona_sets_not_ready = r.rona().set_not_ready();
      if (!r.rona().reason().empty()) c.rona_reason = r.rona().reason();
    }
    if (r.has_hours()) {
      const v1::BusinessHoursRule& h = r.hours();
      c.hours.enabled = true;
      c.hours.zone_name = h.time_zone().empty() ? "UTC" : h.time_zone();
      if (!absl::LoadTimeZone(c.hours.zone_name, &c.hours.zone)) {
        problem("hours", absl::StrCat("unknown time zone '", c.hours.zone_name, "'"));
      }
      for (const v1::OpenHours& open : h.open()) {
        int from = 0, to = 0;
        if (!ParseTimeOfDay(open.from(), &from) || !ParseTimeOfDay(open.to(), &to)) {
          problem("hours", absl::StrCat("opening hours '", open.from(), "'-'", open.to(),
                                        "' are not HH:MM times"));
          continue;
        }
        if (open.days_size() == 0) problem("hours", "opening hours name no days");
        for (int day : open.days()) {
          if (day < v1::MONDAY || day > v1::SUNDAY) {
            problem("hours", "days must be MONDAY..SUNDAY");
            continue;
          }
          // absl::Weekday starts at monday = 0.
          c.hours.weekly.push_back({static_cast<absl::Weekday>(day - 1), from, to});
        }
      }
      for (const std::string& holiday : h.holidays()) {
        absl::CivilDay day;
        if (!absl::ParseCivilTime(holiday, &day)) {
          problem("hours", absl::StrCat("holiday '", holiday, "' is not a YYYY-MM-DD date"));
          continue;
        }
        c.hours.holidays.push_back(day);
      }
    }
    if (r.has_when_closed()) {
      switch (r.when_closed().action()) {
        case v1::ClosedRule::OVERFLOW:
          c.closed_treatment = core::ClosedTreatment::kOverflow;
          break;
        case v1::ClosedRule::CALLBACK:
          c.closed_treatment = core::ClosedTreatment::kCallback;
          break;
        default:
          c.closed_treatment = core::ClosedTreatment::kRefuse;
      }
      c.closed_overflow_queue = r.when_closed().overflow_queue();
    }
    c.callback_offer_ewt = absl::Seconds(r.callback_offer_ewt_seconds());
    c.escalation_queue = r.escalation_queue();
    c.default_handle_time = Seconds(r.default_handle_seconds(), 300);
    c.closed = r.closed();
    config.queues.push_back(std::move(c));
  }
  return config;
}

}  // namespace

bool ParseTimeOfDay(absl::string_view text, int* minutes) {
  // Exactly two digits on each side: no sign or space, which a number parser would allow.
  if (text.size() != 5 || text[2] != ':') return false;
  for (const size_t i : {0, 1, 3, 4}) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) return false;
  }
  const int h = (text[0] - '0') * 10 + (text[1] - '0');
  const int m = (text[3] - '0') * 10 + (text[4] - '0');
  if (m > 59 || h > 24 || (h == 24 && m != 0)) return false;
  *minutes = h * 60 + m;
  return true;
}

std::string FormatProblem(absl::string_view file, const RuleProblem& p) {
  if (p.line <= 0) return absl::StrCat(file, ": ", p.message);
  return absl::StrCat(file, ":", p.line, ":", p.column, ": ", p.message);
}

std::string RulesChecksum(absl::string_view text) {
  uint64_t hash = 0xCBF29CE484222325ULL;
  for (char ch : text) hash = (hash ^ static_cast<uint8_t>(ch)) * 0x100000001B3ULL;
  return absl::StrFormat("fnv1a64:%016x", hash);
}

absl::StatusOr<LoadedRules> ParseRules(absl::string_view text, absl::string_view file,
                                       std::vector<RuleProblem>* problems_out) {
  std::vector<RuleProblem> problems;
  LoadedRules loaded;
  TextFormat::Parser parser;
  ProblemCollector collector(&problems);
  parser.RecordErrorsTo(&collector);
  TextFormat::ParseInfoTree tree;
  parser.WriteLocationsTo(&tree);
  const bool parsed =
      parser.ParseFromString(std::string(text), &loaded.proto) && problems.empty();
  if (parsed) {
    const Locations where(tree, loaded.proto);
    loaded.config = ToConfig(loaded.proto, where, &problems);
    if (problems.empty()) {
      // Exactly the engine's own checks: a file that passes here, the engine takes.
      core::FakeClock clock;
      absl::StatusOr<std::unique_ptr<core::Engine>> engine =
          core::Engine::Create(loaded.config, clock);
      if (!engine.ok()) problems.push_back(where.ForMessage(engine.status().message()));
    }
  }
  if (!problems.empty() || !parsed) {
    if (problems.empty()) problems.push_back(RuleProblem{0, 0, "cannot parse the rules"});
    const std::string first = FormatProblem(file, problems.front());
    if (problems_out != nullptr) {
      problems_out->insert(problems_out->end(), problems.begin(), problems.end());
    }
    return absl::InvalidArgumentError(first);
  }
  loaded.version = loaded.proto.version();
  loaded.checksum = RulesChecksum(text);
  return loaded;
}

absl::StatusOr<std::string> ReadTextFile(const std::string& path, absl::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", what, " file '", path, "'"));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

absl::StatusOr<LoadedRules> LoadRulesFile(const std::string& path,
                                          std::vector<RuleProblem>* problems) {
  absl::StatusOr<std::string> text = ReadTextFile(path, "rules");
  if (!text.ok()) return text.status();
  return ParseRules(*text, path, problems);
}

}  // namespace acd::rules
