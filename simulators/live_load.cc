#include "simulators/live_load.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <future>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <queue>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "acd/v1/agent_desk.grpc.pb.h"
#include "acd/v1/gateway.grpc.pb.h"
#include "acd/v1/supervisor.grpc.pb.h"
#include "engine/core/random.h"
#include "engine/server/timestamp.h"

namespace acd::sim {
namespace {

using Clock = std::chrono::steady_clock;
using core::Random;

constexpr auto kRpcDeadline = std::chrono::seconds(10);

// Per-method RPC latencies. Director thread only.
class Latencies {
 public:
  void Record(const std::string& method, Clock::duration d, bool ok) {
    Series& s = series_[method];
    s.ms.push_back(std::chrono::duration<double, std::milli>(d).count());
    if (!ok) ++s.errors;
  }
  std::vector<RpcLatency> Summaries() {
    std::vector<RpcLatency> out;
    for (auto& [method, s] : series_) {  // std::map: sorted by method
      RpcLatency r;
      r.method = method;
      r.calls = static_cast<int64_t>(s.ms.size());
      r.errors = s.errors;
      std::sort(s.ms.begin(), s.ms.end());
      auto at = [&](double q) {
        const size_t i = static_cast<size_t>(std::ceil(q * s.ms.size())) - 1;
        return s.ms[std::min(i, s.ms.size() - 1)];
      };
      if (!s.ms.empty()) {
        r.p50_ms = at(0.50);
        r.p90_ms = at(0.90);
        r.p99_ms = at(0.99);
        r.max_ms = s.ms.back();
      }
      out.push_back(std::move(r));
    }
    return out;
  }

 private:
  struct Series {
    std::vector<double> ms;
    int64_t errors = 0;
  };
  std::map<std::string, Series> series_;
};

// What an agent's WatchOffers stream said, handed from its reader thread to the director.
struct DeskUpdate {
  enum class Kind { kOffer, kStatus, kStreamEnded };
  int agent = 0;
  Kind kind = Kind::kStatus;
  std::string contact_id;
  v1::AgentState state = v1::AGENT_STATE_UNSPECIFIED;
  std::string reason;
};

// Many reader threads push; the director takes everything at once.
class Inbox {
 public:
  void Push(DeskUpdate u) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      updates_.push_back(std::move(u));
    }
    cv_.notify_one();
  }
  // Everything pushed so far, waiting until `deadline` if there is nothing yet.
  std::deque<DeskUpdate> TakeAll(Clock::time_point deadline) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_until(lock, deadline, [this] { return !updates_.empty(); });
    std::deque<DeskUpdate> out;
    out.swap(updates_);
    return out;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<DeskUpdate> updates_;
};

// One agent's desktop: its own channel (its own connection, as separate desktops have),
// its offer stream and what the director knows of it.
struct Desk {
  std::string id;
  int group = 0;
  int index_in_group = 0;
  const v1::AgentBehaviour* behaviour = nullptr;
  std::unique_ptr<Random> random;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::AgentDesk::Stub> stub;
  grpc::ClientContext watch_context;
  std::thread reader;
  std::promise<void> subscribed;
  bool logged_in = false, on_shift = false, on_break = false, leaving = false;
  int connected = 0;
};

void ReadOffers(Desk* desk, int index, Inbox* inbox) {
  v1::AgentRequest request;
  request.set_agent_id(desk->id);
  std::unique_ptr<grpc::ClientReader<v1::AgentUpdate>> reader =
      desk->stub->WatchOffers(&desk->watch_context, request);
  v1::AgentUpdate update;
  bool first = true;
  while (reader->Read(&update)) {
    if (first) {
      desk->subscribed.set_value();
      first = false;
    }
    DeskUpdate u;
    u.agent = index;
    if (update.has_offer()) {
      u.kind = DeskUpdate::Kind::kOffer;
      u.contact_id = update.offer().contact_id();
    } else if (update.has_status()) {
      u.kind = DeskUpdate::Kind::kStatus;
      u.state = update.status().state();
      u.reason = update.status().reason();
    } else {
      continue;  // a withdrawn offer: a later accept simply fails
    }
    inbox->Push(std::move(u));
  }
  if (first) desk->subscribed.set_value();
  reader->Finish();
  DeskUpdate ended;
  ended.agent = index;
  ended.kind = DeskUpdate::Kind::kStreamEnded;
  inbox->Push(std::move(ended));
}

struct PlannedArrival {
  absl::Time at;
  int stream = 0;
};

