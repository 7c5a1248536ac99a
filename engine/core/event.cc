#include "engine/core/event.h"

#include "absl/strings/str_cat.h"

namespace acd::core {

absl::string_view EventTypeName(EventType t) {
  switch (t) {
    case EventType::kContactQueued:
      return "CONTACT_QUEUED";
    case EventType::kContactOffered:
      return "CONTACT_OFFERED";
    case EventType::kContactAccepted:
      return "CONTACT_ACCEPTED";
    case EventType::kContactRejected:
      return "CONTACT_REJECTED";
    case EventType::kContactRona:
      return "CONTACT_RONA";
    case EventType::kContactAbandoned:
      return "CONTACT_ABANDONED";
    case EventType::kContactOverflowed:
      return "CONTACT_OVERFLOWED";
    case EventType::kContactTransferred:
      return "CONTACT_TRANSFERRED";
    case EventType::kContactCompleted:
      return "CONTACT_COMPLETED";
    case EventType::kContactPriorityChanged:
      return "CONTACT_PRIORITY_CHANGED";
    case EventType::kContactCallbackRequested:
      return "CONTACT_CALLBACK_REQUESTED";
    case EventType::kContactExpanded:
      return "CONTACT_EXPANDED";
    case EventType::kAgentStateChanged:
      return "AGENT_STATE_CHANGED";
    case EventType::kRulesApplied:
      return "RULES_APPLIED";
  }
  return "?";
}

std::string FormatEvent(const Event& e) {
  std::string out = absl::StrCat(e.sequence, " ", e.time_us, " ",
                                 EventTypeName(e.type));
  auto field = [&out](absl::string_view name, absl::string_view value) {
    if (!value.empty()) absl::StrAppend(&out, " ", name, "=", value);
  };
  field("contact", e.contact_id);
  field("agent", e.agent_id);
  field("queue", e.queue);
  field("from", e.from_queue);
  field("reason", e.reason);
  if (e.type == EventType::kAgentStateChanged) {
    absl::StrAppend(&out, " state=", AgentStateName(e.agent_state));
  } else {
    absl::StrAppend(&out, " channel=", ChannelName(e.channel), " priority=", e.priority,
                    " step=", e.step, " waited_us=", e.waited_us);
  }
  return out;
}

}  // namespace acd::core
