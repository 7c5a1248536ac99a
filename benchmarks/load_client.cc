// load_client: the gRPC load generator for the server benchmarks (issue 7). Runs
// acd.v1.Gateway EnqueueContact + CancelContact pairs (unique contact ids, one queue,
// channel VOICE) against a target (acdd or benchmarks/echo_server) and prints one JSON
// object: throughput and per-RPC latency p50/p99/p99.9 from acd::bench::LatencyHistogram.
//
// Modes:
//   load       --in-flight pairs run at once (default 128, spread over --channels HTTP/2
//              connections) for --duration-s after --warmup-s; each slot sends an Enqueue,
//              then the Cancel of that contact, then the next pair. With --rate R the load
//              is open loop instead: a pacer thread starts R pairs per second on idle slots.
//   roundtrip  one pair at a time on one connection, for --duration-s after --warmup-s:
//              the unloaded round trip. Blocking calls (gRPC's sync API), so the calling
//              thread polls the connection itself and no hand-off between the client's own
//              threads is in the time; --roundtrip-client callback measures it through the
//              callback API instead (one slot of load mode).
//   stream     --subscribers Supervisor.WatchEvents streams (after_sequence 0) opened
//              first, then the load above; reports the events per second delivered to all
//              subscribers together and how many were cut off (RESOURCE_EXHAUSTED). The
//              engine makes two events per pair (CONTACT_QUEUED, CONTACT_ABANDONED), so
//              with --rate R each subscriber must take 2R events per second. Exits 1 if a
//              subscriber got no snapshot or ended before the run did, or no event came.
//   tcp-floor  the host's floor under the unloaded round trip, with no gRPC and no server:
//              a loopback TCP ping-pong between this process and a child it forks, one
//              --message-bytes message each way at a time (blocking reads and writes,
//              TCP_NODELAY), for --duration-s after --warmup-s. Every gRPC round trip pays
//              at least this: a send, a wake-up of the sleeping peer in another process, and
//              the same back. --target is not used.
//   h2load-body  writes a gRPC-framed request (flag byte 0, 4-byte big-endian length,
//              message) to --body for h2load, and exits: an EnqueueContactRequest, or with
//              --h2load-call get-contact a GetContactRequest, both for contact "h2load-1".
//
// Connections: every channel gets its own grpc::ChannelArguments (a local subchannel pool
// and a distinct argument value), so each is its own TCP connection and, to acdd, its own
// client (its --max-streams-per-client counts streams per connection peer).
//
// Threads: the callbacks run on gRPC's threads; each slot or subscriber is touched by one
// callback at a time; the shared histograms are behind one mutex.
//
// Exit status: 0 if every RPC succeeded (or --allow-errors), 1 otherwise, 2 on bad flags or
// when the target cannot be reached.
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/read.hpp"
#include "boost/asio/write.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "acd/v1/gateway.grpc.pb.h"
#include "acd/v1/supervisor.grpc.pb.h"
#include "benchmarks/latency_histogram.h"
#include "engine/server/grpc_process.h"
#include "nlohmann/json.hpp"

namespace acd::bench {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

struct Options {
  std::string target = "127.0.0.1:50051";
  std::string mode = "load";
  int channels = 4;
  int in_flight = 128;
  double duration_s = 10;
  double warmup_s = 1;
  int64_t pairs = 0;  // 0: no limit, run for the duration
  double rate_pairs_per_s = 0;  // 0: closed loop (every slot always busy); else paced
  int subscribers = 100;
  std::string subscriber_channels = "separate";
  std::string queue = "general";
  std::string body_path;
  std::string h2load_call = "enqueue";
  std::string out_path;
  std::string label;
  int rpc_deadline_ms = 10'000;
  std::string roundtrip_client = "blocking";
  bool allow_errors = false;
  int message_bytes = 128;
};

// A channel of its own: a local subchannel pool plus a distinct argument value keep gRPC
// from sharing one TCP connection between channels with otherwise equal arguments.
std::shared_ptr<grpc::Channel> OwnChannel(const std::string& target, int index) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt("acd.bench.channel_index", index);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

bool Connect(grpc::Channel& channel, std::chrono::seconds timeout) {
  return channel.WaitForConnected(std::chrono::system_clock::now() + timeout);
}

json Percentiles(const LatencyHistogram& h) {
  return json{{"count", h.count()},
              {"p50_us", h.Quantile(0.50) / 1e3},
              {"p99_us", h.Quantile(0.99) / 1e3},
              {"p999_us", h.Quantile(0.999) / 1e3}};
}

// Results shared by every slot of a run: latency histograms, counts, error codes.
class Tally {
 public:
  void Record(bool enqueue, uint64_t ns, grpc::StatusCode code, bool in_window) {
    std::lock_guard<std::mutex> lock(mu_);
    if (code != grpc::StatusCode::OK) ++errors_[code];
    if (!in_window) return;
    all_.Record(ns);
    (enqueue ? enqueue_ : cancel_).Record(ns);
    ++in_window_;
    if (code == grpc::StatusCode::OK) ++ok_in_window_;
  }

