#include "simulators/single_queue_sim.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "engine/core/clock.h"
#include "engine/core/config.h"
#include "engine/core/engine.h"
#include "engine/core/event.h"
#include "engine/core/indexed_heap.h"
#include "engine/core/random.h"
#include "engine/core/rank_index.h"

namespace acd::sim {
namespace {

using core::Engine;
using core::FakeClock;
using core::Random;

constexpr std::string_view kQueueName = "main";
constexpr std::string_view kSkill = "general";

// An exponential draw with the given mean, in whole nanoseconds, from one Random stream.
int64_t ExponentialNs(Random& random, double mean_seconds) {
  // 1 - U is in (0, 1], so the log is finite.
  return std::llround(-std::log(1.0 - random.NextDouble()) * mean_seconds * 1e9);
}

// An id: a letter and a decimal index ("c123", "a7"), formatted into a stack buffer so
// that naming a contact on the hot path does not allocate.
class Id {
 public:
  Id(char prefix, int64_t index) {
    buffer_[0] = prefix;
    size_ = static_cast<size_t>(std::to_chars(buffer_ + 1, buffer_ + sizeof(buffer_), index).ptr -
                                buffer_);
  }
  absl::string_view view() const { return absl::string_view(buffer_, size_); }
  std::string str() const { return std::string(buffer_, size_); }

 private:
  char buffer_[24];
  size_t size_ = 0;
};

// Nanoseconds (a sum of them) as seconds.
double Seconds(__int128 ns) { return static_cast<double>(ns) * 1e-9; }

int64_t ParseId(absl::string_view id) {
  int64_t index = -1;
  if (id.size() < 2) return -1;
  auto [ptr, ec] = std::from_chars(id.data() + 1, id.data() + id.size(), index);
  if (ec != std::errc() || ptr != id.data() + id.size()) return -1;
  return index;
}

// Collects the engine's offers; the simulation accepts them after the command returns
// (an EventSink must not call mutating Engine methods).
class OfferSink final : public core::EventSink {
 public:
  struct Offer {
    int64_t contact = 0;
    int64_t agent = 0;
  };

  void OnEvent(const core::Event& event) override {
    ++events_;
    if (event.type != core::EventType::kContactOffered) return;
    offers_.push_back({ParseId(event.contact_id), ParseId(event.agent_id)});
  }

  std::vector<Offer>& offers() { return offers_; }
  uint64_t events() const { return events_; }

 private:
  std::vector<Offer> offers_;
  uint64_t events_ = 0;
};

enum class ContactPhase : uint8_t { kNone, kWaiting, kAnswered, kAbandoned };

// One future event. Ordered by time, then by creation sequence, so replays match. Kept
// to 24 bytes (times in nanoseconds since the run's start, the kind in the low bits of the
// sequence): the heap of future events is the simulation's own hottest structure.
struct FutureEvent {
  enum class Kind : uint8_t { kArrival, kCompletion, kPatienceEnds };
  int64_t at_ns = 0;
  uint64_t order = 0;  // creation sequence << 2 | kind
  int32_t contact = 0;
  int32_t agent = 0;

