// Integration tests: the real acdd on port 0, driven through the generated C++ client.
// Waiting is always bounded by a gRPC deadline; nothing asserts on timing.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <future>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "acd/v1/admin.grpc.pb.h"
#include "acd/v1/agent_desk.grpc.pb.h"
#include "acd/v1/gateway.grpc.pb.h"
#include "acd/v1/supervisor.grpc.pb.h"
#include "engine/server/timestamp.h"
#include "tests/server/acdd_process.h"

namespace acd::testing {
namespace {

using grpc::StatusCode;

constexpr auto kCallDeadline = std::chrono::seconds(10);

// Blocking clients with no call in progress read their connection only from gRPC's backup
// poller (every 5 s by default), so they would answer a shutting-down server's GOAWAY ping
// late and stretch each shutdown test to the server's grace period. Poll often instead.
const bool kFastBackupPoll = [] {
  setenv("GRPC_CLIENT_CHANNEL_BACKUP_POLL_INTERVAL_MS", "50", /*overwrite=*/0);
  return true;
}();

std::chrono::system_clock::time_point Deadline() {
  return std::chrono::system_clock::now() + kCallDeadline;
}

// Stubs for every service on one channel. Channels with `own_connection` never share a
// TCP connection with other channels (gRPC pools subchannels with equal arguments).
struct Api {
  explicit Api(const std::string& target, grpc::ChannelArguments args = {},
               bool own_connection = true) {
    if (own_connection) args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    channel = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
    gateway = v1::Gateway::NewStub(channel);
    desk = v1::AgentDesk::NewStub(channel);
    supervisor = v1::Supervisor::NewStub(channel);
    admin = v1::Admin::NewStub(channel);
  }

  grpc::Status Enqueue(const std::string& id, v1::Channel ch = v1::VOICE,
                       v1::ContactStatus* out = nullptr, const std::string& queue = "general") {
    v1::EnqueueContactRequest request;
    request.set_contact_id(id);
    request.set_queue(queue);
    request.set_channel(ch);
    return Enqueue(request, out);
  }
  grpc::Status Enqueue(const v1::EnqueueContactRequest& request, v1::ContactStatus* out = nullptr) {
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    v1::ContactStatus reply;
    return gateway->EnqueueContact(&context, request, out ? out : &reply);
  }
  grpc::Status GetContact(const std::string& id, v1::ContactStatus* out) {
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    v1::GetContactRequest request;
    request.set_contact_id(id);
    return gateway->GetContact(&context, request, out);
  }
  grpc::Status Cancel(const std::string& id) {
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    v1::CancelContactRequest request;
    request.set_contact_id(id);
    request.set_reason("CALLER_HANGUP");
    v1::ContactStatus reply;
    return gateway->CancelContact(&context, request, &reply);
  }
  grpc::Status Login(const std::string& agent, v1::AgentStatus* out = nullptr) {
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    v1::LoginRequest request;
    request.set_agent_id(agent);
    v1::AgentSkill* skill = request.add_skills();
    skill->set_skill("general");
    skill->set_level(5);
    v1::AgentStatus reply;
    return desk->Login(&context, request, out ? out : &reply);
  }
  grpc::Status Logout(const std::string& agent) {
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    v1::AgentRequest request;
    request.set_agent_id(agent);
    v1::AgentStatus reply;
    return desk->Logout(&context, request, &reply);
  }
  grpc::Status SetState(const std::string& agent, v1::AgentState state,
                        v1::AgentStatus* out = nullptr, const std::string& reason = "") {
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    v1::SetStateRequest request;
    request.set_agent_id(agent);
    request.set_state(state);
    request.set_reason(reason);
    v1::AgentStatus reply;
    return desk->SetState(&context, request, out ? out : &reply);
  }
  using OfferCall = grpc::Status (v1::AgentDesk::Stub::*)(grpc::ClientContext*,
                                                          const v1::OfferRequest&,
                                                          v1::AgentStatus*);
  grpc::Status Offer(OfferCall call, const std::string& agent, const std::string& contact,
                     v1::AgentStatus* out = nullptr) {
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    v1::OfferRequest request;
    request.set_agent_id(agent);
    request.set_contact_id(contact);
    v1::AgentStatus reply;
    return (desk.get()->*call)(&context, request, out ? out : &reply);
  }
  v1::Snapshot Snapshot() {
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    v1::Snapshot snapshot;
    grpc::Status status = supervisor->GetSnapshot(&context, v1::SnapshotRequest(), &snapshot);
    REQUIRE(status.error_message() == "");
    REQUIRE(status.ok());
    return snapshot;
  }

  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::Gateway::Stub> gateway;
  std::unique_ptr<v1::AgentDesk::Stub> desk;
  std::unique_ptr<v1::Supervisor::Stub> supervisor;
  std::unique_ptr<v1::Admin::Stub> admin;
};

const v1::QueueStats& General(const v1::Snapshot& s) {
  for (const v1::QueueStats& q : s.queues()) {
    if (q.queue() == "general") return q;
  }
  FAIL("no queue general in the snapshot");
  throw;
}

v1::GetRulesResponse GetRules(Api& api) {
  grpc::ClientContext context;
  context.set_deadline(Deadline());
  v1::GetRulesResponse rules;
  grpc::Status status = api.admin->GetRules(&context, v1::GetRulesRequest(), &rules);
  REQUIRE(status.ok());
  return rules;
}

// Reads a WatchEvents stream an event at a time, across the batches (EventBatch) it comes
// in.
class EventReader {
 public:
  explicit EventReader(std::unique_ptr<grpc::ClientReader<v1::EventBatch>> reader)
      : reader_(std::move(reader)) {}
  bool Read(v1::Event* event) {
    while (next_ == batch_.events_size()) {
      if (!reader_->Read(&batch_)) return false;
      next_ = 0;
    }
    *event = batch_.events(next_++);
    return true;
  }
  grpc::Status Finish() { return reader_->Finish(); }

 private:
  std::unique_ptr<grpc::ClientReader<v1::EventBatch>> reader_;
  v1::EventBatch batch_;
  int next_ = 0;
};

std::unique_ptr<EventReader> WatchEvents(v1::Supervisor::Stub& supervisor,
                                         grpc::ClientContext* context,
                                         const v1::WatchEventsRequest& request) {
  return std::make_unique<EventReader>(supervisor.WatchEvents(context, request));
}

// A wallboard on its own thread: watches the event stream from after `start` and, when
// acdd cuts it off for falling behind (RESOURCE_EXHAUSTED), resumes after the last event
// it saw, as a real one would, until it has seen the sequence given to StopAt or the
// deadline passes. Notes any gap: an event, a snapshot aside, that is not the last one's
// successor.
class ResumingWallboard {
 public:
  ResumingWallboard(v1::Supervisor::Stub& supervisor, uint64_t start)
      : last_(start), thread_([this, &supervisor, start] { Watch(supervisor, start); }) {}
  // A test that failed half-way: stop watching at once.
  ~ResumingWallboard() {
    if (!thread_.joinable()) return;
    StopAt(0);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (context_ != nullptr) context_->TryCancel();
    }
    thread_.join();
  }
  // Stop once `sequence` has been seen. Then make one more event happen (it may be
  // waiting for the next one) and Join.
  void StopAt(uint64_t sequence) { target_ = sequence; }
  void Join() { thread_.join(); }
  uint64_t last() const { return last_.load(); }
  bool gap_free() const { return gap_free_.load(); }
  int resumes() const { return resumes_.load(); }

 private:
  void Watch(v1::Supervisor::Stub& supervisor, uint64_t last) {
    const auto deadline = Deadline();
    while (last < target_.load() && std::chrono::system_clock::now() < deadline) {
      grpc::ClientContext context;
      context.set_deadline(deadline);
      v1::WatchEventsRequest request;
      request.set_after_sequence(last);
      {
        std::lock_guard<std::mutex> lock(mu_);
        context_ = &context;
      }
      auto reader = WatchEvents(supervisor, &context, request);
      v1::Event e;
      while (last < target_.load() && reader->Read(&e)) {
        // Resuming "after 0" (nothing happened before the first snapshot) is a new snapshot.
        if (e.type() != v1::SNAPSHOT && e.sequence() != last + 1) gap_free_ = false;
        last = e.sequence();
        last_ = last;
      }
      context.TryCancel();
      if (reader->Finish().error_code() == StatusCode::RESOURCE_EXHAUSTED) ++resumes_;
      std::lock_guard<std::mutex> lock(mu_);
      context_ = nullptr;
    }
  }