  json ToJson(double window_s) const {
    std::lock_guard<std::mutex> lock(mu_);
    json errors = json::object();
    uint64_t error_total = 0;
    for (const auto& [code, count] : errors_) {
      errors[CodeName(code)] = count;
      error_total += count;
    }
    return json{{"window_s", window_s},
                {"rpcs", in_window_},
                {"rpcs_ok", ok_in_window_},
                {"rpcs_per_s", window_s > 0 ? in_window_ / window_s : 0.0},
                {"pairs_per_s", window_s > 0 ? in_window_ / window_s / 2 : 0.0},
                {"latency_all", Percentiles(all_)},
                {"latency_enqueue", Percentiles(enqueue_)},
                {"latency_cancel", Percentiles(cancel_)},
                {"errors_total", error_total},
                {"errors", errors}};
  }

  uint64_t error_total() const {
    std::lock_guard<std::mutex> lock(mu_);
    uint64_t total = 0;
    for (const auto& [code, count] : errors_) total += count;
    return total;
  }
  uint64_t ok_in_window() const {
    std::lock_guard<std::mutex> lock(mu_);
    return ok_in_window_;
  }

  static std::string CodeName(grpc::StatusCode code) {
    switch (code) {
      case grpc::StatusCode::CANCELLED: return "CANCELLED";
      case grpc::StatusCode::UNKNOWN: return "UNKNOWN";
      case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
      case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
      case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
      case grpc::StatusCode::ALREADY_EXISTS: return "ALREADY_EXISTS";
      case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
      case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
      case grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
      case grpc::StatusCode::ABORTED: return "ABORTED";
      case grpc::StatusCode::OUT_OF_RANGE: return "OUT_OF_RANGE";
      case grpc::StatusCode::UNIMPLEMENTED: return "UNIMPLEMENTED";
      case grpc::StatusCode::INTERNAL: return "INTERNAL";
      case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
      case grpc::StatusCode::DATA_LOSS: return "DATA_LOSS";
      case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
      default: return absl::StrCat("CODE_", static_cast<int>(code));
    }
  }

 private:
  mutable std::mutex mu_;
  LatencyHistogram all_;
  LatencyHistogram enqueue_;
  LatencyHistogram cancel_;
  uint64_t in_window_ = 0;
  uint64_t ok_in_window_ = 0;
  std::map<grpc::StatusCode, uint64_t> errors_;
};

class PairSlot;

// What every slot of one load run shares: stop and window flags, the id counter, the
// pair budget and the count of slots still running.
struct LoadShared {
  explicit LoadShared(const Options& o) : options(o) {}

  const Options& options;
  std::string id_prefix;
  std::atomic<uint64_t> next_id{0};
  std::atomic<int64_t> pairs_left{0};  // only used when options.pairs > 0
  std::atomic<bool> stop{false};
  std::atomic<bool> recording{false};
  Tally tally;
  std::mutex mu;
  std::condition_variable cv;
  int running = 0;                  // slots with a pair in flight; guarded by mu
  std::vector<PairSlot*> idle;      // paced mode: slots the pacer may start; guarded by mu
  bool pacer_done = false;          // paced mode; guarded by mu
  uint64_t skipped_no_slot = 0;     // paced mode: ticks with every slot busy; guarded by mu

  // A slot has ended its last pair (closed loop) or its current pair (paced: back to idle).
  void SlotFinished(PairSlot* slot) {
    std::lock_guard<std::mutex> lock(mu);
    --running;
    if (options.rate_pairs_per_s > 0) idle.push_back(slot);
    cv.notify_all();
  }
};

// One pair at a time: Enqueue, then Cancel of the same contact, then the next pair.
class PairSlot {
 public:
  PairSlot(LoadShared& shared, v1::Gateway::Stub& stub) : shared_(shared), stub_(stub) {
    enqueue_.set_queue(shared.options.queue);
    enqueue_.set_channel(v1::VOICE);
    cancel_.set_reason("CALLER_HANGUP");
  }

