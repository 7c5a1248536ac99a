// Core benchmarks (issue 7, part 1): full decision cycles through acd::core::Engine at
// three scales, with per-decision latency percentiles and measured memory.
//
// A cycle: a busy agent completes its contact; freed, it takes the best waiting contact
// it can serve (the decision: an offer) and accepts it; a new contact arrives and waits,
// or is offered at once to an idle agent who can serve it (also a decision), who accepts.
// So every cycle routes one contact through enqueue -> wait -> offer -> accept ->
// complete, and the waiting backlog stays constant. Every offer is accepted, so no agent
// is left reserved. decisions_per_s counts offers per second of wall time over whole
// cycles (arrival, completion with its decision, acceptances); the latency recorded per
// decision is that of the Complete command that made it (the time-stamp counter around the
// call, converted with steady_clock: Ticks()), and only Completes that succeed are
// recorded (a cycle that picks an idle agent has nothing to complete and is skipped).
// The benchmark's own work (counting up the new contact's id, drawing its requirements,
// handing the engine back the ids its events gave, the two time stamps) is in the cycle
// time too, so the engine alone is faster than the figures say: at scale 1 it is about
// 480 of the cycle's 5,120 instructions (callgrind).
//
//   BM_OneQueue/agents:100           scale 1: one queue, one skill, 100 agents
//   BM_Skills/agents/skills/waiting  scale 2: 1,000 skills, 10,000 agents, 100,000 waiting
//   BM_Memory/agents/waiting         scale 3: 100,000 agents, 1,000,000 waiting (memory)
//   BM_GetContactPosition/waiting    a caller's position query in a queue of that length
//   BM_HostMemoryLatency             not the engine: the host's memory latency meanwhile
//
// At scale 2 each agent holds 3-8 skills (Zipf-like popularity) at levels 1-10, and each
// contact needs 1-3 skills of a randomly drawn agent at levels 1-3 (capped at that
// agent's): every contact can be served by someone, as in a center that routes only to
// skills it staffs. Almost every contact then has a requirement set of its own, so about
// one arrival in two creates a requirement class and one retires. 200,000 untimed cycles
// run first, so the measured ones see the steady state of that churn.
#include <malloc.h>
#include <sys/resource.h>
#if defined(__x86_64__)
#include <x86intrin.h>
#endif

#include <charconv>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define ACD_HAVE_CALLGRIND 1
#endif

#include "absl/strings/str_cat.h"
#include "benchmarks/latency_histogram.h"
#include "engine/core/clock.h"
#include "engine/core/engine.h"
#include "engine/core/random.h"

