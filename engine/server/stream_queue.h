// StreamQueue<Msg>: the state of one server-streaming RPC's outgoing messages: a bounded
// queue, at most one write in flight (of up to `max_batch` messages, all those waiting
// when it starts), and the end of the stream. It makes no gRPC calls
// itself; each method returns the Step its caller must perform (start a write, or finish
// the call), so the rules below can be tested without a server.
//
// Thread rules: safe from any thread (one mutex). The core thread pushes; the fan-out
// thread runs Kick(); gRPC threads report write completions and cancellation.
//
// Invariants:
//  - at most one write is in flight, and at most one kick is scheduled; never both;
//  - a write is started by one thread at a time, and the next write or the finish only
//    after the previous StartWrite() returned (WriteStarted()): gRPC may report a write
//    done on another thread before StartWrite() has returned, and the reactor's write
//    operation must not be reused while it is still being started;
//  - every stream is finished exactly once (a Step of kind kFinish), after its last write
//    completed, whatever the order of cancellation, failed writes and ends. (A call whose
//    reactor never finishes keeps grpc::Server::Shutdown() waiting for ever.)
//  - at most `capacity` messages wait; a push beyond that cuts the stream off with
//    RESOURCE_EXHAUSTED (the subscriber fell behind) and drops what was waiting.
//  - messages are written in push order, each once: a write takes the oldest waiting,
//    as many as are waiting up to `max_batch`.
//  - a write is marked `more` (gRPC may buffer it rather than send it at once) only when
//    another message is queued behind it, so a write that flushes always follows; and
//    never the stream's first write, which carries the response headers: a buffered
//    first write does not complete until something flushes it, and nothing would.
#ifndef ACD_ENGINE_SERVER_STREAM_QUEUE_H_
#define ACD_ENGINE_SERVER_STREAM_QUEUE_H_

#include <grpcpp/support/status.h>

#include <algorithm>
#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace acd::server {

template <class Msg>
class StreamQueue {
 public:
  using MessagePtr = std::shared_ptr<const Msg>;

  // What the caller must do next.
  struct Step {
    enum Kind { kNone, kWrite, kFinish };
    Kind kind = kNone;
    std::span<const MessagePtr> messages;  // kWrite: 1-max_batch; kept until WriteDone()
    bool more = false;                     // kWrite: another message is queued behind it
    grpc::Status status;                   // kFinish
  };

  enum class PushResult {
    kQueued,
    kDropped,  // the stream is ending; the message was not queued
    kCutOff,   // this push overflowed the bound; the stream now ends RESOURCE_EXHAUSTED
  };

  // `max_batch` >= 1: the most messages one write takes.
  explicit StreamQueue(size_t capacity, size_t max_batch = 1)
      : max_batch_(std::max<size_t>(max_batch, 1)), capacity_(capacity) {}

