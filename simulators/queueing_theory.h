// Queueing-theory reference formulas for one queue of identical agents: the numbers a
// staffing calculator prints, and the yardstick acd-sim's simulated KPIs are tested against.
//
// Models (arrivals Poisson at rate lambda, handle times exponential with mean 1/mu, N agents,
// first come first served, no wrap-up):
//  - Erlang B (M/M/N/N): share of arrivals blocked when there is no queue. Computed with
//    the recursion B(0) = 1, B(n) = A B(n-1) / (n + A B(n-1)), A = lambda/mu, which is stable
//    for N in the tens of thousands (no factorials, no powers).
//  - Erlang C (M/M/N, infinitely patient callers): C = N B / (N - A (1 - B));
//    P(W <= t) = 1 - C exp(-(N mu - lambda) t); mean wait = C / (N mu - lambda).
//    Needs A < N; otherwise the queue grows without bound.
//  - Erlang A (M/M/N+M, patience exponential with rate theta = 1 / mean patience), solved
//    EXACTLY as a birth-death chain (not the Garnett-Mandelbaum-Reiman asymptotics):
//      pi(N + j) / pi(N) = prod_{i=1..j} lambda / (N mu + i theta), summed until a term falls
//      below 1e-18 of the sum (the chain is truncated there; the neglected tail is below
//      1e-15 of the probability mass), and sum_{n<=N} pi(n) = pi(N) / B(N, A).
//    A caller who finds j others waiting is answered after the offered wait V, a sum of
//    exponentials with rates N mu + i theta (i = j..0), unless its own patience runs out
//    first. Hence, in closed form per j:
//      P(answered | j)          = N mu / (N mu + (j + 1) theta),
//      E[V; answered | j]        = P(answered | j) * sum_{i=1..j+1} 1 / (N mu + i theta),
//    abandon rate = theta E[queue length] / lambda, mean wait of all arrivals (abandoned
//    ones counted until they leave) = E[queue length] / lambda (Little's law), and the
//    service level P(answered within t) by uniformization of the tagged caller's
//    pure-death chain (Poisson weights summed to within 1e-13). Accuracy is better than
//    1e-9 on every KPI; the tests check it against a brute-force chain and Erlang C.
//
// KPI definitions follow issue 6 (and acd-sim run): shares are of ALL arrivals.
//   p_wait         share of arrivals not connected at once;
//   mean_wait_s    mean time in queue over all arrivals (abandoned ones until they left);
//   asa_s          mean wait of answered contacts (those answered at once count as 0);
//   service_level  answered within the threshold / arrivals;
//   abandon_rate   abandoned / arrivals;
//   occupancy      carried load / agents = lambda (1 - abandon_rate) / (N mu).
//
// Pure functions of their arguments; thread-compatible.
#ifndef ACD_SIMULATORS_QUEUEING_THEORY_H_
#define ACD_SIMULATORS_QUEUEING_THEORY_H_

#include <optional>

#include "absl/status/statusor.h"

namespace acd::sim {

// One queue, in the units planners use.
struct QueueModel {
  double arrivals_per_hour = 0;    // > 0
  double handle_seconds_mean = 0;  // AHT, > 0
  int agents = 0;                  // >= 1
  // Mean caller patience. Unset: callers never hang up (Erlang C); set: Erlang A (> 0).
  std::optional<double> patience_seconds_mean;
  double sl_threshold_seconds = 20;  // >= 0

  double offered_load_erlangs() const;  // A = lambda / mu
};

struct QueueKpis {
  double p_wait = 0;
  double mean_wait_seconds = 0;
  double asa_seconds = 0;
  double service_level = 0;
  double abandon_rate = 0;
  double occupancy = 0;
  double mean_queue_length = 0;  // time-average number waiting
};

// Erlang B blocking probability for `agents` servers offered `load_erlangs`.
// REQUIRES: load_erlangs >= 0, agents >= 0.
double ErlangB(double load_erlangs, int agents);

// Erlang C probability of waiting. Returns 1 when load_erlangs >= agents (unstable).
// REQUIRES: load_erlangs >= 0, agents >= 1.
double ErlangC(double load_erlangs, int agents);

// Predicted KPIs for `model`: Erlang C without patience, Erlang A with it.
// INVALID_ARGUMENT on a non-positive rate, handle time, patience or agent count, or a
// negative threshold. FAILED_PRECONDITION for Erlang C when the load is >= agents (no
// steady state). RESOURCE_EXHAUSTED if the Erlang A chain would need more than 50 million
// states (absurdly small patience relative to the load).
[[nodiscard]] absl::StatusOr<QueueKpis> PredictKpis(const QueueModel& model);

// What a staffing calculation is asked to meet.
struct StaffingTarget {
  double service_level_min = 0.8;          // in [0, 1)
  std::optional<double> abandon_rate_max;  // in (0, 1]; only meaningful with patience
  int agents_max = 100'000;                // give up above this
};

struct StaffingResult {
  int agents = 0;
  QueueKpis kpis;  // at that staffing
};

// The fewest agents (model.agents is ignored) for which PredictKpis meets every target.
// INVALID_ARGUMENT on bad targets or model fields; NOT_FOUND if even agents_max is not
// enough.
[[nodiscard]] absl::StatusOr<StaffingResult> FewestAgents(QueueModel model,
                                                          const StaffingTarget& target);

}  // namespace acd::sim

#endif  // ACD_SIMULATORS_QUEUEING_THEORY_H_
