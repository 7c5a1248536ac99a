#include "engine/server/event_feed.h"

#include <grpc/slice.h>

#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/core/assert.h"
#include "engine/server/api_mapping.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"
#include "spdlog/spdlog.h"

namespace acd::server {
namespace {

// What a WatchContact caller would notice. Waited time always grows, so it is left out;
// EWT counts in whole seconds.
std::string NoticeableKey(const v1::ContactStatus& s) {
  return absl::StrFormat("%d|%s|%d|%d|%.0f|%s|%d|%d|%d|%d", s.state(), s.queue(), s.position(),
                         s.has_ewt_seconds(), s.ewt_seconds(), s.agent_id(), s.channel(),
                         s.priority(), s.expansion_step(), s.callback_offered());
}

bool IsFinal(v1::ContactState s) {
  return s == v1::COMPLETED || s == v1::ABANDONED || s == v1::OVERFLOWED;
}

}  // namespace

EventFeed::EventFeed(boost::asio::io_context& core, FanOut& fan_out, Options options)
    : core_(core), fan_out_(fan_out), options_(options), refresh_timer_(core) {}

EventFeed::~EventFeed() = default;

uint64_t EventFeed::oldest_retained() const {
  return ring_.empty() ? 0 : ring_[ring_head_].event.sequence();
}

absl::Status EventFeed::Admit(const std::string& client) {
  if (!accepting_) return absl::UnavailableError("the server is shutting down");
  if (open_streams_ >= options_.max_streams) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the server has ", open_streams_, " streams open; the limit is ", options_.max_streams));
  }
  int& count = streams_per_client_[client];
  if (count >= options_.max_streams_per_client) {
    return absl::ResourceExhaustedError(absl::StrCat("this client has ", count,
                                                     " streams open; the limit is ",
                                                     options_.max_streams_per_client));
  }
  ++count;
  ++open_streams_;
  return absl::OkStatus();
}

void EventFeed::Release(const std::string& client) {
  auto it = streams_per_client_.find(client);
  if (it != streams_per_client_.end() && --it->second <= 0) streams_per_client_.erase(it);
  --open_streams_;
}

// ---- WatchEvents ----

std::shared_ptr<const EncodedEvent> EncodeEvent(const v1::Event& event) {
  using google::protobuf::io::CodedOutputStream;
  using google::protobuf::internal::WireFormatLite;
  // EventBatch.events is field 1, length-delimited: its tag, then the Event's size.
  constexpr uint32_t kTag = (v1::EventBatch::kEventsFieldNumber << 3) |
                            WireFormatLite::WIRETYPE_LENGTH_DELIMITED;
  const size_t size = event.ByteSizeLong();  // caches the sizes the write below uses
  const size_t header = CodedOutputStream::VarintSize32(kTag) +
                        CodedOutputStream::VarintSize32(static_cast<uint32_t>(size));
  grpc_slice slice = grpc_slice_malloc(header + size);
  uint8_t* out = GRPC_SLICE_START_PTR(slice);
  out = CodedOutputStream::WriteVarint32ToArray(kTag, out);
  out = CodedOutputStream::WriteVarint32ToArray(static_cast<uint32_t>(size), out);
  out = event.SerializeWithCachedSizesToArray(out);
  ACD_ASSERT(out == GRPC_SLICE_END_PTR(slice));
  auto encoded = std::make_shared<EncodedEvent>();
  encoded->element = grpc::Slice(slice, grpc::Slice::STEAL_REF);
  return encoded;
}

const grpc::ByteBuffer* BatchPacker<EncodedEvent, grpc::ByteBuffer>::Pack(
    std::span<const std::shared_ptr<const EncodedEvent>> events) {
  // The buffer takes a reference to each element; no byte is copied.
  for (const std::shared_ptr<const EncodedEvent>& event : events) slices_.push_back(event->element);
  grpc::ByteBuffer batch(slices_.data(), slices_.size());
  batch_.Swap(&batch);
  slices_.clear();  // keeps its capacity; the buffer holds its own references
  return &batch_;
}

