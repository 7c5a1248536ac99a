#include "simulators/queueing_theory.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace acd::sim {
namespace {

// The Erlang A chain is cut where a term is this small relative to the running sum.
constexpr double kTailRelative = 1e-18;
constexpr long kChainStatesMax = 50'000'000;
// Poisson weights of uniformization are summed until this little mass remains.
constexpr double kPoissonTail = 1e-13;

absl::Status Validate(const QueueModel& m) {
  if (!(m.arrivals_per_hour > 0) || !std::isfinite(m.arrivals_per_hour)) {
    return absl::InvalidArgumentError(
        absl::StrCat("arrivals_per_hour must be > 0, got ", m.arrivals_per_hour));
  }
  if (!(m.handle_seconds_mean > 0) || !std::isfinite(m.handle_seconds_mean)) {
    return absl::InvalidArgumentError(
        absl::StrCat("handle_seconds_mean must be > 0, got ", m.handle_seconds_mean));
  }
  if (m.agents < 1) {
    return absl::InvalidArgumentError(absl::StrCat("agents must be >= 1, got ", m.agents));
  }
  if (m.patience_seconds_mean.has_value() &&
      (!(*m.patience_seconds_mean > 0) || !std::isfinite(*m.patience_seconds_mean))) {
    return absl::InvalidArgumentError(
        absl::StrCat("patience_seconds_mean must be > 0, got ", *m.patience_seconds_mean));
  }
  if (!(m.sl_threshold_seconds >= 0) || !std::isfinite(m.sl_threshold_seconds)) {
    return absl::InvalidArgumentError(
        absl::StrCat("sl_threshold_seconds must be >= 0, got ", m.sl_threshold_seconds));
  }
  return absl::OkStatus();
}

absl::StatusOr<QueueKpis> ErlangCKpis(const QueueModel& m) {
  const double lambda = m.arrivals_per_hour / 3600.0;
  const double mu = 1.0 / m.handle_seconds_mean;
  const double load = m.offered_load_erlangs();
  const int n = m.agents;
  if (load >= n) {
    return absl::FailedPreconditionError(
        absl::StrCat("offered load ", load, " erlangs >= ", n,
                     " agents: without abandonment the queue grows without bound"));
  }
  const double c = ErlangC(load, n);
  const double drain_per_second = n * mu - lambda;
  QueueKpis k;
  k.p_wait = c;
  k.mean_wait_seconds = c / drain_per_second;
  k.asa_seconds = k.mean_wait_seconds;  // everyone is answered
  k.service_level = 1.0 - c * std::exp(-drain_per_second * m.sl_threshold_seconds);
  k.abandon_rate = 0;
  k.occupancy = load / n;
  k.mean_queue_length = lambda * k.mean_wait_seconds;
  return k;
}

// P(answered within t) for callers who found j = 0..K others waiting, weighted by
// `found_mass[j]` (the share of arrivals finding j waiting), by uniformization of the
// tagged caller's chain: state i = callers ahead; i -> i-1 at N mu + i theta (0 -> answered
// at N mu); own abandonment at theta from every state.
double AnsweredWithin(const std::vector<double>& found_mass, double service_per_second,
                      double theta, double t) {
  const size_t states = found_mass.size();
  const double uniform_rate = service_per_second + static_cast<double>(states) * theta;
  const double mean_steps = uniform_rate * t;
  std::vector<double> p = found_mass;
  std::vector<double> next(states);
  double answered = 0;  // mass answered after `step` uniformized steps
  double result = 0;
  double weight_sum = 0;
  double transient = 0;
  for (double x : p) transient += x;
  const double log_mean = mean_steps > 0 ? std::log(mean_steps) : 0;
  const long steps_max = static_cast<long>(mean_steps + 40.0 * std::sqrt(mean_steps + 1.0) + 100.0);
  for (long step = 0; step <= steps_max; ++step) {
    const double w = mean_steps > 0
                         ? std::exp(-mean_steps + step * log_mean - std::lgamma(step + 1.0))
                         : (step == 0 ? 1.0 : 0.0);
    result += w * answered;
    weight_sum += w;
    if (1.0 - weight_sum < kPoissonTail && step > mean_steps) break;
    if (transient < 1e-16) {
      // Nothing left to move: the rest of the weights all see the same answered mass.
      result += std::max(0.0, 1.0 - weight_sum) * answered;
      break;
    }
    // One uniformized step.
    answered += p[0] * service_per_second / uniform_rate;
    transient = 0;
    for (size_t i = 0; i < states; ++i) {
      const double out = service_per_second + static_cast<double>(i + 1) * theta;
      double v = p[i] * (1.0 - out / uniform_rate);
      if (i + 1 < states) {
        v += p[i + 1] * (service_per_second + static_cast<double>(i + 1) * theta) / uniform_rate;
      }
      next[i] = v;
      transient += v;
    }
    p.swap(next);
  }
  return result;
}

absl::StatusOr<QueueKpis> ErlangAKpis(const QueueModel& m) {
  const double lambda = m.arrivals_per_hour / 3600.0;
  const double mu = 1.0 / m.handle_seconds_mean;
  const double theta = 1.0 / *m.patience_seconds_mean;
  const double load = m.offered_load_erlangs();
  const int n = m.agents;
  const double service = n * mu;  // completion rate with every agent busy

  // r[j] = pi(N + j) / pi(N) / F. The scale F = exp(log_scale) keeps the terms finite when
  // the load far exceeds the agents (the terms then grow like (lambda/theta)^j / j! before
  // they fall); r is divided down whenever its sum passes kRescaleAbove.
  constexpr double kRescaleAbove = 1e200;
  std::vector<double> r;
  r.push_back(1.0);
  double sum = 1.0;
  double term = 1.0;
  double log_scale = 0;
  for (long j = 1;; ++j) {
    if (j > kChainStatesMax) {
      return absl::ResourceExhaustedError(
          absl::StrCat("Erlang A chain needs more than ", kChainStatesMax, " states"));
    }
    term *= lambda / (service + static_cast<double>(j) * theta);
    if (term < kTailRelative * sum && lambda < service + static_cast<double>(j) * theta) {
      break;
    }
    r.push_back(term);
    sum += term;
    if (sum > kRescaleAbove) {
      for (double& x : r) x /= kRescaleAbove;
      term /= kRescaleAbove;
      sum /= kRescaleAbove;
      log_scale += std::log(kRescaleAbove);
    }
  }
  // sum_{n<N} pi(n) / pi(N) = 1/B - 1, so pi(N) F = 1 / ((1/B - 1) / F + sum).
  const double b = ErlangB(load, n);
  double below = b > 0 ? 1.0 / b - 1.0 : std::numeric_limits<double>::infinity();
  if (log_scale > 0 && below > 0) below = std::exp(std::log(below) - log_scale);
  const double pi_n = 1.0 / (below + sum);  // pi(N) F: multiplies the scaled r[j]

  double queue_mean = 0;     // E[number waiting] / pi(N)
  double answered_wait = 0;  // E[wait; answered, waited] / pi(N)
  double answered_late = 0;  // P(waited, then answered) / pi(N)
  double harmonic = 0;       // sum_{i=1..j+1} 1 / (N mu + i theta)
  std::vector<double> found_mass(r.size());
  for (size_t j = 0; j < r.size(); ++j) {
    queue_mean += static_cast<double>(j) * r[j];
    harmonic += 1.0 / (service + static_cast<double>(j + 1) * theta);
    const double p_answered = service / (service + static_cast<double>(j + 1) * theta);
    answered_late += r[j] * p_answered;
    answered_wait += r[j] * p_answered * harmonic;
    found_mass[j] = pi_n * r[j];
  }
  QueueKpis k;
  k.p_wait = pi_n * sum;
  k.mean_queue_length = pi_n * queue_mean;
  k.abandon_rate = theta * k.mean_queue_length / lambda;
  k.mean_wait_seconds = k.mean_queue_length / lambda;
  const double answered_share = (1.0 - k.p_wait) + pi_n * answered_late;
  k.asa_seconds = answered_share > 0 ? pi_n * answered_wait / answered_share : 0;
  k.service_level =
      (1.0 - k.p_wait) + AnsweredWithin(found_mass, service, theta, m.sl_threshold_seconds);
  k.occupancy = load * (1.0 - k.abandon_rate) / n;
  return k;
}

}  // namespace