// Every arrival of the scenario, in time order: per stream a Poisson process whose rate
// is constant within each quarter hour (the same construction as acd-sim run).
std::vector<PlannedArrival> PlanArrivals(const Scenario& s) {
  const absl::Duration quarter = absl::Minutes(15);
  const absl::Time end = s.start + s.duration.value_or(absl::Hours(24 * 7));
  const int64_t cap = s.duration.has_value() ? int64_t{10'000'000} : s.proto.contacts();
  Random root(s.proto.seed());
  Random stream_root(root.Next());
  std::vector<PlannedArrival> all;
  for (int i = 0; i < s.proto.arrivals_size(); ++i) {
    Random random(stream_root.Next());
    stream_root.Next();  // the contact stream in acd-sim run
    absl::Time t = s.start;
    int64_t n = 0;
    while (t < end && n < cap) {
      const absl::Time boundary =
          absl::UnixEpoch() + absl::Floor(t - absl::UnixEpoch(), quarter) + quarter;
      const absl::CivilMinute local = absl::ToCivilMinute(t, s.zone);
      const double rate = RatePerHourAt(s.proto.arrivals(i), local.hour() * 60 + local.minute());
      const double u = random.NextDouble();
      if (rate > 0) {
        const absl::Time at = t + absl::Seconds(-std::log(1.0 - u) * 3600.0 / rate);
        if (at < boundary) {
          if (at < end) all.push_back({at, i});
          t = at;
          ++n;
          continue;
        }
      }
      t = boundary;
    }
  }
  std::stable_sort(all.begin(), all.end(),
                   [](const PlannedArrival& a, const PlannedArrival& b) { return a.at < b.at; });
  if (!s.duration.has_value() && static_cast<int64_t>(all.size()) > cap) all.resize(cap);
  return all;
}

// Whether the server's clock was the scenario's, and if not, how to make it so.
std::string ServerClockLine(const Scenario& scenario, const LoadOptions& options,
                            const LoadResult& r) {
  const auto time = [&](absl::Time t) {
    return absl::FormatTime("%Y-%m-%d %H:%M:%S %Z", t, scenario.zone);
  };
  if (r.server_clock_in_step) {
    return absl::StrFormat(
        "server clock: in step with the scenario (%gx, %s at the start, %+.0f s)",
        r.server_clock_speed, time(r.server_clock_at_start), r.server_clock_offset_seconds);
  }
  return absl::StrFormat(
      "server clock: NOT the scenario's: %s at %gx against %s at %gx; business hours, offer "
      "timeouts and max waits follow the server's (acdd --clock-start %s --clock-speed %g "
      "plays them in step)",
      time(r.server_clock_at_start), r.server_clock_speed, time(scenario.start), options.speed,
      absl::FormatTime(absl::RFC3339_sec, scenario.start, scenario.zone), options.speed);
}

struct LiveContact {
  std::string id;
  int stream = 0;
  Clock::time_point arrived;
  double handle_seconds = 0;
  std::optional<double> patience_seconds;
  enum class State { kWaiting, kAnswered, kAbandoned, kLeft } state = State::kWaiting;
  int agent = -1;
};

struct Action {
  enum class Kind {
    kArrival,
    kPatienceEnds,
    kAccept,
    kComplete,
    kEndWrapUp,
    kShiftStart,
    kShiftEnd,
    kBreakStart,
    kBreakEnd,
    kReadyAgain
  };
  Clock::time_point at;
  uint64_t sequence = 0;
  Kind kind = Kind::kArrival;
  int64_t contact = -1;
  int agent = -1;
  int index = -1;  // planned arrival or break

  friend bool operator<(const Action& a, const Action& b) {
    if (a.at != b.at) return a.at > b.at;
    return a.sequence > b.sequence;
  }
};

class Load {
 public:
  Load(const Scenario& s, const LoadOptions& o) : s_(s), o_(o) {}
  absl::StatusOr<LoadResult> Run();

 private:
  Clock::time_point WallOf(absl::Time t) const {
    return wall_start_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                             absl::ToDoubleSeconds(t - s_.start) / o_.speed));
  }
  Clock::duration Scaled(double scenario_seconds) const {
    return std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(scenario_seconds / o_.speed));
  }
  void Schedule(Clock::time_point at, Action::Kind kind, int64_t contact = -1, int agent = -1,
                int index = -1) {
    actions_.push(Action{at, next_sequence_++, kind, contact, agent, index});
  }
  template <typename Fn>
  grpc::Status Call(const std::string& method, Fn fn) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + kRpcDeadline);
    const Clock::time_point t0 = Clock::now();
    grpc::Status status = fn(&context);
    latencies_.Record(method, Clock::now() - t0, status.ok());
    return status;
  }
  static absl::Status Failed(const std::string& what, const grpc::Status& s) {
    return absl::InternalError(absl::StrCat(what, ": ", s.error_code(), " ", s.error_message()));
  }

  absl::Status OpenDesks();
  void ScheduleRoster();
  absl::Status Handle(const Action& a);
  absl::Status HandleUpdate(const DeskUpdate& u);
  absl::Status Arrive(int planned);
  absl::Status Login(int agent);
  absl::Status SetState(int agent, v1::AgentState state, const std::string& reason);
  absl::Status Logout(int agent);
  // The server's counters since it started, all queues; and, if `read` is given, the
  // snapshot they came from (its clock's reading and speed).
  absl::Status ReadServer(int64_t* offered, int64_t* answered, int64_t* abandoned, int* waiting,
                          v1::Snapshot* read = nullptr);
  // Fills result_.server_clock_* from a snapshot read from `read_from` to `read_to`, for a
  // run whose first scenario second began at wall_start_.
  void NoteServerClock(const v1::Snapshot& snapshot, Clock::time_point read_from,
                       Clock::time_point read_to);
  void Progress();
  absl::Status Finish(LoadResult* r);

  const Scenario& s_;
  const LoadOptions& o_;
  std::string prefix_;
  Clock::time_point wall_start_;
  std::shared_ptr<grpc::Channel> gateway_channel_;
  std::unique_ptr<v1::Gateway::Stub> gateway_;
  std::unique_ptr<v1::Supervisor::Stub> supervisor_;
  std::vector<std::unique_ptr<Desk>> desks_;
  Inbox inbox_;
  std::priority_queue<Action> actions_;
  uint64_t next_sequence_ = 0;
  Latencies latencies_;
  std::vector<PlannedArrival> plan_;
  std::vector<std::unique_ptr<Random>> contact_random_;  // per stream
  std::vector<LiveContact> contacts_;
  absl::flat_hash_map<std::string, int64_t> contact_index_;
  int64_t arrivals_left_ = 0;
  int64_t waiting_ = 0, connected_ = 0;
  LoadResult result_;
  double answered_wait_seconds_ = 0;
};