namespace acd::bench {
namespace {

using core::Channel;
using core::Engine;

// Time stamps for the per-decision latency, in ticks of the CPU's time-stamp counter
// (lfence, rdtsc), converted to nanoseconds against steady_clock over the whole measured
// loop (TicksPerNs). Two steady_clock::now() a cycle (the vDSO's clock_gettime) were 9%
// of a scale-1 cycle in perf: time the benchmark spent measuring, not deciding. This
// host's TSC is constant and the kernel's clock source.
uint64_t Ticks() {
#if defined(__x86_64__)
  _mm_lfence();  // not before the work being timed has finished
  return __rdtsc();
#else
  return static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
#endif
}

// Ticks and steady_clock read together: two of them give the ticks per nanosecond between.
struct TickMark {
  uint64_t ticks = Ticks();
  std::chrono::steady_clock::time_point at = std::chrono::steady_clock::now();
};
double TicksPerNs(const TickMark& from, const TickMark& to) {
  const std::chrono::duration<double, std::nano> ns = to.at - from.at;
  return ns.count() > 0 ? static_cast<double>(to.ticks - from.ticks) / ns.count() : 1.0;
}

// Under callgrind (benchmarks/count_core.sh), the counts of the measured cycles alone:
// zeroed as they start and written out as a dump of their own ("measured cycles") as they
// end, so the set-up and the warm-up cycles are not in them. Outside valgrind these are a
// few instructions that do nothing, run twice a benchmark run.
void BeginCounted() {
#ifdef ACD_HAVE_CALLGRIND
  CALLGRIND_ZERO_STATS;
#endif
}
void EndCounted() {
#ifdef ACD_HAVE_CALLGRIND
  CALLGRIND_DUMP_STATS_AT("measured cycles");
#endif
}

uint32_t Number(absl::string_view id) {  // "a123" -> 123
  uint32_t n = 0;
  std::from_chars(id.data() + 1, id.data() + id.size(), n);
  return n;
}

// Contact ids are "c0", "c1", "c2", ...: NextContactId counts the previous one up in
// place (usually one digit changes), so the driver formats no number per arrival.
constexpr char kBeforeFirstContactId[] = "c/";  // '/' comes just before '0'
void NextContactId(std::string& id) {
  for (size_t i = id.size() - 1; i > 0; --i) {
    if (id[i] != '9') {
      ++id[i];
      return;
    }
    id[i] = '0';
  }
  id.insert(1, 1, '1');  // "c99" -> "c100"
}

// Collects the offers a command made, so the driver can accept each of them; remembers
// each agent's connected contact by the id the events gave (the driver hands ids back
// to the engine as a gateway would, formatting none). Never allocates once warm: the ids
// fit std::string's inline buffer.
class OfferSink final : public core::EventSink {
 public:
  explicit OfferSink(size_t agents) : connected_(agents) {}
  void OnEvent(const core::Event& e) override {
    if (e.type == core::EventType::kContactOffered) {
      if (pending_count_ == pending_.size()) pending_.emplace_back();
      Offer& offer = pending_[pending_count_++];
      offer.agent = Number(e.agent_id);
      offer.contact.assign(e.contact_id.data(), e.contact_id.size());
      ++offers_;
    }
  }
  // Accepts every offer made since the last call; agent n's id is agent_ids[n].
  void AcceptPending(Engine& engine, const std::vector<std::string>& agent_ids) {
    for (size_t i = 0; i < pending_count_; ++i) {
      Offer& offer = pending_[i];
      if (engine.Accept(agent_ids[offer.agent], offer.contact).ok()) {
        connected_[offer.agent] = offer.contact;
      }
    }
    pending_count_ = 0;
  }
  // The agent's connected contact's id, empty if none.
  const std::string& connected(uint32_t agent) const { return connected_[agent]; }
  void Completed(uint32_t agent) { connected_[agent].clear(); }
  uint64_t offers() const { return offers_; }

 private:
  struct Offer {
    uint32_t agent = 0;
    std::string contact;
  };
  std::vector<std::string> connected_;
  std::vector<Offer> pending_;  // the first pending_count_ are pending
  size_t pending_count_ = 0;
  uint64_t offers_ = 0;
};

// Zipf-like skill popularity: a few skills (scheduling, billing) are common, most rare.
class SkillMix {
 public:
  explicit SkillMix(int skills) {
    double sum = 0;
    for (int i = 0; i < skills; ++i) cdf_.push_back(sum += 1.0 / (i + 1));
    for (double& c : cdf_) c /= sum;
  }
  int Draw(core::Random& rng) const {
    const double u = rng.NextDouble();
    return static_cast<int>(std::lower_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin());
  }
  // `count` distinct skills, into `out` (returned).
  const std::vector<int>& DrawSet(core::Random& rng, int count, std::vector<int>& out) const {
    out.clear();
    while (static_cast<int>(out.size()) < count) {
      const int s = Draw(rng);
      if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
    }
    return out;
  }