  // Starts the next pair, or finishes the slot when the run is over (closed loop) or
  // when its pair is done (paced: the pacer starts it again).
  void Next() {
    if (paced_pair_done_ || shared_.stop.load(std::memory_order_relaxed) ||
        (shared_.options.pairs > 0 &&
         shared_.pairs_left.fetch_sub(1, std::memory_order_relaxed) <= 0)) {
      paced_pair_done_ = false;
      shared_.SlotFinished(this);
      return;
    }
    paced_pair_done_ = shared_.options.rate_pairs_per_s > 0;
    const uint64_t n = shared_.next_id.fetch_add(1, std::memory_order_relaxed);
    enqueue_.set_contact_id(absl::StrCat(shared_.id_prefix, n));
    cancel_.set_contact_id(enqueue_.contact_id());
    StartCall();
    start_ = Clock::now();
    stub_.async()->EnqueueContact(context_.get(), &enqueue_, &status_,
                                  [this](grpc::Status s) { OnEnqueued(s); });
  }

 private:
  void StartCall() {
    context_ = std::make_unique<grpc::ClientContext>();
    context_->set_deadline(std::chrono::system_clock::now() +
                           std::chrono::milliseconds(shared_.options.rpc_deadline_ms));
  }

  uint64_t Elapsed() const {
    return static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start_).count());
  }

  void OnEnqueued(const grpc::Status& s) {
    shared_.tally.Record(true, Elapsed(), s.error_code(),
                         shared_.recording.load(std::memory_order_relaxed));
    if (!s.ok()) {
      Next();
      return;
    }
    StartCall();
    start_ = Clock::now();
    stub_.async()->CancelContact(context_.get(), &cancel_, &status_,
                                 [this](grpc::Status s) { OnCancelled(s); });
  }

  void OnCancelled(const grpc::Status& s) {
    shared_.tally.Record(false, Elapsed(), s.error_code(),
                         shared_.recording.load(std::memory_order_relaxed));
    Next();
  }

  LoadShared& shared_;
  v1::Gateway::Stub& stub_;
  bool paced_pair_done_ = false;  // paced mode: the pair in flight is this slot's only one
  std::unique_ptr<grpc::ClientContext> context_;
  v1::EnqueueContactRequest enqueue_;
  v1::CancelContactRequest cancel_;
  v1::ContactStatus status_;
  Clock::time_point start_;
};

// One Supervisor.WatchEvents stream from after_sequence 0: counts the live events (the
// first, a SNAPSHOT, is not counted) and the messages (batches) they came in, checks that
// each event's sequence follows the one before, and keeps the stream's final status.
class Subscriber final : public grpc::ClientReadReactor<v1::EventBatch> {
 public:
  explicit Subscriber(std::shared_ptr<grpc::Channel> channel)
      : channel_(std::move(channel)), stub_(v1::Supervisor::NewStub(channel_)) {}

  void Start() {
    request_.set_after_sequence(0);
    stub_->async()->WatchEvents(&context_, &request_, this);
    StartRead(&batch_);
    StartCall();
  }
  void Cancel() {
    cancelled_by_us_.store(true);
    context_.TryCancel();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // OnDone follows with the status
    messages_.fetch_add(1, std::memory_order_relaxed);
    uint64_t live = 0;
    for (const v1::Event& event : batch_.events()) {
      // Engine events are numbered one by one, and a snapshot carries the sequence of the
      // last event before it, so every event follows the one before it.
      const uint64_t last = last_sequence_.load(std::memory_order_relaxed);
      if (seen_any_ && event.sequence() != last + 1 && event.type() != v1::SNAPSHOT) {
        out_of_sequence_.fetch_add(1, std::memory_order_relaxed);
      }
      seen_any_ = true;
      last_sequence_.store(event.sequence(), std::memory_order_relaxed);
      if (event.type() == v1::SNAPSHOT) {
        snapshot_.store(true, std::memory_order_release);
      } else {
        ++live;
      }
    }
    events_.fetch_add(live, std::memory_order_relaxed);
    StartRead(&batch_);
  }
  void OnDone(const grpc::Status& s) override {
    std::lock_guard<std::mutex> lock(mu_);
    status_ = s;
    ended_at_ = Clock::now();
    ended_before_cancel_ = !cancelled_by_us_.load();
    done_ = true;
    cv_.notify_all();
  }