absl::Status Load::OpenDesks() {
  const v1::Scenario& p = s_.proto;
  Random root(p.seed());
  root.Next();
  Random agent_root(root.Next());
  for (int g = 0; g < p.roster_size(); ++g) {
    for (int i = 0; i < p.roster(g).count(); ++i) {
      auto d = std::make_unique<Desk>();
      d->id = absl::StrCat(p.roster(g).name(), "-", i + 1);
      d->group = g;
      d->index_in_group = i;
      d->behaviour = p.roster(g).has_behaviour() ? &p.roster(g).behaviour() : &p.behaviour();
      d->random = std::make_unique<Random>(agent_root.Next());
      // A channel of its own: separate desktops have separate connections (and the
      // server limits streams per connection).
      grpc::ChannelArguments args;
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      d->channel = grpc::CreateCustomChannel(o_.target, grpc::InsecureChannelCredentials(), args);
      d->stub = v1::AgentDesk::NewStub(d->channel);
      desks_.push_back(std::move(d));
    }
  }
  for (size_t i = 0; i < desks_.size(); ++i) {
    Desk* d = desks_[i].get();
    std::future<void> subscribed = d->subscribed.get_future();
    d->reader = std::thread(ReadOffers, d, static_cast<int>(i), &inbox_);
    if (subscribed.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      return absl::UnavailableError(absl::StrCat("WatchOffers(", d->id, ") did not start"));
    }
  }
  // Status updates from the subscriptions are of no interest.
  inbox_.TakeAll(Clock::now());
  return absl::OkStatus();
}

// Shifts and breaks for every local day the run may cover, as in acd-sim run.
void Load::ScheduleRoster() {
  const v1::Scenario& p = s_.proto;
  const absl::CivilDay first = absl::ToCivilDay(s_.start, s_.zone);
  const absl::CivilDay last =
      absl::ToCivilDay(s_.start + s_.duration.value_or(absl::Hours(24)) + s_.drain_max, s_.zone);
  auto local = [&](absl::CivilDay day, int minute) {
    return absl::FromCivil(absl::CivilMinute(day) + minute, s_.zone);
  };
  for (int a = 0; a < static_cast<int>(desks_.size()); ++a) {
    const v1::AgentGroup& g = p.roster(desks_[a]->group);
    if (!g.has_shift()) Schedule(WallOf(s_.start), Action::Kind::kShiftStart, -1, a);
    for (absl::CivilDay day = first; day <= last; ++day) {
      if (g.has_shift()) {
        int from = 0, to = 0;
        ParseTimeOfDay(g.shift().from(), &from);
        ParseTimeOfDay(g.shift().to(), &to);
        const absl::Time start = local(day, from), end = local(day, to);
        if (end <= s_.start) continue;
        Schedule(WallOf(std::max(start, s_.start)), Action::Kind::kShiftStart, -1, a);
        Schedule(WallOf(end), Action::Kind::kShiftEnd, -1, a);
      }
      for (int b = 0; b < g.breaks_size(); ++b) {
        int from = 0;
        ParseTimeOfDay(g.breaks(b).from(), &from);
        const absl::Time start = local(day, from) + absl::Minutes(g.breaks(b).stagger_minutes()) *
                                                        desks_[a]->index_in_group;
        const absl::Time end = start + absl::Minutes(g.breaks(b).minutes());
        if (end <= s_.start) continue;
        Schedule(WallOf(std::max(start, s_.start)), Action::Kind::kBreakStart, -1, a, b);
        Schedule(WallOf(end), Action::Kind::kBreakEnd, -1, a);
      }
    }
  }
}

absl::Status Load::SetState(int agent, v1::AgentState state, const std::string& reason) {
  Desk& d = *desks_[agent];
  v1::SetStateRequest request;
  request.set_agent_id(d.id);
  request.set_state(state);
  request.set_reason(reason);
  v1::AgentStatus response;
  grpc::Status st = Call("AgentDesk.SetState", [&](grpc::ClientContext* c) {
    return d.stub->SetState(c, request, &response);
  });
  if (!st.ok()) return Failed(absl::StrCat("SetState(", d.id, ")"), st);
  return absl::OkStatus();
}