double QueueModel::offered_load_erlangs() const {
  // Multiply first: 200 calls/h x 180 s is exactly 10 erlangs, not 9.999999999999998.
  return arrivals_per_hour * handle_seconds_mean / 3600.0;
}

double ErlangB(double load_erlangs, int agents) {
  double b = 1.0;
  for (int i = 1; i <= agents; ++i) b = load_erlangs * b / (i + load_erlangs * b);
  return b;
}

double ErlangC(double load_erlangs, int agents) {
  if (load_erlangs >= agents) return 1.0;
  const double b = ErlangB(load_erlangs, agents);
  return agents * b / (agents - load_erlangs * (1.0 - b));
}

absl::StatusOr<QueueKpis> PredictKpis(const QueueModel& model) {
  if (absl::Status s = Validate(model); !s.ok()) return s;
  if (model.patience_seconds_mean.has_value()) return ErlangAKpis(model);
  return ErlangCKpis(model);
}

absl::StatusOr<StaffingResult> FewestAgents(QueueModel model, const StaffingTarget& target) {
  if (!(target.service_level_min >= 0 && target.service_level_min < 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("service level target must be in [0, 1), got ", target.service_level_min));
  }
  if (target.abandon_rate_max.has_value() &&
      !(*target.abandon_rate_max > 0 && *target.abandon_rate_max <= 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("abandon rate target must be in (0, 1], got ", *target.abandon_rate_max));
  }
  if (target.agents_max < 1) {
    return absl::InvalidArgumentError("agents_max must be >= 1");
  }
  model.agents = 1;
  if (absl::Status s = Validate(model); !s.ok()) return s;

  // Without patience a stable queue needs more agents than erlangs of load.
  int lo = 1;
  if (!model.patience_seconds_mean.has_value()) {
    lo = static_cast<int>(std::floor(model.offered_load_erlangs())) + 1;
  }
  if (lo > target.agents_max) {
    return absl::NotFoundError(absl::StrCat("more than ", target.agents_max, " agents needed"));
  }
  auto evaluate = [&](int agents) -> absl::StatusOr<QueueKpis> {
    model.agents = agents;
    return PredictKpis(model);
  };
  auto meets = [&](const QueueKpis& k) {
    if (k.service_level < target.service_level_min) return false;
    if (target.abandon_rate_max.has_value() && k.abandon_rate > *target.abandon_rate_max) {
      return false;
    }
    return true;
  };
  // Both KPIs improve with every agent added, so search: double until met, then bisect.
  int hi = lo;
  absl::StatusOr<QueueKpis> at_hi = evaluate(hi);
  if (!at_hi.ok()) return at_hi.status();
  int failing = lo - 1;  // largest count known to fail (lo - 1 fails or is impossible)
  while (!meets(*at_hi)) {
    failing = hi;
    if (hi == target.agents_max) {
      return absl::NotFoundError(
          absl::StrCat("even ", target.agents_max, " agents do not meet the target"));
    }
    hi = static_cast<int>(std::min<long>(2L * hi, target.agents_max));
    at_hi = evaluate(hi);
    if (!at_hi.ok()) return at_hi.status();
  }
  StaffingResult best{hi, *at_hi};
  while (best.agents - failing > 1) {
    const int mid = failing + (best.agents - failing) / 2;
    absl::StatusOr<QueueKpis> k = evaluate(mid);
    if (!k.ok()) return k.status();
    if (meets(*k)) {
      best = {mid, *k};
    } else {
      failing = mid;
    }
  }
  return best;
}

}  // namespace acd::sim