  Kind kind() const { return static_cast<Kind>(order & 3); }
  // (at_ns, order) as one 128-bit rank (core::PairRank): the heap's comparisons compile
  // without branches, which the sift of a heap of random times would mispredict about
  // half the time.
  unsigned __int128 rank() const { return core::PairRank(at_ns, order); }
  static bool FiresFirst(const FutureEvent& a, const FutureEvent& b) { return a.rank() < b.rank(); }
};
static_assert(sizeof(FutureEvent) == 24);

// The future events' heap keeps no positions (nothing is removed but the first).
constexpr auto kUnindexed = [](const FutureEvent&, size_t) {};

// Contacts and agents are indexed with int32 in FutureEvent.
constexpr int64_t kMaxContacts = 1'000'000'000;

absl::Status Validate(const SingleQueueScenario& s) {
  if (!(s.arrivals_per_hour > 0) || !std::isfinite(s.arrivals_per_hour)) {
    return absl::InvalidArgumentError("arrivals_per_hour must be > 0");
  }
  if (!(s.handle_seconds_mean > 0) || !std::isfinite(s.handle_seconds_mean)) {
    return absl::InvalidArgumentError("handle_seconds_mean must be > 0");
  }
  if (s.agents < 1) return absl::InvalidArgumentError("agents must be >= 1");
  if (s.patience_seconds_mean.has_value() &&
      (!(*s.patience_seconds_mean > 0) || !std::isfinite(*s.patience_seconds_mean))) {
    return absl::InvalidArgumentError("patience_seconds_mean must be > 0");
  }
  if (s.contacts < 1 || s.contacts > kMaxContacts) {
    return absl::InvalidArgumentError("contacts must be between 1 and 1,000,000,000");
  }
  if (s.agents > kMaxContacts) return absl::InvalidArgumentError("too many agents");
  if (s.warmup_contacts.has_value() &&
      (*s.warmup_contacts < 0 || *s.warmup_contacts > kMaxContacts)) {
    return absl::InvalidArgumentError("warmup_contacts must be between 0 and 1,000,000,000");
  }
  if (!(s.sl_threshold_seconds >= 0) || !std::isfinite(s.sl_threshold_seconds)) {
    return absl::InvalidArgumentError("sl_threshold_seconds must be >= 0");
  }
  return absl::OkStatus();
}

absl::Status EngineRefused(absl::string_view command, absl::string_view id,
                           const absl::Status& status) {
  return absl::InternalError(
      absl::StrCat("engine refused ", command, "(", id, "): ", status.ToString()));
}

// The run's whole state; Run() is called once.
class Simulation {
 public:
  explicit Simulation(const SingleQueueScenario& s)
      : scenario_(s),
        warmup_(s.warmup_contacts.value_or(std::max<int64_t>(1000, s.contacts / 10))),
        total_(warmup_ + s.contacts),
        arrival_mean_seconds_(3600.0 / s.arrivals_per_hour),
        threshold_ns_(absl::ToInt64Nanoseconds(absl::Seconds(s.sl_threshold_seconds))) {
    Random root(s.seed);
    // Separate streams, so changing one distribution does not reshuffle the others.
    arrival_random_ = std::make_unique<Random>(root.Next());
    handle_random_ = std::make_unique<Random>(root.Next());
    patience_random_ = std::make_unique<Random>(root.Next());
  }

  absl::StatusOr<SimulatedKpis> Run();

 private:
  absl::Status Start();
  absl::Status MoveClockTo(int64_t t_ns);
  absl::Status AcceptOffers();
  absl::Status Arrive(int64_t contact);
  absl::Status Finish(int64_t agent, int64_t contact);
  absl::Status PatienceEnds(int64_t contact);
  // Schedules an event `delay_ns` from now.
  void Schedule(int64_t delay_ns, FutureEvent::Kind kind, int64_t contact, int64_t agent) {
    core::heap::Push(events_,
                     FutureEvent{now_ns_ + delay_ns,
                                 next_sequence_++ << 2 | static_cast<uint64_t>(kind),
                                 static_cast<int32_t>(contact), static_cast<int32_t>(agent)},
                     FutureEvent::FiresFirst, kUnindexed);
  }
  // Sets the engine's clock and now_ns_ to `t`.
  void SetClock(absl::Time t) {
    clock_.Set(t);
    now_ns_ = absl::ToInt64Nanoseconds(t - origin_);
  }
  bool Measured(int64_t contact) const { return contact >= warmup_; }
  void Resolve(int64_t contact) {
    if (Measured(contact)) ++resolved_;
  }

  const SingleQueueScenario& scenario_;
  const int64_t warmup_;
  const int64_t total_;
  const double arrival_mean_seconds_;
  const int64_t threshold_ns_;

  FakeClock clock_;
  absl::Time origin_;   // the clock at the start of the run
  int64_t now_ns_ = 0;  // the clock, in nanoseconds since origin_
  OfferSink sink_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<Random> arrival_random_, handle_random_, patience_random_;
  std::vector<FutureEvent> events_;  // a heap: core::heap, FutureEvent::FiresFirst
  uint64_t next_sequence_ = 0;

  std::vector<int64_t> arrived_ns_;
  std::vector<ContactPhase> phase_;
  core::EnqueueRequest enqueue_;  // reused: only the id changes

  int64_t resolved_ = 0;  // measured contacts answered or abandoned
  int busy_agents_ = 0;
  bool measuring_ = false;
  double busy_agent_seconds_ = 0;  // integral of busy agents over the measured window
  int64_t measure_start_ns_ = 0, measure_end_ns_ = 0;