  bool WaitDone(Clock::time_point until) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_until(lock, until, [this] { return done_; });
  }
  bool snapshot() const { return snapshot_.load(std::memory_order_acquire); }
  uint64_t events() const { return events_.load(std::memory_order_relaxed); }
  uint64_t messages() const { return messages_.load(std::memory_order_relaxed); }
  uint64_t out_of_sequence() const { return out_of_sequence_.load(std::memory_order_relaxed); }
  uint64_t last_sequence() const { return last_sequence_.load(std::memory_order_relaxed); }
  bool done() {
    std::lock_guard<std::mutex> lock(mu_);
    return done_;
  }
  // Only after WaitDone() returned true.
  const grpc::Status& status() const { return status_; }
  bool ended_before_cancel() const { return ended_before_cancel_; }
  Clock::time_point ended_at() const { return ended_at_; }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Supervisor::Stub> stub_;
  grpc::ClientContext context_;
  v1::WatchEventsRequest request_;
  v1::EventBatch batch_;
  bool seen_any_ = false;  // gRPC's read callbacks, one at a time
  std::atomic<bool> snapshot_{false};
  std::atomic<uint64_t> events_{0};
  std::atomic<uint64_t> messages_{0};
  std::atomic<uint64_t> out_of_sequence_{0};
  std::atomic<uint64_t> last_sequence_{0};
  std::atomic<bool> cancelled_by_us_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  grpc::Status status_;
  Clock::time_point ended_at_;
  bool ended_before_cancel_ = false;
};

// The unary load's connections, opened (and connected) before anything else runs.
struct LoadConnections {
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::vector<std::unique_ptr<v1::Gateway::Stub>> stubs;
};

// False if the target cannot be reached within 5 s.
bool ConnectLoad(const Options& o, int channels, LoadConnections& out) {
  for (int i = 0; i < channels; ++i) {
    out.channels.push_back(OwnChannel(o.target, i));
    if (!Connect(*out.channels.back(), std::chrono::seconds(5))) {
      std::cerr << "load_client: cannot connect to " << o.target << "\n";
      return false;
    }
    out.stubs.push_back(v1::Gateway::NewStub(out.channels.back()));
  }
  return true;
}

// CPU time (user + system) of this whole process so far, gRPC's threads included.
double ProcessCpuSeconds() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// Roundtrip mode with blocking calls: one pair at a time from this thread. Also reports
// the client's CPU per RPC in the window (unloaded, each RPC pays its own system calls
// and wake-ups, which batching hides under load).
json RunBlockingRoundTrip(const Options& o, LoadConnections& conns, bool* ok) {
  v1::Gateway::Stub& stub = *conns.stubs.front();
  Tally tally;
  const std::string prefix = absl::StrCat("lc", getpid(), "b-");
  v1::EnqueueContactRequest enqueue;
  enqueue.set_queue(o.queue);
  enqueue.set_channel(v1::VOICE);
  v1::CancelContactRequest cancel;
  cancel.set_reason("CALLER_HANGUP");
  v1::ContactStatus reply;
  auto call = [&](bool is_enqueue, bool in_window) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::milliseconds(o.rpc_deadline_ms));
    const Clock::time_point start = Clock::now();
    const grpc::Status s = is_enqueue ? stub.EnqueueContact(&context, enqueue, &reply)
                                      : stub.CancelContact(&context, cancel, &reply);
    const uint64_t ns = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count());
    tally.Record(is_enqueue, ns, s.error_code(), in_window);
    return s.ok();
  };
  const Clock::time_point begin = Clock::now();
  const Clock::time_point t0 = begin + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(o.warmup_s));
  const Clock::time_point end = t0 + std::chrono::duration_cast<Clock::duration>(
                                         std::chrono::duration<double>(o.duration_s));
  Clock::time_point t1 = t0;
  double cpu_at_t0 = -1;
  for (uint64_t n = 0;; ++n) {
    const Clock::time_point now = Clock::now();
    if (now >= end || (o.pairs > 0 && static_cast<int64_t>(n) >= o.pairs)) {
      t1 = std::max(now, t0);
      break;
    }
    const bool in_window = now >= t0;
    if (in_window && cpu_at_t0 < 0) cpu_at_t0 = ProcessCpuSeconds();
    enqueue.set_contact_id(absl::StrCat(prefix, n));
    cancel.set_contact_id(enqueue.contact_id());
    if (call(true, in_window)) call(false, in_window);
  }
  json result = tally.ToJson(std::chrono::duration<double>(t1 - t0).count());
  result["channels"] = 1;
  result["in_flight"] = 1;
  result["client"] = "blocking";
  const uint64_t rpcs = result["rpcs"].get<uint64_t>();
  if (cpu_at_t0 >= 0 && rpcs > 0) {
    result["client_cpu_us_per_rpc"] = 1e6 * (ProcessCpuSeconds() - cpu_at_t0) / rpcs;
  }
  *ok = tally.ok_in_window() > 0 && (o.allow_errors || tally.error_total() == 0);
  return result;
}

