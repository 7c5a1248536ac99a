// OutboundStream<Msg>: one server-streaming RPC (WatchEvents, WatchOffers, WatchContact)
// as a gRPC callback write reactor with a bounded buffer of messages waiting to be sent.
//
// Thread rules: every member is touched on the core thread only. gRPC calls the On*()
// notifications on its own threads; they only post a task to the core thread. That keeps
// the fan-out free of locks, like the core itself.
//
// Bounds: at most `capacity` messages wait; a Push() beyond that means the client reads
// more slowly than events arrive, and the stream is ended with RESOURCE_EXHAUSTED (the
// client may resume) instead of buffering without limit or slowing the core. Messages
// are shared, immutable and reference-counted, so fanning one event out to many
// subscribers costs a pointer each.
//
// Lifetime: the reactor deletes itself on the core thread after gRPC's OnDone, first
// calling the `on_done` hook so its owner can forget it.
#ifndef ACD_ENGINE_SERVER_OUTBOUND_STREAM_H_
#define ACD_ENGINE_SERVER_OUTBOUND_STREAM_H_

#include <grpcpp/grpcpp.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace acd::server {

template <class Msg>
class OutboundStream final : public grpc::ServerWriteReactor<Msg> {
 public:
  using MessagePtr = std::shared_ptr<const Msg>;

  // `core` is the core thread's io_context. `name` (method and peer) is for logs.
  OutboundStream(boost::asio::io_context& core, size_t capacity, std::string name)
      : core_(core), capacity_(capacity), name_(std::move(name)) {}

  // Core thread. Called once, after gRPC's OnDone, just before the reactor deletes itself.
  void set_on_done(std::function<void()> on_done) { on_done_ = std::move(on_done); }

  // Core thread. Queues `message`. Returns false if the stream is ending (the message is
  // dropped) or has just been cut off for falling `capacity` messages behind.
  bool Push(MessagePtr message) {
    if (ending_) return false;
    if (pending_.size() >= capacity_) {
      spdlog::warn("{}: subscriber fell {} messages behind; ending it", name_, capacity_);
      CutOff(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                          absl::StrCat("subscriber fell more than ", capacity_,
                                       " messages behind; resume to continue")));
      return false;
    }
    pending_.push_back(std::move(message));
    WriteNext();
    return true;
  }

  // Core thread. Ends the stream with `status` once the messages already queued are sent.
  void EndAfterPending(grpc::Status status) {
    if (ending_) return;
    ending_ = true;
    final_status_ = std::move(status);
    WriteNext();
  }

  // Core thread. Ends the stream now with `status`, dropping queued messages.
  void CutOff(grpc::Status status) {
    if (ending_ && pending_.empty()) return;
    pending_.clear();
    ending_ = true;
    final_status_ = std::move(status);
    WriteNext();
  }

  // Core thread. Raises the bound, e.g. to make room for a resume backlog.
  void set_capacity(size_t capacity) { capacity_ = capacity; }

  // Core thread. True once the stream accepts no more messages.
  bool ending() const { return ending_; }
  const std::string& name() const { return name_; }
  size_t pending() const { return pending_.size(); }

 private:
  // Core thread: starts the next write, or finishes when nothing is left to write.
  void WriteNext() {
    if (writing_ || finished_) return;
    if (!pending_.empty()) {
      in_flight_ = std::move(pending_.front());
      pending_.pop_front();
      writing_ = true;
      this->StartWrite(in_flight_.get());
      return;
    }
    if (ending_) {
      finished_ = true;
      this->Finish(*final_status_);
    }
  }

  void OnWriteDone(bool ok) override {
    boost::asio::post(core_, [this, ok] {
      writing_ = false;
      in_flight_.reset();
      if (!ok) {
        // The call is broken (client gone); nothing more can be written.
        CutOff(grpc::Status(grpc::StatusCode::CANCELLED, "write failed"));
        return;
      }
      WriteNext();
    });
  }

  void OnCancel() override {
    boost::asio::post(core_, [this] {
      CutOff(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled by the client"));
    });
  }

  void OnDone() override {
    boost::asio::post(core_, [this] {
      if (on_done_) on_done_();
      delete this;
    });
  }

  boost::asio::io_context& core_;
  size_t capacity_;
  const std::string name_;
  std::function<void()> on_done_;
  std::deque<MessagePtr> pending_;
  MessagePtr in_flight_;  // kept alive until its write completes
  bool writing_ = false;
  bool ending_ = false;
  bool finished_ = false;
  std::optional<grpc::Status> final_status_;
};

}  // namespace acd::server

#endif  // ACD_ENGINE_SERVER_OUTBOUND_STREAM_H_
