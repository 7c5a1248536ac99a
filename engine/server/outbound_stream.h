// OutboundStream<Msg, Wire>: one server-streaming RPC (WatchEvents, WatchOffers,
// WatchContact) as a gRPC callback write reactor, with a bounded queue of messages waiting
// to be sent. Wire is what the RPC sends: Msg itself, one a write, or a batch message
// that packs all the messages waiting when a write starts (up to `max_batch`; see
// BatchPacker). gRPC's cost is per message written, so a batched stream with a backlog
// pays it once for many.
//
// Thread rules: Push(), EndAfterPending(), CutOff(), set_capacity() and set_on_done() on
// the core thread. The core thread never calls into gRPC for a stream: a push to an idle
// stream schedules it on the FanOut thread, which starts the write; each completed write
// starts the next on gRPC's thread (OnWriteDone), buffered while more are queued, so a
// subscriber with a backlog gets many events per socket write. The queue (StreamQueue)
// has its own lock; no core state is shared.
//
// Bounds: at most `capacity` messages wait; a Push() beyond that means the client reads
// more slowly than events arrive, and the stream is ended with RESOURCE_EXHAUSTED (the
// client may resume) instead of buffering without limit or slowing the core. Messages
// are shared, immutable and reference-counted, so fanning one event out to many
// subscribers costs a pointer each.
//
// Lifetime: after gRPC's OnDone, the core thread calls the `on_done` hook (so its owner
// forgets the stream), then FanOut::Retire() deletes it.
#ifndef ACD_ENGINE_SERVER_OUTBOUND_STREAM_H_
#define ACD_ENGINE_SERVER_OUTBOUND_STREAM_H_

#include <grpcpp/grpcpp.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include "engine/server/fan_out.h"
#include "engine/server/stream_queue.h"
#include "spdlog/spdlog.h"

namespace acd::server {

// Packs the messages a write takes (1 or more, in order) into the Wire message it sends.
// Specialized for each batched stream (event_feed.h). One packer per stream, used by one
// thread at a time, between writes; it may keep buffers from write to write.
//
//   const Wire* Pack(std::span<const std::shared_ptr<const Msg>> messages);
//     Replaces what the packer held; the result is valid until the next Pack().
template <class Msg, class Wire>
class BatchPacker;

template <class Msg, class Wire = Msg>
class OutboundStream final : public grpc::ServerWriteReactor<Wire>, public Kickable {
 public:
  using MessagePtr = std::shared_ptr<const Msg>;
  static constexpr bool kBatched = !std::is_same_v<Msg, Wire>;

  // `core` is the core thread's io_context. `name` (method and peer) is for logs.
  // `max_batch`: the most messages one write packs (batched streams only).
  OutboundStream(boost::asio::io_context& core, FanOut& fan_out, size_t capacity, std::string name,
                 size_t max_batch = 1)
      : core_(core),
        fan_out_(fan_out),
        queue_(capacity, kBatched ? max_batch : 1),
        name_(std::move(name)) {}

  // Core thread. Called once, after gRPC's OnDone, just before the stream is retired.
  void set_on_done(std::function<void()> on_done) { on_done_ = std::move(on_done); }

  // Core thread. Queues `message`. Returns false if the stream is ending (the message is
  // dropped) or has just been cut off for falling `capacity` messages behind.
  bool Push(MessagePtr message) {
    bool kick = false;
    const auto result = queue_.Push(std::move(message), &kick);
    if (kick) fan_out_.Schedule(this);
    if (result == StreamQueue<Msg>::PushResult::kCutOff) {
      spdlog::warn("{}: subscriber fell behind its buffer; ending it", name_);
    }
    return result == StreamQueue<Msg>::PushResult::kQueued;
  }

  // Core thread. Ends the stream with `status` once the messages already queued are sent.
  void EndAfterPending(grpc::Status status) {
    if (queue_.EndAfterPending(std::move(status))) fan_out_.Schedule(this);
  }

  // Core thread. Ends the stream now with `status`, dropping queued messages.
  void CutOff(grpc::Status status) {
    if (queue_.CutOff(std::move(status))) fan_out_.Schedule(this);
  }

  // Core thread. Raises the bound, e.g. to make room for a resume backlog.
  void set_capacity(size_t capacity) { queue_.set_capacity(capacity); }

  // True once the stream accepts no more messages.
  bool ending() const { return queue_.ending(); }
  const std::string& name() const { return name_; }
  size_t pending() const { return queue_.pending(); }

  // Fan-out thread.
  void Kick() override { Perform(queue_.Kick()); }

 private:
  // Performs `step` and what follows from it. A write that completed before its
  // StartWrite() returned is continued here, on this thread.
  void Perform(typename StreamQueue<Msg>::Step step) {
    using Step = typename StreamQueue<Msg>::Step;
    while (step.kind == Step::kWrite) {
      // Buffered while more follow: the last write of a backlog sends them together.
      const grpc::WriteOptions options =
          step.more ? grpc::WriteOptions().set_buffer_hint() : grpc::WriteOptions();
      if constexpr (kBatched) {
        // The packer is free: the previous write completed before this step was made.
        this->StartWrite(packer_.Pack(step.messages), options);
      } else {
        this->StartWrite(step.messages.front().get(), options);
      }
      step = queue_.WriteStarted();
    }
    if (step.kind == Step::kFinish) this->Finish(step.status);
  }

  void OnWriteDone(bool ok) override { Perform(queue_.WriteDone(ok)); }
  void OnCancel() override { Perform(queue_.Cancelled()); }
  void OnDone() override {
    boost::asio::post(core_, [this] {
      if (on_done_) on_done_();
      fan_out_.Retire(this);
    });
  }

  boost::asio::io_context& core_;
  FanOut& fan_out_;
  StreamQueue<Msg> queue_;
  // Packs the message being written, for a batched stream: touched only by the thread
  // performing the current step, and only between writes.
  [[no_unique_address]] std::conditional_t<kBatched, BatchPacker<Msg, Wire>, std::monostate> packer_;
  const std::string name_;
  std::function<void()> on_done_;  // core thread
};

}  // namespace acd::server

#endif  // ACD_ENGINE_SERVER_OUTBOUND_STREAM_H_
