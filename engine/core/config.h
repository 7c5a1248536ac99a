// EngineConfig: everything the core needs to know about a call center's rules: skills,
// reason codes, queues and limits. The routing-rules loader (routing_rules/) builds one
// from a textproto file; tests build them in code. ValidateConfig() checks one fully
// before the engine takes it, so the engine never runs on a half-valid rule set.
#ifndef ACD_ENGINE_CORE_CONFIG_H_
#define ACD_ENGINE_CORE_CONFIG_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "engine/core/types.h"

namespace acd::core {

// One "bullseye" ring: after a contact has waited `after` in the queue, its requirements
// relax. Steps are cumulative: at step k the contact accepts everything steps 1..k allow.
struct ExpansionStep {
  absl::Duration after;
  // If > 0, every minimum level of the queue's and contact's requirements is lowered to
  // at most this level (1 = any agent with the skill).
  int min_level_cap = 0;
  // Each entry is an alternative: an agent with this skill (at its level) may also take
  // the contact, whatever else it has. Used to bring in an overflow group.
  std::vector<SkillRequirement> also_accept;
};

// When a queue takes contacts, in its own time zone. Not enabled: always open. Enabled
// with an empty `weekly`: open every day but holidays. Holidays are closed all day. Evaluated with absl::TimeZone, so daylight-saving changes
// move the opening hours with the local clock. The zone is loaded by the rules loader
// (reading tzdata is I/O, which the core does not do).
struct BusinessHours {
  struct Interval {
    absl::Weekday day = absl::Weekday::monday;
    int open_minute = 0;     // minutes after local midnight, [0, 1440)
    int close_minute = 1440; // (open_minute, 1440]
  };
  bool enabled = false;  // false: always open
  absl::TimeZone zone = absl::UTCTimeZone();
  std::string zone_name = "UTC";  // for messages and GetRules
  std::vector<Interval> weekly;
  std::vector<absl::CivilDay> holidays;

  bool IsOpen(absl::Time t) const;
};

// What happens to a contact that arrives while its queue is closed.
enum class ClosedTreatment : uint8_t {
  kRefuse,    // FAILED_PRECONDITION "queue X is closed"
  kOverflow,  // enqueue into closed_overflow_queue instead
  kCallback,  // accept a voice contact as a CALLBACK, placed when agents are free
};

// A key=value parameter for a routing strategy (for example fallback_after_seconds=30).
using StrategyParam = std::pair<std::string, std::string>;

// A queue: where contacts wait, and the rules they wait under.
struct QueueConfig {
  std::string name;
  std::vector<Channel> channels = {Channel::kVoice};
  int default_priority = 0;
  // Linear aging: one priority level is worth this much waiting. A contact's ordering key
  // is enqueue_time - priority * aging_per_priority_level, fixed at enqueue, so queues
  // never need re-sorting. Must be > 0.
  absl::Duration aging_per_priority_level = absl::Seconds(60);
  std::vector<SkillRequirement> requirements;
  std::vector<ExpansionStep> expansion;  // sorted by `after`, strictly increasing
  std::string strategy = "longest_idle";
  std::vector<StrategyParam> strategy_params;
  absl::Duration service_level_threshold = absl::Seconds(20);
  double service_level_target = 0.8;
  int max_length = 10'000;
  absl::Duration max_wait = absl::ZeroDuration();  // zero: no limit
  std::string overflow_queue;  // empty: a contact past max_wait leaves as OVERFLOWED
  absl::Duration wrap_up = absl::ZeroDuration();
  absl::Duration offer_timeout = absl::Seconds(20);
  // On reject or offer timeout, the agent goes NOT_READY(rona_reason) if set.
  bool rona_sets_not_ready = true;
  std::string rona_reason = std::string(kReasonRona);
  bool closed = false;  // closed by hand, whatever the business hours say
  BusinessHours hours;
  ClosedTreatment closed_treatment = ClosedTreatment::kRefuse;
  std::string closed_overflow_queue;  // for ClosedTreatment::kOverflow
  // Offer a callback to a waiting voice caller once EWT exceeds this (zero: never).
  absl::Duration callback_offer_ewt = absl::ZeroDuration();
  // Where Engine::Escalate sends a contact (e.g. complaints -> supervisors); empty: none.
  std::string escalation_queue;
  // EWT needs a handle time before the queue has answered anything.
  absl::Duration default_handle_time = absl::Seconds(300);
};

// Bounds on everything that input can grow. Inputs past a bound are refused with
// RESOURCE_EXHAUSTED or INVALID_ARGUMENT; the engine never grows without limit.
struct Limits {
  int max_agents = 200'000;
  int max_contacts = 2'000'000;  // live contacts (waiting, offered, connected)
  int max_finished_contacts_retained = 10'000;  // for status queries after the end
  int max_skills_per_agent = 64;
  int max_requirements_per_contact = 16;
  int max_capacity_per_channel = 50;
  int max_attributes = 32;
  int max_attribute_key_bytes = 64;
  int max_attribute_value_bytes = 1024;
  int max_id_bytes = 128;
  int max_requirement_classes = 100'000;
  int min_priority = 0;
  int max_priority = 100;
};

struct EngineConfig {
  std::vector<std::string> skills;
  // NOT_READY reasons agents may give. LOGIN, RONA and SUPERVISOR are always allowed.
  std::vector<std::string> reason_codes = {"BREAK", "LUNCH", "TRAINING", "MEETING"};
  std::vector<QueueConfig> queues;
  Limits limits;
  // Window for "recent" statistics (service level over the last 15 minutes, ...).
  absl::Duration stats_window = absl::Minutes(15);
  uint64_t random_seed = 1;
  // For a rules change (Engine::ApplyConfig): contacts of a queue that the new rules no
  // longer have move to the named queue. (from, moved_to) pairs.
  std::vector<std::pair<std::string, std::string>> queue_moves;
};

// Checks names, ranges, references (overflow targets, skills in requirements) and
// overflow cycles. Returns INVALID_ARGUMENT naming the queue and field on failure.
[[nodiscard]] absl::Status ValidateConfig(const EngineConfig& config);

// The rule set acdd uses until a rules file is given: one voice/chat/email queue
// `general` needing skill `general`.
EngineConfig DefaultConfig();

}  // namespace acd::core

#endif  // ACD_ENGINE_CORE_CONFIG_H_
