// EventFeed: receives every core event (it is the engine's EventSink) and fans it out to
// the server's streams: WatchEvents subscribers (every event, resumable by sequence from
// a bounded ring of recent events), WatchOffers subscribers (offers, withdrawn offers
// and status changes of one agent) and WatchContact subscribers (status changes of one
// contact, including position and EWT as its queue moves).
//
// Thread rules: core thread only, like the engine. OnEvent runs inside engine commands;
// it copies what it needs (event strings are views) and only makes const engine queries.
// WatchContact: a change to the watched contact itself (offered, answered, ended...) is
// sent after the command that made it, in Flush(). Movement of its queue or staffing
// (position, EWT) only marks the watch stale; stale watches are recomputed together at
// most once per `contact_refresh` (each recompute costs O(queue length) in the core), and
// a status is sent only when something a caller would notice changed.
//
// Bounds: the ring keeps `ring_events` events; each subscriber buffers at most
// `subscriber_buffer` messages (OutboundStream cuts off one that falls further behind);
// `max_streams` streams in all and `max_streams_per_client` per client connection.
#ifndef ACD_ENGINE_SERVER_EVENT_FEED_H_
#define ACD_ENGINE_SERVER_EVENT_FEED_H_

#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/slice.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "acd/v1/agent_desk.pb.h"
#include "acd/v1/common.pb.h"
#include "acd/v1/supervisor.pb.h"
#include "engine/core/engine.h"
#include "engine/core/event.h"
#include "engine/server/fan_out.h"
#include "engine/server/outbound_stream.h"

namespace acd::server {

// One event as WatchEvents sends it, encoded once for all subscribers: `element` holds the
// bytes of one entry of EventBatch.events (field 1's tag, the Event's length, the Event),
// so an EventBatch on the wire is such elements one after another. A write to a
// subscriber refers to the elements (reference-counted slices); it copies and serializes
// nothing.
struct EncodedEvent {
  grpc::Slice element;
};

// Encodes `event` as one element of EventBatch.events.
std::shared_ptr<const EncodedEvent> EncodeEvent(const v1::Event& event);

// WatchEvents packs the events waiting for a subscriber into one EventBatch a write, as
// the encoded elements side by side in one ByteBuffer.
template <>
class BatchPacker<EncodedEvent, grpc::ByteBuffer> {
 public:
  const grpc::ByteBuffer* Pack(std::span<const std::shared_ptr<const EncodedEvent>> events);

 private:
  std::vector<grpc::Slice> slices_;  // scratch, empty between calls
  grpc::ByteBuffer batch_;
};

using EventStream = OutboundStream<EncodedEvent, grpc::ByteBuffer>;
using OfferStream = OutboundStream<v1::AgentUpdate>;
using ContactStream = OutboundStream<v1::ContactStatus>;

class EventFeed final : public core::EventSink {
 public:
  struct Options {
    size_t ring_events = 10'000;
    size_t subscriber_buffer = 1'024;
    int max_streams = 10'000;
    int max_streams_per_client = 16;
    absl::Duration contact_refresh = absl::Seconds(1);  // real time
    double clock_speed = 1;  // the server clock's (CoreLoop::Create sets it), for snapshots
  };

  // Streams are written by `fan_out` (see fan_out.h); the feed flushes it after each
  // command.
  EventFeed(boost::asio::io_context& core, FanOut& fan_out, Options options);
  ~EventFeed() override;

  // REQUIRES: called once, before the first event, with the engine this feed listens to.
  void set_engine(const core::Engine* engine) { engine_ = engine; }

  void OnEvent(const core::Event& event) override;

  // After each command (and timer firing): sends WatchContact updates that changed and
  // hands the streams with new messages to the fan-out thread.
  void Flush();