 private:
  std::vector<double> cdf_;
};

// Bytes in use from malloc: small chunks plus large (mmap-backed) blocks, where big
// vectors and hash tables live.
size_t HeapBytes() {
  const struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
}

struct Center {
  Center(int agents, int skills, int waiting, uint64_t seed) : sink(agents), mix(skills) {
    core::EngineConfig config;
    for (int s = 0; s < skills; ++s) skill_names.push_back(absl::StrCat("s", s));
    config.skills = skill_names;
    core::QueueConfig q;
    q.name = "q";
    q.max_length = waiting + agents + 1000;
    q.offer_timeout = absl::Hours(24);  // agents answer at once; no RONA in a benchmark
    config.queues = {q};
    config.limits.max_contacts = waiting + agents + 1000;
    config.limits.max_agents = agents;
    config.limits.max_requirement_classes = 2'000'000;
    config.limits.max_finished_contacts_retained = 64;
    core::EngineOptions options;
    options.sink = &sink;
    engine = std::move(*Engine::Create(config, clock, options));
    core::Random rng(seed);
    this->skills = skills;
    // Each agent's skills (3-8 of the mix, levels 1-10), drawn before measuring: only
    // what the engine allocates for the logins counts.
    std::vector<core::LoginRequest> logins(agents);
    agent_skills.resize(static_cast<size_t>(agents) * kMaxAgentSkills);
    agent_skill_count.resize(agents);
    for (int a = 0; a < agents; ++a) {
      agent_ids.push_back(absl::StrCat("a", a));
      logins[a].agent_id = agent_ids[a];
      const int count = skills == 1 ? 1 : 3 + static_cast<int>(rng.Uniform(6));  // 3..8
      for (int s : mix.DrawSet(rng, std::min(count, skills), drawn)) {
        const int level = 1 + static_cast<int>(rng.Uniform(10));
        logins[a].skills.push_back({skill_names[s], level});
        agent_skills[a * kMaxAgentSkills + agent_skill_count[a]++] = {s, level};
      }
    }
    const size_t before_agents = HeapBytes();
    for (const core::LoginRequest& r : logins) {
      (void)engine->Login(r);
      (void)engine->SetReady(r.agent_id);
    }
    bytes_per_agent = static_cast<double>(HeapBytes() - before_agents) / agents;
    // The request is reused for every arrival: its queue is set once, and its contact id
    // counted up from the one before.
    request.queue = "q";
    request.contact_id = kBeforeFirstContactId;
    // Fill every agent with a connected contact, then build the waiting backlog.
    for (int a = 0; a < agents; ++a) {
      Enqueue(rng, /*any=*/true, a);
      sink.AcceptPending(*engine, agent_ids);
    }
    const size_t before_contacts = HeapBytes();
    for (int i = 0; i < waiting; ++i) Enqueue(rng, /*any=*/false, 0);
    bytes_per_waiting = static_cast<double>(HeapBytes() - before_contacts) / waiting;
    this->rng = std::make_unique<core::Random>(seed + 1);
  }

  // A contact needing 1-3 skills at levels 1-3 (or, with `any`, exactly one skill of
  // agent `for_agent`'s first skill, so it surely connects). The skills are those of an
  // agent drawn at random (levels capped at that agent's), so the mix follows the skills
  // the center staffs and every contact can be served by someone: with skills drawn
  // from the mix alone, about a third of the arrivals needed a combination no agent has,
  // never left, and slowly replaced the backlog, so the figures drifted with the run's
  // length (agents went idle with nothing they could take).
  // The request is reused, so a warm cycle allocates nothing here.
  void Enqueue(core::Random& r, bool any, int for_agent) {
    NextContactId(request.contact_id);
    request.requirements.clear();
    if (any) {
      auto agent = engine->GetAgent(agent_ids[for_agent]);
      request.requirements.push_back({agent->skills.front().skill, 1});
    } else {
      const size_t agent = r.Uniform(agent_skill_count.size());
      const std::pair<int, int>* of = &agent_skills[agent * kMaxAgentSkills];
      const int held = agent_skill_count[agent];
      const int count = std::min(held, 1 + static_cast<int>(r.Uniform(3)));
      drawn.clear();  // indices into `of`, distinct
      while (static_cast<int>(drawn.size()) < count) {
        const int i = static_cast<int>(r.Uniform(held));
        if (std::find(drawn.begin(), drawn.end(), i) == drawn.end()) drawn.push_back(i);
      }
      for (int i : drawn) {
        const auto [skill, level] = of[i];
        request.requirements.push_back(
            {skill_names[skill], std::min(level, 1 + static_cast<int>(r.Uniform(3)))});
      }
    }
    (void)engine->Enqueue(request);
  }