absl::Status EventFeed::WatchEvents(EventStream* stream, uint64_t after_sequence,
                                    const std::string& client) {
  const uint64_t last = engine_->last_sequence();
  if (after_sequence > last) {
    return absl::OutOfRangeError(
        absl::StrCat("after_sequence ", after_sequence, " is ahead of the last event, ", last));
  }
  if (after_sequence > 0 && after_sequence < last) {
    const uint64_t oldest = oldest_retained();
    if (oldest == 0 || after_sequence + 1 < oldest) {
      return absl::OutOfRangeError(
          absl::StrCat("events after ", after_sequence, " are no longer retained (the oldest is ",
                       oldest, "); watch with after_sequence 0 for a fresh snapshot"));
    }
  }
  if (absl::Status s = Admit(client); !s.ok()) return s;

  if (after_sequence == 0) {
    v1::Event snapshot;
    ToProto(engine_->Snapshot(), engine_->config().stats_window, options_.clock_speed,
            snapshot.mutable_snapshot());
    snapshot.set_type(v1::SNAPSHOT);
    snapshot.set_sequence(snapshot.snapshot().sequence());
    *snapshot.mutable_time() = snapshot.snapshot().time();
    stream->Push(EncodeEvent(snapshot));
  } else {
    // The backlog comes from the ring; make room for it on top of the live buffer.
    const size_t backlog = last - after_sequence;
    stream->set_capacity(options_.subscriber_buffer + backlog);
    for (size_t k = ring_.size() - backlog; k < ring_.size(); ++k) {
      RingEntry& entry = RingAt(k);
      if (entry.encoded == nullptr) entry.encoded = EncodeEvent(entry.event);
      stream->Push(entry.encoded);
    }
  }
  event_streams_.insert(stream);
  stream->set_on_done([this, stream, client] {
    event_streams_.erase(stream);
    Release(client);
  });
  return absl::OkStatus();
}

// ---- WatchOffers ----

absl::Status EventFeed::WatchOffers(OfferStream* stream, const std::string& agent_id,
                                    const std::string& client) {
  if (absl::Status s = Admit(client); !s.ok()) return s;
  offer_streams_[agent_id].insert(stream);
  offer_stream_agent_[stream] = agent_id;
  stream->set_on_done([this, stream, client] {
    auto it = offer_stream_agent_.find(stream);
    if (it != offer_stream_agent_.end()) {
      auto by_agent = offer_streams_.find(it->second);
      if (by_agent != offer_streams_.end()) {
        by_agent->second.erase(stream);
        if (by_agent->second.empty()) offer_streams_.erase(by_agent);
      }
      offer_stream_agent_.erase(it);
    }
    Release(client);
  });

  // First the agent's status now, then the offers already open.
  auto first = std::make_shared<v1::AgentUpdate>();
  absl::StatusOr<core::AgentStatus> agent = engine_->GetAgent(agent_id);
  if (agent.ok()) {
    ToProto(*agent, first->mutable_status());
  } else {
    first->mutable_status()->set_agent_id(agent_id);
    first->mutable_status()->set_state(v1::LOGGED_OUT);
  }
  stream->Push(std::move(first));
  if (agent.ok()) {
    for (const core::WorkItemStatus& w : agent->work) {
      if (w.phase != core::WorkPhase::kOffered) continue;
      // Only this stream is new; the others have seen these offers.
      auto update = std::make_shared<v1::AgentUpdate>();
      absl::StatusOr<core::ContactStatus> contact = engine_->GetContact(w.contact_id);
      v1::Offer* offer = update->mutable_offer();
      offer->set_contact_id(w.contact_id);
      offer->set_queue(w.queue);
      offer->set_channel(ToProto(w.channel));
      offer->set_expires_in_seconds(
          std::max(0.0, absl::ToDoubleSeconds(w.deadline - engine_->now())));
      if (contact.ok()) {
        offer->set_waited_seconds(absl::ToDoubleSeconds(contact->waited));
        offer->set_priority(contact->priority);
        for (const auto& [k, v] : contact->attributes) (*offer->mutable_attributes())[k] = v;
      }
      stream->Push(std::move(update));
    }
  }
  return absl::OkStatus();
}

void EventFeed::PushToAgent(const std::string& agent_id,
                            std::shared_ptr<const v1::AgentUpdate> update) {
  auto it = offer_streams_.find(agent_id);
  if (it == offer_streams_.end()) return;
  for (OfferStream* stream : it->second) stream->Push(update);
}

