#include "engine/server/api_mapping.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace acd::server {
namespace {

double Seconds(absl::Duration d) { return absl::ToDoubleSeconds(d); }

void SetAgentCounts(const std::array<int, 6>& by_state, auto* out) {
  out->set_agents_not_ready(by_state[static_cast<int>(core::AgentState::kNotReady)]);
  out->set_agents_ready(by_state[static_cast<int>(core::AgentState::kReady)]);
  out->set_agents_reserved(by_state[static_cast<int>(core::AgentState::kReserved)]);
  out->set_agents_busy(by_state[static_cast<int>(core::AgentState::kBusy)]);
  out->set_agents_wrap_up(by_state[static_cast<int>(core::AgentState::kWrapUp)]);
}

void ToProto(const core::QueueCounters& in, v1::QueueCounters* out) {
  out->set_offered(in.offered);
  out->set_answered(in.answered);
  out->set_answered_within_threshold(in.answered_within_threshold);
  out->set_abandoned(in.abandoned);
  out->set_overflowed(in.overflowed);
  out->set_transferred_out(in.transferred_out);
  out->set_handled(in.handled);
  out->set_service_level(in.service_level());
  out->set_asa_seconds(Seconds(in.asa()));
  out->set_aht_seconds(Seconds(in.aht()));
  out->set_abandon_rate(in.abandon_rate());
}

}  // namespace

grpc::Status ToGrpc(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

v1::Channel ToProto(core::Channel c) { return static_cast<v1::Channel>(static_cast<int>(c) + 1); }
v1::AgentState ToProto(core::AgentState s) {
  return static_cast<v1::AgentState>(static_cast<int>(s) + 1);
}
v1::ContactState ToProto(core::ContactState s) {
  return static_cast<v1::ContactState>(static_cast<int>(s) + 1);
}
v1::EventType ToProto(core::EventType t) {
  return static_cast<v1::EventType>(static_cast<int>(t) + 1);
}

absl::StatusOr<core::Channel> ChannelFromProto(int channel, absl::string_view field) {
  if (channel <= v1::CHANNEL_UNSPECIFIED || channel > core::kChannelCount) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": channel ", channel, " is not one of VOICE(1), CHAT(2), EMAIL(3), CALLBACK(4)"));
  }
  return static_cast<core::Channel>(channel - 1);
}

absl::StatusOr<core::AgentState> AgentStateFromProto(int state, absl::string_view field) {
  if (state <= v1::AGENT_STATE_UNSPECIFIED || state > v1::WRAP_UP) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": agent state ", state, " is not a known AgentState"));
  }
  return static_cast<core::AgentState>(state - 1);
}

absl::Status CheckId(absl::string_view id, absl::string_view field, const core::Limits& limits) {
  if (id.empty()) return absl::InvalidArgumentError(absl::StrCat(field, " is empty"));
  if (id.size() > static_cast<size_t>(limits.max_id_bytes)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " is ", id.size(), " bytes long; the limit is ", limits.max_id_bytes));
  }
  return absl::OkStatus();
}

absl::StatusOr<core::EnqueueRequest> FromProto(const v1::EnqueueContactRequest& request,
                                               const core::Limits& limits) {
  if (absl::Status s = CheckId(request.contact_id(), "contact_id", limits); !s.ok()) return s;
  if (request.queue().empty()) return absl::InvalidArgumentError("queue is empty");
  absl::StatusOr<core::Channel> channel = ChannelFromProto(request.channel(), "channel");
  if (!channel.ok()) return channel.status();
  if (request.requirements_size() > limits.max_requirements_per_contact) {
    return absl::InvalidArgumentError(
        absl::StrCat("contact ", request.contact_id(), " has ", request.requirements_size(),
                     " requirements; the limit is ", limits.max_requirements_per_contact));
  }
  if (request.attributes_size() > limits.max_attributes) {
    return absl::InvalidArgumentError(
        absl::StrCat("contact ", request.contact_id(), " has ", request.attributes_size(),
                     " attributes; the limit is ", limits.max_attributes));
  }
  core::EnqueueRequest out;
  out.contact_id = request.contact_id();
  out.queue = request.queue();
  out.channel = *channel;
  if (request.has_priority()) out.priority = request.priority();
  for (const v1::SkillRequirement& r : request.requirements()) {
    out.requirements.push_back({r.skill(), r.min_level()});
  }
  out.language = request.language();
  out.preferred_agent_id = request.preferred_agent_id();
  for (const auto& [key, value] : request.attributes()) {
    // The message names the key only: values may hold patient data.
    if (key.size() > static_cast<size_t>(limits.max_attribute_key_bytes)) {
      return absl::InvalidArgumentError(absl::StrCat("attribute key is ", key.size(),
                                                     " bytes; the limit is ",
                                                     limits.max_attribute_key_bytes));
    }
    if (value.size() > static_cast<size_t>(limits.max_attribute_value_bytes)) {
      return absl::InvalidArgumentError(absl::StrCat("attribute ", key, " has a value of ",
                                                     value.size(), " bytes; the limit is ",
                                                     limits.max_attribute_value_bytes));
    }
    out.attributes.emplace_back(key, value);
  }
  // A protobuf map has no order; sort so the core sees the same command on every run.
  std::sort(out.attributes.begin(), out.attributes.end());
  return out;
}