  int64_t answered_ = 0, abandoned_ = 0, within_threshold_ = 0, waited_ = 0;
  ContactTotals all_;  // every arrival, warm-up included
  // Sums of waits in nanoseconds; __int128, so that no run length can overflow them.
  __int128 all_answered_wait_ns_ = 0;
  __int128 answered_wait_total_ns_ = 0, abandoned_wait_total_ns_ = 0;
};

absl::Status Simulation::Start() {
  core::EngineConfig config;
  config.skills = {std::string(kSkill)};
  config.random_seed = scenario_.seed;
  core::QueueConfig queue;
  queue.name = std::string(kQueueName);
  queue.channels = {core::Channel::kVoice};
  queue.requirements = {core::SkillRequirement{std::string(kSkill), 1}};
  queue.strategy = "longest_idle";
  queue.service_level_threshold = absl::Nanoseconds(threshold_ns_);
  queue.wrap_up = absl::ZeroDuration();
  // Offers are accepted in the same virtual instant, so the timeout never fires (if it
  // did, the late Accept would fail and the run would stop with INTERNAL). Keep it short:
  // the engine leaves an accepted offer's timer in its heap until the deadline passes, and
  // a 24 h timeout made the heap hold a day of offers and the run 40% slower.
  queue.offer_timeout = absl::Seconds(1);
  queue.rona_sets_not_ready = false;
  queue.default_handle_time = absl::Seconds(scenario_.handle_seconds_mean);
  // Heavily overloaded Erlang A runs may hold long queues.
  queue.max_length = config.limits.max_contacts;
  config.queues.push_back(std::move(queue));
  // The simulation never asks about finished contacts, and ids are never reused; a small
  // ring keeps the records the engine recycles in cache (the default 10,000 cost ~25% more
  // CPU time per contact, measured).
  config.limits.max_finished_contacts_retained = 64;

  core::EngineOptions options;
  options.sink = &sink_;
  options.paranoid = scenario_.check_invariants;
  absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Create(config, clock_, options);
  if (!engine.ok()) return engine.status();
  engine_ = *std::move(engine);

  for (int a = 0; a < scenario_.agents; ++a) {
    core::LoginRequest login;
    login.agent_id = Id('a', a).str();
    login.skills = {core::AgentSkill{std::string(kSkill), 1}};
    if (absl::Status s = engine_->Login(login); !s.ok()) {
      return EngineRefused("Login", login.agent_id, s);
    }
    if (absl::Status s = engine_->SetReady(login.agent_id); !s.ok()) {
      return EngineRefused("SetReady", login.agent_id, s);
    }
  }
  if (!sink_.offers().empty()) {
    return absl::InternalError("engine offered a contact before any arrived");
  }

  enqueue_.queue = std::string(kQueueName);
  enqueue_.channel = core::Channel::kVoice;
  arrived_ns_.resize(total_);
  phase_.assign(total_, ContactPhase::kNone);
  origin_ = clock_.Now();
  now_ns_ = 0;
  Schedule(ExponentialNs(*arrival_random_, arrival_mean_seconds_), FutureEvent::Kind::kArrival, 0,
           -1);
  return absl::OkStatus();
}

// Moves virtual time forward to `t`, firing every engine timer due on the way at its own
// deadline, and integrates the busy-agent count over the measured window.
absl::Status Simulation::MoveClockTo(int64_t t_ns) {
  const absl::Time t = origin_ + absl::Nanoseconds(t_ns);
  // A bound on timers per step: each Advance must retire the timers it fires.
  for (int fired = 0;; ++fired) {
    std::optional<absl::Time> timer = engine_->NextTimer();
    if (!timer.has_value() || *timer > t) break;
    if (fired > 1'000'000) {
      return absl::InternalError("engine timers do not retire on Advance()");
    }
    const int64_t before_ns = now_ns_;
    SetClock(std::max(*timer, clock_.Now()));
    if (measuring_) busy_agent_seconds_ += busy_agents_ * ((now_ns_ - before_ns) * 1e-9);
    engine_->Advance();
    if (absl::Status s = AcceptOffers(); !s.ok()) return s;
    if (engine_->NextTimer() == timer && *timer <= clock_.Now()) {
      return absl::InternalError(absl::StrCat("engine timer at ", absl::FormatTime(*timer),
                                              " still pending after "
                                              "Advance() at ",
                                              absl::FormatTime(clock_.Now())));
    }
  }
  if (measuring_) busy_agent_seconds_ += busy_agents_ * ((t_ns - now_ns_) * 1e-9);
  clock_.Set(t);
  now_ns_ = t_ns;
  return absl::OkStatus();
}

// Accepts every offer the last command produced, at once, and starts its handle time.
absl::Status Simulation::AcceptOffers() {
  std::vector<OfferSink::Offer>& offers = sink_.offers();
  // Accept() may itself emit events (but not new offers to a busy agent); index, don't
  // iterate, since the vector may grow.
  for (size_t i = 0; i < offers.size(); ++i) {
    const OfferSink::Offer offer = offers[i];
    if (offer.contact < 0 || offer.contact >= total_ || offer.agent < 0 ||
        offer.agent >= scenario_.agents) {
      return absl::InternalError("offer names an unknown contact or agent");
    }
    if (phase_[offer.contact] != ContactPhase::kWaiting) {
      return absl::InternalError(
          absl::StrCat("engine offered contact c", offer.contact, " which is not waiting"));
    }
    const Id contact_id('c', offer.contact);
    const Id agent_id('a', offer.agent);
    if (absl::Status s = engine_->Accept(agent_id.view(), contact_id.view()); !s.ok()) {
      return EngineRefused("Accept", contact_id.view(), s);
    }
    phase_[offer.contact] = ContactPhase::kAnswered;
    ++busy_agents_;
    const int64_t wait_ns = now_ns_ - arrived_ns_[offer.contact];
    ++all_.answered;
    all_answered_wait_ns_ += wait_ns;
    if (wait_ns <= threshold_ns_) ++all_.answered_within_threshold;
    if (Measured(offer.contact)) {
      ++answered_;
      answered_wait_total_ns_ += wait_ns;
      if (wait_ns > 0) ++waited_;
      if (wait_ns <= threshold_ns_) ++within_threshold_;
      Resolve(offer.contact);
    }
    Schedule(ExponentialNs(*handle_random_, scenario_.handle_seconds_mean),
             FutureEvent::Kind::kCompletion, offer.contact, offer.agent);
  }
  offers.clear();
  return absl::OkStatus();
}

absl::Status Simulation::Arrive(int64_t contact) {
  if (contact == warmup_) {
    measuring_ = true;
    measure_start_ns_ = now_ns_;
  }
  arrived_ns_[contact] = now_ns_;
  phase_[contact] = ContactPhase::kWaiting;
  ++all_.offered;
  const Id contact_id('c', contact);
  enqueue_.contact_id.assign(contact_id.view().data(), contact_id.view().size());
  if (absl::Status s = engine_->Enqueue(enqueue_); !s.ok()) {
    return EngineRefused("Enqueue", enqueue_.contact_id, s);
  }
  if (scenario_.patience_seconds_mean.has_value()) {
    Schedule(ExponentialNs(*patience_random_, *scenario_.patience_seconds_mean),
             FutureEvent::Kind::kPatienceEnds, contact, -1);
  }
  if (contact + 1 < total_) {
    Schedule(ExponentialNs(*arrival_random_, arrival_mean_seconds_), FutureEvent::Kind::kArrival,
             contact + 1, -1);
  } else {
    measuring_ = false;
    measure_end_ns_ = now_ns_;
  }
  return AcceptOffers();
}

absl::Status Simulation::Finish(int64_t agent, int64_t contact) {
  const Id agent_id('a', agent);
  const Id contact_id('c', contact);
  if (absl::Status s = engine_->Complete(agent_id.view(), contact_id.view()); !s.ok()) {
    return EngineRefused("Complete", contact_id.view(), s);
  }
  --busy_agents_;
  // A zero wrap-up may end by timer at this same instant.
  engine_->Advance();
  return AcceptOffers();
}

absl::Status Simulation::PatienceEnds(int64_t contact) {
  if (phase_[contact] != ContactPhase::kWaiting) return absl::OkStatus();  // answered
  const Id contact_id('c', contact);
  if (absl::Status s = engine_->Cancel(contact_id.view(), "ABANDONED"); !s.ok()) {
    return EngineRefused("Cancel", contact_id.view(), s);
  }
  phase_[contact] = ContactPhase::kAbandoned;
  ++all_.abandoned;
  if (Measured(contact)) {
    ++abandoned_;
    ++waited_;
    abandoned_wait_total_ns_ += now_ns_ - arrived_ns_[contact];
    Resolve(contact);
  }
  return AcceptOffers();
}

absl::StatusOr<SimulatedKpis> Simulation::Run() {
  const auto wall_start = std::chrono::steady_clock::now();
  if (absl::Status s = Start(); !s.ok()) return s;
  const absl::Time sim_start = clock_.Now();
  auto progress = [&] {
    RunProgress p;
    p.contacts = all_.offered;
    p.done = std::min(1.0, static_cast<double>(p.contacts) / static_cast<double>(total_));
    p.simulated_seconds = absl::ToDoubleSeconds(clock_.Now() - sim_start);
    return p;
  };
  constexpr uint64_t kEventsPerProgress = 4096;
  for (uint64_t step = 1; resolved_ < scenario_.contacts; ++step) {
    if (events_.empty()) {
      return absl::InternalError(
          absl::StrCat("simulation stalled: ", scenario_.contacts - resolved_,
                       " measured contacts neither answered nor abandoned"));
    }
    const FutureEvent e = events_.front();
    core::heap::Erase(events_, 0, FutureEvent::FiresFirst, kUnindexed);
    if (absl::Status s = MoveClockTo(e.at_ns); !s.ok()) return s;
    absl::Status s;
    switch (e.kind()) {
      case FutureEvent::Kind::kArrival:
        s = Arrive(e.contact);
        break;
      case FutureEvent::Kind::kCompletion:
        s = Finish(e.agent, e.contact);
        break;
      case FutureEvent::Kind::kPatienceEnds:
        s = PatienceEnds(e.contact);
        break;
    }
    if (!s.ok()) return s;
    if (scenario_.check_invariants) engine_->CheckInvariants();
    if (step % kEventsPerProgress == 0 && scenario_.progress) scenario_.progress(progress());
  }
  if (scenario_.progress) {
    RunProgress last = progress();
    last.done = 1;
    scenario_.progress(last);
  }
  const double wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();

  SimulatedKpis k;
  const double offered = static_cast<double>(scenario_.contacts);
  k.offered = scenario_.contacts;
  k.answered = answered_;
  k.abandoned = abandoned_;
  k.answered_within_threshold = within_threshold_;
  k.waited = waited_;
  k.p_wait = waited_ / offered;
  k.mean_wait_seconds = Seconds(answered_wait_total_ns_ + abandoned_wait_total_ns_) / offered;
  k.asa_seconds = answered_ > 0 ? Seconds(answered_wait_total_ns_) / answered_ : 0;
  k.service_level = within_threshold_ / offered;
  k.abandon_rate = abandoned_ / offered;
  const double window_seconds = Seconds(measure_end_ns_ - measure_start_ns_);
  k.occupancy = window_seconds > 0 ? busy_agent_seconds_ / window_seconds / scenario_.agents : 0;
  k.wall_seconds = wall_seconds;
  k.contacts_per_second = wall_seconds > 0 ? static_cast<double>(total_) / wall_seconds : 0;
  k.simulated_seconds = absl::ToDoubleSeconds(clock_.Now() - sim_start);
  k.engine_events = sink_.events();
  k.sim_totals = all_;
  k.sim_totals.answered_wait_seconds = Seconds(all_answered_wait_ns_);
  const core::EngineSnapshot snapshot = engine_->Snapshot();
  if (snapshot.queues.size() != 1) return absl::InternalError("snapshot lost the queue");
  const core::QueueCounters& total = snapshot.queues[0].total;
  k.engine_totals.offered = total.offered;
  k.engine_totals.answered = total.answered;
  k.engine_totals.abandoned = total.abandoned;
  k.engine_totals.answered_within_threshold = total.answered_within_threshold;
  k.engine_totals.answered_wait_seconds = absl::ToDoubleSeconds(total.answered_wait_total());
  return k;
}

}  // namespace

absl::StatusOr<SimulatedKpis> RunSingleQueue(const SingleQueueScenario& scenario) {
  if (absl::Status s = Validate(scenario); !s.ok()) return s;
  Simulation simulation(scenario);
  return simulation.Run();
}

}  // namespace acd::sim
