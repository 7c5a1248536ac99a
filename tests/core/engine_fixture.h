// Test fixture for the core: an engine on a FakeClock with a sink that records every
// event, plus short ways to log agents in and enqueue contacts. Tests only.
#ifndef ACD_TESTS_CORE_ENGINE_FIXTURE_H_
#define ACD_TESTS_CORE_ENGINE_FIXTURE_H_

#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "engine/core/clock.h"
#include "engine/core/engine.h"

namespace acd::core::testing {

// A copy of an Event that owns its strings.
struct RecordedEvent {
  uint64_t sequence = 0;
  EventType type;
  std::string contact_id, agent_id, queue, from_queue, reason;
  AgentState agent_state;
  absl::Duration waited;
  std::string line;  // FormatEvent
};

class RecordingSink : public EventSink {
 public:
  void OnEvent(const Event& e) override {
    events.push_back(RecordedEvent{e.sequence, e.type, std::string(e.contact_id),
                                   std::string(e.agent_id), std::string(e.queue),
                                   std::string(e.from_queue), std::string(e.reason),
                                   e.agent_state, e.waited(), FormatEvent(e)});
  }
  // Events of one type, in order.
  std::vector<RecordedEvent> Of(EventType type) const {
    std::vector<RecordedEvent> out;
    for (const RecordedEvent& e : events) {
      if (e.type == type) out.push_back(e);
    }
    return out;
  }
  std::vector<RecordedEvent> events;
};

// A config with skills a..e, reason codes BREAK/LUNCH, and the given queues (or one voice
// queue "q" needing skill "a").
inline EngineConfig TestConfig(std::vector<QueueConfig> queues = {}) {
  EngineConfig config;
  config.skills = {"a", "b", "c", "d", "e", "spanish"};
  config.reason_codes = {"BREAK", "LUNCH"};
  if (queues.empty()) {
    QueueConfig q;
    q.name = "q";
    q.channels = {Channel::kVoice, Channel::kChat, Channel::kEmail, Channel::kCallback};
    q.requirements = {{"a", 1}};
    queues.push_back(q);
  }
  config.queues = std::move(queues);
  return config;
}

class EngineFixture {
 public:
  explicit EngineFixture(EngineConfig config = TestConfig(), bool paranoid = true,
                         size_t idle_classes_kept = EngineOptions{}.idle_classes_kept) {
    EngineOptions options;
    options.sink = &sink;
    options.paranoid = paranoid;
    options.idle_classes_kept = idle_classes_kept;
    auto created = Engine::Create(std::move(config), clock, options);
    REQUIRE(created.ok());
    engine = std::move(*created);
  }

  void Tick(absl::Duration d) {
    clock.Advance(d);
    engine->Advance();
  }

  // Logs an agent in with the given skills (level 5 unless "skill:level") and goes ready.
  void Ready(const std::string& id, std::vector<AgentSkill> skills = {{"a", 5}},
             std::vector<ChannelCapacity> capacities = {}) {
    LoginRequest r;
    r.agent_id = id;
    r.skills = std::move(skills);
    r.capacities = std::move(capacities);
    REQUIRE(engine->Login(r).ok());
    REQUIRE(engine->SetReady(id).ok());
  }

  absl::Status Enqueue(const std::string& id, const std::string& queue = "q",
                       Channel channel = Channel::kVoice, std::optional<int> priority = {},
                       std::vector<SkillRequirement> requirements = {},
                       const std::string& language = "") {
    EnqueueRequest r;
    r.contact_id = id;
    r.queue = queue;
    r.channel = channel;
    r.priority = priority;
    r.requirements = std::move(requirements);
    r.language = language;
    return engine->Enqueue(r);
  }

  ContactState StateOf(const std::string& contact) const {
    auto s = engine->GetContact(contact);
    REQUIRE(s.ok());
    return s->state;
  }
  std::string AgentOf(const std::string& contact) const {
    auto s = engine->GetContact(contact);
    REQUIRE(s.ok());
    return s->agent_id;
  }
  AgentState AgentStateOf(const std::string& agent) const {
    auto s = engine->GetAgent(agent);
    REQUIRE(s.ok());
    return s->state;
  }
  QueueStatus Queue(const std::string& name) const {
    for (const QueueStatus& q : engine->Snapshot().queues) {
      if (q.queue == name) return q;
    }
    FAIL("no queue " << name);
    return {};
  }

  FakeClock clock;
  RecordingSink sink;
  std::unique_ptr<Engine> engine;
};

}  // namespace acd::core::testing

#endif  // ACD_TESTS_CORE_ENGINE_FIXTURE_H_