  // Queues `message`. Sets *kick when the caller must schedule a Kick().
  PushResult Push(MessagePtr message, bool* kick) {
    absl::MutexLock lock(&mu_);
    *kick = false;
    if (ending_) return PushResult::kDropped;
    if (pending_.size() >= capacity_) {
      CutOffLocked(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                absl::StrCat("subscriber fell more than ", capacity_,
                                             " messages behind; resume to continue")));
      *kick = NeedsKickLocked();
      return PushResult::kCutOff;
    }
    pending_.push_back(std::move(message));
    *kick = NeedsKickLocked();
    return PushResult::kQueued;
  }

  // Ends the stream with `status` once the queued messages are written. The first end
  // wins. Returns true when the caller must schedule a Kick().
  bool EndAfterPending(grpc::Status status) {
    absl::MutexLock lock(&mu_);
    EndLocked(std::move(status));
    return NeedsKickLocked();
  }

  // Ends the stream with `status` now, dropping queued messages (a write in flight still
  // completes first). The first end wins. Returns true when the caller must Kick().
  bool CutOff(grpc::Status status) {
    absl::MutexLock lock(&mu_);
    CutOffLocked(std::move(status));
    return NeedsKickLocked();
  }

  // The scheduled kick runs: the next step.
  Step Kick() {
    absl::MutexLock lock(&mu_);
    kick_scheduled_ = false;
    return NextLocked();
  }

  // The write in flight completed (`ok` false: the call is broken). If its StartWrite()
  // has not returned yet, the completion is kept for WriteStarted().
  Step WriteDone(bool ok) {
    absl::MutexLock lock(&mu_);
    if (starting_) {
      done_while_starting_ = true;
      done_ok_ = ok;
      return Step{};
    }
    return WriteDoneLocked(ok);
  }

  // The StartWrite() of the last kWrite step returned: the next step, if its write
  // completed meanwhile.
  Step WriteStarted() {
    absl::MutexLock lock(&mu_);
    starting_ = false;
    if (!done_while_starting_) return Step{};
    done_while_starting_ = false;
    return WriteDoneLocked(done_ok_);
  }

  // The client cancelled (or the server is cancelling the call).
  Step Cancelled() {
    absl::MutexLock lock(&mu_);
    CutOffLocked(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled by the client"));
    return NextLocked();  // nothing if a write is in flight or a kick will finish it
  }

  // Raises the bound, e.g. to make room for a resume backlog.
  void set_capacity(size_t capacity) {
    absl::MutexLock lock(&mu_);
    capacity_ = capacity;
  }
  // True once the stream accepts no more messages.
  bool ending() const {
    absl::MutexLock lock(&mu_);
    return ending_;
  }
  size_t pending() const {
    absl::MutexLock lock(&mu_);
    return pending_.size();
  }

 private:
  // The stream ends with `status`, unless it is ending already (the first end wins).
  void EndLocked(grpc::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (ending_) return;
    ending_ = true;
    final_status_ = std::move(status);
  }

  void CutOffLocked(grpc::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    pending_.clear();
    EndLocked(std::move(status));
  }

  // True (and a kick counts as scheduled) when there is work and nobody will do it.
  bool NeedsKickLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (writing_ || kick_scheduled_ || finished_) return false;
    if (pending_.empty() && !ending_) return false;
    kick_scheduled_ = true;
    return true;
  }

  Step WriteDoneLocked(bool ok) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    writing_ = false;
    wrote_ = true;
    in_flight_.clear();
    if (!ok) CutOffLocked(grpc::Status(grpc::StatusCode::CANCELLED, "write failed"));
    return NextLocked();
  }

  Step NextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    Step step;
    if (writing_ || kick_scheduled_ || finished_) return step;
    if (!pending_.empty()) {
      const size_t n = std::min(pending_.size(), max_batch_);
      in_flight_.assign(std::make_move_iterator(pending_.begin()),
                        std::make_move_iterator(pending_.begin() + n));
      pending_.erase(pending_.begin(), pending_.begin() + n);
      writing_ = true;
      starting_ = true;
      step.kind = Step::kWrite;
      step.messages = in_flight_;
      step.more = wrote_ && !pending_.empty();
      return step;
    }
    if (ending_) {
      finished_ = true;
      step.kind = Step::kFinish;
      step.status = *final_status_;
    }
    return step;
  }

  const size_t max_batch_;
  mutable absl::Mutex mu_;
  size_t capacity_ ABSL_GUARDED_BY(mu_);
  std::deque<MessagePtr> pending_ ABSL_GUARDED_BY(mu_);
  // The messages of the write in flight; its capacity is kept, so writing allocates
  // nothing once warm.
  std::vector<MessagePtr> in_flight_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool wrote_ ABSL_GUARDED_BY(mu_) = false;     // a write completed (the headers are out)
  bool starting_ ABSL_GUARDED_BY(mu_) = false;  // StartWrite() of in_flight_ not returned
  bool done_while_starting_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ok_ ABSL_GUARDED_BY(mu_) = false;
  bool kick_scheduled_ ABSL_GUARDED_BY(mu_) = false;
  bool ending_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<grpc::Status> final_status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace acd::server

#endif  // ACD_ENGINE_SERVER_STREAM_QUEUE_H_