  std::atomic<uint64_t> last_;
  std::atomic<uint64_t> target_{std::numeric_limits<uint64_t>::max()};
  std::atomic<bool> gap_free_{true};
  std::atomic<int> resumes_{0};
  std::mutex mu_;
  grpc::ClientContext* context_ = nullptr;  // the stream being read; guarded by mu_
  std::thread thread_;  // last: starts once the fields above are set
};

// Reads stream messages until `match` or the stream ends; the context's deadline bounds it.
template <class Reader, class Msg, class Match>
bool ReadUntil(Reader* reader, Msg* msg, Match match) {
  while (reader->Read(msg)) {
    if (match(*msg)) return true;
  }
  return false;
}

TEST_CASE("a call flows from enqueue to answered with the offer on WatchOffers", "[server]") {
  AcddProcess acdd;
  Api api(acdd.target());

  v1::AgentStatus agent;
  REQUIRE(api.Login("psr-1", &agent).ok());
  CHECK(agent.state() == v1::NOT_READY);

  grpc::ClientContext watch;
  watch.set_deadline(Deadline());
  v1::AgentRequest who;
  who.set_agent_id("psr-1");
  auto offers = api.desk->WatchOffers(&watch, who);
  v1::AgentUpdate update;
  REQUIRE(offers->Read(&update));
  REQUIRE(update.has_status());
  CHECK(update.status().state() == v1::NOT_READY);

  REQUIRE(api.SetState("psr-1", v1::READY, &agent).ok());
  CHECK(agent.state() == v1::READY);

  v1::EnqueueContactRequest request;
  request.set_contact_id("call-1");
  request.set_queue("general");
  request.set_channel(v1::VOICE);
  (*request.mutable_attributes())["reason"] = "appointment";
  v1::ContactStatus contact;
  REQUIRE(api.Enqueue(request, &contact).ok());
  CHECK(contact.contact_id() == "call-1");
  CHECK(contact.queue() == "general");

  REQUIRE(ReadUntil(offers.get(), &update, [](const v1::AgentUpdate& u) { return u.has_offer(); }));
  CHECK(update.offer().contact_id() == "call-1");
  CHECK(update.offer().queue() == "general");
  CHECK(update.offer().channel() == v1::VOICE);
  CHECK(update.offer().attributes().at("reason") == "appointment");
  CHECK(update.offer().expires_in_seconds() > 0);

  REQUIRE(api.GetContact("call-1", &contact).ok());
  CHECK(contact.state() == v1::OFFERED);
  CHECK(contact.agent_id() == "psr-1");

  REQUIRE(api.Offer(&v1::AgentDesk::Stub::AcceptOffer, "psr-1", "call-1", &agent).ok());
  CHECK(agent.state() == v1::BUSY);
  REQUIRE(api.GetContact("call-1", &contact).ok());
  CHECK(contact.state() == v1::CONNECTED);

  REQUIRE(api.Offer(&v1::AgentDesk::Stub::CompleteContact, "psr-1", "call-1", &agent).ok());
  CHECK(agent.state() == v1::WRAP_UP);
  REQUIRE(ReadUntil(offers.get(), &update, [](const v1::AgentUpdate& u) {
    return u.has_status() && u.status().state() == v1::WRAP_UP;
  }));

  {
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    REQUIRE(api.desk->EndWrapUp(&context, who, &agent).ok());
    CHECK(agent.state() == v1::READY);
  }
  REQUIRE(api.GetContact("call-1", &contact).ok());
  CHECK(contact.state() == v1::COMPLETED);

  const v1::Snapshot snapshot = api.Snapshot();
  const v1::QueueStats& general = General(snapshot);
  CHECK(general.offered() == 1);
  CHECK(general.answered() == 1);
  CHECK(general.waiting() == 0);
  CHECK(snapshot.agents_size() == 1);
  CHECK(snapshot.agents_ready() == 1);
  watch.TryCancel();
}

TEST_CASE("offers are withdrawn and rejected and supervisors force states", "[server]") {
  AcddProcess acdd;
  Api api(acdd.target());
  REQUIRE(api.Login("psr-1").ok());
  grpc::ClientContext watch;
  watch.set_deadline(Deadline());
  v1::AgentRequest who;
  who.set_agent_id("psr-1");
  auto offers = api.desk->WatchOffers(&watch, who);
  v1::AgentUpdate update;
  REQUIRE(offers->Read(&update));

  REQUIRE(api.SetState("psr-1", v1::READY).ok());
  REQUIRE(api.Enqueue("call-1").ok());
  REQUIRE(ReadUntil(offers.get(), &update, [](const v1::AgentUpdate& u) { return u.has_offer(); }));

  SECTION("going not ready withdraws the offer; accepting it then is FAILED_PRECONDITION") {
    REQUIRE(api.SetState("psr-1", v1::NOT_READY, nullptr, "BREAK").ok());
    REQUIRE(ReadUntil(offers.get(), &update,
                      [](const v1::AgentUpdate& u) { return u.has_offer_withdrawn(); }));
    CHECK(update.offer_withdrawn().contact_id() == "call-1");
    grpc::Status status = api.Offer(&v1::AgentDesk::Stub::AcceptOffer, "psr-1", "call-1");
    CHECK(status.error_code() == StatusCode::FAILED_PRECONDITION);
    v1::ContactStatus contact;
    REQUIRE(api.GetContact("call-1", &contact).ok());
    CHECK(contact.state() == v1::WAITING);
    CHECK(contact.position() == 1);
  }
  SECTION("a rejected offer goes back to the queue") {
    REQUIRE(api.Offer(&v1::AgentDesk::Stub::RejectOffer, "psr-1", "call-1").ok());
    REQUIRE(ReadUntil(offers.get(), &update,
                      [](const v1::AgentUpdate& u) { return u.has_offer_withdrawn(); }));
    CHECK(update.offer_withdrawn().reason() == "REJECTED");
    v1::ContactStatus contact;
    REQUIRE(api.GetContact("call-1", &contact).ok());
    CHECK(contact.state() == v1::WAITING);
  }
  SECTION("a supervisor forces the agent out; the desktop hears of it") {
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    v1::SetStateRequest force;
    force.set_agent_id("psr-1");
    force.set_state(v1::LOGGED_OUT);
    v1::AgentStatus agent;
    REQUIRE(api.supervisor->ForceAgentState(&context, force, &agent).ok());
    CHECK(agent.state() == v1::LOGGED_OUT);
    REQUIRE(ReadUntil(offers.get(), &update, [](const v1::AgentUpdate& u) {
      return u.has_status() && u.status().state() == v1::LOGGED_OUT;
    }));
    CHECK(api.Snapshot().agents_size() == 0);
  }
  watch.TryCancel();
}

TEST_CASE("concurrent gateways and desktops: every call answered and events gap-free", "[server]") {
  AcddProcess acdd;
  Api api(acdd.target());
  constexpr int kAgents = 4;
  constexpr int kCallsPerGateway = 40;
  constexpr int kGateways = 4;
  constexpr int kCalls = kCallsPerGateway * kGateways;

  // A wallboard checks that sequence numbers arrive in order without gaps. Under a burst
  // it may fall behind and be cut off (RESOURCE_EXHAUSTED); it then resumes from the last
  // event it saw, as a real one would.
  v1::Event first;
  {
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    auto reader = WatchEvents(*api.supervisor, &context, v1::WatchEventsRequest());
    REQUIRE(reader->Read(&first));
    context.TryCancel();
  }
  ResumingWallboard wallboard(*api.supervisor, first.sequence());

  // Desktops: each agent answers its offers until the test cancels its stream.
  std::atomic<int> answered{0};
  std::vector<std::unique_ptr<grpc::ClientContext>> desk_contexts;
  std::vector<std::thread> desktops;
  for (int a = 0; a < kAgents; ++a) {
    desk_contexts.push_back(std::make_unique<grpc::ClientContext>());
    desk_contexts.back()->set_deadline(Deadline());
    desktops.emplace_back([&, a, context = desk_contexts.back().get()] {
      Api desk(acdd.target());
      const std::string id = absl::StrCat("psr-", a);
      if (!desk.Login(id).ok()) return;
      v1::AgentRequest who;
      who.set_agent_id(id);
      auto offers = desk.desk->WatchOffers(context, who);
      if (!desk.SetState(id, v1::READY).ok()) return;
      v1::AgentUpdate update;
      while (offers->Read(&update)) {
        if (!update.has_offer()) continue;
        const std::string contact = update.offer().contact_id();
        if (!desk.Offer(&v1::AgentDesk::Stub::AcceptOffer, id, contact).ok()) continue;
        if (!desk.Offer(&v1::AgentDesk::Stub::CompleteContact, id, contact).ok()) continue;
        grpc::ClientContext end_context;
        end_context.set_deadline(Deadline());
        v1::AgentStatus status;
        if (desk.desk->EndWrapUp(&end_context, who, &status).ok()) ++answered;
      }
      (void)offers->Finish();
    });
  }
  std::vector<std::thread> gateways;
  std::atomic<int> enqueued{0};
  // Per gateway, how its enqueues went: shown if a check below fails (once, in a CI run
  // on a host overloaded by other work, one gateway's 40 calls all failed).
  std::vector<std::string> gateway_reports(kGateways);
  const auto started = std::chrono::steady_clock::now();
  const auto ms_since_start = [&started] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now() - started)
        .count();
  };
  for (int g = 0; g < kGateways; ++g) {
    gateways.emplace_back([&, g] {
      Api gateway(acdd.target());
      int failed = 0;
      std::string first_failure;
      for (int i = 0; i < kCallsPerGateway; ++i) {
        const grpc::Status status = gateway.Enqueue(absl::StrCat("gw", g, "-call-", i));
        if (status.ok()) {
          ++enqueued;
        } else if (failed++ == 0) {
          first_failure = absl::StrCat("; first failure: call ", i, " at ", ms_since_start(),
                                       " ms, code ", status.error_code(), " '",
                                       status.error_message(), "'");
        }
      }
      gateway_reports[g] = absl::StrCat("gateway ", g, ": ", kCallsPerGateway - failed, " of ",
                                        kCallsPerGateway, " enqueued, done at ",
                                        ms_since_start(), " ms", first_failure);
    });
  }
  for (std::thread& t : gateways) t.join();
  INFO(absl::StrJoin(gateway_reports, "\n"));  // for every check below
  // Wait (bounded by the streams' deadline) for the desktops to answer every call.
  const auto wait_until = desk_contexts.front()->deadline();
  while (answered.load() < kCalls && std::chrono::system_clock::now() < wait_until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  for (auto& context : desk_contexts) context->TryCancel();
  for (std::thread& t : desktops) t.join();
  CHECK(enqueued.load() == kCalls);
  CHECK(answered.load() == kCalls);

  const v1::Snapshot snapshot = api.Snapshot();
  CHECK(General(snapshot).answered() == kCalls);
  CHECK(General(snapshot).waiting() == 0);
  // The wallboard catches up with the snapshot's sequence. One more event wakes it if it
  // is already waiting for the next one.
  wallboard.StopAt(snapshot.sequence());
  REQUIRE(api.Enqueue("wake-up", v1::EMAIL).ok());
  wallboard.Join();
  CHECK(wallboard.last() >= snapshot.sequence());
  INFO("the wallboard resumed " << wallboard.resumes() << " times");
  CHECK(wallboard.gap_free());
}

TEST_CASE("priority is optional and a higher one waits ahead and EWT needs a ready agent",
          "[server]") {
  AcddProcess acdd;
  Api api(acdd.target());
  v1::ContactStatus normal;
  REQUIRE(api.Enqueue("normal", v1::VOICE, &normal).ok());
  CHECK(normal.priority() == 0);
  CHECK_FALSE(normal.has_ewt_seconds());
  v1::EnqueueContactRequest urgent;
  urgent.set_contact_id("urgent");
  urgent.set_queue("general");
  urgent.set_channel(v1::VOICE);
  urgent.set_priority(7);
  v1::ContactStatus status;
  REQUIRE(api.Enqueue(urgent, &status).ok());
  CHECK(status.priority() == 7);
  CHECK(status.position() == 1);
  REQUIRE(api.GetContact("normal", &status).ok());
  CHECK(status.position() == 2);
  // Once an agent who can serve them is ready, EWT is known (the agent takes "urgent").
  REQUIRE(api.Login("psr-1").ok());
  REQUIRE(api.SetState("psr-1", v1::READY).ok());
  REQUIRE(api.GetContact("urgent", &status).ok());
  CHECK(status.state() == v1::OFFERED);
  REQUIRE(api.GetContact("normal", &status).ok());
  CHECK(status.position() == 1);
  CHECK(status.has_ewt_seconds());
}