void EventFeed::SendOffer(const std::string& agent_id, absl::string_view contact_id,
                          uint64_t sequence) {
  auto update = std::make_shared<v1::AgentUpdate>();
  update->set_sequence(sequence);
  v1::Offer* offer = update->mutable_offer();
  offer->set_contact_id(std::string(contact_id));
  absl::StatusOr<core::ContactStatus> contact = engine_->GetContact(contact_id);
  if (contact.ok()) {
    offer->set_queue(contact->queue);
    offer->set_channel(ToProto(contact->channel));
    offer->set_waited_seconds(absl::ToDoubleSeconds(contact->waited));
    offer->set_priority(contact->priority);
    for (const auto& [k, v] : contact->attributes) (*offer->mutable_attributes())[k] = v;
  }
  absl::StatusOr<core::AgentStatus> agent = engine_->GetAgent(agent_id);
  if (agent.ok()) {
    for (const core::WorkItemStatus& w : agent->work) {
      if (w.contact_id == contact_id && w.phase == core::WorkPhase::kOffered) {
        offer->set_expires_in_seconds(
            std::max(0.0, absl::ToDoubleSeconds(w.deadline - engine_->now())));
      }
    }
  }
  PushToAgent(agent_id, std::move(update));
}

void EventFeed::SendWithdrawn(const std::string& agent_id, absl::string_view contact_id,
                              absl::string_view reason, uint64_t sequence) {
  auto update = std::make_shared<v1::AgentUpdate>();
  update->set_sequence(sequence);
  update->mutable_offer_withdrawn()->set_contact_id(std::string(contact_id));
  update->mutable_offer_withdrawn()->set_reason(std::string(reason));
  PushToAgent(agent_id, std::move(update));
}

void EventFeed::SendAgentStatus(const std::string& agent_id, uint64_t sequence) {
  auto update = std::make_shared<v1::AgentUpdate>();
  update->set_sequence(sequence);
  absl::StatusOr<core::AgentStatus> agent = engine_->GetAgent(agent_id);
  if (agent.ok()) {
    ToProto(*agent, update->mutable_status());
  } else {
    update->mutable_status()->set_agent_id(agent_id);
    update->mutable_status()->set_state(v1::LOGGED_OUT);
  }
  PushToAgent(agent_id, std::move(update));
}

void EventFeed::FanOutToAgent(const core::Event& e) {
  using core::EventType;
  const std::string contact_id(e.contact_id);
  switch (e.type) {
    case EventType::kContactOffered: {
      std::string agent_id(e.agent_id);
      open_offers_[contact_id] = agent_id;
      if (offer_streams_.contains(agent_id)) SendOffer(agent_id, e.contact_id, e.sequence);
      return;
    }
    case EventType::kContactAccepted:
      open_offers_.erase(contact_id);
      return;
    case EventType::kContactRejected:
    case EventType::kContactRona:
    case EventType::kContactAbandoned:
    case EventType::kContactOverflowed:
    case EventType::kContactTransferred:
    case EventType::kContactCompleted: {
      auto it = open_offers_.find(contact_id);
      if (it == open_offers_.end()) return;
      const std::string agent_id = std::move(it->second);
      open_offers_.erase(it);
      std::string reason(e.reason);
      if (e.type == EventType::kContactRona) reason = std::string(core::kReasonRona);
      if (reason.empty()) reason = std::string(core::EventTypeName(e.type));
      if (offer_streams_.contains(agent_id)) {
        SendWithdrawn(agent_id, e.contact_id, reason, e.sequence);
      }
      return;
    }
    case EventType::kAgentStateChanged: {
      std::string agent_id(e.agent_id);
      if (offer_streams_.contains(agent_id)) SendAgentStatus(agent_id, e.sequence);
      return;
    }
    default:
      return;
  }
}

// ---- WatchContact ----

absl::Status EventFeed::WatchContact(ContactStream* stream, const std::string& contact_id,
                                     const std::string& client) {
  absl::StatusOr<core::ContactStatus> contact = engine_->GetContact(contact_id);
  if (!contact.ok()) return contact.status();
  if (absl::Status s = Admit(client); !s.ok()) return s;
  ContactWatch& watch = contact_watches_[stream];
  watch.contact_id = contact_id;
  stream->set_on_done([this, stream, client] {
    contact_watches_.erase(stream);
    Release(client);
  });
  RefreshContact(stream, watch);
  return absl::OkStatus();
}