// tcp-floor mode (see the top of the file). The child echoes each message back until the
// parent closes the connection; it touches no gRPC state and leaves with _exit.
json RunTcpFloor(const Options& o, bool* ok) {
  namespace asio = boost::asio;
  using asio::ip::tcp;
  asio::io_context io;
  boost::system::error_code ec;
  tcp::acceptor acceptor(io);
  const tcp::endpoint loopback(asio::ip::address_v4::loopback(), 0);
  acceptor.open(loopback.protocol(), ec);
  if (!ec) acceptor.bind(loopback, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  const tcp::endpoint endpoint = ec ? loopback : acceptor.local_endpoint(ec);
  if (ec) return json{{"error", ec.message()}};
  const size_t bytes = static_cast<size_t>(o.message_bytes);
  const pid_t child = fork();
  if (child < 0) return json{{"error", "fork failed"}};
  if (child == 0) {
    tcp::socket peer = acceptor.accept(ec);
    if (!ec) peer.set_option(tcp::no_delay(true), ec);
    std::string buffer(bytes, '\0');
    while (!ec && asio::read(peer, asio::buffer(buffer), ec) == bytes) {
      asio::write(peer, asio::buffer(buffer), ec);
    }
    _exit(0);
  }
  acceptor.close();
  tcp::socket socket(io);
  socket.connect(endpoint, ec);
  if (!ec) socket.set_option(tcp::no_delay(true), ec);
  LatencyHistogram histogram;
  std::string message(bytes, 'x');
  std::string reply(bytes, '\0');
  const Clock::time_point t0 = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                  std::chrono::duration<double>(o.warmup_s));
  const Clock::time_point end = t0 + std::chrono::duration_cast<Clock::duration>(
                                         std::chrono::duration<double>(o.duration_s));
  uint64_t round_trips = 0;
  while (!ec) {
    const Clock::time_point start = Clock::now();
    if (start >= end) break;
    asio::write(socket, asio::buffer(message), ec);
    if (!ec) asio::read(socket, asio::buffer(reply), ec);
    if (ec || start < t0) continue;
    histogram.Record(static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count()));
    ++round_trips;
  }
  socket.close();  // the child reads end of file and leaves
  // After a failure the child may still wait in accept() or read(): stop it.
  if (ec) kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  *ok = !ec && round_trips > 0;
  if (ec) return json{{"error", ec.message()}};
  return json{{"window_s", o.duration_s},
              {"round_trips", round_trips},
              {"message_bytes", o.message_bytes},
              {"latency_all", Percentiles(histogram)}};
}