TEST_CASE("a waiting caller can ask for a callback", "[server]") {
  AcddProcess acdd;
  Api api(acdd.target());
  REQUIRE(api.Enqueue("call-1").ok());
  grpc::ClientContext context;
  context.set_deadline(Deadline());
  v1::RequestCallbackRequest request;
  request.set_contact_id("call-1");
  v1::ContactStatus contact;
  REQUIRE(api.gateway->RequestCallback(&context, request, &contact).ok());
  CHECK(contact.channel() == v1::CALLBACK);
  CHECK(contact.state() == v1::WAITING);
  CHECK(contact.position() == 1);
}

TEST_CASE("a full queue answers RESOURCE_EXHAUSTED", "[server]") {
  AcddProcess acdd;
  Api api(acdd.target());
  grpc::ClientContext rules_context;
  rules_context.set_deadline(Deadline());
  v1::GetRulesResponse rules;
  REQUIRE(api.admin->GetRules(&rules_context, v1::GetRulesRequest(), &rules).ok());
  const int max_length = rules.queues(0).max_length();
  REQUIRE(max_length <= 20'000);  // keeps this test to a few seconds
  for (int i = 0; i < max_length; ++i) {
    REQUIRE(api.Enqueue(absl::StrCat("email-", i), v1::EMAIL).ok());
  }
  grpc::Status status = api.Enqueue("one-too-many", v1::EMAIL);
  CHECK(status.error_code() == StatusCode::RESOURCE_EXHAUSTED);
  v1::ContactStatus contact;
  CHECK(api.GetContact("one-too-many", &contact).error_code() == StatusCode::NOT_FOUND);
  CHECK(General(api.Snapshot()).waiting() == max_length);
}

// Back-pressure: with at most one client command waiting for the core thread, enqueues sent
// in a burst are either done or refused UNAVAILABLE, saying to retry, and a refused one left
// no trace. Bursts are sent until one is refused: gRPC hands a burst's calls to acdd faster
// than the core thread runs them, so the first burst usually is.
TEST_CASE("commands beyond --max-pending-commands are UNAVAILABLE and change nothing",
          "[server]") {
  AcddProcess acdd({"--max-pending-commands", "1"});
  Api api(acdd.target());
  const int max_length = GetRules(api).queues(0).max_length();
  constexpr int kBurst = 100;  // the connection's stream limit
  constexpr int kMaxBursts = 20;
  struct Call {
    grpc::ClientContext context;
    v1::EnqueueContactRequest request;
    v1::ContactStatus reply;
    grpc::Status status;
  };
  std::vector<std::unique_ptr<Call>> calls;
  int refused = 0;
  for (int burst = 0; burst < kMaxBursts && refused == 0 &&
                      static_cast<int>(calls.size()) + kBurst <= max_length;
       ++burst) {
    const size_t first = calls.size();
    for (int i = 0; i < kBurst; ++i) {
      auto call = std::make_unique<Call>();
      call->context.set_deadline(Deadline());
      call->request.set_contact_id(absl::StrCat("burst-", calls.size()));
      call->request.set_queue("general");
      call->request.set_channel(v1::EMAIL);
      calls.push_back(std::move(call));
    }
    std::mutex mu;
    std::condition_variable all_done;
    int done = 0;
    for (size_t i = first; i < calls.size(); ++i) {
      Call* c = calls[i].get();
      api.gateway->async()->EnqueueContact(&c->context, &c->request, &c->reply,
                                           [&, c](grpc::Status status) {
                                             c->status = std::move(status);
                                             std::lock_guard<std::mutex> lock(mu);
                                             ++done;
                                             all_done.notify_one();
                                           });
    }
    std::unique_lock<std::mutex> lock(mu);
    all_done.wait(lock, [&] { return done == kBurst; });
    for (size_t i = first; i < calls.size(); ++i) {
      refused += calls[i]->status.error_code() == StatusCode::UNAVAILABLE;
    }
  }
  INFO(calls.size() << " enqueues sent in bursts of " << kBurst);
  REQUIRE(refused > 0);
  int done_ok = 0;
  for (const auto& call : calls) {
    const std::string& id = call->request.contact_id();
    INFO(id << ": " << call->status.error_code() << " '" << call->status.error_message() << "'");
    v1::ContactStatus contact;
    const grpc::Status now = api.GetContact(id, &contact);
    if (call->status.ok()) {
      ++done_ok;
      CHECK(now.ok());
      CHECK(contact.state() == v1::WAITING);
    } else {
      REQUIRE(call->status.error_code() == StatusCode::UNAVAILABLE);
      CHECK_THAT(call->status.error_message(), Catch::Contains("retry"));
      CHECK(now.error_code() == StatusCode::NOT_FOUND);  // refused: never entered
    }
  }
  CHECK(done_ok > 0);
  CHECK(General(api.Snapshot()).waiting() == done_ok);
}

TEST_CASE("each bad request gets its status code and changes nothing", "[server]") {
  AcddProcess acdd;
  Api api(acdd.target());
  REQUIRE(api.Enqueue("c-1").ok());
  const uint64_t sequence_before = api.Snapshot().sequence();

  SECTION("INVALID_ARGUMENT") {
    CHECK(api.Enqueue("c-2", v1::CHANNEL_UNSPECIFIED).error_code() == StatusCode::INVALID_ARGUMENT);
    CHECK(api.Enqueue("c-2", static_cast<v1::Channel>(42)).error_code() ==
          StatusCode::INVALID_ARGUMENT);
    CHECK(api.Enqueue("", v1::VOICE).error_code() == StatusCode::INVALID_ARGUMENT);
    v1::EnqueueContactRequest many;
    many.set_contact_id("c-2");
    many.set_queue("general");
    many.set_channel(v1::CHAT);
    for (int i = 0; i < 40; ++i) (*many.mutable_attributes())[absl::StrCat("k", i)] = "v";
    grpc::Status status = api.Enqueue(many);
    CHECK(status.error_code() == StatusCode::INVALID_ARGUMENT);
    CHECK_THAT(status.error_message(), Catch::Contains("attributes"));
    v1::EnqueueContactRequest long_value;
    long_value.set_contact_id("c-2");
    long_value.set_queue("general");
    long_value.set_channel(v1::CHAT);
    (*long_value.mutable_attributes())["note"] = std::string(5000, 'x');
    status = api.Enqueue(long_value);
    CHECK(status.error_code() == StatusCode::INVALID_ARGUMENT);
    CHECK_THAT(status.error_message(), !Catch::Contains("xxxx"));  // values never echoed
    REQUIRE(api.Login("psr-1").ok());
    CHECK(api.SetState("psr-1", v1::WRAP_UP).error_code() == StatusCode::INVALID_ARGUMENT);
    CHECK(api.SetState("psr-1", static_cast<v1::AgentState>(99)).error_code() ==
          StatusCode::INVALID_ARGUMENT);
  }
  SECTION("NOT_FOUND") {
    // (engine.h lists an unknown queue under INVALID_ARGUMENT; the core says NOT_FOUND and
    // the server passes core codes through unchanged.)
    grpc::Status status = api.Enqueue("c-2", v1::VOICE, nullptr, "no-such-queue");
    CHECK(status.error_code() == StatusCode::NOT_FOUND);
    CHECK_THAT(status.error_message(), Catch::Contains("no-such-queue"));
    v1::ContactStatus contact;
    CHECK(api.GetContact("nobody", &contact).error_code() == StatusCode::NOT_FOUND);
    CHECK(api.Cancel("nobody").error_code() == StatusCode::NOT_FOUND);
    CHECK(api.SetState("ghost", v1::READY).error_code() == StatusCode::NOT_FOUND);
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    v1::WatchContactRequest request;
    request.set_contact_id("nobody");
    auto reader = api.gateway->WatchContact(&context, request);
    CHECK_FALSE(reader->Read(&contact));
    CHECK(reader->Finish().error_code() == StatusCode::NOT_FOUND);
  }
  SECTION("ALREADY_EXISTS for a duplicate contact id, and the first is untouched") {
    grpc::Status status = api.Enqueue("c-1", v1::CHAT);
    CHECK(status.error_code() == StatusCode::ALREADY_EXISTS);
    CHECK_THAT(status.error_message(), Catch::Contains("c-1"));
    v1::ContactStatus contact;
    REQUIRE(api.GetContact("c-1", &contact).ok());
    CHECK(contact.channel() == v1::VOICE);
    CHECK(contact.state() == v1::WAITING);
    REQUIRE(api.Login("psr-1").ok());
    CHECK(api.Login("psr-1").error_code() == StatusCode::ALREADY_EXISTS);
  }
  SECTION("FAILED_PRECONDITION for accepting an offer that is not open") {
    REQUIRE(api.Login("psr-1").ok());
    CHECK(api.Offer(&v1::AgentDesk::Stub::AcceptOffer, "psr-1", "c-1").error_code() ==
          StatusCode::FAILED_PRECONDITION);
    v1::ContactStatus contact;
    REQUIRE(api.GetContact("c-1", &contact).ok());
    CHECK(contact.state() == v1::WAITING);
  }
  SECTION("RESOURCE_EXHAUSTED for a message over the size limit") {
    v1::EnqueueContactRequest huge;
    huge.set_contact_id("c-2");
    huge.set_queue("general");
    huge.set_channel(v1::CHAT);
    (*huge.mutable_attributes())["note"] = std::string(200 * 1024, 'x');
    CHECK(api.Enqueue(huge).error_code() == StatusCode::RESOURCE_EXHAUSTED);
  }
  SECTION("OUT_OF_RANGE for resuming after an event that does not exist yet") {
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    v1::WatchEventsRequest request;
    request.set_after_sequence(sequence_before + 1000);
    auto reader = WatchEvents(*api.supervisor, &context, request);
    v1::Event event;
    CHECK_FALSE(reader->Read(&event));
    CHECK(reader->Finish().error_code() == StatusCode::OUT_OF_RANGE);
  }
  SECTION("INVALID_ARGUMENT for rules that do not load, and the rules stay") {
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    v1::ApplyRulesRequest request;
    request.set_rules_textproto("queues { name: \"general\" strategy { name: \"nope\" } }");
    v1::ApplyRulesResponse reply;
    grpc::Status status = api.admin->ApplyRules(&context, request, &reply);
    CHECK(status.error_code() == StatusCode::INVALID_ARGUMENT);
    const v1::GetRulesResponse rules = GetRules(api);
    CHECK(rules.source() == "built-in default");
    REQUIRE(rules.queues_size() == 1);
    CHECK(rules.queues(0).name() == "general");
  }

  // Rejected contact commands changed nothing: still one contact waiting.
  const v1::Snapshot after = api.Snapshot();
  CHECK(General(after).waiting() == 1);
  CHECK(General(after).offered() == 1);
  (void)sequence_before;
}

TEST_CASE("streams per client are limited", "[server]") {
  AcddProcess acdd({"--max-streams-per-client", "2"});
  Api api(acdd.target());
  grpc::ClientContext c1, c2, c3;
  for (grpc::ClientContext* c : {&c1, &c2, &c3}) c->set_deadline(Deadline());
  v1::Event event;
  auto s1 = WatchEvents(*api.supervisor, &c1, v1::WatchEventsRequest());
  auto s2 = WatchEvents(*api.supervisor, &c2, v1::WatchEventsRequest());
  REQUIRE(s1->Read(&event));  // the snapshot: both are registered now
  REQUIRE(s2->Read(&event));
  auto s3 = WatchEvents(*api.supervisor, &c3, v1::WatchEventsRequest());
  CHECK_FALSE(s3->Read(&event));
  grpc::Status status = s3->Finish();
  CHECK(status.error_code() == StatusCode::RESOURCE_EXHAUSTED);
  CHECK_THAT(status.error_message(), Catch::Contains("limit is 2"));
  c1.TryCancel();
  c2.TryCancel();
}

TEST_CASE("WatchEvents resumes after a disconnect without gaps", "[server]") {
  AcddProcess acdd({"--event-ring", "64"});
  Api api(acdd.target());
  REQUIRE(api.Login("psr-1").ok());

  uint64_t last_seen = 0;
  {
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    auto reader = WatchEvents(*api.supervisor, &context, v1::WatchEventsRequest());
    v1::Event event;
    REQUIRE(reader->Read(&event));
    CHECK(event.type() == v1::SNAPSHOT);
    CHECK(event.snapshot().agents_size() == 1);
    last_seen = event.sequence();
    REQUIRE(api.Enqueue("c-1").ok());
    REQUIRE(reader->Read(&event));
    CHECK(event.type() == v1::CONTACT_QUEUED);
    CHECK(event.sequence() == last_seen + 1);
    last_seen = event.sequence();
    context.TryCancel();  // the wallboard loses its connection
  }
  // Things happen while it is away.
  REQUIRE(api.Enqueue("c-2").ok());
  REQUIRE(api.SetState("psr-1", v1::READY).ok());
  const uint64_t last = api.Snapshot().sequence();
  REQUIRE(last > last_seen + 2);

  grpc::ClientContext context;
  context.set_deadline(Deadline());
  v1::WatchEventsRequest resume;
  resume.set_after_sequence(last_seen);
  auto reader = WatchEvents(*api.supervisor, &context, resume);
  v1::Event event;
  uint64_t expected = last_seen + 1;
  while (expected <= last) {
    REQUIRE(reader->Read(&event));
    CHECK(event.type() != v1::SNAPSHOT);
    REQUIRE(event.sequence() == expected);
    ++expected;
  }
  // Then live events continue the same numbering.
  REQUIRE(api.Enqueue("c-3").ok());
  REQUIRE(reader->Read(&event));
  CHECK(event.sequence() == last + 1);
  context.TryCancel();

  SECTION("resuming from before the retained ring is OUT_OF_RANGE") {
    for (int i = 0; i < 80; ++i) {
      REQUIRE(api.Enqueue(absl::StrCat("more-", i), v1::EMAIL).ok());
    }
    grpc::ClientContext old_context;
    old_context.set_deadline(Deadline());
    v1::WatchEventsRequest old;
    old.set_after_sequence(1);
    auto old_reader = WatchEvents(*api.supervisor, &old_context, old);
    CHECK_FALSE(old_reader->Read(&event));
    grpc::Status status = old_reader->Finish();
    CHECK(status.error_code() == StatusCode::OUT_OF_RANGE);
    CHECK_THAT(status.error_message(), Catch::Contains("after_sequence 0"));
  }
}

TEST_CASE("WatchEvents sends a backlog in batches of at most --event-batch, in order",
          "[server]") {
  AcddProcess acdd({"--event-batch", "8"});
  Api api(acdd.target());
  REQUIRE(api.Login("psr-1").ok());  // so the resume below is after a real event
  const uint64_t start = api.Snapshot().sequence();
  REQUIRE(start > 0);
  for (int i = 0; i < 20; ++i) REQUIRE(api.Enqueue(absl::StrCat("c-", i)).ok());
  const uint64_t last = api.Snapshot().sequence();
  REQUIRE(last == start + 20);

  // The 20 events after `start` are queued for the stream at once: 8, 8, then 4.
  grpc::ClientContext context;
  context.set_deadline(Deadline());
  v1::WatchEventsRequest resume;
  resume.set_after_sequence(start);
  auto reader = api.supervisor->WatchEvents(&context, resume);
  v1::EventBatch batch;
  std::vector<int> sizes;
  uint64_t expected = start + 1;
  while (expected <= last) {
    REQUIRE(reader->Read(&batch));
    sizes.push_back(batch.events_size());
    for (const v1::Event& event : batch.events()) {
      REQUIRE(event.sequence() == expected);
      CHECK(event.type() == v1::CONTACT_QUEUED);
      ++expected;
    }
  }
  CHECK(sizes == std::vector<int>{8, 8, 4});
  // Caught up: a new event goes out at once, alone.
  REQUIRE(api.Enqueue("c-live").ok());
  REQUIRE(reader->Read(&batch));
  REQUIRE(batch.events_size() == 1);
  CHECK(batch.events(0).sequence() == last + 1);
  CHECK(batch.events(0).contact_id() == "c-live");
  context.TryCancel();
}

// Calls a server-streaming method with raw bytes, within `timeout`, and reads what comes
// back (counted in *messages), cancelling the call once `max_messages` came. It asserts
// nothing, so helper threads may call it: each step may succeed or fail, and the status
// says how the call ended (UNKNOWN "test: ..." if the completion queue did not give each
// step's completion in turn).
grpc::Status StreamRaw(std::shared_ptr<grpc::Channel> channel, const std::string& method,
                       const std::string& body, int max_messages, int* messages,
                       std::chrono::milliseconds timeout = kCallDeadline) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + timeout);
  grpc::CompletionQueue cq;
  auto call = stub.PrepareCall(&context, method, &cq);
  void* tag = nullptr;
  bool ok = false;
  bool in_turn = true;  // every step so far completed, with its own tag
  const auto step = [&](intptr_t expected) {
    in_turn = in_turn && cq.Next(&tag, &ok) && tag == reinterpret_cast<void*>(expected);
    return in_turn && ok;
  };
  *messages = 0;
  call->StartCall(reinterpret_cast<void*>(1));
  if (step(1)) {
    grpc::Slice slice(body);
    grpc::ByteBuffer request(&slice, 1);
    call->WriteLast(request, grpc::WriteOptions(), reinterpret_cast<void*>(2));
    step(2);
    grpc::ByteBuffer reply;
    for (;;) {
      call->Read(&reply, reinterpret_cast<void*>(3));
      if (!step(3)) break;
      if (++*messages == max_messages) context.TryCancel();
    }
  }
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(4));
  step(4);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  if (!in_turn) return grpc::Status(StatusCode::UNKNOWN, "test: a stream step did not complete");
  return status;
}

