// LiveLoad: `acd-sim load SCENARIO --target HOST:PORT [--speed X]`. Plays a Scenario in
// real time (X times faster) against a running acdd over gRPC, acting as the gateways
// (Gateway.EnqueueContact / CancelContact) and as every agent's desktop (AgentDesk.Login,
// SetState, WatchOffers, AcceptOffer, CompleteContact, EndWrapUp, Logout), and measures what it
// sees: contact KPIs and the latency of every RPC.
//
// The scenario's queues, channels and skills must be the server's: a scenario written for
// the built-in default rules (queue `general`, skill `general`; leave rules_file out) runs
// against an acdd without --rules. Scenario times are divided by the speed.
//
// The server keeps its own time: business hours, holidays, offer timeouts (RONA), wrap-ups
// and maximum waits follow acdd's clock. Started with `--clock-start` at the scenario's
// start and `--clock-speed X` (scripts/demo.sh does), that clock is the scenario's, and the
// run plays as `acd-sim run` would. The load reads the server's clock as it begins and
// says whether it is in step (LoadResult::server_clock_*). If the server's clock runs
// slower than the load (at real time, say), the agents end wrap-up themselves
// (AgentDesk.EndWrapUp) after the queue's wrap-up / X, but offer timeouts and max-wait
// overflows then weigh more than in `acd-sim run`, and the hours are those of the server's
// own time. A caller offered a callback takes it with its stream's share, as in
// `acd-sim run` (Gateway.RequestCallback).
//
// Threads: one director thread (the caller) owns every piece of state and makes every
// RPC; one reader thread per agent reads its WatchOffers stream and hands updates to the
// director through a mutex-guarded inbox. Random draws use the scenario's seed, but the
// run is not deterministic: the server decides in real time.
//
// Contact ids are "<id_prefix>-<n>", so runs against the same server do not collide.
#ifndef ACD_SIMULATORS_LIVE_LOAD_H_
#define ACD_SIMULATORS_LIVE_LOAD_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "simulators/scenario.h"

namespace acd::sim {

struct LoadOptions {
  std::string target;  // HOST:PORT of acdd
  double speed = 1;    // > 0: scenario seconds per real second
  // After arrivals stop: wait at most this long (real time) for waiting contacts to end.
  double drain_seconds_max = 30;
  std::string id_prefix;  // empty: "load<unix milliseconds>"
  // Progress lines on stderr every this many real seconds (0: none).
  double progress_seconds = 0;
  // If set, the run ends early (cleanly, with a report) once it reads true; checked at
  // least every 200 ms. acd-sim sets it from SIGINT/SIGTERM.
  const std::atomic<bool>* stop = nullptr;
};

// Latency of one RPC method, in milliseconds.
struct RpcLatency {
  std::string method;
  int64_t calls = 0;
  int64_t errors = 0;  // any status but OK (expected ones included: a late accept)
  double p50_ms = 0, p90_ms = 0, p99_ms = 0, max_ms = 0;
};

struct LoadResult {
  // Contacts as the load client saw them. offered = answered + abandoned + waiting_at_end.
  int64_t offered = 0;
  int64_t refused = 0;         // EnqueueContact refused: refused_closed + refused_full
  int64_t refused_closed = 0;  // FAILED_PRECONDITION: the queue was closed (hours, by hand)
  int64_t refused_full = 0;    // RESOURCE_EXHAUSTED: the queue (or the server) was full
  // Voice callers who became callbacks: taken so by a closed queue, or offered one (EWT
  // over the queue's threshold) and among its stream's callback_accept_share.
  int64_t callbacks = 0;
  int64_t answered = 0;
  int64_t answered_within_threshold = 0;
  int64_t abandoned = 0;
  int64_t waiting_at_end = 0;
  int64_t handled = 0;
  int64_t missed_offers = 0;  // offers the simulated agents let ring out
  int64_t late_accepts = 0;   // accepts the server refused: the offer had ended
  double service_level = 0;   // answered within threshold / offered
  double asa_seconds = 0;     // scenario seconds (real seconds x speed)
  double abandon_rate = 0;
  // The server's own counters (Supervisor.GetSnapshot, since start, all queues), read
  // before and after the run; the difference is this run's, if nobody else used the server.
  int64_t server_offered = 0;  // contacts that arrived: an overflowed one counts once
  int64_t server_answered = 0;
  int64_t server_abandoned = 0;
  int server_waiting_at_end = 0;
  // The server's clock as the load began (Supervisor.GetSnapshot): its speed, its reading
  // as the scenario's first second began, and how far that was from the scenario's start
  // (scenario seconds, > 0 if the server was ahead). In step: the same speed as the load
  // and within kClockTolerance of the start, so the server's hours and timers are the
  // scenario's.
  static constexpr absl::Duration kClockTolerance = absl::Minutes(5);
  double server_clock_speed = 1;
  absl::Time server_clock_at_start;
  double server_clock_offset_seconds = 0;
  bool server_clock_in_step = false;
  double wall_seconds = 0;
  std::vector<RpcLatency> rpcs;  // sorted by method
};

// Runs the load. UNAVAILABLE if the server cannot be reached; INTERNAL on an RPC failure
// the load cannot explain (the message names the method and the status).
[[nodiscard]] absl::StatusOr<LoadResult> RunLoad(const Scenario& scenario,
                                                 const LoadOptions& options);

nlohmann::ordered_json LoadResultToJson(const Scenario& scenario, const LoadOptions& options,
                                        const LoadResult& r);
std::string LoadResultToText(const Scenario& scenario, const LoadOptions& options,
                             const LoadResult& r);

}  // namespace acd::sim

#endif  // ACD_SIMULATORS_LIVE_LOAD_H_
