// CoreLoop: the one thread that owns the engine. gRPC handlers Post() commands to it;
// each command runs alone on that thread, then the loop fires the timers that are due
// (Engine::Advance), lets the EventFeed send coalesced updates, and re-arms a steady
// timer for Engine::NextTimer(). Nothing else touches the engine, so no lock guards it.
//
// Thread rules: Post(), TryPost(), io() and limits() from any thread; the Engine& and EventFeed&
// handed to a command are valid only inside it, on the core thread.
#ifndef ACD_ENGINE_SERVER_CORE_LOOP_H_
#define ACD_ENGINE_SERVER_CORE_LOOP_H_

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <thread>

#include "absl/status/statusor.h"
#include "engine/core/config.h"
#include "engine/core/engine.h"
#include "engine/server/event_feed.h"
#include "engine/server/fan_out.h"
#include "engine/server/server_clock.h"

namespace acd::server {

class CoreLoop {
 public:
  using Command = std::function<void(core::Engine&, EventFeed&)>;

  // Builds the engine (INVALID_ARGUMENT if `config` is not valid). Call Start() to run.
  // `max_pending_commands` bounds the commands TryPost() lets wait for the core thread;
  // `clock` is the engine's time (the wall clock unless acdd was told otherwise).
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<CoreLoop>> Create(
      core::EngineConfig config, EventFeed::Options feed_options, int max_pending_commands = 10'000,
      ServerClock clock = ServerClock());
  ~CoreLoop();  // Stop()s if still running.
  CoreLoop(const CoreLoop&) = delete;
  CoreLoop& operator=(const CoreLoop&) = delete;

  // Starts the core thread.
  void Start();
  // Runs the commands already posted, then stops the thread and joins it. Commands
  // posted afterwards are never run. Idempotent.
  void Stop();

  // Any thread. Queues `command` to run on the core thread, in posting order. For work
  // the server itself must do (stream bookkeeping); never refused.
  void Post(Command command);

  // Any thread. Like Post() for a client's command, but returns UNAVAILABLE instead of
  // queueing when `max_pending_commands` client commands are already waiting: a flood of
  // requests gets a fast, retryable refusal rather than growing the queue without bound.
  [[nodiscard]] absl::Status TryPost(Command command);

  boost::asio::io_context& io() { return io_; }
  // The thread that writes the streams (OutboundStream needs it).
  FanOut& fan_out() { return fan_out_; }
  // The limits the edge checks requests against. Rules files do not set limits, so these
  // stay those of the first config while rules change.
  const core::Limits& limits() const { return limits_; }
  const ServerClock& clock() const { return clock_; }

 private:
  CoreLoop(core::Limits limits, EventFeed::Options feed_options, int max_pending_commands,
           ServerClock clock);
  // Core thread: fires due timers, flushes the feed, re-arms the timer.
  void AfterCommand();
  void ArmTimer();

  const core::Limits limits_;
  const ServerClock clock_;
  boost::asio::io_context io_{1};
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  boost::asio::steady_timer timer_{io_};
  FanOut fan_out_;
  EventFeed feed_;
  std::unique_ptr<core::Engine> engine_;
  std::thread thread_;
  bool stopping_ = false;  // core thread
  const int max_pending_commands_;
  std::atomic<int> pending_commands_{0};
};

}  // namespace acd::server

#endif  // ACD_ENGINE_SERVER_CORE_LOOP_H_