// Runs the unary load (none if in_flight is 0: the window still runs, for the stream
// mode); `window_started` / `window_ended` are called by the main thread at the edges of
// the measured window (the stream mode samples its subscribers there).
json RunLoad(const Options& o, LoadConnections& conns, int in_flight,
             const std::function<void()>& window_started,
             const std::function<void()>& window_ended, bool* ok) {
  const int channels = static_cast<int>(conns.stubs.size());
  auto& stubs = conns.stubs;
  LoadShared shared(o);
  // Unique across runs against one long-lived server: pid, mode and a counter.
  shared.id_prefix = absl::StrCat("lc", getpid(), o.mode.substr(0, 1), "-");
  shared.pairs_left.store(o.pairs);
  std::vector<std::unique_ptr<PairSlot>> slots;
  for (int i = 0; i < in_flight; ++i) {
    slots.push_back(std::make_unique<PairSlot>(shared, *stubs[i % channels]));
  }
  const bool paced = o.rate_pairs_per_s > 0;
  auto all_done = [&shared, paced, in_flight] {
    return in_flight > 0 && shared.running == 0 && (!paced || shared.pacer_done);
  };

  const Clock::time_point begin = Clock::now();
  std::thread pacer;
  if (in_flight == 0) {
    shared.pacer_done = true;
  } else if (paced) {
    // Open loop: one pair every 1/rate seconds on an idle slot; a tick with no idle slot is
    // counted and skipped rather than queued.
    for (auto& slot : slots) shared.idle.push_back(slot.get());
    pacer = std::thread([&shared, &o, begin] {
      const auto period = std::chrono::duration<double>(1.0 / o.rate_pairs_per_s);
      for (uint64_t tick = 0;; ++tick) {
        std::this_thread::sleep_until(
            begin + std::chrono::duration_cast<Clock::duration>(period * tick));
        PairSlot* slot = nullptr;
        {
          std::lock_guard<std::mutex> lock(shared.mu);
          if (shared.stop.load() ||
              (o.pairs > 0 && shared.pairs_left.load(std::memory_order_relaxed) <= 0)) {
            shared.pacer_done = true;
            shared.cv.notify_all();
            return;
          }
          if (shared.idle.empty()) {
            ++shared.skipped_no_slot;
            continue;
          }
          slot = shared.idle.back();
          shared.idle.pop_back();
          ++shared.running;
        }
        slot->Next();
      }
    });
  } else {
    shared.pacer_done = true;  // no pacer: the slots chain their own pairs
    shared.running = in_flight;
    for (auto& slot : slots) slot->Next();
  }
  std::unique_lock<std::mutex> lock(shared.mu);
  shared.cv.wait_until(lock, begin + std::chrono::duration<double>(o.warmup_s), all_done);
  shared.recording.store(true);
  const Clock::time_point t0 = Clock::now();
  lock.unlock();
  if (window_started) window_started();
  lock.lock();
  shared.cv.wait_until(lock, t0 + std::chrono::duration<double>(o.duration_s), all_done);
  shared.recording.store(false);
  const Clock::time_point t1 = Clock::now();
  shared.stop.store(true);
  lock.unlock();
  if (window_ended) window_ended();
  lock.lock();
  shared.cv.wait(lock, [&] { return shared.running == 0 && shared.pacer_done; });
  lock.unlock();
  if (pacer.joinable()) pacer.join();

  const double window_s = std::chrono::duration<double>(t1 - t0).count();
  json result = shared.tally.ToJson(window_s);
  result["channels"] = channels;
  result["in_flight"] = in_flight;
  if (paced) {
    result["rate_pairs_per_s_asked"] = o.rate_pairs_per_s;
    result["ticks_skipped_no_idle_slot"] = shared.skipped_no_slot;
  }
  *ok = (in_flight == 0 || shared.tally.ok_in_window() > 0) && (o.allow_errors || shared.tally.error_total() == 0);
  return result;
}

