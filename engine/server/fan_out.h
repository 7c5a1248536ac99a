// FanOut: the thread that starts stream writes, so that the core thread never calls into
// gRPC for a stream. The core thread only queues messages (StreamQueue) and, when a
// stream was idle, schedules it here; after each command it hands the whole list over in
// one post. Writes then continue on gRPC's threads from each write's completion.
//
// Thread rules: Schedule(), Flush() and Retire() on the core thread only; Kick() of a
// scheduled stream runs on the fan-out thread. Start()/Stop() from the owner.
//
// Lifetime: a stream is deleted by Retire(), on the fan-out thread after every kick
// scheduled before it (the fan-out thread runs its work in posting order, and only the
// core thread posts), so a kick never meets a deleted stream.
#ifndef ACD_ENGINE_SERVER_FAN_OUT_H_
#define ACD_ENGINE_SERVER_FAN_OUT_H_

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <optional>
#include <thread>
#include <vector>

namespace acd::server {

// A stream the fan-out thread can advance.
class Kickable {
 public:
  virtual ~Kickable() = default;
  // Fan-out thread: performs the stream's next step (start a write, or finish).
  virtual void Kick() = 0;
};

class FanOut {
 public:
  FanOut() = default;
  ~FanOut();  // Stop()s if still running.
  FanOut(const FanOut&) = delete;
  FanOut& operator=(const FanOut&) = delete;

  void Start();
  // Runs the work already posted, then joins the thread. Idempotent.
  void Stop();

  // Core thread: `stream` has work and nobody doing it; kicked at the next Flush().
  void Schedule(Kickable* stream) { scheduled_.push_back(stream); }
  // Core thread: hands the scheduled streams to the fan-out thread.
  void Flush();
  // Core thread: deletes `stream` on the fan-out thread after its scheduled kicks. The
  // stream must be unreachable from the core (it will not be scheduled again).
  void Retire(Kickable* stream);

 private:
  boost::asio::io_context io_{1};
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::thread thread_;
  std::vector<Kickable*> scheduled_;  // core thread
};

}  // namespace acd::server

#endif  // ACD_ENGINE_SERVER_FAN_OUT_H_