absl::Status Load::Login(int agent) {
  Desk& d = *desks_[agent];
  const v1::AgentGroup& g = s_.proto.roster(d.group);
  v1::LoginRequest request;
  request.set_agent_id(d.id);
  for (const v1::AgentSkill& skill : g.skills()) {
    v1::AgentSkill* s = request.add_skills();
    *s = skill;
    if (s->level() == 0) s->set_level(1);
  }
  for (const v1::ChannelCapacity& c : g.capacities()) *request.add_capacities() = c;
  v1::AgentStatus response;
  grpc::Status st = Call("AgentDesk.Login", [&](grpc::ClientContext* c) {
    return d.stub->Login(c, request, &response);
  });
  if (st.error_code() == grpc::StatusCode::ALREADY_EXISTS) {
    // Left over from an earlier run that did not end cleanly: start again.
    if (absl::Status s = Logout(agent); !s.ok()) return s;
    st = Call("AgentDesk.Login",
              [&](grpc::ClientContext* c) { return d.stub->Login(c, request, &response); });
  }
  if (!st.ok()) return Failed(absl::StrCat("Login(", d.id, ")"), st);
  d.logged_in = true;
  return absl::OkStatus();
}

absl::Status Load::Logout(int agent) {
  Desk& d = *desks_[agent];
  v1::AgentRequest request;
  request.set_agent_id(d.id);
  v1::AgentStatus response;
  grpc::Status st = Call("AgentDesk.Logout", [&](grpc::ClientContext* c) {
    return d.stub->Logout(c, request, &response);
  });
  if (!st.ok()) return Failed(absl::StrCat("Logout(", d.id, ")"), st);
  d.logged_in = false;
  return absl::OkStatus();
}

absl::Status Load::Arrive(int planned) {
  const int stream = plan_[planned].stream;
  const v1::ArrivalStream& a = s_.proto.arrivals(stream);
  Random& random = *contact_random_[stream];
  LiveContact c;
  c.id = absl::StrCat(prefix_, "-", planned);
  c.stream = stream;
  c.arrived = Clock::now();
  c.handle_seconds = DrawSeconds(a.handle_time(), random);
  if (a.has_patience()) c.patience_seconds = DrawSeconds(a.patience(), random);
  const double language_draw = random.NextDouble();
  const double callback_draw = random.NextDouble();  // as acd-sim run draws it

  v1::EnqueueContactRequest request;
  request.set_contact_id(c.id);
  request.set_queue(a.queue());
  request.set_channel(a.channel() == v1::CHANNEL_UNSPECIFIED ? v1::VOICE : a.channel());
  if (a.priority() != 0) request.set_priority(a.priority());  // unset: the queue's default
  double cumulative = 0;
  for (const v1::LanguageShare& l : a.languages_size() > 0 ? a.languages() : s_.proto.languages()) {
    cumulative += l.share();
    if (language_draw < cumulative) {
      request.set_language(l.skill());
      break;
    }
  }
  v1::ContactStatus response;
  grpc::Status st = Call("Gateway.EnqueueContact", [&](grpc::ClientContext* ctx) {
    return gateway_->EnqueueContact(ctx, request, &response);
  });
  if (st.error_code() == grpc::StatusCode::FAILED_PRECONDITION ||
      st.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
    ++result_.refused;
    ++(st.error_code() == grpc::StatusCode::FAILED_PRECONDITION ? result_.refused_closed
                                                                : result_.refused_full);
    return absl::OkStatus();
  }
  if (!st.ok()) return Failed(absl::StrCat("EnqueueContact(", c.id, ")"), st);
  ++result_.offered;
  ++waiting_;
  const int64_t index = static_cast<int64_t>(contacts_.size());
  contact_index_[c.id] = index;
  // A closed queue may take a voice caller as a CALLBACK; a waiting one offered a callback
  // (the queue's EWT threshold) takes it with the scenario's share, as in acd-sim run.
  // Either way nobody is on the line to hang up.
  bool callback = response.channel() == v1::CALLBACK;
  if (!callback && response.state() == v1::WAITING && response.callback_offered() &&
      callback_draw < a.callback_accept_share()) {
    v1::RequestCallbackRequest ask;
    ask.set_contact_id(c.id);
    v1::ContactStatus taken;
    const grpc::Status cb = Call("Gateway.RequestCallback", [&](grpc::ClientContext* ctx) {
      return gateway_->RequestCallback(ctx, ask, &taken);
    });
    // FAILED_PRECONDITION: an agent was offered the call meanwhile (the server decides in
    // real time), so the caller stays on the line.
    if (!cb.ok() && cb.error_code() != grpc::StatusCode::FAILED_PRECONDITION) {
      return Failed(absl::StrCat("RequestCallback(", c.id, ")"), cb);
    }
    callback = cb.ok();
  }
  if (callback) ++result_.callbacks;
  if (c.patience_seconds.has_value() && !callback) {
    Schedule(c.arrived + Scaled(*c.patience_seconds), Action::Kind::kPatienceEnds, index);
  }
  contacts_.push_back(std::move(c));
  return absl::OkStatus();
}

