// ScenarioSim: `acd-sim run SCENARIO`. Plays a Scenario (simulators/scenario.h) in
// virtual time against the real acd::core::Engine, in-process, as fast as the machine
// allows: Poisson arrivals per queue and channel (rates by quarter hour of local time),
// callers who hang up, take callbacks or need Spanish, an agent roster with shifts and
// breaks, agents who answer after a while or let an offer ring out (RONA).
//
// Every routing decision is the engine's; the simulation only plays the outside world.
// Future events sit in a min-heap ordered by (time, creation sequence), and the engine's
// own timers are fired at their deadlines, so the same scenario and seed give the same
// result, bit for bit (the wall-clock fields excepted). Randomness comes from
// acd::core::Random streams derived from the seed: one per arrival stream for arrival
// times, one per arrival stream for each contact's handle time, patience, language and
// callback choice (drawn when it arrives, so routing does not change them), one per agent.
//
// KPIs (issue 6), overall over the contacts the engine took in ("offered"):
//   offered = answered + abandoned + overflowed_out + unfinished (still waiting at the end);
//   p_wait         share not offered to an agent the instant they arrived (with agents who
//                  accept at once, "not connected at once" as in the quick form);
//   mean_wait_s    time in queue over all offered (abandoned: until they left);
//   asa_s          mean wait of the answered (from first arrival, callbacks included);
//   service_level  answered within the threshold of the queue that answered ÷ offered;
//   abandon_rate   abandoned ÷ offered;
//   aht_s          the engine's handle time (answer to end of wrap-up) per handled contact;
//   occupancy      agent time BUSY or WRAP_UP ÷ agent time READY, RESERVED, BUSY or WRAP_UP.
// Per queue, from the engine's own counters (Snapshot().queues[i].total): offered counts
// contacts overflowed in, and service level is answered within threshold ÷ offered.
//
// Single-threaded; one run owns its engine, clock and random streams.
#ifndef ACD_SIMULATORS_SCENARIO_SIM_H_
#define ACD_SIMULATORS_SCENARIO_SIM_H_

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "simulators/progress_bar.h"
#include "simulators/scenario.h"

namespace acd::sim {

// One queue's figures over the run, from the engine's counters.
struct QueueReport {
  std::string queue;
  int64_t offered = 0;
  int64_t answered = 0;
  int64_t answered_within_threshold = 0;
  int64_t abandoned = 0;
  int64_t overflowed = 0;
  int64_t handled = 0;
  double sl_threshold_seconds = 0;
  double sl_target = 0;      // the queue's service-level target, e.g. 0.8
  double service_level = 0;  // answered_within_threshold / offered (1 with none offered)
  double asa_seconds = 0;
  double aht_seconds = 0;
  double abandon_rate = 0;
};

struct OverallReport {
  int64_t offered = 0;
  int64_t refused = 0;  // the engine refused them: queue closed or full
  int64_t answered = 0;
  int64_t answered_within_threshold = 0;
  int64_t abandoned = 0;
  int64_t overflowed_out = 0;  // left at max_wait with no overflow queue
  int64_t unfinished = 0;      // still waiting or offered when the run stopped
  int64_t waited = 0;          // not offered to an agent at once
  int64_t callbacks = 0;       // became CALLBACK contacts (offered and taken, or closed)
  int64_t ronas = 0;           // offers that rang out
  int64_t handled = 0;         // talks the simulation ended (wrap-ups may still run)
  double p_wait = 0;
  double mean_wait_seconds = 0;
  double asa_seconds = 0;
  double aht_seconds = 0;
  double service_level = 0;
  double abandon_rate = 0;
  double occupancy = 0;
  double simulated_seconds = 0;
  uint64_t engine_events = 0;
  double wall_seconds = 0;         // 0 when left out for byte-identical output
  double contacts_per_second = 0;  // offered per wall-clock second
};

// One 15-minute interval for one queue (or "ALL": the simulation's own counts, by the
// time things happened), the way workforce-management tools report them.
struct IntervalRow {
  absl::Time start;
  std::string queue;
  int64_t offered = 0;
  int64_t answered = 0;
  int64_t answered_within_threshold = 0;
  int64_t abandoned = 0;
  int64_t handled = 0;
  double service_level = 0;  // answered_within_threshold / (answered + abandoned); 1 if none
  double asa_seconds = 0;
  double aht_seconds = 0;
  int waiting_at_end = 0;
  // Agents who can serve the queue (all agents for "ALL"), by state at the interval's end.
  int agents_ready_at_end = 0;
  int agents_busy_at_end = 0;  // BUSY, RESERVED or WRAP_UP
  int agents_not_ready_at_end = 0;
  // The same agents by every state, indexed by core::AgentState (kLoggedOut counts only
  // in "ALL" rows: the roster not logged in). The three fields above are sums of these.
  std::array<int, 6> agents_by_state_at_end{};
  double occupancy = 0;  // "ALL" rows only
};

struct ScenarioResult {
  OverallReport overall;
  std::vector<QueueReport> queues;  // in rules order
  std::vector<IntervalRow> intervals;
};

struct RunOptions {
  // Engine paranoid mode and Engine::CheckInvariants() after every simulated event.
  bool check_invariants = false;
  // When set, called every few thousand simulated events and once at the end (done = 1),
  // with the share of arrivals done (virtual time, or contacts for a contacts-bounded
  // run). For a progress display: it must not touch the simulation, and the run's result
  // does not depend on it. The simulation itself never reads the wall clock for it.
  std::function<void(const RunProgress&)> progress;
};

// Runs `scenario` to the end. INTERNAL if the engine refuses a command the simulation
// expects to succeed (a core bug: the message names the command, the id and the status).
[[nodiscard]] absl::StatusOr<ScenarioResult> RunScenario(const Scenario& scenario,
                                                         const RunOptions& options = {});

}  // namespace acd::sim

#endif  // ACD_SIMULATORS_SCENARIO_SIM_H_