absl::StatusOr<core::LoginRequest> FromProto(const v1::LoginRequest& request,
                                             const core::Limits& limits) {
  if (absl::Status s = CheckId(request.agent_id(), "agent_id", limits); !s.ok()) return s;
  if (request.skills_size() > limits.max_skills_per_agent) {
    return absl::InvalidArgumentError(absl::StrCat("agent ", request.agent_id(), " has ",
                                                   request.skills_size(), " skills; the limit is ",
                                                   limits.max_skills_per_agent));
  }
  if (request.capacities_size() > core::kChannelCount) {
    return absl::InvalidArgumentError(absl::StrCat("agent ", request.agent_id(), " lists ",
                                                   request.capacities_size(),
                                                   " capacities; at most one per channel"));
  }
  core::LoginRequest out;
  out.agent_id = request.agent_id();
  for (const v1::AgentSkill& s : request.skills()) out.skills.push_back({s.skill(), s.level()});
  for (const v1::ChannelCapacity& c : request.capacities()) {
    absl::StatusOr<core::Channel> channel = ChannelFromProto(c.channel(), "capacities.channel");
    if (!channel.ok()) return channel.status();
    out.capacities.push_back({*channel, c.max()});
  }
  return out;
}

void ToProto(const core::ContactStatus& in, v1::ContactStatus* out) {
  out->set_contact_id(in.contact_id);
  out->set_queue(in.queue);
  out->set_state(ToProto(in.state));
  out->set_position(in.position);
  if (in.ewt.has_value()) out->set_ewt_seconds(Seconds(*in.ewt));
  out->set_agent_id(in.agent_id);
  out->set_waited_seconds(Seconds(in.waited));
  out->set_channel(ToProto(in.channel));
  out->set_priority(in.priority);
  out->set_expansion_step(in.expansion_step);
  out->set_callback_offered(in.callback_offered);
}

void ToProto(const core::AgentStatus& in, v1::AgentStatus* out) {
  out->set_agent_id(in.agent_id);
  out->set_state(ToProto(in.state));
  out->set_reason(in.reason);
  ToProto(in.state_since, out->mutable_state_since());
  for (const core::AgentSkill& s : in.skills) {
    v1::AgentSkill* skill = out->add_skills();
    skill->set_skill(s.skill);
    skill->set_level(s.level);
  }
  for (const core::ChannelCapacity& c : in.capacities) {
    v1::ChannelCapacity* capacity = out->add_capacities();
    capacity->set_channel(ToProto(c.channel));
    capacity->set_max(c.max);
  }
  for (const core::WorkItemStatus& w : in.work) {
    v1::WorkItem* item = out->add_work();
    item->set_contact_id(w.contact_id);
    item->set_queue(w.queue);
    item->set_channel(ToProto(w.channel));
    item->set_phase(static_cast<v1::WorkItem::Phase>(static_cast<int>(w.phase) + 1));
    if (w.deadline != absl::InfiniteFuture()) ToProto(w.deadline, item->mutable_deadline());
  }
  out->set_handled(in.handled);
  out->set_occupancy(in.occupancy);
}