TEST_CASE("a WatchEvents request that does not parse is INVALID_ARGUMENT", "[server]") {
  AcddProcess acdd;
  Api api(acdd.target());
  int messages = -1;
  // Field 1 (after_sequence) as a varint whose bytes run out.
  grpc::Status status = StreamRaw(api.channel, "/acd.v1.Supervisor/WatchEvents",
                                  std::string("\x08\xff", 2), 1, &messages);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(status.error_message(), Catch::Contains("WatchEventsRequest"));
  CHECK(messages == 0);
  // The same call with a valid request gets its snapshot; the client then hangs up.
  status = StreamRaw(api.channel, "/acd.v1.Supervisor/WatchEvents", std::string("\x08\x00", 2),
                     1, &messages);
  CHECK(messages == 1);
  CHECK(status.error_code() == grpc::StatusCode::CANCELLED);
}

TEST_CASE("events keep exactly their own fields when the feed reuses its message", "[server]") {
  // The feed converts every event into one reused message before encoding it, and the
  // ring of 4 drops and replaces its oldest from the fifth event on. Contact and agent
  // events alternate, so a field left over from the previous event (an agent id on a
  // contact event, a queue on an agent event) would show.
  AcddProcess acdd({"--event-ring", "4"});
  Api api(acdd.target());
  grpc::ClientContext context;
  context.set_deadline(Deadline());
  auto reader = WatchEvents(*api.supervisor, &context, v1::WatchEventsRequest());
  v1::Event event;
  REQUIRE(reader->Read(&event));
  REQUIRE(event.type() == v1::SNAPSHOT);
  REQUIRE(api.Login("psr-1").ok());
  constexpr int kRounds = 30;
  for (int i = 0; i < kRounds; ++i) {
    const std::string id = absl::StrCat("c-", i);
    REQUIRE(api.Enqueue(id).ok());
    REQUIRE(api.Logout("psr-1").ok());
    REQUIRE(api.Login("psr-1").ok());
    REQUIRE(api.Cancel(id).ok());
  }
  std::vector<v1::Event> received;
  uint64_t sequence = event.sequence();
  const auto next = [&] {
    REQUIRE(reader->Read(&event));
    REQUIRE(event.sequence() == ++sequence);
    received.push_back(event);
    return event;
  };
  const auto agent_event = [](const v1::Event& e, v1::AgentState state, const std::string& reason) {
    CHECK(e.type() == v1::AGENT_STATE_CHANGED);
    CHECK(e.agent_id() == "psr-1");
    CHECK(e.agent_state() == state);
    CHECK(e.reason() == reason);
    CHECK(e.contact_id().empty());
    CHECK(e.queue().empty());
    CHECK(e.from_queue().empty());
    CHECK(e.channel() == v1::Channel{});
  };
  agent_event(next(), v1::NOT_READY, "LOGIN");
  for (int i = 0; i < kRounds; ++i) {
    const std::string id = absl::StrCat("c-", i);
    v1::Event e = next();
    CHECK(e.type() == v1::CONTACT_QUEUED);
    CHECK(e.contact_id() == id);
    CHECK(e.queue() == "general");
    CHECK(e.channel() == v1::VOICE);
    CHECK(e.agent_id().empty());
    CHECK(e.reason().empty());
    CHECK(e.agent_state() == v1::AgentState{});
    agent_event(next(), v1::LOGGED_OUT, "");
    agent_event(next(), v1::NOT_READY, "LOGIN");
    e = next();
    CHECK(e.type() == v1::CONTACT_ABANDONED);
    CHECK(e.contact_id() == id);
    CHECK(e.queue() == "general");
    CHECK(e.reason() == "CALLER_HANGUP");
    CHECK(e.agent_id().empty());
    CHECK(e.agent_state() == v1::AgentState{});
  }
  context.TryCancel();

  // A wallboard resuming within the ring gets the same events, from reused messages.
  grpc::ClientContext resume_context;
  resume_context.set_deadline(Deadline());
  v1::WatchEventsRequest resume;
  resume.set_after_sequence(sequence - 4);
  auto resumed = WatchEvents(*api.supervisor, &resume_context, resume);
  for (size_t k = received.size() - 4; k < received.size(); ++k) {
    REQUIRE(resumed->Read(&event));
    CHECK(event.SerializeAsString() == received[k].SerializeAsString());
  }
  resume_context.TryCancel();
}