absl::Status Load::HandleUpdate(const DeskUpdate& u) {
  Desk& d = *desks_[u.agent];
  switch (u.kind) {
    case DeskUpdate::Kind::kOffer: {
      auto it = contact_index_.find(u.contact_id);
      if (it == contact_index_.end()) return absl::OkStatus();  // not ours
      LiveContact& c = contacts_[it->second];
      if (c.state != LiveContact::State::kWaiting) return absl::OkStatus();
      if (d.random->NextDouble() < d.behaviour->miss_offer_probability()) {
        ++result_.missed_offers;
        return absl::OkStatus();
      }
      const double delay = d.behaviour->has_time_to_accept()
                               ? DrawSeconds(d.behaviour->time_to_accept(), *d.random)
                               : 0;
      Schedule(Clock::now() + Scaled(delay), Action::Kind::kAccept, it->second, u.agent);
      return absl::OkStatus();
    }
    case DeskUpdate::Kind::kStatus:
      if (u.state == v1::NOT_READY && u.reason == "RONA") {
        const double after = d.behaviour->ready_again_after_rona_seconds() == 0
                                 ? 30
                                 : d.behaviour->ready_again_after_rona_seconds();
        Schedule(Clock::now() + Scaled(after), Action::Kind::kReadyAgain, -1, u.agent);
      }
      return absl::OkStatus();
    case DeskUpdate::Kind::kStreamEnded:
      return absl::UnavailableError(absl::StrCat("the offer stream of ", d.id, " ended"));
  }
  return absl::OkStatus();
}

absl::Status Load::Handle(const Action& a) {
  using Kind = Action::Kind;
  switch (a.kind) {
    case Kind::kArrival:
      --arrivals_left_;
      return Arrive(a.index);
    case Kind::kPatienceEnds: {
      LiveContact& c = contacts_[a.contact];
      if (c.state != LiveContact::State::kWaiting) return absl::OkStatus();
      v1::CancelContactRequest request;
      request.set_contact_id(c.id);
      request.set_reason("CALLER_HANGUP");
      v1::ContactStatus response;
      grpc::Status st = Call("Gateway.CancelContact", [&](grpc::ClientContext* ctx) {
        return gateway_->CancelContact(ctx, request, &response);
      });
      --waiting_;
      if (st.ok()) {
        c.state = LiveContact::State::kAbandoned;
        ++result_.abandoned;
      } else if (st.error_code() == grpc::StatusCode::FAILED_PRECONDITION ||
                 st.error_code() == grpc::StatusCode::NOT_FOUND) {
        c.state = LiveContact::State::kLeft;  // the server ended it (e.g. max wait)
      } else {
        return Failed(absl::StrCat("CancelContact(", c.id, ")"), st);
      }
      return absl::OkStatus();
    }
    case Kind::kAccept: {
      LiveContact& c = contacts_[a.contact];
      Desk& d = *desks_[a.agent];
      if (c.state != LiveContact::State::kWaiting || !d.logged_in) return absl::OkStatus();
      v1::OfferRequest request;
      request.set_agent_id(d.id);
      request.set_contact_id(c.id);
      v1::AgentStatus response;
      grpc::Status st = Call("AgentDesk.AcceptOffer", [&](grpc::ClientContext* ctx) {
        return d.stub->AcceptOffer(ctx, request, &response);
      });
      if (st.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
        ++result_.late_accepts;  // timed out or withdrawn meanwhile
        return absl::OkStatus();
      }
      if (!st.ok()) return Failed(absl::StrCat("AcceptOffer(", c.id, ")"), st);
      c.state = LiveContact::State::kAnswered;
      c.agent = a.agent;
      --waiting_;
      ++connected_;
      ++d.connected;
      ++result_.answered;
      const double waited =
          std::chrono::duration<double>(Clock::now() - c.arrived).count() * o_.speed;
      answered_wait_seconds_ += waited;
      const std::string& queue = s_.proto.arrivals(c.stream).queue();
      for (const core::QueueConfig& q : s_.rules.queues) {
        if (q.name == queue && waited <= absl::ToDoubleSeconds(q.service_level_threshold)) {
          ++result_.answered_within_threshold;
        }
      }
      Schedule(Clock::now() + Scaled(c.handle_seconds), Kind::kComplete, a.contact, a.agent);
      return absl::OkStatus();
    }
    case Kind::kComplete: {
      LiveContact& c = contacts_[a.contact];
      Desk& d = *desks_[a.agent];
      v1::OfferRequest request;
      request.set_agent_id(d.id);
      request.set_contact_id(c.id);
      v1::AgentStatus response;
      grpc::Status st = Call("AgentDesk.CompleteContact", [&](grpc::ClientContext* ctx) {
        return d.stub->CompleteContact(ctx, request, &response);
      });
      if (!st.ok()) return Failed(absl::StrCat("CompleteContact(", c.id, ")"), st);
      --connected_;
      --d.connected;
      ++result_.handled;
      // A server clock slower than the load's ends wrap-ups late (at real time, X times
      // late): the agent ends wrap-up itself after the queue's wrap-up time / X, so wrap-up
      // keeps its scenario length.
      if (o_.speed > result_.server_clock_speed) {
        const std::string& queue = s_.proto.arrivals(c.stream).queue();
        for (const core::QueueConfig& q : s_.rules.queues) {
          if (q.name == queue && q.wrap_up > absl::ZeroDuration()) {
            Schedule(Clock::now() + Scaled(absl::ToDoubleSeconds(q.wrap_up)), Kind::kEndWrapUp, -1,
                     a.agent);
          }
        }
      }
      if (d.leaving && d.connected == 0) {
        d.leaving = false;
        return Logout(a.agent);
      }
      return absl::OkStatus();
    }
    case Kind::kEndWrapUp: {
      Desk& d = *desks_[a.agent];
      if (!d.logged_in) return absl::OkStatus();
      v1::AgentRequest request;
      request.set_agent_id(d.id);
      v1::AgentStatus response;
      grpc::Status st = Call("AgentDesk.EndWrapUp", [&](grpc::ClientContext* ctx) {
        return d.stub->EndWrapUp(ctx, request, &response);
      });
      // FAILED_PRECONDITION: the wrap-up has already ended (timer, or another contact's).
      if (!st.ok() && st.error_code() != grpc::StatusCode::FAILED_PRECONDITION) {
        return Failed(absl::StrCat("EndWrapUp(", d.id, ")"), st);
      }
      return absl::OkStatus();
    }
    case Kind::kShiftStart: {
      Desk& d = *desks_[a.agent];
      d.on_shift = true;
      d.leaving = false;
      if (!d.logged_in) {
        if (absl::Status s = Login(a.agent); !s.ok()) return s;
      }
      if (d.on_break) return absl::OkStatus();
      return SetState(a.agent, v1::READY, "");
    }
    case Kind::kShiftEnd: {
      Desk& d = *desks_[a.agent];
      d.on_shift = false;
      if (!d.logged_in) return absl::OkStatus();
      if (d.connected > 0) {
        d.leaving = true;
        return SetState(
            a.agent, v1::NOT_READY,
            s_.proto.end_of_shift_reason().empty() ? "BREAK" : s_.proto.end_of_shift_reason());
      }
      return Logout(a.agent);
    }
    case Kind::kBreakStart: {
      Desk& d = *desks_[a.agent];
      if (!d.logged_in || d.leaving) return absl::OkStatus();
      d.on_break = true;
      const std::string& reason = s_.proto.roster(d.group).breaks(a.index).reason();
      return SetState(a.agent, v1::NOT_READY, reason.empty() ? "BREAK" : reason);
    }
    case Kind::kBreakEnd:
    case Kind::kReadyAgain: {
      Desk& d = *desks_[a.agent];
      if (a.kind == Kind::kBreakEnd) d.on_break = false;
      if (!d.logged_in || !d.on_shift || d.on_break || d.leaving) return absl::OkStatus();
      return SetState(a.agent, v1::READY, "");
    }
  }
  return absl::OkStatus();
}

