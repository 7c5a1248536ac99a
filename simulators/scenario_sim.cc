#include "simulators/scenario_sim.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "engine/core/clock.h"
#include "engine/core/engine.h"
#include "engine/core/event.h"
#include "engine/core/random.h"

namespace acd::sim {
namespace {

using core::AgentState;
using core::Engine;
using core::EventType;
using core::FakeClock;
using core::Random;

constexpr absl::Duration kInterval = absl::Minutes(15);

absl::Status EngineRefused(absl::string_view command, absl::string_view id,
                           const absl::Status& status) {
  return absl::InternalError(
      absl::StrCat("engine refused ", command, "(", id, "): ", status.ToString()));
}

std::string ContactId(int64_t index) { return absl::StrCat("c", index); }

int64_t ParseContactId(absl::string_view id) {
  int64_t index = -1;
  if (id.size() < 2 || id[0] != 'c') return -1;
  auto [ptr, ec] = std::from_chars(id.data() + 1, id.data() + id.size(), index);
  if (ec != std::errc() || ptr != id.data() + id.size()) return -1;
  return index;
}

// What the simulation needs of an engine event, copied out of the engine's storage.
struct EngineNote {
  EventType type = EventType::kContactQueued;
  int64_t contact = -1;
  int agent = -1;
  int queue = -1;  // index in the rules
  AgentState agent_state = AgentState::kLoggedOut;
  bool rona_reason = false;
  absl::Duration waited;
};

enum class Phase : uint8_t { kWaiting, kOffered, kConnected, kDone };
enum class Outcome : uint8_t { kNone, kAnswered, kAbandoned, kOverflowedOut };

struct ContactRecord {
  absl::Time arrived;
  int stream = 0;
  Phase phase = Phase::kWaiting;
  Outcome outcome = Outcome::kNone;
  bool callback = false;
  int agent = -1;             // offered to / connected with
  uint32_t offer_serial = 0;  // which offer a scheduled accept belongs to
  double handle_seconds = 0;
  absl::Duration waited;  // until answered or left
};

struct AgentRecord {
  std::string id;
  int group = 0;
  int index_in_group = 0;
  const v1::AgentBehaviour* behaviour = nullptr;
  std::unique_ptr<Random> random;
  bool logged_in = false;
  bool on_shift = false;
  bool on_break = false;
  bool leaving = false;  // shift over, finishing connected work
  int connected = 0;
  AgentState state = AgentState::kLoggedOut;
};

struct StreamRecord {
  const v1::ArrivalStream* proto = nullptr;
  core::Channel channel = core::Channel::kVoice;
  std::unique_ptr<Random> arrival_random;  // gaps between arrivals
  std::unique_ptr<Random> contact_random;  // each contact's handle time, patience, choices
  const google::protobuf::RepeatedPtrField<v1::LanguageShare>* languages = nullptr;
};

// Counts the simulation keeps per interval for the "ALL" rows.
struct IntervalCounts {
  int64_t offered = 0, answered = 0, within = 0, abandoned = 0;
  absl::Duration answered_wait;
  absl::Duration work_time, staffed_time;  // agent time, for occupancy
};

struct FutureEvent {
  enum class Kind : uint8_t {
    kArrival,       // stream: the next arrival (contact < 0: only a rate change)
    kPatienceEnds,  // contact
    kAccept,        // contact, agent, serial
    kComplete,      // contact, agent
    kShiftStart,    // agent
    kShiftEnd,      // agent
    kBreakStart,    // agent, serial = break index
    kBreakEnd,      // agent
    kReadyAgain,    // agent (after RONA)
    kInterval,      // an interval boundary
  };
  absl::Time at;
  uint64_t sequence = 0;
  Kind kind = Kind::kArrival;
  int64_t contact = -1;
  int agent = -1;
  int stream = -1;
  uint32_t serial = 0;

  friend bool operator<(const FutureEvent& a, const FutureEvent& b) {
    if (a.at != b.at) return a.at > b.at;
    return a.sequence > b.sequence;
  }
};

class Simulation;

// Copies what the simulation needs out of each engine event. Mutates nothing in the
// engine (an EventSink must not).
class NoteSink final : public core::EventSink {
 public:
  explicit NoteSink(Simulation* sim) : sim_(sim) {}
  void OnEvent(const core::Event& event) override;
  std::vector<EngineNote>& notes() { return notes_; }
  uint64_t events() const { return events_; }

 private:
  Simulation* sim_;
  std::vector<EngineNote> notes_;
  uint64_t events_ = 0;
};

class Simulation {
 public:
  Simulation(const Scenario& s, const RunOptions& options)
      : scenario_(s), options_(options), clock_(s.start), sink_(this) {}

  absl::StatusOr<ScenarioResult> Run();

