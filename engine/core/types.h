// Domain vocabulary shared by the core, the server and the simulator: channels, agent
// and contact states, skill requirements. Plain values; no behaviour beyond names.
#ifndef ACD_ENGINE_CORE_TYPES_H_
#define ACD_ENGINE_CORE_TYPES_H_

#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"

namespace acd::core {

// How the patient reached us. CALLBACK is a voice call we place back later; it uses the
// agent's voice capacity.
enum class Channel : uint8_t { kVoice = 0, kChat = 1, kEmail = 2, kCallback = 3 };
inline constexpr int kChannelCount = 4;

// The capacity pool a channel draws from: voice and callback share the voice pool.
enum class CapacityPool : uint8_t { kVoice = 0, kChat = 1, kEmail = 2 };
inline constexpr int kCapacityPoolCount = 3;

constexpr CapacityPool PoolOf(Channel c) {
  switch (c) {
    case Channel::kChat:
      return CapacityPool::kChat;
    case Channel::kEmail:
      return CapacityPool::kEmail;
    case Channel::kVoice:
    case Channel::kCallback:
      break;
  }
  return CapacityPool::kVoice;
}

// A channel that draws from `pool` (voice for the voice pool).
constexpr Channel PoolChannel(CapacityPool pool) {
  switch (pool) {
    case CapacityPool::kChat:
      return Channel::kChat;
    case CapacityPool::kEmail:
      return Channel::kEmail;
    case CapacityPool::kVoice:
      break;
  }
  return Channel::kVoice;
}

// The state an agent shows on a wallboard. Derived from presence (logged out, not ready,
// ready) and the agent's work items: an offer pending makes it RESERVED, a connected
// contact BUSY, a finished contact in after-call work WRAP_UP.
enum class AgentState : uint8_t {
  kLoggedOut = 0,
  kNotReady = 1,
  kReady = 2,
  kReserved = 3,
  kBusy = 4,
  kWrapUp = 5,
};

// Where a contact is in its life. WAITING and OFFERED are "in queue"; CONNECTED is with
// an agent; COMPLETED, ABANDONED and OVERFLOWED (left with no overflow target) are final.
enum class ContactState : uint8_t {
  kWaiting = 0,
  kOffered = 1,
  kConnected = 2,
  kCompleted = 3,
  kAbandoned = 4,
  kOverflowed = 5,
};

constexpr bool IsFinal(ContactState s) {
  return s == ContactState::kCompleted || s == ContactState::kAbandoned ||
         s == ContactState::kOverflowed;
}

absl::string_view ChannelName(Channel c);         // "VOICE", "CHAT", ...
absl::string_view AgentStateName(AgentState s);   // "READY", "WRAP_UP", ...
absl::string_view ContactStateName(ContactState s);

// Parses "VOICE"/"voice" etc. Returns false on an unknown name.
bool ParseChannel(absl::string_view name, Channel* out);

// Skill levels run from 1 (novice) to 10 (expert).
inline constexpr int kMinSkillLevel = 1;
inline constexpr int kMaxSkillLevel = 10;

// "An agent with `skill` at level >= min_level".
struct SkillRequirement {
  std::string skill;
  int min_level = kMinSkillLevel;
};

// An agent's skill.
struct AgentSkill {
  std::string skill;
  int level = kMinSkillLevel;
};

// How many contacts of a channel an agent may hold at once.
struct ChannelCapacity {
  Channel channel = Channel::kVoice;
  int max = 1;
};

// Reason codes the engine itself uses.
inline constexpr absl::string_view kReasonLogin = "LOGIN";
inline constexpr absl::string_view kReasonRona = "RONA";
inline constexpr absl::string_view kReasonForced = "SUPERVISOR";

}  // namespace acd::core

#endif  // ACD_ENGINE_CORE_TYPES_H_