void EventFeed::RefreshContact(ContactStream* stream, ContactWatch& watch) {
  watch.stale = false;
  if (stream->ending()) return;
  absl::StatusOr<core::ContactStatus> contact = engine_->GetContact(watch.contact_id);
  if (!contact.ok()) {
    // The finished record was dropped; the caller saw the final state already or never will.
    stream->EndAfterPending(grpc::Status::OK);
    return;
  }
  auto status = std::make_shared<v1::ContactStatus>();
  ToProto(*contact, status.get());
  watch.queue = contact->queue;
  std::string key = NoticeableKey(*status);
  const bool final = IsFinal(status->state());
  if (key != watch.last_key) {
    watch.last_key = std::move(key);
    stream->Push(std::move(status));
  }
  if (final) stream->EndAfterPending(grpc::Status::OK);
}

void EventFeed::Flush() {
  if (staffing_changed_ || !dirty_queues_.empty() || !dirty_contacts_.empty()) {
    bool any_stale = false;
    for (auto& [stream, watch] : contact_watches_) {
      if (dirty_contacts_.contains(watch.contact_id)) {
        RefreshContact(stream, watch);
      } else if (staffing_changed_ || dirty_queues_.contains(watch.queue)) {
        watch.stale = true;
        any_stale = true;
      }
    }
    if (any_stale && !refresh_armed_ && accepting_) {
      refresh_armed_ = true;
      refresh_timer_.expires_after(
          std::chrono::microseconds(absl::ToInt64Microseconds(options_.contact_refresh)));
      refresh_timer_.async_wait([this](const boost::system::error_code& ec) {
        refresh_armed_ = false;
        if (!ec) RefreshStale();
      });
    }
  }
  dirty_queues_.clear();
  dirty_contacts_.clear();
  staffing_changed_ = false;
  fan_out_.Flush();
}

void EventFeed::RefreshStale() {
  for (auto& [stream, watch] : contact_watches_) {
    if (watch.stale) RefreshContact(stream, watch);
  }
  fan_out_.Flush();
}

// ---- Every event ----

EventFeed::RingEntry& EventFeed::NextRingSlot() {
  if (ring_.size() < options_.ring_events) return ring_.emplace_back();
  RingEntry& oldest = ring_[ring_head_];
  ring_head_ = (ring_head_ + 1) % ring_.size();
  return oldest;
}

void EventFeed::OnEvent(const core::Event& event) {
  // Converted into a message that is reused (its strings keep their buffers), and encoded
  // once for all subscribers if there are any; a ring entry left unencoded is encoded if
  // a resume asks for it.
  RingEntry* slot = options_.ring_events > 0 ? &NextRingSlot() : nullptr;
  if (slot != nullptr || !event_streams_.empty()) {
    v1::Event& message = slot != nullptr ? slot->event : event_;
    ToProto(event, &message);
    std::shared_ptr<const EncodedEvent> encoded;
    if (!event_streams_.empty()) {
      encoded = EncodeEvent(message);
      for (EventStream* stream : event_streams_) stream->Push(encoded);
    }
    if (slot != nullptr) slot->encoded = std::move(encoded);
  }

  FanOutToAgent(event);

  if (!contact_watches_.empty()) {
    if (event.type == core::EventType::kAgentStateChanged) staffing_changed_ = true;
    if (!event.queue.empty()) dirty_queues_.insert(std::string(event.queue));
    if (!event.from_queue.empty()) dirty_queues_.insert(std::string(event.from_queue));
    if (!event.contact_id.empty()) dirty_contacts_.insert(std::string(event.contact_id));
  }
}

void EventFeed::EndAll() {
  accepting_ = false;
  refresh_timer_.cancel();
  const grpc::Status shutting_down(grpc::StatusCode::UNAVAILABLE, "the server is shutting down");
  for (EventStream* s : event_streams_) s->CutOff(shutting_down);
  for (auto& [s, agent] : offer_stream_agent_) s->CutOff(shutting_down);
  for (auto& [s, watch] : contact_watches_) s->CutOff(shutting_down);
  fan_out_.Flush();
}

}  // namespace acd::server
