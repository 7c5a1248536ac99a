#include "engine/server/fan_out.h"

#include <boost/asio/post.hpp>
#include <utility>

namespace acd::server {

FanOut::~FanOut() { Stop(); }

void FanOut::Start() {
  work_.emplace(io_.get_executor());
  thread_ = std::thread([this] { io_.run(); });
}

void FanOut::Stop() {
  if (!thread_.joinable()) return;
  work_.reset();
  thread_.join();
}

void FanOut::Flush() {
  if (scheduled_.empty()) return;
  boost::asio::post(io_, [batch = std::move(scheduled_)] {
    for (Kickable* stream : batch) stream->Kick();
  });
  scheduled_.clear();
}

void FanOut::Retire(Kickable* stream) {
  Flush();
  boost::asio::post(io_, [stream] { delete stream; });
}

}  // namespace acd::server
