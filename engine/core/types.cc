#include "engine/core/types.h"

#include "absl/strings/ascii.h"

namespace acd::core {

absl::string_view ChannelName(Channel c) {
  switch (c) {
    case Channel::kVoice:
      return "VOICE";
    case Channel::kChat:
      return "CHAT";
    case Channel::kEmail:
      return "EMAIL";
    case Channel::kCallback:
      return "CALLBACK";
  }
  return "?";
}

absl::string_view AgentStateName(AgentState s) {
  switch (s) {
    case AgentState::kLoggedOut:
      return "LOGGED_OUT";
    case AgentState::kNotReady:
      return "NOT_READY";
    case AgentState::kReady:
      return "READY";
    case AgentState::kReserved:
      return "RESERVED";
    case AgentState::kBusy:
      return "BUSY";
    case AgentState::kWrapUp:
      return "WRAP_UP";
  }
  return "?";
}

absl::string_view ContactStateName(ContactState s) {
  switch (s) {
    case ContactState::kWaiting:
      return "WAITING";
    case ContactState::kOffered:
      return "OFFERED";
    case ContactState::kConnected:
      return "CONNECTED";
    case ContactState::kCompleted:
      return "COMPLETED";
    case ContactState::kAbandoned:
      return "ABANDONED";
    case ContactState::kOverflowed:
      return "OVERFLOWED";
  }
  return "?";
}

bool ParseChannel(absl::string_view name, Channel* out) {
  const std::string upper = absl::AsciiStrToUpper(name);
  for (Channel c : {Channel::kVoice, Channel::kChat, Channel::kEmail, Channel::kCallback}) {
    if (upper == ChannelName(c)) {
      *out = c;
      return true;
    }
  }
  return false;
}

}  // namespace acd::core