absl::Status Load::ReadServer(int64_t* offered, int64_t* answered, int64_t* abandoned, int* waiting,
                              v1::Snapshot* read) {
  v1::SnapshotRequest request;
  v1::Snapshot snapshot;
  grpc::Status st = Call("Supervisor.GetSnapshot", [&](grpc::ClientContext* ctx) {
    return supervisor_->GetSnapshot(ctx, request, &snapshot);
  });
  if (!st.ok()) return Failed("GetSnapshot", st);
  *offered = *answered = *abandoned = 0;
  *waiting = 0;
  for (const v1::QueueStats& q : snapshot.queues()) {
    // A queue counts as offered every contact that entered it, from another queue too (an
    // overflow, a transfer): the contacts that arrived are those less the ones that moved on.
    *offered += q.since_start().offered() - q.since_start().overflowed() -
                q.since_start().transferred_out();
    *answered += q.since_start().answered();
    *abandoned += q.since_start().abandoned();
    *waiting += q.waiting() + q.in_offer();
  }
  if (read != nullptr) *read = std::move(snapshot);
  return absl::OkStatus();
}

void Load::NoteServerClock(const v1::Snapshot& snapshot, Clock::time_point read_from,
                           Clock::time_point read_to) {
  // A server before Snapshot.clock_speed says 0: it ran the wall clock.
  const double speed = snapshot.clock_speed() > 0 ? snapshot.clock_speed() : 1;
  const absl::Time read = server::FromProto(snapshot.time());
  // The reading was taken about half-way through the call; the server's clock has run on
  // at its speed from then until the scenario began.
  const Clock::time_point read_at = read_from + (read_to - read_from) / 2;
  const absl::Time at_start = read + absl::FromChrono(wall_start_ - read_at) * speed;
  result_.server_clock_speed = speed;
  result_.server_clock_at_start = at_start;
  result_.server_clock_offset_seconds = absl::ToDoubleSeconds(at_start - s_.start);
  result_.server_clock_in_step =
      std::abs(speed - o_.speed) <= 1e-9 * o_.speed &&
      absl::AbsDuration(at_start - s_.start) <= LoadResult::kClockTolerance;
}

void Load::Progress() {
  std::cerr << absl::StrFormat(
      "acd-sim load: %s  offered %d  answered %d  abandoned %d  waiting %d  talking %d\n",
      absl::FormatTime(
          "%H:%M",
          s_.start +
              absl::Seconds(std::chrono::duration<double>(Clock::now() - wall_start_).count() *
                            o_.speed),
          s_.zone),
      result_.offered, result_.answered, result_.abandoned, waiting_, connected_);
}