json RunStream(const Options& o, bool* ok) {
  LoadConnections conns;
  if (!ConnectLoad(o, o.channels, conns)) {
    *ok = false;
    return json{{"error", "cannot connect"}};
  }
  // Subscribers first, each on its own connection unless --subscriber-channels shared.
  std::vector<std::unique_ptr<Subscriber>> subs;
  std::shared_ptr<grpc::Channel> shared_channel;
  if (o.subscriber_channels == "shared") shared_channel = OwnChannel(o.target, 1'000'000);
  for (int i = 0; i < o.subscribers; ++i) {
    subs.push_back(std::make_unique<Subscriber>(
        shared_channel ? shared_channel : OwnChannel(o.target, 1'000'000 + i)));
  }
  for (auto& s : subs) s->Start();
  // Wait until each has its snapshot (or has ended, e.g. refused).
  const Clock::time_point ready_by = Clock::now() + std::chrono::seconds(10);
  int ready = 0;
  while (Clock::now() < ready_by) {
    ready = 0;
    for (auto& s : subs) ready += (s->snapshot() || s->done()) ? 1 : 0;
    if (ready == o.subscribers) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }

  std::vector<uint64_t> at_start(subs.size()), at_end(subs.size());
  uint64_t seq_start = 0, seq_end = 0;
  auto sample = [&subs](std::vector<uint64_t>& counts, uint64_t& max_sequence) {
    for (size_t i = 0; i < subs.size(); ++i) {
      counts[i] = subs[i]->events();
      max_sequence = std::max(max_sequence, subs[i]->last_sequence());
    }
  };
  Clock::time_point t0, t1;
  const Clock::time_point load_start = Clock::now();
  json load = RunLoad(
      o, conns, o.in_flight,
      [&] {
        t0 = Clock::now();
        sample(at_start, seq_start);
      },
      [&] {
        t1 = Clock::now();
        sample(at_end, seq_end);
      },
      ok);

  // Anything cut off has ended by itself; end the rest ourselves.
  int cut_off = 0, ended_other = 0, no_snapshot = 0;
  double first_cut_off_s = -1;
  json other_codes = json::object();
  for (auto& s : subs) s->Cancel();
  for (auto& s : subs) {
    if (!s->WaitDone(Clock::now() + std::chrono::seconds(5))) continue;
    if (!s->ended_before_cancel()) continue;
    if (s->status().error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      ++cut_off;
      const double after_s = std::chrono::duration<double>(s->ended_at() - load_start).count();
      if (first_cut_off_s < 0 || after_s < first_cut_off_s) first_cut_off_s = after_s;
    } else {
      ++ended_other;
      const std::string name = Tally::CodeName(s->status().error_code());
      other_codes[name] = other_codes.value(name, 0) + 1;
    }
  }
  for (auto& s : subs) no_snapshot += s->snapshot() ? 0 : 1;
  int stuck = 0;
  for (auto& s : subs) {
    // gRPC still owns a reactor that never finished: leak it rather than free it under gRPC.
    if (!s->done()) {
      ++stuck;
      s.release();
    }
  }
  uint64_t delivered = 0, delivered_total = 0, messages_total = 0, out_of_sequence = 0;
  for (auto& s : subs) {
    if (!s) continue;
    delivered_total += s->events();
    messages_total += s->messages();
    out_of_sequence += s->out_of_sequence();
  }
  // Every subscriber must have had its snapshot, live events must have arrived in order
  // without a gap, and no stream may have ended before we cancelled it (--allow-errors
  // covers unary RPCs only).
  *ok = *ok && no_snapshot == 0 && cut_off == 0 && ended_other == 0 && stuck == 0 &&
        delivered_total > 0 && out_of_sequence == 0;
  for (size_t i = 0; i < subs.size(); ++i) delivered += at_end[i] - at_start[i];
  const double window_s = std::chrono::duration<double>(t1 - t0).count();
  const uint64_t generated = seq_end > seq_start ? seq_end - seq_start : 0;
  json result{{"subscribers", o.subscribers},
              {"subscriber_channels", o.subscriber_channels},
              {"subscribers_ready", ready},
              {"subscribers_without_snapshot", no_snapshot},
              {"subscribers_cut_off", cut_off},
              {"first_cut_off_after_load_start_s", first_cut_off_s},
              {"subscribers_ended_otherwise", ended_other},
              {"subscriber_end_codes", other_codes},
              {"subscribers_not_ended_after_cancel", stuck},
              {"events_delivered", delivered},
              {"events_delivered_whole_run", delivered_total},
              {"messages_whole_run", messages_total},
              {"events_out_of_sequence", out_of_sequence},
              {"events_per_s", window_s > 0 ? delivered / window_s : 0.0},
              {"engine_events_in_window", generated},
              {"engine_events_per_s", window_s > 0 ? generated / window_s : 0.0},
              {"window_s", window_s},
              {"load", load}};
  return result;
}

// h2load sends one body for every request: a gRPC frame of one EnqueueContactRequest
// (against acdd only the first succeeds, the others are ALREADY_EXISTS) or of one
// GetContactRequest (a read of that contact: OK every time).
bool WriteH2loadBody(const Options& o) {
  std::string message;
  if (o.h2load_call == "get-contact") {
    v1::GetContactRequest request;
    request.set_contact_id("h2load-1");
    message = request.SerializeAsString();
  } else {
    v1::EnqueueContactRequest request;
    request.set_contact_id("h2load-1");
    request.set_queue(o.queue);
    request.set_channel(v1::VOICE);
    message = request.SerializeAsString();
  }
  std::string frame(5, '\0');
  const uint32_t n = static_cast<uint32_t>(message.size());
  frame[1] = static_cast<char>(n >> 24);
  frame[2] = static_cast<char>(n >> 16);
  frame[3] = static_cast<char>(n >> 8);
  frame[4] = static_cast<char>(n);
  frame += message;
  std::ofstream out(o.body_path, std::ios::binary);
  out << frame;
  return static_cast<bool>(out);
}

}  // namespace
}  // namespace acd::bench

