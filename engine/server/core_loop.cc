#include "engine/server/core_loop.h"

#include <boost/asio/post.hpp>
#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace acd::server {

absl::StatusOr<std::unique_ptr<CoreLoop>> CoreLoop::Create(core::EngineConfig config,
                                                           EventFeed::Options feed_options,
                                                           int max_pending_commands,
                                                           ServerClock clock) {
  feed_options.clock_speed = clock.speed();
  std::unique_ptr<CoreLoop> loop(
      new CoreLoop(config.limits, feed_options, max_pending_commands, clock));
  core::EngineOptions options;
  options.sink = &loop->feed_;
  absl::StatusOr<std::unique_ptr<core::Engine>> engine =
      core::Engine::Create(std::move(config), loop->clock_, options);
  if (!engine.ok()) return engine.status();
  loop->engine_ = *std::move(engine);
  loop->feed_.set_engine(loop->engine_.get());
  return loop;
}

CoreLoop::CoreLoop(core::Limits limits, EventFeed::Options feed_options, int max_pending_commands,
                   ServerClock clock)
    : limits_(limits),
      clock_(clock),
      feed_(io_, fan_out_, feed_options),
      max_pending_commands_(max_pending_commands) {}

CoreLoop::~CoreLoop() { Stop(); }

void CoreLoop::Start() {
  fan_out_.Start();
  work_.emplace(io_.get_executor());
  thread_ = std::thread([this] {
    boost::asio::post(io_, [this] { AfterCommand(); });
    io_.run();
  });
}

void CoreLoop::Stop() {
  if (!thread_.joinable()) return;
  boost::asio::post(io_, [this] {
    stopping_ = true;
    timer_.cancel();
    feed_.EndAll();
  });
  work_.reset();
  thread_.join();
  fan_out_.Stop();  // after the core: the core's last work may still schedule kicks
}

void CoreLoop::Post(Command command) {
  boost::asio::post(io_, [this, command = std::move(command)] {
    command(*engine_, feed_);
    AfterCommand();
  });
}

absl::Status CoreLoop::TryPost(Command command) {
  if (pending_commands_.fetch_add(1, std::memory_order_relaxed) >= max_pending_commands_) {
    pending_commands_.fetch_sub(1, std::memory_order_relaxed);
    return absl::UnavailableError(
        absl::StrCat("the engine has ", max_pending_commands_, " commands waiting; retry shortly"));
  }
  boost::asio::post(io_, [this, command = std::move(command)] {
    pending_commands_.fetch_sub(1, std::memory_order_relaxed);
    command(*engine_, feed_);
    AfterCommand();
  });
  return absl::OkStatus();
}

void CoreLoop::AfterCommand() {
  engine_->Advance();
  feed_.Flush();
  ArmTimer();
}

void CoreLoop::ArmTimer() {
  if (stopping_) return;
  std::optional<absl::Time> next = engine_->NextTimer();
  if (!next.has_value()) {
    timer_.cancel();
    return;
  }
  // Wake at the deadline (in real time: a clock running X times faster reaches it in a
  // 1/X of the time), rounded up so the engine sees it due. A deadline that is already
  // past right after Advance() would be a stale entry; waiting a millisecond for it keeps
  // a core bug from turning into a busy loop.
  absl::Duration wait = clock_.RealTimeUntil(*next);
  if (wait <= absl::ZeroDuration()) wait = absl::Milliseconds(1);
  timer_.expires_after(std::chrono::microseconds(absl::ToInt64Microseconds(wait) + 1));
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopping_) return;
    AfterCommand();
  });
}

}  // namespace acd::server
