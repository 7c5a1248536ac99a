// SingleQueueSim: the quick form of `acd-sim run`. A discrete-event simulation, in virtual
// time, of one voice queue with identical agents, where EVERY routing decision is made by
// the real acd::core::Engine:
//   Poisson arrivals -> Engine::Enqueue; the engine's kContactOffered events are accepted
//   at once (Engine::Accept); handle times are exponential -> Engine::Complete (no
//   wrap-up); patience is exponential (optional) -> Engine::Cancel if still waiting.
// Future events sit in a min-heap ordered by (time, sequence), so ties fire in creation
// order; the engine's own timers are fired with Engine::Advance before the clock passes
// them. All randomness comes from acd::core::Random streams derived from one seed, so the
// same scenario and seed give the same KPIs, bit for bit (contacts_per_second, a wall-clock
// speed, is the only exception).
//
// Measurement: the first `warmup_contacts` arrivals warm the system up and are not counted;
// the next `contacts` arrivals are measured, each followed until it is answered or
// abandons. KPIs are issue 6's (shares of measured arrivals):
//   p_wait         not connected at the instant of arrival (waited > 0 or abandoned);
//   mean_wait_s    mean time in queue over all measured arrivals (abandoned: until they left);
//   asa_s          mean wait of the answered;
//   service_level  answered within the threshold / arrivals;
//   abandon_rate   abandoned / arrivals;
//   occupancy      time-average busy agents / agents, between the first and the last
//                  measured arrival.
//
// Single-threaded; one run owns its engine, clock and random streams.
#ifndef ACD_SIMULATORS_SINGLE_QUEUE_SIM_H_
#define ACD_SIMULATORS_SINGLE_QUEUE_SIM_H_

#include <cstdint>
#include <functional>
#include <optional>

#include "absl/status/statusor.h"
#include "simulators/progress_bar.h"

namespace acd::sim {

struct SingleQueueScenario {
  double arrivals_per_hour = 0;                 // > 0
  double handle_seconds_mean = 0;               // > 0, exponential
  int agents = 0;                               // >= 1
  std::optional<double> patience_seconds_mean;  // unset: nobody abandons
  int64_t contacts = 100'000;                   // measured arrivals, >= 1
  // Arrivals simulated before measuring starts. Unset: contacts / 10 (at least 1000),
  // many times the time the queue needs to forget that it started empty.
  std::optional<int64_t> warmup_contacts;
  uint64_t seed = 1;
  double sl_threshold_seconds = 20;  // >= 0
  // For tests: run the engine in paranoid mode and call Engine::CheckInvariants() after
  // every simulated event (O(contacts x agents) each; aborts on a violation).
  bool check_invariants = false;
  // When set, called every few thousand simulated events and once at the end (done = 1),
  // with the share of arrivals (warm-up included) done. For a progress display: it must not
  // touch the simulation, and the KPIs do not depend on it.
  std::function<void(const RunProgress&)> progress;
};

// Counts over every arrival of a run, warm-up included.
struct ContactTotals {
  int64_t offered = 0;
  int64_t answered = 0;
  int64_t abandoned = 0;
  int64_t answered_within_threshold = 0;
  double answered_wait_seconds = 0;
};

struct SimulatedKpis {
  int64_t offered = 0;  // measured arrivals
  int64_t answered = 0;
  int64_t abandoned = 0;
  int64_t answered_within_threshold = 0;
  int64_t waited = 0;  // not connected at once
  double p_wait = 0;
  double mean_wait_seconds = 0;
  double asa_seconds = 0;
  double service_level = 0;
  double abandon_rate = 0;
  double occupancy = 0;
  // Speed: all simulated arrivals (warm-up included) per second of wall clock.
  double contacts_per_second = 0;
  double wall_seconds = 0;
  double simulated_seconds = 0;  // virtual time covered, warm-up included
  uint64_t engine_events = 0;    // events the engine emitted
  // The simulation's own counts, and the engine's statistics for its queue
  // (Snapshot().queues[0].total), at the end of the run. Every arrival has been answered
  // or has abandoned by then, so the two should agree.
  ContactTotals sim_totals;
  ContactTotals engine_totals;
};

// Runs `scenario` to completion. INVALID_ARGUMENT on bad scenario fields; INTERNAL if the
// engine refuses a command the simulation expects to succeed (a core bug: the message
// names the command, the contact and the engine's status).
[[nodiscard]] absl::StatusOr<SimulatedKpis> RunSingleQueue(const SingleQueueScenario& scenario);

}  // namespace acd::sim

#endif  // ACD_SIMULATORS_SINGLE_QUEUE_SIM_H_