  int AgentIndex(absl::string_view id) const {
    auto it = agent_index_.find(id);
    return it == agent_index_.end() ? -1 : it->second;
  }
  int QueueIndex(absl::string_view name) const {
    auto it = queue_index_.find(name);
    return it == queue_index_.end() ? -1 : it->second;
  }

 private:
  absl::Status Start();
  void ScheduleRoster();
  absl::Time LocalTime(absl::CivilDay day, int minute) const {
    return absl::FromCivil(absl::CivilMinute(day) + minute, scenario_.zone);
  }
  void Schedule(absl::Time at, FutureEvent::Kind kind, int64_t contact = -1, int agent = -1,
                int stream = -1, uint32_t serial = 0) {
    events_.push(FutureEvent{at, next_sequence_++, kind, contact, agent, stream, serial});
  }
  void ScheduleNextArrival(int stream);
  // Contacts-bounded runs stop arriving after a week too, so a scenario whose rates are all
  // zero still ends.
  bool ArrivalsOpen(absl::Time t) const {
    if (scenario_.duration.has_value()) return t < scenario_.start + *scenario_.duration;
    return next_contact_ < scenario_.proto.contacts() && t < scenario_.start + absl::Hours(24 * 7);
  }
  // Arrivals are over and nobody talks (wrap-ups may still run), and either nobody waits
  // or no agent is left to answer those who do (they count as unfinished).
  bool Finished() const {
    return arrivals_done_ && connected_ == 0 && (live_contacts_ == 0 || agents_logged_in_ == 0);
  }

  void Integrate(absl::Time to);
  absl::Status MoveClockTo(absl::Time t);
  absl::Status AfterCommand();
  absl::Status Handle(const FutureEvent& e);
  absl::Status Arrive(int stream);
  absl::Status Accept(const FutureEvent& e);
  absl::Status Complete(int64_t contact, int agent);
  absl::Status PatienceEnds(int64_t contact);
  absl::Status ShiftStart(int agent);
  absl::Status ShiftEnd(int agent);
  absl::Status BreakStart(int agent, uint32_t break_index);
  absl::Status GoReady(int agent);
  void CloseInterval(absl::Time end);
  RunProgress Progress() const;
  ScenarioResult Report(double wall_seconds);

  const Scenario& scenario_;
  const RunOptions options_;
  FakeClock clock_;
  NoteSink sink_;
  std::unique_ptr<Engine> engine_;
  std::priority_queue<FutureEvent> events_;
  uint64_t next_sequence_ = 0;

  std::vector<StreamRecord> streams_;
  std::vector<AgentRecord> agents_;
  std::vector<ContactRecord> contacts_;
  absl::flat_hash_map<std::string, int> agent_index_;
  absl::flat_hash_map<std::string, int> queue_index_;
  std::vector<absl::Duration> queue_threshold_;
  int64_t next_contact_ = 0;
  int64_t live_contacts_ = 0;  // waiting or offered
  int64_t connected_ = 0;      // talking with an agent
  int agents_logged_in_ = 0;
  bool arrivals_done_ = false;
  absl::Time arrivals_end_ = absl::InfiniteFuture();

  std::array<int, 6> agents_by_state_{};
  OverallReport overall_;
  absl::Duration wait_total_, answered_wait_total_, work_time_, staffed_time_;
  IntervalCounts interval_;
  absl::Time interval_start_;
  std::vector<core::QueueCounters> queue_totals_at_interval_start_;
  std::vector<IntervalRow> interval_rows_;
  core::EnqueueRequest enqueue_;

