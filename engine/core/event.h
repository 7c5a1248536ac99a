// Event: the engine's only output. Every state change the outside world may care about
// (offers for desktops, positions for gateways, wallboards, statistics) is derived from
// this stream. Events carry a sequence number that increases by one per event, starting
// at 1, so a subscriber can resume "after N".
//
// String fields are views into engine-owned storage, valid only during
// EventSink::OnEvent; a sink that keeps an event must copy what it needs.
#ifndef ACD_ENGINE_CORE_EVENT_H_
#define ACD_ENGINE_CORE_EVENT_H_

#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/time/time.h"
#include "engine/core/types.h"

namespace acd::core {

enum class EventType : uint8_t {
  kContactQueued = 0,        // contact_id, queue, channel, priority
  kContactOffered,           // contact_id, queue, agent_id, waited
  kContactAccepted,          // contact_id, queue, agent_id, waited
  kContactRejected,          // contact_id, queue, agent_id, reason (REJECTED, NOT_READY...)
  kContactRona,              // contact_id, queue, agent_id: the offer timed out
  kContactAbandoned,         // contact_id, queue, waited, reason
  kContactOverflowed,        // contact_id, from_queue -> queue (empty queue: left)
  kContactTransferred,       // contact_id, from_queue -> queue
  kContactCompleted,         // contact_id, queue, agent_id
  kContactPriorityChanged,   // contact_id, queue, priority
  kContactCallbackRequested, // contact_id, queue, channel (now CALLBACK)
  kContactExpanded,          // contact_id, queue, step (skill expansion step reached)
  kAgentStateChanged,        // agent_id, agent_state, reason
  kRulesApplied,             // a new rule set is in force (Engine::ApplyConfig)
};
inline constexpr int kEventTypeCount = 14;

absl::string_view EventTypeName(EventType t);  // "CONTACT_QUEUED", ...

struct Event {
  uint64_t sequence = 0;
  // Times in the core's microseconds (the engine makes several events per command, and
  // building absl::Time and absl::Duration values for each showed in the profile).
  int64_t time_us = 0;  // Unix microseconds
  EventType type = EventType::kContactQueued;
  absl::string_view contact_id;
  absl::string_view agent_id;
  absl::string_view queue;
  absl::string_view from_queue;
  absl::string_view reason;
  Channel channel = Channel::kVoice;
  AgentState agent_state = AgentState::kLoggedOut;
  int priority = 0;
  int step = 0;
  int64_t waited_us = 0;  // time since the contact's first arrival

  absl::Time time() const { return absl::FromUnixMicros(time_us); }
  absl::Duration waited() const { return absl::Microseconds(waited_us); }
};

// One line, stable across runs and platforms; used by the replay test and logs.
// Contains ids, queue names, reason codes and numbers only (never attributes).
std::string FormatEvent(const Event& e);

// Receives events synchronously, on the core thread, in sequence order.
// REQUIRES: OnEvent must not call mutating Engine methods (const queries are fine).
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void OnEvent(const Event& event) = 0;
};

}  // namespace acd::core

#endif  // ACD_ENGINE_CORE_EVENT_H_
