// "No allocation per decision once warm" (DESIGN.md), checked: this executable replaces
// the global operator new with a counting one, warms an engine up with the same kind of
// traffic, then requires full decision cycles (enqueue -> offer -> accept -> complete ->
// wrap-up end -> next offer, plus abandons) to allocate nothing at all.
// Its own executable, because the counting operator new is process-wide.
#include <cstdlib>
#include <memory>
#include <new>

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "engine/core/clock.h"
#include "engine/core/engine.h"

namespace {
long long g_allocations = 0;
}

// Out of line: once GCC inlines them it pairs `free` with `new` and warns
// (-Wmismatched-new-delete), though the pair is this malloc and this free.
__attribute__((noinline)) void* operator new(std::size_t size) {
  ++g_allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
__attribute__((noinline)) void operator delete(void* p) noexcept { std::free(p); }
__attribute__((noinline)) void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace acd::core {
namespace {

// Counts events and keeps the offers to answer. Ids are short (small-string storage)
// and the vector is reserved, so the sink itself allocates nothing.
class OfferSink final : public EventSink {
 public:
  OfferSink() { offers.reserve(100'000); }
  void OnEvent(const Event& e) override {
    ++events;
    if (e.type == EventType::kContactOffered) {
      offers.emplace_back(std::string(e.agent_id), std::string(e.contact_id));
    }
  }
  long long events = 0;
  std::vector<std::pair<std::string, std::string>> offers;
};

// An engine on `clock` reporting to `sink`, keeping 1,000 finished contacts.
std::unique_ptr<Engine> MakeEngine(EngineConfig config, const FakeClock& clock, OfferSink& sink) {
  config.limits.max_finished_contacts_retained = 1000;
  EngineOptions options;
  options.sink = &sink;
  auto engine = Engine::Create(std::move(config), clock, options);
  REQUIRE(engine.ok());
  return *std::move(engine);
}

TEST_CASE("decision cycles allocate nothing once warm") {
  EngineConfig config;
  config.skills = {"a", "b"};
  QueueConfig q;
  q.name = "q";
  q.requirements = {{"a", 1}};
  q.wrap_up = absl::Seconds(2);
  q.offer_timeout = absl::Seconds(5);
  q.rona_sets_not_ready = false;  // agents stay in play after a missed offer
  q.expansion = {{absl::Seconds(30), 1, {{"b", 1}}}};
  config.queues = {q};
  FakeClock clock;
  OfferSink sink;
  std::unique_ptr<Engine> owned = MakeEngine(std::move(config), clock, sink);
  Engine& engine = *owned;
  const int kAgents = 50;
  std::vector<std::string> agents;
  for (int i = 0; i < kAgents; ++i) {
    agents.push_back(absl::StrCat("agent", i));
    LoginRequest r;
    r.agent_id = agents.back();
    r.skills = {{"a", 1 + i % 10}};
    REQUIRE(engine.Login(r).ok());
    REQUIRE(engine.SetReady(r.agent_id).ok());
  }
  // Ids are pre-built: the caller's strings are not the engine's allocations.
  const int kContacts = 40'000;
  std::vector<std::string> ids;
  for (int i = 0; i < kContacts; ++i) ids.push_back(absl::StrCat("c", i));
  EnqueueRequest request;
  request.queue = "q";
  request.requirements = {{"a", 3}};

  // Error paths build messages and may allocate; this loop makes no failing call.
  // Each contact is enqueued; every 7th hangs up; every 5th offer is missed (RONA after
  // 5 s), the others are accepted and completed at once. Time moves 300 ms per contact,
  // so offer timeouts, wrap-up ends and skill expansion fire along the way.
  auto cycle = [&](int from, int to) {
    for (int i = from; i < to; ++i) {
      request.contact_id = ids[i];
      REQUIRE(engine.Enqueue(request).ok());
      if (i % 7 == 0) (void)engine.Cancel(ids[i], "HANGUP");
      for (size_t k = 0; k < sink.offers.size(); ++k) {
        if (k % 5 == 4) continue;
        const auto [agent, contact] = sink.offers[k];
        if (i % 7 == 0 && contact == ids[i]) continue;  // hung up: accepting it is an error
        if (engine.Accept(agent, contact).ok()) REQUIRE(engine.Complete(agent, contact).ok());
      }
      sink.offers.clear();
      clock.Advance(absl::Milliseconds(300));
      engine.Advance();
    }
  };
  cycle(0, 20'000);  // warm-up: pools, heaps, maps and the retained ring reach size
  const long long before = g_allocations;
  const long long events_before = sink.events;
  cycle(20'000, kContacts);
  CHECK(sink.events - events_before > 50'000);  // real work happened
  CHECK(g_allocations - before == 0);
}

// Every answered contact leaves its max-wait timer behind (a 4 h max wait outlasts this
// whole test). Those stale timers are dropped as the heap grows, so it stops growing:
// without that, the heap alone would reallocate in the measured half.
TEST_CASE("stale max-wait timers do not pile up: answered contacts allocate nothing once warm") {
  EngineConfig config;
  config.skills = {"a"};
  QueueConfig q;
  q.name = "q";
  q.requirements = {{"a", 1}};
  q.max_wait = absl::Hours(4);
  config.queues = {q};
  FakeClock clock;
  OfferSink sink;
  std::unique_ptr<Engine> owned = MakeEngine(std::move(config), clock, sink);
  Engine& engine = *owned;
  LoginRequest login;
  login.agent_id = "agent";
  login.skills = {{"a", 5}};
  REQUIRE(engine.Login(login).ok());
  REQUIRE(engine.SetReady("agent").ok());
  const int kContacts = 60'000;
  std::vector<std::string> ids;
  for (int i = 0; i < kContacts; ++i) ids.push_back(absl::StrCat("c", i));
  EnqueueRequest request;
  request.queue = "q";
  auto cycle = [&](int from, int to) {
    for (int i = from; i < to; ++i) {
      request.contact_id = ids[i];
      REQUIRE(engine.Enqueue(request).ok());  // offered at once to the idle agent
      REQUIRE(engine.Accept("agent", ids[i]).ok());
      REQUIRE(engine.Complete("agent", ids[i]).ok());
      clock.Advance(absl::Milliseconds(100));
      engine.Advance();
    }
  };
  cycle(0, 20'000);
  const long long before = g_allocations;
  cycle(20'000, kContacts);
  CHECK(g_allocations - before == 0);
}

}  // namespace
}  // namespace acd::core