TEST_CASE("a slow subscriber is cut off while the others keep receiving", "[server]") {
  AcddProcess acdd({"--stream-buffer", "64"});
  Api api(acdd.target());

  // The slow wallboard: a tiny HTTP/2 window and it never reads until the end.
  grpc::ChannelArguments slow_args;
  slow_args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  slow_args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 1024);
  Api slow(acdd.target(), slow_args);
  grpc::ClientContext slow_context;
  slow_context.set_deadline(Deadline());
  auto slow_reader = WatchEvents(*slow.supervisor, &slow_context, v1::WatchEventsRequest());
  v1::Event event;
  REQUIRE(slow_reader->Read(&event));  // registered (snapshot received)
  const uint64_t start = event.sequence();

  // The healthy wallboard reads everything on its own thread. On a busy machine it may
  // itself be cut off for a moment; it then resumes after the last event it saw, as real
  // wallboards do, and must still see every event exactly once, in order.
  Api fast(acdd.target());
  ResumingWallboard fast_wallboard(*fast.supervisor, start);

  // Plenty of events: far more than the slow subscriber's window and buffer hold.
  constexpr int kRounds = 400;
  for (int i = 0; i < kRounds; ++i) {
    const std::string agent = absl::StrCat("psr-", i);
    REQUIRE(api.Login(agent).ok());
    REQUIRE(api.Logout(agent).ok());
  }
  const uint64_t last = api.Snapshot().sequence();
  REQUIRE(last >= start + 2 * kRounds);

  // The slow one gets what was buffered, then RESOURCE_EXHAUSTED.
  int received = 0;
  while (slow_reader->Read(&event)) ++received;
  grpc::Status status = slow_reader->Finish();
  CHECK(status.error_code() == StatusCode::RESOURCE_EXHAUSTED);
  CHECK(received < static_cast<int>(last - start));

  // The healthy one sees every event (one more wakes it if it waits for the next); the
  // server still answers.
  fast_wallboard.StopAt(last);
  REQUIRE(api.Enqueue("c-after").ok());
  fast_wallboard.Join();
  INFO("the healthy wallboard resumed " << fast_wallboard.resumes() << " times");
  CHECK(fast_wallboard.last() >= last);
  CHECK(fast_wallboard.gap_free());
}

TEST_CASE("WatchContact follows position and ends at the final state", "[server]") {
  AcddProcess acdd;
  Api api(acdd.target());
  REQUIRE(api.Enqueue("first").ok());
  REQUIRE(api.Enqueue("second").ok());

  grpc::ClientContext context;
  context.set_deadline(Deadline());
  v1::WatchContactRequest request;
  request.set_contact_id("second");
  auto reader = api.gateway->WatchContact(&context, request);
  v1::ContactStatus status;
  REQUIRE(reader->Read(&status));
  CHECK(status.state() == v1::WAITING);
  CHECK(status.position() == 2);

  REQUIRE(api.Cancel("first").ok());
  REQUIRE(ReadUntil(reader.get(), &status,
                    [](const v1::ContactStatus& s) { return s.position() == 1; }));
  REQUIRE(api.Cancel("second").ok());
  REQUIRE(ReadUntil(reader.get(), &status,
                    [](const v1::ContactStatus& s) { return s.state() == v1::ABANDONED; }));
  CHECK_FALSE(reader->Read(&status));
  CHECK(reader->Finish().ok());
}

TEST_CASE("SIGTERM ends streams and exits 0", "[server]") {
  AcddProcess acdd;
  auto api = std::make_unique<Api>(acdd.target());
  grpc::ClientContext context;
  context.set_deadline(Deadline());
  auto reader = WatchEvents(*api->supervisor, &context, v1::WatchEventsRequest());
  v1::Event event;
  REQUIRE(reader->Read(&event));
  // A wallboard that keeps reading and takes the final status, as a real one does. (The
  // server's shutdown waits, up to its grace period, for clients to take their status.)
  grpc::Status final_status;
  std::thread wallboard([&] {
    while (reader->Read(&event)) {
    }
    final_status = reader->Finish();
    reader.reset();
    api.reset();  // the wallboard goes away, closing its connection
  });

  REQUIRE(acdd.Stop(SIGTERM) == std::optional<int>(0));
  wallboard.join();
  CHECK(final_status.error_code() == StatusCode::UNAVAILABLE);
}

// Issue 4's hang: a subscriber that stops reading while events pile up and then goes
// away (its write in flight fails after the stream is already ending) must still let the
// server finish the call, or grpc::Server::Shutdown() waits for it for ever.
TEST_CASE("SIGTERM exits after subscribers with deep backlogs went away", "[server]") {
  AcddProcess acdd({"--stream-buffer", "1000000", "--shutdown-grace-ms", "60000"});
  Api api(acdd.target());
  {
    grpc::ChannelArguments slow_args;
    slow_args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
    slow_args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 1024);
    std::vector<std::unique_ptr<Api>> clients;
    std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
    std::vector<std::unique_ptr<EventReader>> readers;
    for (int i = 0; i < 12; ++i) {
      clients.push_back(std::make_unique<Api>(acdd.target(), slow_args));
      contexts.push_back(std::make_unique<grpc::ClientContext>());
      contexts.back()->set_deadline(Deadline());
      readers.push_back(
          WatchEvents(*clients.back()->supervisor, contexts.back().get(), v1::WatchEventsRequest()));
      v1::Event event;
      REQUIRE(readers.back()->Read(&event));  // registered; now it stops reading
    }
    // Far more than the subscribers' HTTP/2 windows hold: writes stay in flight.
    for (int i = 0; i < 5000; ++i) {
      const std::string agent = absl::StrCat("psr-", i);
      REQUIRE(api.Login(agent).ok());
      REQUIRE(api.Logout(agent).ok());
    }
    // The wallboards go away without reading: cancelled, connections closed.
    for (auto& context : contexts) context->TryCancel();
    for (auto& reader : readers) reader->Finish();
  }
  // The server still serves, then stops in time.
  REQUIRE(api.Enqueue("c-after").ok());
  CHECK(acdd.Stop(SIGTERM, absl::Seconds(20)) == std::optional<int>(0));
}