  friend class NoteSink;
};

void NoteSink::OnEvent(const core::Event& event) {
  ++events_;
  EngineNote n;
  n.type = event.type;
  switch (event.type) {
    case EventType::kContactOffered:
    case EventType::kContactAccepted:
    case EventType::kContactRejected:
    case EventType::kContactRona:
    case EventType::kContactAbandoned:
    case EventType::kContactOverflowed:
    case EventType::kContactCallbackRequested:
    case EventType::kContactTransferred:
      n.contact = ParseContactId(event.contact_id);
      n.agent = event.agent_id.empty() ? -1 : sim_->AgentIndex(event.agent_id);
      n.queue = event.queue.empty() ? -1 : sim_->QueueIndex(event.queue);
      n.waited = event.waited();
      break;
    case EventType::kAgentStateChanged:
      n.agent = sim_->AgentIndex(event.agent_id);
      n.agent_state = event.agent_state;
      n.rona_reason =
          event.agent_state == AgentState::kNotReady && event.reason == core::kReasonRona;
      break;
    default:
      return;
  }
  notes_.push_back(n);
}

absl::Status Simulation::Start() {
  core::EngineConfig config = scenario_.rules;
  config.random_seed = Random(scenario_.proto.seed() ^ 0x5EED).Next() | 1;
  for (size_t i = 0; i < config.queues.size(); ++i) {
    queue_index_[config.queues[i].name] = static_cast<int>(i);
    queue_threshold_.push_back(config.queues[i].service_level_threshold);
  }
  core::EngineOptions engine_options;
  engine_options.sink = &sink_;
  engine_options.paranoid = options_.check_invariants;
  absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Create(config, clock_, engine_options);
  if (!engine.ok()) return engine.status();
  engine_ = *std::move(engine);

  // Random streams: a root per purpose, then one child per stream or agent, so adding an
  // agent does not reshuffle the arrivals.
  Random root(scenario_.proto.seed());
  Random stream_root(root.Next());
  Random agent_root(root.Next());
  const v1::Scenario& p = scenario_.proto;
  for (const v1::ArrivalStream& a : p.arrivals()) {
    StreamRecord s;
    s.proto = &a;
    s.channel = a.channel() == v1::CHANNEL_UNSPECIFIED
                    ? core::Channel::kVoice
                    : static_cast<core::Channel>(a.channel() - 1);
    s.arrival_random = std::make_unique<Random>(stream_root.Next());
    s.contact_random = std::make_unique<Random>(stream_root.Next());
    s.languages = a.languages_size() > 0 ? &a.languages() : &p.languages();
    streams_.push_back(std::move(s));
  }
  for (int g = 0; g < p.roster_size(); ++g) {
    const v1::AgentGroup& group = p.roster(g);
    for (int i = 0; i < group.count(); ++i) {
      AgentRecord a;
      a.id = absl::StrCat(group.name(), "-", i + 1);
      a.group = g;
      a.index_in_group = i;
      a.behaviour = group.has_behaviour() ? &group.behaviour() : &p.behaviour();
      a.random = std::make_unique<Random>(agent_root.Next());
      if (!agent_index_.emplace(a.id, static_cast<int>(agents_.size())).second) {
        return absl::InvalidArgumentError(absl::StrCat("agent id '", a.id, "' is used twice"));
      }
      agents_.push_back(std::move(a));
    }
  }

  agents_by_state_[static_cast<int>(AgentState::kLoggedOut)] = static_cast<int>(agents_.size());
  ScheduleRoster();
  for (int s = 0; s < static_cast<int>(streams_.size()); ++s) ScheduleNextArrival(s);
  // Intervals are on the quarter hour of the clock (every zone's offset is a multiple of
  // 15 minutes), so they line up with the rate changes.
  interval_start_ = clock_.Now();
  queue_totals_at_interval_start_.assign(config.queues.size(), core::QueueCounters{});
  const absl::Time next_boundary =
      absl::UnixEpoch() + absl::Floor(clock_.Now() - absl::UnixEpoch(), kInterval) + kInterval;
  Schedule(next_boundary, FutureEvent::Kind::kInterval);
  return AfterCommand();
}

// Shifts and breaks for every local day the run may cover.
void Simulation::ScheduleRoster() {
  const v1::Scenario& p = scenario_.proto;
  const absl::CivilDay first = absl::ToCivilDay(scenario_.start, scenario_.zone);
  // Contacts-bounded runs have no known end; a week of shifts is plenty.
  const absl::Duration span =
      scenario_.duration.value_or(absl::Hours(24 * 7)) + scenario_.drain_max;
  const absl::CivilDay last = absl::ToCivilDay(scenario_.start + span, scenario_.zone);
  for (int a = 0; a < static_cast<int>(agents_.size()); ++a) {
    const v1::AgentGroup& g = p.roster(agents_[a].group);
    if (!g.has_shift()) {
      Schedule(scenario_.start, FutureEvent::Kind::kShiftStart, -1, a);
    }
    for (absl::CivilDay day = first; day <= last; ++day) {
      if (g.has_shift()) {
        int from = 0, to = 0;
        ParseTimeOfDay(g.shift().from(), &from);
        ParseTimeOfDay(g.shift().to(), &to);
        const absl::Time start = LocalTime(day, from), end = LocalTime(day, to);
        if (end <= scenario_.start) continue;
        Schedule(std::max(start, scenario_.start), FutureEvent::Kind::kShiftStart, -1, a);
        Schedule(end, FutureEvent::Kind::kShiftEnd, -1, a);
      }
      for (int b = 0; b < g.breaks_size(); ++b) {
        int from = 0;
        ParseTimeOfDay(g.breaks(b).from(), &from);
        const absl::Time start =
            LocalTime(day, from) +
            absl::Minutes(g.breaks(b).stagger_minutes()) * agents_[a].index_in_group;
        const absl::Time end = start + absl::Minutes(g.breaks(b).minutes());
        if (end <= scenario_.start) continue;
        Schedule(std::max(start, scenario_.start), FutureEvent::Kind::kBreakStart, -1, a, -1,
                 static_cast<uint32_t>(b));
        Schedule(end, FutureEvent::Kind::kBreakEnd, -1, a);
      }
    }
  }
}

// Next arrival of a Poisson stream whose rate is constant within each quarter hour: draw
// a gap at the current rate; if it crosses the quarter hour, stop there and draw again at
// the next rate (exponential gaps are memoryless, so this is exact).
void Simulation::ScheduleNextArrival(int stream) {
  const absl::Time now = clock_.Now();
  const absl::Time boundary =
      absl::UnixEpoch() + absl::Floor(now - absl::UnixEpoch(), kInterval) + kInterval;
  const absl::CivilMinute local = absl::ToCivilMinute(now, scenario_.zone);
  const int minute = local.hour() * 60 + local.minute();
  const double rate = RatePerHourAt(*streams_[stream].proto, minute);
  Random& random = *streams_[stream].arrival_random;
  const double u = random.NextDouble();
  if (rate > 0) {
    const absl::Time at = now + absl::Seconds(-std::log(1.0 - u) * 3600.0 / rate);
    if (at < boundary) {
      Schedule(at, FutureEvent::Kind::kArrival, 0, -1, stream);
      return;
    }
  }
  Schedule(boundary, FutureEvent::Kind::kArrival, -1, -1, stream);
}

// Agent-time integrals, for occupancy.
void Simulation::Integrate(absl::Time to) {
  const absl::Duration dt = to - clock_.Now();
  if (dt <= absl::ZeroDuration()) return;
  const int work = agents_by_state_[static_cast<int>(AgentState::kBusy)] +
                   agents_by_state_[static_cast<int>(AgentState::kWrapUp)];
  const int staffed = work + agents_by_state_[static_cast<int>(AgentState::kReady)] +
                      agents_by_state_[static_cast<int>(AgentState::kReserved)];
  work_time_ += work * dt;
  staffed_time_ += staffed * dt;
  interval_.work_time += work * dt;
  interval_.staffed_time += staffed * dt;
}

// Moves virtual time to `t`, firing every engine timer due on the way at its deadline.
absl::Status Simulation::MoveClockTo(absl::Time t) {
  for (int fired = 0;; ++fired) {
    std::optional<absl::Time> timer = engine_->NextTimer();
    if (!timer.has_value() || *timer > t) break;
    if (fired > 10'000'000) return absl::InternalError("engine timers do not retire on Advance()");
    const absl::Time at = std::max(*timer, clock_.Now());
    Integrate(at);
    clock_.Set(at);
    engine_->Advance();
    if (absl::Status s = AfterCommand(); !s.ok()) return s;
    if (engine_->NextTimer() == timer && *timer <= clock_.Now()) {
      return absl::InternalError("an engine timer is still pending after Advance()");
    }
  }
  Integrate(t);
  clock_.Set(std::max(t, clock_.Now()));
  return absl::OkStatus();
}

// Reacts to the events the last engine call emitted. Only schedules; never calls a
// mutating engine method, so the notes list does not grow while it is read.
absl::Status Simulation::AfterCommand() {
  std::vector<EngineNote>& notes = sink_.notes();
  const absl::Time now = clock_.Now();
  for (const EngineNote& n : notes) {
    if (n.type == EventType::kAgentStateChanged) {
      if (n.agent < 0) return absl::InternalError("state change of an unknown agent");
      AgentRecord& a = agents_[n.agent];
      --agents_by_state_[static_cast<int>(a.state)];
      a.state = n.agent_state;
      ++agents_by_state_[static_cast<int>(a.state)];
      if (n.rona_reason) {
        Schedule(now + absl::Seconds(a.behaviour->ready_again_after_rona_seconds() == 0
                                         ? 30
                                         : a.behaviour->ready_again_after_rona_seconds()),
                 FutureEvent::Kind::kReadyAgain, -1, n.agent);
      }
      continue;
    }
    if (n.contact < 0 || n.contact >= static_cast<int64_t>(contacts_.size())) {
      return absl::InternalError(
          absl::StrCat("engine event ", core::EventTypeName(n.type), " names an unknown contact"));
    }
    ContactRecord& c = contacts_[n.contact];
    switch (n.type) {
      case EventType::kContactOffered: {
        if (n.agent < 0) return absl::InternalError("offer to an unknown agent");
        c.phase = Phase::kOffered;
        c.agent = n.agent;
        ++c.offer_serial;
        AgentRecord& a = agents_[n.agent];
        if (a.random->NextDouble() < a.behaviour->miss_offer_probability()) break;  // RONA
        const double delay = a.behaviour->has_time_to_accept()
                                 ? DrawSeconds(a.behaviour->time_to_accept(), *a.random)
                                 : 0;
        Schedule(now + absl::Seconds(delay), FutureEvent::Kind::kAccept, n.contact, n.agent, -1,
                 c.offer_serial);
        break;
      }
      case EventType::kContactAccepted: {
        c.phase = Phase::kConnected;
        c.outcome = Outcome::kAnswered;
        c.waited = n.waited;
        --live_contacts_;
        ++overall_.answered;
        ++interval_.answered;
        answered_wait_total_ += n.waited;
        interval_.answered_wait += n.waited;
        if (n.queue >= 0 && n.waited <= queue_threshold_[n.queue]) {
          ++overall_.answered_within_threshold;
          ++interval_.within;
        }
        ++agents_[c.agent].connected;
        ++connected_;
        Schedule(now + absl::Seconds(c.handle_seconds), FutureEvent::Kind::kComplete, n.contact,
                 c.agent);
        break;
      }
      case EventType::kContactRejected:
      case EventType::kContactRona:
        if (n.type == EventType::kContactRona) ++overall_.ronas;
        if (c.phase == Phase::kOffered) c.phase = Phase::kWaiting;
        break;
      case EventType::kContactAbandoned:
        break;  // the simulation cancelled it, and has counted it
      case EventType::kContactOverflowed:
        if (n.queue < 0 && c.phase != Phase::kDone) {  // left with nowhere to go
          c.phase = Phase::kDone;
          c.outcome = Outcome::kOverflowedOut;
          c.waited = n.waited;
          --live_contacts_;
          ++overall_.overflowed_out;
        }
        break;
      case EventType::kContactCallbackRequested:
        if (!c.callback) {
          c.callback = true;
          ++overall_.callbacks;
        }
        break;
      default:
        break;
    }
  }
  notes.clear();
  return absl::OkStatus();
}

absl::Status Simulation::Arrive(int stream) {
  StreamRecord& s = streams_[stream];
  const int64_t index = next_contact_++;
  const absl::Time now = clock_.Now();
  Random& random = *s.contact_random;
  ContactRecord c;
  c.arrived = now;
  c.stream = stream;
  c.handle_seconds = DrawSeconds(s.proto->handle_time(), random);
  std::optional<double> patience;
  if (s.proto->has_patience()) patience = DrawSeconds(s.proto->patience(), random);
  const double language_draw = random.NextDouble();
  const double callback_draw = random.NextDouble();

  enqueue_.contact_id = ContactId(index);
  enqueue_.queue = s.proto->queue();
  enqueue_.channel = s.channel;
  enqueue_.priority = s.proto->priority() == 0 ? std::nullopt : std::optional(s.proto->priority());
  enqueue_.language.clear();
  double cumulative = 0;
  for (const v1::LanguageShare& l : *s.languages) {
    cumulative += l.share();
    if (language_draw < cumulative) {
      enqueue_.language = l.skill();
      break;
    }
  }
  contacts_.push_back(c);
  const absl::Status status = engine_->Enqueue(enqueue_);
  if (absl::IsFailedPrecondition(status) || absl::IsResourceExhausted(status)) {
    // Closed (with the refuse treatment) or full: the caller hears a message and hangs up.
    contacts_.back().phase = Phase::kDone;
    ++overall_.refused;
    return AfterCommand();
  }
  if (!status.ok()) return EngineRefused("Enqueue", enqueue_.contact_id, status);
  ++overall_.offered;
  ++interval_.offered;
  ++live_contacts_;
  if (absl::Status st = AfterCommand(); !st.ok()) return st;

  ContactRecord& record = contacts_[index];
  if (record.phase == Phase::kWaiting) ++overall_.waited;  // no agent was offered it at once
  if (record.phase == Phase::kWaiting &&
      (s.channel == core::Channel::kVoice || s.channel == core::Channel::kCallback)) {
    absl::StatusOr<core::ContactStatus> status_now = engine_->GetContact(enqueue_.contact_id);
    if (!status_now.ok())
      return EngineRefused("GetContact", enqueue_.contact_id, status_now.status());
    if (status_now->channel == core::Channel::kCallback) {  // closed queue took a callback
      if (!record.callback) ++overall_.callbacks;
      record.callback = true;
    } else if (status_now->callback_offered && callback_draw < s.proto->callback_accept_share()) {
      if (absl::Status st = engine_->RequestCallback(enqueue_.contact_id); !st.ok()) {
        return EngineRefused("RequestCallback", enqueue_.contact_id, st);
      }
      if (absl::Status st = AfterCommand(); !st.ok()) return st;
    }
  }
  if (patience.has_value() && !contacts_[index].callback &&
      contacts_[index].phase != Phase::kConnected) {
    Schedule(now + absl::Seconds(*patience), FutureEvent::Kind::kPatienceEnds, index);
  }
  return absl::OkStatus();
}

absl::Status Simulation::PatienceEnds(int64_t contact) {
  ContactRecord& c = contacts_[contact];
  if (c.callback || (c.phase != Phase::kWaiting && c.phase != Phase::kOffered)) {
    return absl::OkStatus();
  }
  const std::string id = ContactId(contact);
  if (absl::Status s = engine_->Cancel(id, "CALLER_HANGUP"); !s.ok()) {
    return EngineRefused("Cancel", id, s);
  }
  c.phase = Phase::kDone;
  c.outcome = Outcome::kAbandoned;
  c.waited = clock_.Now() - c.arrived;
  --live_contacts_;
  ++overall_.abandoned;
  ++interval_.abandoned;
  return AfterCommand();
}

absl::Status Simulation::Accept(const FutureEvent& e) {
  ContactRecord& c = contacts_[e.contact];
  // The offer may have been withdrawn (caller hung up, agent went on break) meanwhile.
  if (c.phase != Phase::kOffered || c.agent != e.agent || c.offer_serial != e.serial) {
    return absl::OkStatus();
  }
  const std::string id = ContactId(e.contact);
  if (absl::Status s = engine_->Accept(agents_[e.agent].id, id); !s.ok()) {
    return EngineRefused("Accept", id, s);
  }
  return AfterCommand();
}

absl::Status Simulation::Complete(int64_t contact, int agent) {
  const std::string id = ContactId(contact);
  AgentRecord& a = agents_[agent];
  if (absl::Status s = engine_->Complete(a.id, id); !s.ok())
    return EngineRefused("Complete", id, s);
  contacts_[contact].phase = Phase::kDone;
  --a.connected;
  --connected_;
  ++overall_.handled;
  // A zero wrap-up may end by timer at this same instant.
  engine_->Advance();
  if (absl::Status s = AfterCommand(); !s.ok()) return s;
  if (a.leaving && a.connected == 0) {
    if (absl::Status s = engine_->Logout(a.id); !s.ok()) return EngineRefused("Logout", a.id, s);
    a.logged_in = false;
    --agents_logged_in_;
    a.leaving = false;
    return AfterCommand();
  }
  return absl::OkStatus();
}

absl::Status Simulation::ShiftStart(int agent) {
  AgentRecord& a = agents_[agent];
  a.on_shift = true;
  if (a.leaving) {  // back before the last contact of the previous shift ended
    a.leaving = false;
    return GoReady(agent);
  }
  if (a.logged_in) return absl::OkStatus();
  const v1::AgentGroup& g = scenario_.proto.roster(a.group);
  core::LoginRequest login;
  login.agent_id = a.id;
  for (const v1::AgentSkill& s : g.skills()) {
    login.skills.push_back({s.skill(), s.level() == 0 ? 1 : s.level()});
  }
  for (const v1::ChannelCapacity& c : g.capacities()) {
    login.capacities.push_back({static_cast<core::Channel>(c.channel() - 1), c.max()});
  }
  if (absl::Status s = engine_->Login(login); !s.ok()) return EngineRefused("Login", a.id, s);
  a.logged_in = true;
  ++agents_logged_in_;
  if (absl::Status s = AfterCommand(); !s.ok()) return s;
  return GoReady(agent);
}

absl::Status Simulation::ShiftEnd(int agent) {
  AgentRecord& a = agents_[agent];
  a.on_shift = false;
  if (!a.logged_in) return absl::OkStatus();
  if (a.connected > 0) {
    a.leaving = true;
    const std::string reason = scenario_.proto.end_of_shift_reason().empty()
                                   ? "BREAK"
                                   : scenario_.proto.end_of_shift_reason();
    if (absl::Status s = engine_->SetNotReady(a.id, reason); !s.ok()) {
      return EngineRefused("SetNotReady", a.id, s);
    }
    return AfterCommand();
  }
  if (absl::Status s = engine_->Logout(a.id); !s.ok()) return EngineRefused("Logout", a.id, s);
  a.logged_in = false;
  --agents_logged_in_;
  return AfterCommand();
}

absl::Status Simulation::BreakStart(int agent, uint32_t break_index) {
  AgentRecord& a = agents_[agent];
  if (!a.logged_in || a.leaving) return absl::OkStatus();
  a.on_break = true;
  const v1::Break& b = scenario_.proto.roster(a.group).breaks(static_cast<int>(break_index));
  const std::string reason = b.reason().empty() ? "BREAK" : b.reason();
  if (absl::Status s = engine_->SetNotReady(a.id, reason); !s.ok()) {
    return EngineRefused("SetNotReady", a.id, s);
  }
  return AfterCommand();
}

// READY, if the agent is meant to be working now.
absl::Status Simulation::GoReady(int agent) {
  AgentRecord& a = agents_[agent];
  if (!a.logged_in || !a.on_shift || a.on_break || a.leaving) return absl::OkStatus();
  if (absl::Status s = engine_->SetReady(a.id); !s.ok()) return EngineRefused("SetReady", a.id, s);
  return AfterCommand();
}

absl::Status Simulation::Handle(const FutureEvent& e) {
  using Kind = FutureEvent::Kind;
  switch (e.kind) {
    case Kind::kArrival:
      if (arrivals_done_) return absl::OkStatus();
      if (!ArrivalsOpen(clock_.Now())) {
        arrivals_done_ = true;
        arrivals_end_ = clock_.Now();
        return absl::OkStatus();
      }
      if (e.contact >= 0) {
        if (absl::Status s = Arrive(e.stream); !s.ok()) return s;
      }
      if (!ArrivalsOpen(clock_.Now())) {
        arrivals_done_ = true;
        arrivals_end_ = clock_.Now();
        return absl::OkStatus();
      }
      ScheduleNextArrival(e.stream);
      return absl::OkStatus();
    case Kind::kPatienceEnds:
      return PatienceEnds(e.contact);
    case Kind::kAccept:
      return Accept(e);
    case Kind::kComplete:
      return Complete(e.contact, e.agent);
    case Kind::kShiftStart:
      return ShiftStart(e.agent);
    case Kind::kShiftEnd:
      return ShiftEnd(e.agent);
    case Kind::kBreakStart:
      return BreakStart(e.agent, e.serial);
    case Kind::kBreakEnd:
      agents_[e.agent].on_break = false;
      return GoReady(e.agent);
    case Kind::kReadyAgain:
      return GoReady(e.agent);
    case Kind::kInterval:
      CloseInterval(clock_.Now());
      Schedule(clock_.Now() + kInterval, Kind::kInterval);
      return absl::OkStatus();
  }
  return absl::OkStatus();
}

// Appends the rows of the interval ending at `end` and starts the next.
void Simulation::CloseInterval(absl::Time end) {
  if (end <= interval_start_) return;
  const core::EngineSnapshot snapshot = engine_->Snapshot();
  auto finish_row = [](IntervalRow& row, absl::Duration answered_wait, absl::Duration handle_time) {
    const int64_t resolved = row.answered + row.abandoned;
    row.service_level =
        resolved > 0 ? static_cast<double>(row.answered_within_threshold) / resolved : 1.0;
    row.asa_seconds = row.answered > 0 ? absl::ToDoubleSeconds(answered_wait) / row.answered : 0;
    row.aht_seconds = row.handled > 0 ? absl::ToDoubleSeconds(handle_time) / row.handled : 0;
  };
  auto by_state = [](IntervalRow& row, const std::array<int, 6>& states) {
    row.agents_ready_at_end = states[static_cast<int>(AgentState::kReady)];
    row.agents_busy_at_end = states[static_cast<int>(AgentState::kReserved)] +
                             states[static_cast<int>(AgentState::kBusy)] +
                             states[static_cast<int>(AgentState::kWrapUp)];
    row.agents_not_ready_at_end = states[static_cast<int>(AgentState::kNotReady)];
    row.agents_by_state_at_end = states;
  };
  IntervalRow all;
  all.start = interval_start_;
  all.queue = "ALL";
  all.offered = interval_.offered;
  all.answered = interval_.answered;
  all.answered_within_threshold = interval_.within;
  all.abandoned = interval_.abandoned;
  absl::Duration all_handle_time;
  for (size_t q = 0; q < snapshot.queues.size(); ++q) {
    const core::QueueStatus& status = snapshot.queues[q];
    const core::QueueCounters& before = queue_totals_at_interval_start_[q];
    IntervalRow row;
    row.start = interval_start_;
    row.queue = status.queue;
    row.offered = status.total.offered - before.offered;
    row.answered = status.total.answered - before.answered;
    row.answered_within_threshold =
        status.total.answered_within_threshold - before.answered_within_threshold;
    row.abandoned = status.total.abandoned - before.abandoned;
    row.handled = status.total.handled - before.handled;
    const absl::Duration handle_time = status.total.handle_time_total() - before.handle_time_total();
    all.handled += row.handled;
    all_handle_time += handle_time;
    finish_row(row, status.total.answered_wait_total() - before.answered_wait_total(), handle_time);
    row.waiting_at_end = status.waiting;
    all.waiting_at_end += status.waiting;
    by_state(row, status.agents_by_state);
    interval_rows_.push_back(std::move(row));
    queue_totals_at_interval_start_[q] = status.total;
  }
  finish_row(all, interval_.answered_wait, all_handle_time);
  by_state(all, agents_by_state_);
  all.occupancy = interval_.staffed_time > absl::ZeroDuration()
                      ? absl::FDivDuration(interval_.work_time, interval_.staffed_time)
                      : 0;
  // "ALL" goes before the queues of its interval.
  interval_rows_.insert(interval_rows_.end() - static_cast<long>(snapshot.queues.size()),
                        std::move(all));
  interval_ = IntervalCounts{};
  interval_start_ = end;
}

RunProgress Simulation::Progress() const {
  RunProgress p;
  p.contacts = overall_.offered;
  p.simulated_seconds = absl::ToDoubleSeconds(clock_.Now() - scenario_.start);
  if (arrivals_done_) {
    p.done = 1;
  } else if (scenario_.duration.has_value()) {
    p.done = absl::FDivDuration(clock_.Now() - scenario_.start, *scenario_.duration);
  } else if (scenario_.proto.contacts() > 0) {
    p.done = static_cast<double>(next_contact_) / static_cast<double>(scenario_.proto.contacts());
  }
  p.done = std::clamp(p.done, 0.0, 1.0);
  return p;
}

ScenarioResult Simulation::Report(double wall_seconds) {
  ScenarioResult r;
  OverallReport& o = overall_;
  for (const ContactRecord& c : contacts_) {
    switch (c.outcome) {
      case Outcome::kNone:
        if (c.phase != Phase::kDone) wait_total_ += clock_.Now() - c.arrived;  // unfinished
        break;
      case Outcome::kAnswered:
      case Outcome::kAbandoned:
      case Outcome::kOverflowedOut:
        wait_total_ += c.waited;
        break;
    }
  }
  o.unfinished = live_contacts_;
  const double offered = static_cast<double>(o.offered);
  if (o.offered > 0) {
    o.p_wait = o.waited / offered;
    o.mean_wait_seconds = absl::ToDoubleSeconds(wait_total_) / offered;
    o.service_level = o.answered_within_threshold / offered;
    o.abandon_rate = o.abandoned / offered;
  }
  o.asa_seconds = o.answered > 0 ? absl::ToDoubleSeconds(answered_wait_total_) / o.answered : 0;
  o.occupancy =
      staffed_time_ > absl::ZeroDuration() ? absl::FDivDuration(work_time_, staffed_time_) : 0;
  o.simulated_seconds = absl::ToDoubleSeconds(clock_.Now() - scenario_.start);
  o.engine_events = sink_.events();
  o.wall_seconds = wall_seconds;
  o.contacts_per_second = wall_seconds > 0 ? offered / wall_seconds : 0;

  const core::EngineSnapshot snapshot = engine_->Snapshot();
  absl::Duration handle_time;
  int64_t handled = 0;
  for (size_t q = 0; q < snapshot.queues.size(); ++q) {
    const core::QueueStatus& s = snapshot.queues[q];
    const core::QueueCounters& t = s.total;
    QueueReport qr;
    qr.queue = s.queue;
    qr.offered = t.offered;
    qr.answered = t.answered;
    qr.answered_within_threshold = t.answered_within_threshold;
    qr.abandoned = t.abandoned;
    qr.overflowed = t.overflowed;
    qr.handled = t.handled;
    qr.sl_threshold_seconds = absl::ToDoubleSeconds(s.service_level_threshold);
    qr.sl_target = s.service_level_target;
    qr.service_level =
        t.offered > 0 ? static_cast<double>(t.answered_within_threshold) / t.offered : 1.0;
    qr.asa_seconds = absl::ToDoubleSeconds(t.asa());
    qr.aht_seconds = absl::ToDoubleSeconds(t.aht());
    qr.abandon_rate = t.offered > 0 ? static_cast<double>(t.abandoned) / t.offered : 0;
    handle_time += t.handle_time_total();
    handled += t.handled;
    r.queues.push_back(std::move(qr));
  }
  o.aht_seconds = handled > 0 ? absl::ToDoubleSeconds(handle_time) / handled : 0;
  r.overall = o;
  r.intervals = std::move(interval_rows_);
  return r;
}

absl::StatusOr<ScenarioResult> Simulation::Run() {
  const auto wall_start = std::chrono::steady_clock::now();
  if (absl::Status s = Start(); !s.ok()) return s;
  // Bounded: arrivals stop (by duration or count), then at most drain_max more.
  constexpr uint64_t kEventsPerProgress = 4096;
  for (uint64_t step = 1; !Finished(); ++step) {
    if (events_.empty()) break;
    const FutureEvent e = events_.top();
    if (arrivals_done_ && e.at > arrivals_end_ + scenario_.drain_max) break;
    events_.pop();
    if (absl::Status s = MoveClockTo(e.at); !s.ok()) return s;
    if (absl::Status s = Handle(e); !s.ok()) return s;
    if (options_.check_invariants) engine_->CheckInvariants();
    if (step % kEventsPerProgress == 0 && options_.progress) options_.progress(Progress());
  }
  CloseInterval(clock_.Now());
  if (options_.progress) {
    RunProgress last = Progress();
    last.done = 1;
    options_.progress(last);
  }
  const double wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return Report(wall_seconds);
}

}  // namespace

absl::StatusOr<ScenarioResult> RunScenario(const Scenario& scenario, const RunOptions& options) {
  Simulation simulation(scenario, options);
  return simulation.Run();
}

}  // namespace acd::sim