  core::FakeClock clock;
  OfferSink sink;
  SkillMix mix;
  int skills = 1;
  std::unique_ptr<Engine> engine;
  std::unique_ptr<core::Random> rng;
  std::vector<std::string> agent_ids;
  std::vector<std::string> skill_names;
  std::vector<int> drawn;  // DrawSet's scratch
  // Agent a's (skill, level) pairs: agent_skill_count[a] of them from a * kMaxAgentSkills
  // (one flat array: drawing a contact's skills reads one line, not a list's header and
  // then its block).
  static constexpr int kMaxAgentSkills = 8;
  std::vector<std::pair<int, int>> agent_skills;
  std::vector<uint8_t> agent_skill_count;
  core::EnqueueRequest request;
  double bytes_per_agent = 0;
  double bytes_per_waiting = 0;
};

// One cycle for `agent` (see the top of the file). Returns false if its Complete failed;
// sets *latency_ticks to the Complete's latency (in Ticks()), or to -1 for an idle agent
// (nothing waiting it can serve: nothing to complete, no cycle).
bool Cycle(Center& center, uint32_t agent, int64_t* latency_ticks) {
  OfferSink& sink = center.sink;
  *latency_ticks = -1;
  const std::string& contact = sink.connected(agent);
  if (contact.empty()) return true;
  const uint64_t start = Ticks();
  const absl::Status completed = center.engine->Complete(center.agent_ids[agent], contact);
  const uint64_t end = Ticks();
  if (!completed.ok()) return false;
  *latency_ticks = static_cast<int64_t>(end - start);
  sink.Completed(agent);
  sink.AcceptPending(*center.engine, center.agent_ids);  // the freed agent's next contact
  // The new arrival is part of the cycle (and of the time); PauseTiming would cost more
  // than the engine's work here.
  center.Enqueue(*center.rng, false, 0);
  sink.AcceptPending(*center.engine, center.agent_ids);  // offered at once to an idle agent
  return true;
}

// Runs `warm_up` untimed cycles first, so the measured ones see the steady state (at
// scale 2 the set of requirement classes takes about two backlogs' worth of arrivals to
// settle: classes nobody waits in are kept up to a bound, then retired).
void RunCycles(benchmark::State& state, Center& center, int agents, int warm_up = 0) {
  LatencyHistogram histogram;  // in ticks
  OfferSink& sink = center.sink;
  uint32_t agent = 0;
  int64_t latency_ticks;
  for (int i = 0; i < warm_up; ++i) {
    agent = (agent + 1) % agents;
    if (!Cycle(center, agent, &latency_ticks)) {
      state.SkipWithError("Complete failed: the benchmark lost track of a contact");
      return;
    }
  }
  // How often the thread was preempted while measuring (the machine is shared): a
  // decision that waited for the CPU shows up in the tail, so the tail is read with it.
  const auto preemptions = [] {
    struct rusage usage {};
    getrusage(RUSAGE_THREAD, &usage);
    return static_cast<double>(usage.ru_nivcsw);
  };
  const double preempted_before = preemptions();
  const uint64_t offers_before = sink.offers();
  const TickMark first;
  BeginCounted();
  for (auto _ : state) {
    agent = (agent + 1) % agents;
    if (!Cycle(center, agent, &latency_ticks)) {
      state.SkipWithError("Complete failed: the benchmark lost track of a contact");
      break;
    }
    if (latency_ticks < 0) continue;
    histogram.Record(static_cast<uint64_t>(latency_ticks));
  }
  EndCounted();
  const double ticks_per_ns = TicksPerNs(first, TickMark());
  const auto ns = [&](uint64_t ticks) { return static_cast<double>(ticks) / ticks_per_ns; };
  state.counters["preemptions"] = preemptions() - preempted_before;
  state.counters["decisions_over_20us"] =
      static_cast<double>(histogram.CountAbove(static_cast<uint64_t>(20'000 * ticks_per_ns)));
  const double decisions = static_cast<double>(sink.offers() - offers_before);
  state.counters["decisions_per_s"] = benchmark::Counter(decisions, benchmark::Counter::kIsRate);
  state.counters["decisions"] = decisions;  // in the measured cycles (count_core.sh's divisor)
  state.counters["p50_ns"] = ns(histogram.Quantile(0.50));
  state.counters["p99_ns"] = ns(histogram.Quantile(0.99));
  state.counters["p999_ns"] = ns(histogram.Quantile(0.999));
  state.counters["bytes_per_agent"] = center.bytes_per_agent;
  state.counters["bytes_per_waiting_contact"] = center.bytes_per_waiting;
}

void BM_OneQueue(benchmark::State& state) {
  const int agents = static_cast<int>(state.range(0));
  Center center(agents, 1, agents, 1);
  RunCycles(state, center, agents);
}
BENCHMARK(BM_OneQueue)->ArgName("agents")->Arg(100)->Unit(benchmark::kNanosecond);

void BM_Skills(benchmark::State& state) {
  const int agents = static_cast<int>(state.range(0));
  const int waiting = static_cast<int>(state.range(2));
  Center center(agents, static_cast<int>(state.range(1)), waiting, 2);
  RunCycles(state, center, agents, /*warm_up=*/2 * waiting);
}
BENCHMARK(BM_Skills)
    ->ArgNames({"agents", "skills", "waiting"})
    ->Args({10'000, 1'000, 100'000})
    ->Unit(benchmark::kNanosecond)
    ->Iterations(200'000);

void BM_Memory(benchmark::State& state) {
  const int agents = static_cast<int>(state.range(0));
  const int waiting = static_cast<int>(state.range(1));
  const size_t before = HeapBytes();
  Center center(agents, 1, waiting, 3);
  const double total_mib = static_cast<double>(HeapBytes() - before) / (1 << 20);
  RunCycles(state, center, agents);
  state.counters["total_MiB"] = total_mib;
}
BENCHMARK(BM_Memory)
    ->ArgNames({"agents", "waiting"})
    ->Args({100'000, 1'000'000})
    ->Unit(benchmark::kNanosecond)
    ->Iterations(100'000);

// GetContact of the last arrival in a queue of `waiting`, as an IVR asks for the caller's
// position and estimated wait to announce them. The first query builds the queue's rank
// index (outside the timing); each query then counts the callers ahead in it, at a cost
// that grows with the queue's length / 256 rather than with its length.
void BM_GetContactPosition(benchmark::State& state) {
  const int waiting = static_cast<int>(state.range(0));
  Center center(100, 1, waiting, 4);
  const std::string id = center.request.contact_id;  // the last arrival's
  const auto first = center.engine->GetContact(id);
  if (!first.ok() || first->position != waiting) {
    state.SkipWithError("the last arrival is not last in the queue");
    return;
  }
  for (auto _ : state) {
    auto status = center.engine->GetContact(id);
    benchmark::DoNotOptimize(status);
  }
}
BENCHMARK(BM_GetContactPosition)
    ->ArgName("waiting")
    ->Arg(1'000)
    ->Arg(100'000)
    ->Unit(benchmark::kMicrosecond);

// Not the engine: a probe of the host, run with the engine's figures so that runs on
// this shared machine can be compared. Each iteration makes 1,000 dependent loads along
// one random cycle through 64 MiB (Sattolo's shuffle), bigger than the last-level cache,
// so each load is a cache miss and usually a TLB miss too: the memory latency the
// scale-2 cycle, which is bound by such misses, saw in the same minutes.
void BM_HostMemoryLatency(benchmark::State& state) {
  const size_t n = (size_t{64} << 20) / sizeof(uint32_t);
  std::vector<uint32_t> next(n);
  for (size_t i = 0; i < n; ++i) next[i] = static_cast<uint32_t>(i);
  core::Random rng(5);
  for (size_t i = n - 1; i > 0; --i) std::swap(next[i], next[rng.Uniform(i)]);
  constexpr int kLoads = 1000;
  uint32_t at = 0;
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    for (int k = 0; k < kLoads; ++k) at = next[at];
    benchmark::DoNotOptimize(at);
  }
  const std::chrono::duration<double, std::nano> elapsed = std::chrono::steady_clock::now() - start;
  state.counters["ns_per_load"] =
      elapsed.count() / (static_cast<double>(state.iterations()) * kLoads);
}
BENCHMARK(BM_HostMemoryLatency)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace acd::bench

BENCHMARK_MAIN();