int main(int argc, char** argv) {
  acd::server::ConfigureGrpcProcess();
  acd::bench::Options o;
  CLI::App app{"load_client: EnqueueContact+CancelContact load, unloaded round trip and "
               "WatchEvents fan-out against acdd or echo_server; prints JSON"};
  app.add_option("--target", o.target, "HOST:PORT of the server (loopback)")
      ->capture_default_str();
  app.add_option("--mode", o.mode, "load, roundtrip, stream, tcp-floor or h2load-body")
      ->capture_default_str()
      ->check(CLI::IsMember({"load", "roundtrip", "stream", "tcp-floor", "h2load-body"}));
  app.add_option("--channels", o.channels, "HTTP/2 connections for the unary load")
      ->capture_default_str()
      ->check(CLI::Range(1, 1'000));
  app.add_option("--in-flight", o.in_flight,
                 "Enqueue/Cancel pairs in flight at once (stream mode: 0 for no unary load)")
      ->capture_default_str()
      ->check(CLI::Range(0, 100'000));
  app.add_option("--duration-s", o.duration_s, "measured window")->capture_default_str();
  app.add_option("--warmup-s", o.warmup_s, "load before the window, not measured")
      ->capture_default_str();
  app.add_option("--pairs", o.pairs, "stop after this many pairs (0: run for the duration)")
      ->capture_default_str();
  app.add_option("--rate", o.rate_pairs_per_s,
                 "pairs started per second, open loop over the --in-flight slots (0: closed "
                 "loop, every slot always busy)")
      ->capture_default_str();
  app.add_option("--subscribers", o.subscribers, "stream mode: WatchEvents subscribers")
      ->capture_default_str()
      ->check(CLI::Range(1, 10'000));
  app.add_option("--subscriber-channels", o.subscriber_channels,
                 "stream mode: 'separate' (one connection per subscriber) or 'shared'")
      ->capture_default_str()
      ->check(CLI::IsMember({"separate", "shared"}));
  app.add_option("--queue", o.queue, "queue to enqueue into")->capture_default_str();
  app.add_option("--body", o.body_path, "h2load-body mode: file to write");
  app.add_option("--h2load-call", o.h2load_call, "h2load-body mode: the request written")
      ->capture_default_str()
      ->check(CLI::IsMember({"enqueue", "get-contact"}));
  app.add_option("--out", o.out_path, "also write the JSON to this file");
  app.add_option("--label", o.label, "name recorded in the JSON (e.g. acdd, echo)");
  app.add_option("--rpc-deadline-ms", o.rpc_deadline_ms, "deadline of each RPC")
      ->capture_default_str();
  app.add_flag("--allow-errors", o.allow_errors, "exit 0 even if some RPCs failed");
  app.add_option("--roundtrip-client", o.roundtrip_client,
                 "roundtrip mode: 'blocking' (sync API, no client-side thread hand-off) or "
                 "'callback'")
      ->capture_default_str()
      ->check(CLI::IsMember({"blocking", "callback"}));
  app.add_option("--message-bytes", o.message_bytes, "tcp-floor mode: bytes each way")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  CLI11_PARSE(app, argc, argv);

  if (o.mode == "h2load-body") {
    if (o.body_path.empty() || !acd::bench::WriteH2loadBody(o)) {
      std::cerr << "load_client: --body FILE is needed and must be writable\n";
      return 2;
    }
    return 0;
  }

  bool ok = false;
  nlohmann::json result;
  if (o.mode == "stream") {
    result = acd::bench::RunStream(o, &ok);
  } else if (o.mode == "tcp-floor") {
    result = acd::bench::RunTcpFloor(o, &ok);
  } else if (o.mode == "roundtrip") {
    acd::bench::LoadConnections conns;
    if (!acd::bench::ConnectLoad(o, 1, conns)) return 2;
    if (o.roundtrip_client == "blocking") {
      result = acd::bench::RunBlockingRoundTrip(o, conns, &ok);
    } else {
      result = acd::bench::RunLoad(o, conns, 1, nullptr, nullptr, &ok);
      result["client"] = "callback";
    }
  } else {
    acd::bench::LoadConnections conns;
    if (!acd::bench::ConnectLoad(o, o.channels, conns)) return 2;
    result = acd::bench::RunLoad(o, conns, o.in_flight, nullptr, nullptr, &ok);
  }
  if (result.contains("error")) return 2;
  result["mode"] = o.mode;
  result["target"] = o.target;
  result["label"] = o.label;
  const std::string text = result.dump(2);
  std::cout << text << std::endl;
  if (!o.out_path.empty()) {
    std::ofstream out(o.out_path);
    out << text << "\n";
  }
  return ok ? 0 : 1;
}