  // Each Watch* registers a stream the caller created, and sends its first messages. On
  // failure the stream is not registered and the caller must end it with the status:
  // RESOURCE_EXHAUSTED (too many streams), OUT_OF_RANGE (after_sequence not retained or
  // in the future), NOT_FOUND (unknown contact), UNAVAILABLE (shutting down).
  absl::Status WatchEvents(EventStream* stream, uint64_t after_sequence, const std::string& client);
  absl::Status WatchOffers(OfferStream* stream, const std::string& agent_id,
                           const std::string& client);
  absl::Status WatchContact(ContactStream* stream, const std::string& contact_id,
                            const std::string& client);

  // Ends every stream with UNAVAILABLE, refuses new ones and stops the refresh timer
  // (graceful shutdown). Idempotent.
  void EndAll();

  // The oldest event still retained (0 when none).
  uint64_t oldest_retained() const;
  int open_streams() const { return open_streams_; }

 private:
  struct ContactWatch {
    std::string contact_id;
    std::string queue;
    std::string last_key;  // what the caller last saw (state, position, EWT, ...)
    bool stale = false;    // its queue moved since the last refresh
  };

  // Takes a stream slot for `client`, or says why not.
  absl::Status Admit(const std::string& client);
  void Release(const std::string& client);

  void FanOutToAgent(const core::Event& event);
  void SendOffer(const std::string& agent_id, absl::string_view contact_id, uint64_t sequence);
  void SendWithdrawn(const std::string& agent_id, absl::string_view contact_id,
                     absl::string_view reason, uint64_t sequence);
  void SendAgentStatus(const std::string& agent_id, uint64_t sequence);
  void PushToAgent(const std::string& agent_id, std::shared_ptr<const v1::AgentUpdate> update);
  // Sends the contact's status if the caller would see a change; ends at a final state.
  void RefreshContact(ContactStream* stream, ContactWatch& watch);
  // Refreshes every stale watch; runs on refresh_timer_.
  void RefreshStale();

  boost::asio::io_context& core_;
  FanOut& fan_out_;
  const Options options_;
  const core::Engine* engine_ = nullptr;
  bool accepting_ = true;

  // One event of the resume ring. Its message is converted into in place, so once the
  // ring has wrapped, taking an event allocates nothing; it is encoded only when a stream
  // needs it (at once while there are WatchEvents subscribers, else on a resume).
  struct RingEntry {
    v1::Event event;
    std::shared_ptr<const EncodedEvent> encoded;  // null until a stream needed it
  };
  // The slot for the next event: a new one until the ring holds `ring_events`, then the
  // oldest one's.
  RingEntry& NextRingSlot();
  // The ring's k-th event, oldest first.
  RingEntry& RingAt(size_t k) { return ring_[(ring_head_ + k) % ring_.size()]; }

  std::vector<RingEntry> ring_;  // circular once full; the oldest at ring_head_
  size_t ring_head_ = 0;
  v1::Event event_;  // converted into when there is no ring (--event-ring 0)
  absl::flat_hash_set<EventStream*> event_streams_;

  absl::flat_hash_map<std::string, absl::flat_hash_set<OfferStream*>> offer_streams_;
  absl::flat_hash_map<OfferStream*, std::string> offer_stream_agent_;
  // Offers open now (contact -> agent), for every agent: lets a watcher learn that an
  // offer was withdrawn when the event names only the contact (caller hung up).
  absl::flat_hash_map<std::string, std::string> open_offers_;

  absl::flat_hash_map<ContactStream*, ContactWatch> contact_watches_;
  // What moved during the current command; Flush() refreshes the watches it touches.
  absl::flat_hash_set<std::string> dirty_queues_;
  absl::flat_hash_set<std::string> dirty_contacts_;
  bool staffing_changed_ = false;
  boost::asio::steady_timer refresh_timer_;
  bool refresh_armed_ = false;

  absl::flat_hash_map<std::string, int> streams_per_client_;
  int open_streams_ = 0;
};

}  // namespace acd::server

#endif  // ACD_ENGINE_SERVER_EVENT_FEED_H_