void ToProto(const core::EngineSnapshot& in, absl::Duration window, double clock_speed,
             v1::Snapshot* out) {
  out->set_sequence(in.sequence);
  ToProto(in.time, out->mutable_time());
  out->set_clock_speed(clock_speed);
  for (const core::QueueStatus& q : in.queues) {
    v1::QueueStats* stats = out->add_queues();
    stats->set_queue(q.queue);
    stats->set_waiting(q.waiting);
    stats->set_in_offer(q.in_offer);
    stats->set_longest_wait_seconds(Seconds(q.longest_wait));
    stats->set_offered(q.window.offered);
    stats->set_answered(q.window.answered);
    stats->set_abandoned(q.window.abandoned);
    stats->set_service_level(q.window.service_level());
    stats->set_asa_seconds(Seconds(q.window.asa()));
    stats->set_aht_seconds(Seconds(q.window.aht()));
    stats->set_abandon_rate(q.window.abandon_rate());
    SetAgentCounts(q.agents_by_state, stats);
    stats->set_service_level_target(q.service_level_target);
    stats->set_service_level_threshold_seconds(Seconds(q.service_level_threshold));
    stats->set_closed(q.closed);
    stats->set_window_seconds(Seconds(window));
    ToProto(q.total, stats->mutable_since_start());
  }
  for (const core::AgentStatus& a : in.agents) ToProto(a, out->add_agents());
  SetAgentCounts(in.agents_by_state, out);
}

void ToProto(const core::Event& in, v1::Event* out) {
  // Every field an engine event has is written, so `out` may be the message of an
  // earlier event, reused: its strings and timestamp keep their buffers. An empty string
  // is cleared rather than set (setting one on a fresh message would allocate).
  out->set_sequence(in.sequence);
  ToProto(in.time(), out->mutable_time());
  out->set_type(ToProto(in.type));
  const auto set = [](absl::string_view value, auto clear, auto mutable_field) {
    if (value.empty()) {
      clear();
    } else {
      mutable_field()->assign(value.data(), value.size());
    }
  };
  set(in.contact_id, [out] { out->clear_contact_id(); }, [out] { return out->mutable_contact_id(); });
  set(in.agent_id, [out] { out->clear_agent_id(); }, [out] { return out->mutable_agent_id(); });
  set(in.queue, [out] { out->clear_queue(); }, [out] { return out->mutable_queue(); });
  set(in.from_queue, [out] { out->clear_from_queue(); }, [out] { return out->mutable_from_queue(); });
  set(in.reason, [out] { out->clear_reason(); }, [out] { return out->mutable_reason(); });
  if (in.type == core::EventType::kAgentStateChanged) {
    out->set_agent_state(ToProto(in.agent_state));
    out->clear_channel();
  } else {
    out->set_channel(ToProto(in.channel));
    out->clear_agent_state();
  }
  out->set_priority(in.priority);
  out->set_step(in.step);
  out->set_waited_seconds(Seconds(in.waited()));
}

void ToProto(const core::EngineConfig& in, v1::GetRulesResponse* out) {
  for (const std::string& s : in.skills) out->add_skills(s);
  for (const std::string& r : in.reason_codes) out->add_reason_codes(r);
  for (const core::QueueConfig& q : in.queues) {
    v1::QueueSummary* summary = out->add_queues();
    summary->set_name(q.name);
    for (core::Channel c : q.channels) summary->add_channels(ToProto(c));
    summary->set_default_priority(q.default_priority);
    for (const core::SkillRequirement& r : q.requirements) {
      v1::SkillRequirement* req = summary->add_requirements();
      req->set_skill(r.skill);
      req->set_min_level(r.min_level);
    }
    summary->set_strategy(q.strategy);
    summary->set_service_level_threshold_seconds(Seconds(q.service_level_threshold));
    summary->set_service_level_target(q.service_level_target);
    summary->set_max_length(q.max_length);
    summary->set_max_wait_seconds(Seconds(q.max_wait));
    summary->set_overflow_queue(q.overflow_queue);
    summary->set_wrap_up_seconds(Seconds(q.wrap_up));
    summary->set_offer_timeout_seconds(Seconds(q.offer_timeout));
    summary->set_closed(q.closed);
    summary->set_expansion_steps(static_cast<int>(q.expansion.size()));
  }
}

}  // namespace acd::server