// Stops the agents taking new work, reads the server's counters, then cleans up: cancels
// whoever still waits, completes whoever still talks, logs everybody out.
absl::Status Load::Finish(LoadResult* r) {
  for (size_t a = 0; a < desks_.size(); ++a) {
    if (desks_[a]->logged_in) {
      if (absl::Status s = SetState(
              static_cast<int>(a), v1::NOT_READY,
              s_.proto.end_of_shift_reason().empty() ? "BREAK" : s_.proto.end_of_shift_reason());
          !s.ok()) {
        return s;
      }
    }
  }
  r->waiting_at_end = waiting_;
  int64_t offered = 0, answered = 0, abandoned = 0;
  int waiting = 0;
  if (absl::Status s = ReadServer(&offered, &answered, &abandoned, &waiting); !s.ok()) return s;
  r->server_offered = offered - r->server_offered;
  r->server_answered = answered - r->server_answered;
  r->server_abandoned = abandoned - r->server_abandoned;
  r->server_waiting_at_end = waiting;

  for (LiveContact& c : contacts_) {
    if (c.state == LiveContact::State::kWaiting) {
      v1::CancelContactRequest request;
      request.set_contact_id(c.id);
      request.set_reason("LOAD_ENDED");
      v1::ContactStatus response;
      Call("Gateway.CancelContact", [&](grpc::ClientContext* ctx) {
        return gateway_->CancelContact(ctx, request, &response);
      });
    }
  }
  while (!actions_.empty()) {
    const Action a = actions_.top();
    actions_.pop();
    if (a.kind == Action::Kind::kComplete) {
      if (absl::Status s = Handle(a); !s.ok()) return s;
    }
  }
  for (size_t a = 0; a < desks_.size(); ++a) {
    if (desks_[a]->logged_in) {
      if (absl::Status s = Logout(static_cast<int>(a)); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<LoadResult> Load::Run() {
  if (!(o_.speed > 0)) return absl::InvalidArgumentError("--speed must be > 0");
  prefix_ =
      o_.id_prefix.empty() ? absl::StrCat("load", absl::ToUnixMillis(absl::Now())) : o_.id_prefix;
  gateway_channel_ = grpc::CreateChannel(o_.target, grpc::InsecureChannelCredentials());
  if (!gateway_channel_->WaitForConnected(std::chrono::system_clock::now() +
                                          std::chrono::seconds(10))) {
    return absl::UnavailableError(absl::StrCat("cannot connect to ", o_.target));
  }
  gateway_ = v1::Gateway::NewStub(gateway_channel_);
  supervisor_ = v1::Supervisor::NewStub(gateway_channel_);
  v1::Snapshot server_clock;
  const Clock::time_point clock_read_from = Clock::now();
  {
    int waiting = 0;
    if (absl::Status s = ReadServer(&result_.server_offered, &result_.server_answered,
                                    &result_.server_abandoned, &waiting, &server_clock);
        !s.ok()) {
      return s;
    }
  }
  const Clock::time_point clock_read_to = Clock::now();

  Random root(s_.proto.seed());
  Random stream_root(root.Next());
  for (int i = 0; i < s_.proto.arrivals_size(); ++i) {
    stream_root.Next();
    contact_random_.push_back(std::make_unique<Random>(stream_root.Next()));
  }
  plan_ = PlanArrivals(s_);
  arrivals_left_ = static_cast<int64_t>(plan_.size());
  contacts_.reserve(plan_.size());

  absl::Status status = OpenDesks();
  const Clock::time_point run_start = Clock::now();
  wall_start_ = run_start;
  NoteServerClock(server_clock, clock_read_from, clock_read_to);
  if (!result_.server_clock_in_step) {  // said at once too: the whole run is affected
    std::cerr << "acd-sim load: " << ServerClockLine(s_, o_, result_) << "\n";
  }
  if (status.ok()) {
    ScheduleRoster();
    for (size_t i = 0; i < plan_.size(); ++i) {
      Schedule(WallOf(plan_[i].at), Action::Kind::kArrival, -1, -1, static_cast<int>(i));
    }
    const Clock::time_point arrivals_end =
        WallOf(s_.duration.has_value() ? s_.start + *s_.duration
                                       : (plan_.empty() ? s_.start : plan_.back().at));
    const Clock::time_point drain_end =
        arrivals_end + std::chrono::duration_cast<Clock::duration>(
                           std::chrono::duration<double>(o_.drain_seconds_max));
    Clock::time_point next_progress =
        run_start + std::chrono::duration_cast<Clock::duration>(
                        std::chrono::duration<double>(o_.progress_seconds));
    while (status.ok()) {
      const Clock::time_point now = Clock::now();
      if (o_.stop != nullptr && o_.stop->load()) break;
      if (arrivals_left_ == 0 && now >= arrivals_end &&
          ((waiting_ == 0 && connected_ == 0) || now >= drain_end)) {
        break;
      }
      Clock::time_point wake =
          actions_.empty() ? now + std::chrono::milliseconds(100) : actions_.top().at;
      if (o_.progress_seconds > 0) wake = std::min(wake, next_progress);
      wake =
          std::min({wake, std::max(arrivals_end, drain_end), now + std::chrono::milliseconds(200)});
      for (const DeskUpdate& u : inbox_.TakeAll(wake)) {
        status.Update(HandleUpdate(u));
      }
      while (status.ok() && !actions_.empty() && actions_.top().at <= Clock::now()) {
        const Action a = actions_.top();
        actions_.pop();
        status.Update(Handle(a));
      }
      if (o_.progress_seconds > 0 && Clock::now() >= next_progress) {
        Progress();
        next_progress += std::chrono::duration_cast<Clock::duration>(
            std::chrono::duration<double>(o_.progress_seconds));
      }
    }
  }
  LoadResult& r = result_;
  if (status.ok()) status = Finish(&r);
  r.wall_seconds = std::chrono::duration<double>(Clock::now() - run_start).count();
  for (auto& d : desks_) d->watch_context.TryCancel();
  for (auto& d : desks_) {
    if (d->reader.joinable()) d->reader.join();
  }
  if (!status.ok()) return status;
  if (r.offered > 0) {
    r.service_level = static_cast<double>(r.answered_within_threshold) / r.offered;
    r.abandon_rate = static_cast<double>(r.abandoned) / r.offered;
  }
  r.asa_seconds = r.answered > 0 ? answered_wait_seconds_ / r.answered : 0;
  r.rpcs = latencies_.Summaries();
  return r;
}

}  // namespace

absl::StatusOr<LoadResult> RunLoad(const Scenario& scenario, const LoadOptions& options) {
  Load load(scenario, options);
  return load.Run();
}

nlohmann::ordered_json LoadResultToJson(const Scenario& scenario, const LoadOptions& options,
                                        const LoadResult& r) {
  nlohmann::ordered_json j;
  j["scenario"] = scenario.proto.name();
  j["target"] = options.target;
  j["speed"] = options.speed;
  j["offered"] = r.offered;
  j["answered"] = r.answered;
  j["abandoned"] = r.abandoned;
  j["waiting_at_end"] = r.waiting_at_end;
  j["refused"] = r.refused;
  j["refused_closed"] = r.refused_closed;
  j["refused_full"] = r.refused_full;
  j["callbacks"] = r.callbacks;
  j["handled"] = r.handled;
  j["service_level"] = r.service_level;
  j["asa_s"] = r.asa_seconds;
  j["abandon_rate"] = r.abandon_rate;
  j["missed_offers"] = r.missed_offers;
  j["late_accepts"] = r.late_accepts;
  j["server"] = {{"offered", r.server_offered},
                 {"answered", r.server_answered},
                 {"abandoned", r.server_abandoned},
                 {"waiting_at_end", r.server_waiting_at_end},
                 {"clock_speed", r.server_clock_speed},
                 {"clock_at_start",
                  absl::FormatTime(absl::RFC3339_sec, r.server_clock_at_start, scenario.zone)},
                 {"clock_offset_s", r.server_clock_offset_seconds},
                 {"clock_in_step", r.server_clock_in_step}};
  j["wall_s"] = r.wall_seconds;
  nlohmann::ordered_json rpcs = nlohmann::ordered_json::array();
  for (const RpcLatency& l : r.rpcs) {
    rpcs.push_back({{"method", l.method},
                    {"calls", l.calls},
                    {"errors", l.errors},
                    {"p50_ms", l.p50_ms},
                    {"p90_ms", l.p90_ms},
                    {"p99_ms", l.p99_ms},
                    {"max_ms", l.max_ms}});
  }
  j["rpcs"] = std::move(rpcs);
  return j;
}

std::string LoadResultToText(const Scenario& scenario, const LoadOptions& options,
                             const LoadResult& r) {
  std::string out;
  absl::StrAppendFormat(&out, "scenario %s against %s at %gx, %.1f s wall\n", scenario.proto.name(),
                        options.target, options.speed, r.wall_seconds);
  absl::StrAppendFormat(&out,
                        "offered %d  answered %d  abandoned %d  waiting at end %d  refused %d "
                        "(closed %d, full %d)  callbacks %d\n",
                        r.offered, r.answered, r.abandoned, r.waiting_at_end, r.refused,
                        r.refused_closed, r.refused_full, r.callbacks);
  absl::StrAppendFormat(&out,
                        "service level %.1f%%  ASA %.1f s  abandon rate %.1f%%  missed offers "
                        "%d  late accepts %d\n",
                        100 * r.service_level, r.asa_seconds, 100 * r.abandon_rate, r.missed_offers,
                        r.late_accepts);
  absl::StrAppendFormat(&out, "server counted: offered %d  answered %d  abandoned %d  waiting %d\n",
                        r.server_offered, r.server_answered, r.server_abandoned,
                        r.server_waiting_at_end);
  absl::StrAppendFormat(&out, "%s\n", ServerClockLine(scenario, options, r));
  absl::StrAppendFormat(&out, "%-26s %7s %6s %8s %8s %8s %8s\n", "RPC", "calls", "errors", "p50 ms",
                        "p90 ms", "p99 ms", "max ms");
  for (const RpcLatency& l : r.rpcs) {
    absl::StrAppendFormat(&out, "%-26s %7d %6d %8.2f %8.2f %8.2f %8.2f\n", l.method, l.calls,
                          l.errors, l.p50_ms, l.p90_ms, l.p99_ms, l.max_ms);
  }
  return out;
}

}  // namespace acd::sim
