#include "engine/core/config.h"

#include <algorithm>
#include <functional>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace acd::core {
namespace {

absl::Status Invalid(absl::string_view where, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", what));
}

// Names of skills, queues and reason codes appear in logs and on wallboards: keep them
// to a safe alphabet so they cannot carry free text.
bool IsValidName(absl::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == '.' || c == ':';
  });
}

absl::Status CheckRequirements(absl::string_view where, absl::string_view field,
                               const std::vector<SkillRequirement>& requirements,
                               const absl::flat_hash_set<std::string>& skills) {
  absl::flat_hash_set<absl::string_view> seen;
  for (const SkillRequirement& r : requirements) {
    if (!skills.contains(r.skill)) {
      return Invalid(where, absl::StrCat(field, ": unknown skill '", r.skill, "'"));
    }
    if (r.min_level < kMinSkillLevel || r.min_level > kMaxSkillLevel) {
      return Invalid(where, absl::StrCat(field, ": skill '", r.skill, "' level ", r.min_level,
                                         " is outside 1-10"));
    }
    if (!seen.insert(r.skill).second) {
      return Invalid(where, absl::StrCat(field, ": skill '", r.skill, "' is required twice"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckQueue(const QueueConfig& q, const EngineConfig& config,
                        const absl::flat_hash_set<std::string>& skills,
                        const absl::flat_hash_set<std::string>& reasons,
                        const absl::flat_hash_map<std::string, const QueueConfig*>& queues) {
  const std::string where = absl::StrCat("queue '", q.name, "'");
  const Limits& limits = config.limits;
  if (q.channels.empty()) return Invalid(where, "channels is empty");
  for (size_t i = 0; i < q.channels.size(); ++i) {
    if (std::count(q.channels.begin(), q.channels.end(), q.channels[i]) > 1) {
      return Invalid(where, absl::StrCat("channel ", ChannelName(q.channels[i]), " is listed twice"));
    }
  }
  if (q.default_priority < limits.min_priority || q.default_priority > limits.max_priority) {
    return Invalid(where, absl::StrCat("default_priority ", q.default_priority, " is outside [",
                                       limits.min_priority, ", ", limits.max_priority, "]"));
  }
  if (q.aging_per_priority_level <= absl::ZeroDuration()) {
    return Invalid(where, "aging_per_priority_level must be positive");
  }
  if (absl::Status s = CheckRequirements(where, "requirements", q.requirements, skills); !s.ok()) return s;
  absl::Duration previous = absl::ZeroDuration();
  for (size_t i = 0; i < q.expansion.size(); ++i) {
    const ExpansionStep& step = q.expansion[i];
    const std::string step_where = absl::StrCat(where, " expansion step ", i + 1);
    if (step.after <= previous) {
      return Invalid(step_where, "'after' must be positive and greater than the previous step's");
    }
    previous = step.after;
    if (step.min_level_cap < 0 || step.min_level_cap > kMaxSkillLevel) {
      return Invalid(step_where, absl::StrCat("min_level_cap ", step.min_level_cap,
                                              " is outside 0-10"));
    }
    if (absl::Status s = CheckRequirements(step_where, "also_accept", step.also_accept, skills); !s.ok()) {
      return s;
    }
  }
  if (q.strategy.empty()) return Invalid(where, "strategy is empty");
  if (q.service_level_threshold <= absl::ZeroDuration()) {
    return Invalid(where, "service_level_threshold must be positive");
  }
  if (!(q.service_level_target > 0 && q.service_level_target <= 1)) {
    return Invalid(where, "service_level_target must be in (0, 1]");
  }
  if (q.max_length < 1 || q.max_length > limits.max_contacts) {
    return Invalid(where, absl::StrCat("max_length ", q.max_length, " is outside [1, ",
                                       limits.max_contacts, "]"));
  }
  if (q.max_wait < absl::ZeroDuration()) return Invalid(where, "max_wait is negative");
  if (!q.overflow_queue.empty()) {
    auto it = queues.find(q.overflow_queue);
    if (it == queues.end()) {
      return Invalid(where, absl::StrCat("overflow_queue '", q.overflow_queue, "' is not a queue"));
    }
    if (q.overflow_queue == q.name) return Invalid(where, "overflow_queue is the queue itself");
    if (q.max_wait == absl::ZeroDuration()) {
      return Invalid(where, "overflow_queue is set but max_wait is not");
    }
    for (Channel c : q.channels) {
      const auto& target = it->second->channels;
      if (std::find(target.begin(), target.end(), c) == target.end()) {
        return Invalid(where, absl::StrCat("overflow_queue '", q.overflow_queue, "' does not take ",
                                           ChannelName(c), " contacts"));
      }
    }
  }
  if (q.wrap_up < absl::ZeroDuration()) return Invalid(where, "wrap_up is negative");
  if (q.offer_timeout <= absl::ZeroDuration()) {
    return Invalid(where, "offer_timeout must be positive");
  }
  if (q.rona_sets_not_ready && !reasons.contains(q.rona_reason)) {
    return Invalid(where, absl::StrCat("rona_reason '", q.rona_reason, "' is not a reason code"));
  }
  if (q.default_handle_time <= absl::ZeroDuration()) {
    return Invalid(where, "default_handle_time must be positive");
  }
  if (q.callback_offer_ewt < absl::ZeroDuration()) {
    return Invalid(where, "callback_offer_ewt is negative");
  }
  for (const BusinessHours::Interval& i : q.hours.weekly) {
    if (i.open_minute < 0 || i.open_minute >= 1440 || i.close_minute <= i.open_minute ||
        i.close_minute > 1440) {
      return Invalid(where, absl::StrCat("business hours ", i.open_minute, "-", i.close_minute,
                                         " (minutes after midnight) are not a valid interval"));
    }
  }
  // A target that contacts are moved to must exist, differ, and take their channels.
  auto check_target = [&](absl::string_view field, const std::string& target,
                          const std::vector<Channel>& channels) -> absl::Status {
    auto it = queues.find(target);
    if (it == queues.end()) {
      return Invalid(where, absl::StrCat(field, " '", target, "' is not a queue"));
    }
    if (target == q.name) return Invalid(where, absl::StrCat(field, " is the queue itself"));
    for (Channel c : channels) {
      const auto& takes = it->second->channels;
      if (std::find(takes.begin(), takes.end(), c) == takes.end()) {
        return Invalid(where, absl::StrCat(field, " '", target, "' does not take ",
                                           ChannelName(c), " contacts"));
      }
    }
    return absl::OkStatus();
  };
  switch (q.closed_treatment) {
    case ClosedTreatment::kRefuse:
      break;
    case ClosedTreatment::kOverflow:
      if (q.closed_overflow_queue.empty()) {
        return Invalid(where, "closed treatment OVERFLOW needs closed_overflow_queue");
      }
      if (absl::Status s = check_target("closed_overflow_queue", q.closed_overflow_queue,
                                        q.channels);
          !s.ok()) {
        return s;
      }
      break;
    case ClosedTreatment::kCallback:
      if (std::find(q.channels.begin(), q.channels.end(), Channel::kCallback) ==
          q.channels.end()) {
        return Invalid(where, "closed treatment CALLBACK needs the queue to take CALLBACK");
      }
      break;
  }
  if (!q.escalation_queue.empty()) {
    if (absl::Status s = check_target("escalation_queue", q.escalation_queue, q.channels);
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

// Returns the first cycle found following `next` (the targets of each queue), as
// "a -> b -> a", or an empty string.
std::string FindCycle(
    const std::vector<QueueConfig>& queues,
    const std::function<std::vector<std::string>(const QueueConfig&)>& next) {
  absl::flat_hash_map<std::string, const QueueConfig*> by_name;
  for (const QueueConfig& q : queues) by_name.emplace(q.name, &q);
  // Colours: 0 unvisited, 1 on the current path, 2 done.
  absl::flat_hash_map<std::string, int> colour;
  std::vector<std::string> path;
  std::string cycle;
  std::function<bool(const QueueConfig&)> visit = [&](const QueueConfig& q) {
    colour[q.name] = 1;
    path.push_back(q.name);
    for (const std::string& target : next(q)) {
      auto it = by_name.find(target);
      if (it == by_name.end()) continue;
      if (colour[target] == 1) {
        auto start = std::find(path.begin(), path.end(), target);
        std::vector<std::string> loop(start, path.end());
        loop.push_back(target);
        cycle = absl::StrJoin(loop, " -> ");
        return true;
      }
      if (colour[target] == 0 && visit(*it->second)) return true;
    }
    path.pop_back();
    colour[q.name] = 2;
    return false;
  };
  for (const QueueConfig& q : queues) {
    if (colour[q.name] == 0 && visit(q)) return cycle;
  }
  return "";
}

}  // namespace

bool BusinessHours::IsOpen(absl::Time t) const {
  if (!enabled) return true;
  const absl::CivilSecond local = absl::ToCivilSecond(t, zone);
  const absl::CivilDay day(local);
  if (std::find(holidays.begin(), holidays.end(), day) != holidays.end()) return false;
  if (weekly.empty()) return true;
  const absl::Weekday weekday = absl::GetWeekday(day);
  const int minute = local.hour() * 60 + local.minute();
  for (const Interval& i : weekly) {
    if (i.day == weekday && minute >= i.open_minute && minute < i.close_minute) return true;
  }
  return false;
}

absl::Status ValidateConfig(const EngineConfig& config) {
  const Limits& limits = config.limits;
  for (int v : {limits.max_agents, limits.max_contacts, limits.max_finished_contacts_retained,
                limits.max_skills_per_agent, limits.max_requirements_per_contact,
                limits.max_capacity_per_channel, limits.max_attributes,
                limits.max_attribute_key_bytes, limits.max_attribute_value_bytes,
                limits.max_id_bytes, limits.max_requirement_classes}) {
    if (v < 1) return Invalid("limits", "every limit must be at least 1");
  }
  if (limits.min_priority > limits.max_priority) {
    return Invalid("limits", "min_priority is greater than max_priority");
  }
  if (config.stats_window < absl::Seconds(30)) {
    return Invalid("stats_window", "must be at least 30 seconds");
  }
  absl::flat_hash_set<std::string> skills;
  for (const std::string& s : config.skills) {
    if (!IsValidName(s)) return Invalid("skills", absl::StrCat("bad skill name '", s, "'"));
    if (!skills.insert(s).second) return Invalid("skills", absl::StrCat("duplicate skill '", s, "'"));
  }
  if (skills.size() > 65'000) return Invalid("skills", "more than 65000 skills");
  absl::flat_hash_set<std::string> reasons = {std::string(kReasonLogin), std::string(kReasonRona),
                                              std::string(kReasonForced)};
  for (const std::string& r : config.reason_codes) {
    if (!IsValidName(r)) return Invalid("reason_codes", absl::StrCat("bad reason code '", r, "'"));
    if (std::count(config.reason_codes.begin(), config.reason_codes.end(), r) > 1) {
      return Invalid("reason_codes", absl::StrCat("duplicate reason code '", r, "'"));
    }
    reasons.insert(r);
  }
  if (config.queues.empty()) return Invalid("queues", "at least one queue is needed");
  absl::flat_hash_map<std::string, const QueueConfig*> queues;
  for (const QueueConfig& q : config.queues) {
    if (!IsValidName(q.name)) return Invalid("queues", absl::StrCat("bad queue name '", q.name, "'"));
    if (!queues.emplace(q.name, &q).second) {
      return Invalid("queues", absl::StrCat("duplicate queue '", q.name, "'"));
    }
  }
  for (const QueueConfig& q : config.queues) {
    if (absl::Status s = CheckQueue(q, config, skills, reasons, queues); !s.ok()) return s;
  }
  // Automatic moves (max-wait overflow, closed overflow) must end: A -> B -> A would
  // bounce a caller forever. Escalation chains must end too.
  const std::string overflow_cycle = FindCycle(config.queues, [](const QueueConfig& q) {
    std::vector<std::string> next;
    if (!q.overflow_queue.empty()) next.push_back(q.overflow_queue);
    if (q.closed_treatment == ClosedTreatment::kOverflow) next.push_back(q.closed_overflow_queue);
    return next;
  });
  if (!overflow_cycle.empty()) {
    return Invalid("queues", absl::StrCat("overflow cycle ", overflow_cycle));
  }
  const std::string escalation_cycle = FindCycle(config.queues, [](const QueueConfig& q) {
    return q.escalation_queue.empty() ? std::vector<std::string>{}
                                      : std::vector<std::string>{q.escalation_queue};
  });
  if (!escalation_cycle.empty()) {
    return Invalid("queues", absl::StrCat("escalation cycle ", escalation_cycle));
  }
  for (const auto& [from, to] : config.queue_moves) {
    if (!queues.contains(to)) {
      return Invalid("queue_moves", absl::StrCat("moved_to '", to, "' (for removed queue '", from,
                                                 "') is not a queue"));
    }
    if (queues.contains(from)) {
      return Invalid("queue_moves", absl::StrCat("queue '", from,
                                                 "' is moved but still exists in the rules"));
    }
  }
  return absl::OkStatus();
}

EngineConfig DefaultConfig() {
  EngineConfig config;
  config.skills = {"general"};
  QueueConfig general;
  general.name = "general";
  general.channels = {Channel::kVoice, Channel::kChat, Channel::kEmail, Channel::kCallback};
  general.requirements = {{"general", 1}};
  general.wrap_up = absl::Seconds(10);
  config.queues.push_back(general);
  return config;
}

}  // namespace acd::core