// A file under the system's temp folder that is removed when the test ends.
class TempFile {
 public:
  explicit TempFile(const std::string& text) {
    char name[] = "/tmp/acd-rules-XXXXXX.textproto";
    const int fd = mkstemps(name, static_cast<int>(std::strlen(".textproto")));
    REQUIRE(fd >= 0);
    close(fd);
    path_ = name;
    Write(text);
  }
  ~TempFile() { std::remove(path_.c_str()); }
  void Write(const std::string& text) {
    std::ofstream out(path_, std::ios::trunc);
    out << text;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

constexpr char kTwoQueues[] = R"(version: "two queues"
skills: "general"
queues { name: "general" requirements { skill: "general" } }
queues { name: "billing" requirements { skill: "general" } closed: true }
)";

TEST_CASE("acdd runs a rules file and refuses a broken one with file:line:column", "[server]") {
  const std::string minimal = std::string(ACD_SOURCE_DIR) + "/routing_rules/minimal.textproto";
  {
    AcddProcess acdd({"--rules", minimal});
    Api api(acdd.target());
    const v1::GetRulesResponse rules = GetRules(api);
    CHECK(rules.source() == minimal);
    CHECK_THAT(rules.checksum(), Catch::StartsWith("fnv1a64:"));
    REQUIRE(rules.queues_size() == 1);
    CHECK(rules.queues(0).name() == "general");
    CHECK(rules.rules().queues_size() == 1);
  }
  TempFile broken("skills: \"general\"\nqueues { name: \"general\" no_such_field: 1 }\n");
  CommandResult result =
      RunCommand({ACDD_PATH, "--listen", "127.0.0.1:0", "--rules", broken.path()},
                 absl::Seconds(10), /*with_stderr=*/true);
  CHECK(result.exit_code == 2);
  CHECK_THAT(result.output, Catch::Contains(broken.path() + ":2:"));
  CHECK_THAT(result.output, !Catch::Contains("listening on"));
}

TEST_CASE("Admin validates and applies rules while contacts wait", "[server]") {
  AcddProcess acdd;
  Api api(acdd.target());
  REQUIRE(api.Enqueue("c-1").ok());

  {
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    v1::ValidateRulesRequest request;
    request.set_rules_textproto(
        "skills: \"general\"\nqueues { name: \"general\" requirements { skill: \"nope\" } }");
    v1::ValidateRulesResponse reply;
    REQUIRE(api.admin->ValidateRules(&context, request, &reply).ok());
    CHECK_FALSE(reply.valid());
    REQUIRE(reply.problems_size() >= 1);
    CHECK_THAT(reply.problems(0).message(), Catch::Contains("nope"));
  }

  grpc::ClientContext watch;
  watch.set_deadline(Deadline());
  auto events = WatchEvents(*api.supervisor, &watch, v1::WatchEventsRequest());
  v1::Event event;
  REQUIRE(events->Read(&event));  // snapshot

  auto apply = [&api](const std::string& text, v1::ApplyRulesResponse* reply) {
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    v1::ApplyRulesRequest request;
    request.set_rules_textproto(text);
    return api.admin->ApplyRules(&context, request, reply);
  };
  v1::ApplyRulesResponse applied;
  REQUIRE(apply(kTwoQueues, &applied).ok());
  CHECK(applied.version() == "two queues");
  REQUIRE(ReadUntil(events.get(), &event,
                    [](const v1::Event& e) { return e.type() == v1::RULES_APPLIED; }));
  CHECK(event.sequence() == applied.sequence());

  // The new queue is closed: FAILED_PRECONDITION. The waiting contact kept its place.
  grpc::Status closed = api.Enqueue("c-2", v1::VOICE, nullptr, "billing");
  CHECK(closed.error_code() == StatusCode::FAILED_PRECONDITION);
  CHECK_THAT(closed.error_message(), Catch::Contains("billing"));
  v1::ContactStatus contact;
  REQUIRE(api.GetContact("c-1", &contact).ok());
  CHECK(contact.state() == v1::WAITING);
  CHECK(contact.position() == 1);
  const v1::GetRulesResponse rules = GetRules(api);
  CHECK(rules.source() == "Admin.ApplyRules");
  CHECK(rules.queues_size() == 2);

  v1::ApplyRulesResponse refused;
  grpc::Status syntax = apply("queues { name: ", &refused);
  CHECK(syntax.error_code() == StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(syntax.error_message(), Catch::Contains("<ApplyRules>:1:"));
  // Dropping "general" while c-1 waits there, with no queue_moves entry, is refused.
  grpc::Status dropped = apply(R"(skills: "general"
queues { name: "billing" requirements { skill: "general" } })",
                               &refused);
  CHECK(dropped.error_code() == StatusCode::FAILED_PRECONDITION);
  CHECK(GetRules(api).queues_size() == 2);
  watch.TryCancel();
}

TEST_CASE("contacts are transferred and escalated and their priority changes", "[server]") {
  TempFile rules(R"(skills: "general"
queues { name: "general" requirements { skill: "general" } escalation_queue: "supervisors" }
queues { name: "supervisors" requirements { skill: "general" } }
)");
  AcddProcess acdd({"--rules", rules.path()});
  Api api(acdd.target());
  REQUIRE(api.Enqueue("c-1").ok());
  REQUIRE(api.Enqueue("c-2").ok());
  v1::ContactStatus status;
  {
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    v1::ChangePriorityRequest request;
    request.set_contact_id("c-2");
    request.set_priority(9);
    REQUIRE(api.gateway->ChangePriority(&context, request, &status).ok());
    CHECK(status.priority() == 9);
    CHECK(status.position() == 1);
  }
  {
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    v1::EscalateContactRequest request;
    request.set_contact_id("c-1");
    REQUIRE(api.gateway->EscalateContact(&context, request, &status).ok());
    CHECK(status.queue() == "supervisors");
  }
  {
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    v1::TransferContactRequest request;
    request.set_contact_id("c-1");
    request.set_queue("general");
    REQUIRE(api.gateway->TransferContact(&context, request, &status).ok());
    CHECK(status.queue() == "general");
  }
  {
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    v1::TransferContactRequest request;
    request.set_contact_id("c-1");
    request.set_queue("nowhere");
    CHECK(api.gateway->TransferContact(&context, request, &status).error_code() ==
          StatusCode::NOT_FOUND);
  }
}

// The server's clock read off a snapshot.
absl::Time SnapshotTime(Api& api) { return server::FromProto(api.Snapshot().time()); }

TEST_CASE("acdd's clock can start at a given time and run faster: hours and timers follow it",
          "[server]") {
  // Open Mondays from 08:00 Eastern, a two-minute wrap-up. The clock starts one minute
  // before opening, on Monday 2026-11-23, and runs 30 times as fast: the queue opens about
  // 2 s after acdd starts, and a wrap-up ends by itself after about 4 s (at real time it
  // would take two minutes, past every deadline below).
  TempFile rules(R"(skills: "general"
queues {
  name: "general"
  requirements { skill: "general" }
  wrap_up_seconds: 120
  hours {
    time_zone: "America/New_York"
    open { days: [MONDAY] from: "08:00" to: "17:00" }
  }
}
)");
  const absl::TimeZone eastern = [] {
    absl::TimeZone zone;
    REQUIRE(absl::LoadTimeZone("America/New_York", &zone));
    return zone;
  }();
  const absl::Time start = absl::FromCivil(absl::CivilMinute(2026, 11, 23, 7, 59), eastern);
  const absl::Time opens = start + absl::Minutes(1);
  AcddProcess acdd({"--rules", rules.path(), "--clock-start", "2026-11-23T07:59:00-05:00",
                    "--clock-speed", "30"});
  Api api(acdd.target());
  CHECK(api.Snapshot().clock_speed() == 30);

  // Closed until 08:00 by the server's clock: refused while the clock reads earlier, taken
  // once it reads later (each attempt is bracketed by two readings; the machine may be
  // slow enough to start after the opening, so the first attempts decide which holds).
  for (int i = 0;; ++i) {
    REQUIRE(i < 200);  // 20 s real: 10 minutes of the server's clock
    const absl::Time before = SnapshotTime(api);
    REQUIRE(before >= start);
    v1::ContactStatus contact;
    const grpc::Status status = api.Enqueue("call-1", v1::VOICE, &contact);
    const absl::Time after = SnapshotTime(api);
    if (status.ok()) {
      CHECK(after >= opens);
      break;
    }
    CHECK(status.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
    CHECK_THAT(status.error_message(), Catch::Contains("outside business hours"));
    CHECK(before < opens);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // Every time the server reports is its clock's, not the wall clock's (days later), and
  // the wallboard shows it.
  CHECK(SnapshotTime(api) < absl::FromCivil(absl::CivilHour(2026, 11, 23, 9), eastern));
  const CommandResult board = RunCommand(
      {"/usr/bin/env", "TZ=America/New_York", ACDCTL_PATH, "--target", acdd.target(), "snapshot"});
  CHECK(board.exit_code == 0);
  CHECK_THAT(board.output, Catch::Contains("ACD wallboard  2026-11-23 08:") &&
                               Catch::Contains("EST (clock at 30x)"));

  grpc::ClientContext watch;
  watch.set_deadline(Deadline());
  v1::AgentRequest who;
  who.set_agent_id("psr-1");
  REQUIRE(api.Login("psr-1").ok());
  auto offers = api.desk->WatchOffers(&watch, who);
  REQUIRE(api.SetState("psr-1", v1::READY).ok());
  v1::AgentUpdate update;
  REQUIRE(ReadUntil(offers.get(), &update, [](const v1::AgentUpdate& u) { return u.has_offer(); }));
  v1::AgentStatus agent;
  REQUIRE(api.Offer(&v1::AgentDesk::Stub::AcceptOffer, "psr-1", "call-1", &agent).ok());
  REQUIRE(api.Offer(&v1::AgentDesk::Stub::CompleteContact, "psr-1", "call-1", &agent).ok());
  CHECK(agent.state() == v1::WRAP_UP);
  const absl::Time wrap_up_began = SnapshotTime(api);
  // The wrap-up ends by the server's timer, within the 10 s deadline of the stream.
  REQUIRE(ReadUntil(offers.get(), &update, [](const v1::AgentUpdate& u) {
    return u.has_status() && u.status().state() == v1::READY;
  }));
  CHECK(SnapshotTime(api) >= wrap_up_began + absl::Seconds(119));
  watch.TryCancel();
}

TEST_CASE("acdd refuses a clock it cannot run", "[server]") {
  // Each: the flag, its value, what the refusal says.
  for (const std::vector<std::string>& flags : std::vector<std::vector<std::string>>{
           {"--clock-speed", "0", "clock speed 0 is not between"},
           {"--clock-speed", "-2", "clock speed -2 is not between"},
           {"--clock-speed", "nan", "clock speed nan is not between"},
           {"--clock-speed", "1e9", "clock speed 1e+09 is not between"},
           {"--clock-start", "2026-11-23 07:00", "not an RFC 3339 time"},
           {"--clock-start", "tomorrow", "not an RFC 3339 time"},
           {"--clock-start", "0001-01-01T00:00:00Z", "is not between 1970-01-01 and 3000-01-01"},
           {"--clock-start", "9999-12-31T00:00:00Z", "is not between 1970-01-01 and 3000-01-01"}}) {
    std::vector<std::string> argv = {ACDD_PATH, "--listen", "127.0.0.1:0", flags[0], flags[1]};
    const CommandResult result = RunCommand(argv, absl::Seconds(10), /*with_stderr=*/true);
    INFO(flags[0] << " " << flags[1] << ": " << result.output);
    CHECK(result.exit_code == 2);
    CHECK_THAT(result.output, Catch::Contains(flags[0]) && Catch::Contains(flags[2]));
    CHECK_THAT(result.output, !Catch::Contains("listening on"));
  }
}

TEST_CASE("SIGHUP reloads the rules file", "[server]") {
  TempFile rules(R"(skills: "general"
queues { name: "general" requirements { skill: "general" } })");
  AcddProcess acdd({"--rules", rules.path()});
  Api api(acdd.target());
  REQUIRE(GetRules(api).queues_size() == 1);
  rules.Write(kTwoQueues);
  REQUIRE(kill(acdd.pid(), SIGHUP) == 0);
  // The reload is asynchronous: poll, bounded by a deadline.
  const auto until = Deadline();
  int queues = 1;
  while (queues != 2 && std::chrono::system_clock::now() < until) {
    queues = GetRules(api).queues_size();
    if (queues != 2) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(queues == 2);
  CHECK(GetRules(api).version() == "two queues");
}

// Calls a unary (or, with one message each way, a streaming) method with raw bytes.
grpc::Status CallRaw(std::shared_ptr<grpc::Channel> channel, const std::string& method,
                     const std::string& body, std::string* reply) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(Deadline());
  grpc::Slice slice(body);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, method, grpc::StubOptions(), &request, &response,
                 [&done](grpc::Status s) { done.set_value(std::move(s)); });
  grpc::Status status = done.get_future().get();
  std::vector<grpc::Slice> slices;
  if (status.ok() && response.Dump(&slices).ok()) {
    for (const grpc::Slice& piece : slices) {
      reply->append(reinterpret_cast<const char*>(piece.begin()), piece.size());
    }
  }
  return status;
}

// Random requests to every method of every service, as a confused or hostile client
// might send them: fields drawn from the ids, queues, skills and reason codes in play
// (so commands reach real contacts and agents), unset fields, out-of-range numbers and
// enum values, over-long and non-printable strings, rules text cut short, and bodies that
// do not parse. The product's promises, checked: every call ends with a status that
// says why (never UNKNOWN, INTERNAL or a lost call), the server stays up and stops
// cleanly, and free-form attribute text never reaches the log or a status message.
// ACD_RANDOM_REQUESTS_SEED=<n> replays one seed (default 1).
class RandomRequests {
 public:
  // Text a caller's free-form attributes carry; it must appear in no log line and no status.
  static constexpr const char kPrivate[] = "PRIVATE-NOTE-7e1";

  explicit RandomRequests(uint64_t seed) : rng_(seed) {}

  // A random request for `method`, serialized; sometimes cut short or not a message at all.
  // Half are plausible (values in play, in range), so commands reach deep into the engine.
  std::string Body(const google::protobuf::MethodDescriptor& method) {
    plausible_ = Uniform(2) == 0;
    const uint64_t kind = plausible_ ? 2 : Uniform(20);
    if (kind == 0) {  // bytes that are very likely not a message of this type
      std::string bytes(Uniform(48), '\0');
      for (char& c : bytes) c = static_cast<char>(Uniform(256));
      return bytes;
    }
    std::unique_ptr<google::protobuf::Message> message(
        google::protobuf::MessageFactory::generated_factory()
            ->GetPrototype(method.input_type())
            ->New());
    Fill(*message, 0);
    std::string body = message->SerializeAsString();
    if (kind == 1 && !body.empty()) body.resize(Uniform(body.size()));  // cut short
    return body;
  }

  uint64_t Uniform(uint64_t n) { return n == 0 ? 0 : rng_() % n; }

 private:
  template <size_t N>
  const char* Pick(const char* const (&choices)[N]) {
    return choices[Uniform(N)];
  }

  // Strings by what the field names: mostly values in play, sometimes anything.
  std::string Text(const google::protobuf::FieldDescriptor& field, bool attribute) {
    static const char* const kContacts[] = {"c-1", "c-2", "c-3", "c-4", "c-5", "c-6"};
    static const char* const kAgents[] = {"psr-1", "psr-2", "psr-3", "psr-4"};
    static const char* const kQueues[] = {"clinical_triage", "scheduling",   "billing_insurance",
                                          "prescriptions",   "info_referral", "complaints",
                                          "supervisors",     "no-such-queue"};
    static const char* const kSkills[] = {"scheduling", "billing_insurance", "prescriptions",
                                          "clinical_triage", "info_referral", "complaints",
                                          "supervisor", "float_pool", "spanish", "klingon"};
    static const char* const kReasons[] = {"BREAK", "LUNCH", "TRAINING", "CALLER_HANGUP",
                                           "NOT_A_CODE"};
    if (attribute) return absl::StrCat(kPrivate, " ", Uniform(1000));
    switch (plausible_ ? 9 : Uniform(10)) {
      case 0:
        return "";
      case 1:
        return std::string(300 + Uniform(300), 'x');  // over any id limit
      case 2:
        return "a b\n\t\x01";  // spaces and control characters: not an id
      default:
        break;
    }
    const std::string& name = field.name();
    if (name == "agent_id" || name == "preferred_agent_id") return Pick(kAgents);
    if (name == "contact_id") return Pick(kContacts);
    if (name == "queue" || name == "overflow_queue") return Pick(kQueues);
    if (name == "skill" || name == "language") return Pick(kSkills);
    if (name == "reason") return Pick(kReasons);
    if (name == "rules_textproto") {
      std::string rules = Uniform(2) == 0 ? healthcare_rules_ : "queues { name: \"q\" }";
      if (!plausible_) rules.resize(Uniform(rules.size()));  // cut short
      return rules;
    }
    return Pick(kContacts);
  }

  int64_t Number() {
    if (plausible_) return 1 + static_cast<int64_t>(Uniform(10));  // a level, a priority
    static const int64_t kEdges[] = {0, 1, -1, 2, 3, 10, 11, 100, -100,
                                     std::numeric_limits<int32_t>::max(),
                                     std::numeric_limits<int32_t>::min(),
                                     std::numeric_limits<int64_t>::max(),
                                     std::numeric_limits<int64_t>::min()};
    return Uniform(3) == 0 ? kEdges[Uniform(std::size(kEdges))]
                           : static_cast<int64_t>(Uniform(12));
  }

  void Fill(google::protobuf::Message& message, int depth, bool attribute = false) {
    using google::protobuf::FieldDescriptor;
    const google::protobuf::Descriptor& type = *message.GetDescriptor();
    const google::protobuf::Reflection& r = *message.GetReflection();
    const bool map_entry = type.options().map_entry();
    for (int i = 0; i < type.field_count(); ++i) {
      const FieldDescriptor& f = *type.field(i);
      if (!map_entry && Uniform(plausible_ ? 10 : 4) == 0) continue;  // left unset
      const int count =
          f.is_repeated() ? static_cast<int>(Uniform(plausible_ ? 4 : f.is_map() ? 40 : 5)) : 1;
      for (int k = 0; k < count; ++k) {
        const bool add = f.is_repeated();
        switch (f.cpp_type()) {
          case FieldDescriptor::CPPTYPE_INT32: {
            const auto v = static_cast<int32_t>(Number());
            add ? r.AddInt32(&message, &f, v) : r.SetInt32(&message, &f, v);
            break;
          }
          case FieldDescriptor::CPPTYPE_INT64: {
            const int64_t v = Number();
            add ? r.AddInt64(&message, &f, v) : r.SetInt64(&message, &f, v);
            break;
          }
          case FieldDescriptor::CPPTYPE_UINT32: {
            const auto v = static_cast<uint32_t>(Number());
            add ? r.AddUInt32(&message, &f, v) : r.SetUInt32(&message, &f, v);
            break;
          }
          case FieldDescriptor::CPPTYPE_UINT64: {
            const auto v = static_cast<uint64_t>(Number());
            add ? r.AddUInt64(&message, &f, v) : r.SetUInt64(&message, &f, v);
            break;
          }
          case FieldDescriptor::CPPTYPE_DOUBLE:
          case FieldDescriptor::CPPTYPE_FLOAT: {
            static const double kValues[] = {0, 1.5, -1, 1e300, -1e300,
                                             std::numeric_limits<double>::quiet_NaN(),
                                             std::numeric_limits<double>::infinity()};
            const double v = kValues[Uniform(std::size(kValues))];
            if (f.cpp_type() == FieldDescriptor::CPPTYPE_DOUBLE) {
              add ? r.AddDouble(&message, &f, v) : r.SetDouble(&message, &f, v);
            } else {
              const auto fv = static_cast<float>(v);
              add ? r.AddFloat(&message, &f, fv) : r.SetFloat(&message, &f, fv);
            }
            break;
          }
          case FieldDescriptor::CPPTYPE_BOOL: {
            const bool v = Uniform(2) == 0;
            add ? r.AddBool(&message, &f, v) : r.SetBool(&message, &f, v);
            break;
          }
          case FieldDescriptor::CPPTYPE_ENUM: {
            // Mostly a defined value; sometimes one the proto does not define.
            const google::protobuf::EnumDescriptor& e = *f.enum_type();
            int v = e.value(static_cast<int>(Uniform(e.value_count())))->number();
            if (plausible_ && v == 0 && e.value_count() > 1) v = e.value(1)->number();
            if (!plausible_ && Uniform(5) == 0) v = static_cast<int>(Number());
            add ? r.AddEnumValue(&message, &f, v) : r.SetEnumValue(&message, &f, v);
            break;
          }
          case FieldDescriptor::CPPTYPE_STRING: {
            const std::string v = Text(f, attribute || (map_entry && f.name() == "value"));
            add ? r.AddString(&message, &f, v) : r.SetString(&message, &f, v);
            break;
          }
          case FieldDescriptor::CPPTYPE_MESSAGE: {
            if (depth >= 3) break;
            google::protobuf::Message* child =
                add ? r.AddMessage(&message, &f) : r.MutableMessage(&message, &f);
            // A map's keys and values under "attributes" are the caller's free text.
            Fill(*child, depth + 1, f.is_map() && f.name() == "attributes");
            break;
          }
        }
      }
    }
  }

  std::mt19937_64 rng_;
  bool plausible_ = false;  // this request's values are in play and in range
  const std::string healthcare_rules_ = [] {
    std::ifstream in(std::string(ACD_SOURCE_DIR) + "/routing_rules/healthcare_psc.textproto");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }();
};

// Every method of the four acd.v1 services, from their descriptors.
std::vector<const google::protobuf::MethodDescriptor*> AllMethods() {
  std::vector<const google::protobuf::MethodDescriptor*> methods;
  for (const char* service : {"acd.v1.Gateway", "acd.v1.AgentDesk", "acd.v1.Supervisor",
                              "acd.v1.Admin"}) {
    const google::protobuf::ServiceDescriptor* s =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(service);
    for (int i = 0; s != nullptr && i < s->method_count(); ++i) methods.push_back(s->method(i));
  }
  return methods;
}

// A method's path on the wire, "/acd.v1.Service/Method".
std::string PathOf(const google::protobuf::MethodDescriptor& m) {
  return absl::StrCat("/", m.service()->full_name(), "/", m.name());
}
TEST_CASE("a request body that does not parse is INVALID_ARGUMENT and says so", "[server]") {
  AcddProcess acdd;
  Api api(acdd.target());
  // Field 1's length runs past the end. gRPC's own typed handlers would answer
  // UNIMPLEMENTED with no message, as if the method did not exist. Every method of the
  // four services, read from their descriptors, so a method added later is checked too.
  const std::string truncated("\x0a\x05" "ab", 4);
  const std::vector<const google::protobuf::MethodDescriptor*> methods = AllMethods();
  CHECK(methods.size() == 22);
  for (const google::protobuf::MethodDescriptor* m : methods) {
    const std::string path = PathOf(*m);
    INFO(path);
    grpc::Status status;
    if (m->server_streaming()) {
      int messages = -1;
      status = StreamRaw(api.channel, path, truncated, 2, &messages, std::chrono::seconds(5));
      CHECK(messages == 0);
    } else {
      std::string reply;
      status = CallRaw(api.channel, path, truncated, &reply);
    }
    CHECK(status.error_code() == StatusCode::INVALID_ARGUMENT);
    CHECK(status.error_message() == absl::StrCat(m->input_type()->name(), " does not parse"));
  }
  // The server is unharmed: a good request still works.
  REQUIRE(api.Enqueue("c-1").ok());
}

// What one client's random requests (RandomRequests) came back with.
struct RandomOutcomes {
  std::map<std::string, std::map<StatusCode, int>> seen;  // method -> status -> calls
  std::vector<std::string> problems;  // calls whose outcome breaks a promise
};

// Sends `calls` random requests (at most `max_streams` of them streaming, each given 200 ms)
// to acdd at `target` on a connection of its own. Asserts nothing: helper threads call it.
RandomOutcomes SendRandomRequests(const std::string& target, uint64_t seed, int calls,
                                  int max_streams) {
  Api api(target);
  RandomRequests random(seed);
  const std::vector<const google::protobuf::MethodDescriptor*> methods = AllMethods();
  // Outcomes a request may have; anything else (UNKNOWN, INTERNAL, UNIMPLEMENTED, a call
  // that never ends, UNAVAILABLE from a server that went away) breaks a promise.
  const std::set<StatusCode> kUnaryOutcomes = {
      StatusCode::OK,           StatusCode::INVALID_ARGUMENT,    StatusCode::NOT_FOUND,
      StatusCode::ALREADY_EXISTS, StatusCode::FAILED_PRECONDITION, StatusCode::RESOURCE_EXHAUSTED,
      StatusCode::OUT_OF_RANGE};
  std::set<StatusCode> stream_outcomes = kUnaryOutcomes;
  stream_outcomes.insert({StatusCode::CANCELLED, StatusCode::DEADLINE_EXCEEDED});
  RandomOutcomes out;
  if (methods.size() != 22) out.problems.push_back("the four services' 22 methods not found");
  int streams = 0;
  for (int call = 0; call < calls && !methods.empty(); ++call) {
    const google::protobuf::MethodDescriptor& m = *methods[random.Uniform(methods.size())];
    const std::string path = PathOf(m);
    const std::string body = random.Body(m);
    grpc::Status status;
    bool expected;
    if (m.server_streaming()) {
      if (streams == max_streams) continue;  // each may last its whole timeout
      ++streams;
      int messages = 0;
      status = StreamRaw(api.channel, path, body, 2, &messages, std::chrono::milliseconds(200));
      expected = stream_outcomes.count(status.error_code()) == 1;
    } else {
      std::string reply;
      status = CallRaw(api.channel, path, body, &reply);
      expected = kUnaryOutcomes.count(status.error_code()) == 1;
    }
    const bool ended_by_client = status.error_code() == StatusCode::CANCELLED ||
                                 status.error_code() == StatusCode::DEADLINE_EXCEEDED;
    const bool says_why = status.ok() || ended_by_client || !status.error_message().empty();
    const bool private_text = absl::StrContains(status.error_message(), RandomRequests::kPrivate);
    if (!expected || !says_why || private_text) {
      out.problems.push_back(absl::StrCat("seed ", seed, " call ", call, ": ", path, " -> ",
                                          status.error_code(), " '", status.error_message(),
                                          "'"));
    }
    ++out.seen[path][status.error_code()];
  }
  return out;
}

// Starts acdd with the healthcare rules and its debug log in a file, sends random requests
// from `clients` threads at once, and checks the promises: every call gets an expected
// status that says why, the server stays up and stops cleanly, and attribute text reaches
// neither a status nor the log.
void CheckRandomRequests(int clients, int calls_per_client, int streams_per_client) {
  const char* seed_env = std::getenv("ACD_RANDOM_REQUESTS_SEED");
  const uint64_t seed = seed_env != nullptr ? std::strtoull(seed_env, nullptr, 10) : 1;
  INFO("seeds from " << seed << " (replay: ACD_RANDOM_REQUESTS_SEED=" << seed << ")");
  char log_template[] = "/tmp/acdd-random-requests-XXXXXX";
  const int log_fd = mkstemp(log_template);
  REQUIRE(log_fd >= 0);
  close(log_fd);
  const std::string log_path = log_template;
  {
    AcddProcess acdd(
        {"--rules", std::string(ACD_SOURCE_DIR) + "/routing_rules/healthcare_psc.textproto",
         "--log-level", "debug"},
        absl::Seconds(10), log_path);
    std::vector<std::future<RandomOutcomes>> running;
    for (int c = 0; c < clients; ++c) {
      running.push_back(std::async(std::launch::async, SendRandomRequests, acdd.target(),
                                   seed + static_cast<uint64_t>(c), calls_per_client,
                                   streams_per_client));
    }
    std::map<std::string, std::map<StatusCode, int>> seen;
    std::vector<std::string> problems;
    for (auto& r : running) {
      RandomOutcomes outcomes = r.get();
      for (const auto& [method, codes] : outcomes.seen) {
        for (const auto& [code, calls] : codes) seen[method][code] += calls;
      }
      problems.insert(problems.end(), outcomes.problems.begin(), outcomes.problems.end());
    }
    INFO(problems.size() << " calls broke a promise; the first: "
                         << (problems.empty() ? "" : problems.front()));
    CHECK(problems.empty());
    // The run reached the state it meant to: contacts queued, agents in and READY, rules
    // applied, commands both done and refused.
    CHECK(seen["/acd.v1.Gateway/EnqueueContact"][StatusCode::OK] > 0);
    CHECK(seen["/acd.v1.AgentDesk/Login"][StatusCode::OK] > 0);
    CHECK(seen["/acd.v1.AgentDesk/SetState"][StatusCode::OK] > 0);
    CHECK(seen["/acd.v1.Admin/ApplyRules"][StatusCode::OK] > 0);
    CHECK(seen["/acd.v1.Gateway/CancelContact"][StatusCode::OK] > 0);
    CHECK(seen["/acd.v1.Gateway/EnqueueContact"][StatusCode::INVALID_ARGUMENT] > 0);
    // Still up, and it stops cleanly.
    Api api(acdd.target());
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    v1::Snapshot snapshot;
    REQUIRE(api.supervisor->GetSnapshot(&context, v1::SnapshotRequest(), &snapshot).ok());
    CHECK(acdd.Stop(SIGTERM) == std::optional<int>(0));
  }
  std::ifstream in(log_path);
  const std::string log((std::istreambuf_iterator<char>(in)), {});
  std::remove(log_path.c_str());
  CHECK_FALSE(log.empty());  // debug logging was on: the checks below read something
  CHECK_THAT(log, !Catch::Contains(RandomRequests::kPrivate));
  CHECK_THAT(log, !Catch::Contains("assertion failed"));
}

// Both random runs are tagged [serial]: ctest runs them alone (tests/server/CMakeLists.txt),
// so their load does not starve the tests that wait on deadlines beside them.
TEST_CASE("random requests to every method get a status and never crash or leak",
          "[server][serial]") {
  CheckRandomRequests(/*clients=*/1, /*calls_per_client=*/4000, /*streams_per_client=*/60);
}

TEST_CASE("random requests from four clients at once: the same promises", "[server][serial]") {
  CheckRandomRequests(/*clients=*/4, /*calls_per_client=*/1500, /*streams_per_client=*/15);
}

TEST_CASE("health and server reflection are served", "[server]") {
  AcddProcess acdd;
  Api api(acdd.target());
  std::string reply;
  // grpc.health.v1.HealthCheckRequest{} -> HealthCheckResponse{status: SERVING (1)}.
  REQUIRE(CallRaw(api.channel, "/grpc.health.v1.Health/Check", "", &reply).ok());
  CHECK(reply == std::string("\x08\x01", 2));
  // ServerReflectionRequest{list_services: ""} (field 7) lists our services.
  reply.clear();
  REQUIRE(CallRaw(api.channel, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                  std::string("\x3a\x00", 2), &reply)
              .ok());
  for (const char* service : {"acd.v1.Gateway", "acd.v1.AgentDesk", "acd.v1.Supervisor",
                              "acd.v1.Admin", "grpc.health.v1.Health"}) {
    CHECK_THAT(reply, Catch::Contains(service));
  }
}

TEST_CASE("acdctl watch redraws in a quiet spell, so the longest wait moves on", "[server]") {
  AcddProcess acdd;
  Api api(acdd.target());
  REQUIRE(api.Enqueue("c-1").ok());  // nobody to answer it, and no event after it
  // acdctl watch runs until it is stopped: RunCommand keeps what it printed in 5 s.
  const CommandResult watch =
      RunCommand({ACDCTL_PATH, "--target", acdd.target(), "watch"}, absl::Seconds(5));
  // The longest wait shown in each drawing of the board ("general  1  3s ...").
  std::vector<int> longest;
  for (absl::string_view line : absl::StrSplit(watch.output, '\n')) {
    std::vector<absl::string_view> fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
    int seconds = 0;
    if (fields.size() > 2 && fields[0] == "general" &&
        absl::SimpleAtoi(absl::StripSuffix(fields[2], "s"), &seconds)) {
      longest.push_back(seconds);
    }
  }
  INFO(watch.output);
  REQUIRE(longest.size() >= 3);  // drawn once a second; about 5 times
  CHECK(longest.back() > longest.front());
}

TEST_CASE("acdctl drives the server", "[server]") {
  AcddProcess acdd;
  const std::string acdctl = ACDCTL_PATH;
  CHECK(RunCommand({acdctl, "--target", acdd.target(), "health"}).exit_code == 0);
  CommandResult login = RunCommand(
      {acdctl, "--target", acdd.target(), "agent", "login", "psr-1", "--skill", "general:3"});
  CHECK(login.exit_code == 0);
  CHECK_THAT(login.output, Catch::Contains("NOT_READY"));
  CHECK(RunCommand({acdctl, "--target", acdd.target(), "enqueue", "c-1", "--channel", "chat"})
            .exit_code == 0);
  CommandResult snapshot = RunCommand({acdctl, "--target", acdd.target(), "--json", "snapshot"});
  CHECK(snapshot.exit_code == 0);
  CHECK_THAT(snapshot.output, Catch::Contains("\"queue\":\"general\""));
  CHECK_THAT(snapshot.output, Catch::Contains("\"waiting\":1"));
  CommandResult duplicate = RunCommand({acdctl, "--target", acdd.target(), "enqueue", "c-1"});
  CHECK(duplicate.exit_code == 1);
}

}  // namespace
}  // namespace acd::testing
