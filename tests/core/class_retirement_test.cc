// Requirement classes that nobody waits in are retired and their ids reused, so the
// class count follows the requirement sets in use rather than every set ever seen.
#include "absl/strings/str_cat.h"
#include "tests/core/engine_fixture.h"

namespace acd::core::testing {
namespace {

EngineConfig ManySkills(int max_classes) {
  EngineConfig config;
  for (int s = 0; s < 30; ++s) config.skills.push_back(absl::StrCat("s", s));
  QueueConfig q;
  q.name = "q";
  config.queues = {q};
  config.limits.max_requirement_classes = max_classes;
  return config;
}

// Serves `contacts` contacts one at a time, each with a requirement set not seen for a
// while (300 distinct sets in turn); every one is offered, accepted and completed.
void ServeDistinctSets(EngineFixture& f, int contacts) {
  std::vector<AgentSkill> skills;
  for (int s = 0; s < 30; ++s) skills.push_back({absl::StrCat("s", s), 10});
  f.Ready("agent", skills);
  for (int i = 0; i < contacts; ++i) {
    const std::string id = absl::StrCat("c", i);
    const int set = i % 300;
    REQUIRE(f.Enqueue(id, "q", Channel::kVoice, {}, {{absl::StrCat("s", set % 30), 1 + set / 30}})
                .ok());
    REQUIRE(f.StateOf(id) == ContactState::kOffered);
    REQUIRE(f.engine->Accept("agent", id).ok());
    REQUIRE(f.engine->Complete("agent", id).ok());
    if (i % 97 == 0) f.engine->CheckInvariants();
  }
  f.engine->CheckInvariants();
}

TEST_CASE("retired classes make room under max_requirement_classes") {
  // Before retirement existed, the 51st distinct requirement set ever seen was refused
  // with RESOURCE_EXHAUSTED, although at most one class was in use at any time.
  EngineFixture f(ManySkills(50), /*paranoid=*/true);
  ServeDistinctSets(f, 2'000);
}

TEST_CASE("idle classes beyond the kept number are retired, and ids reused") {
  EngineFixture f(ManySkills(100'000), /*paranoid=*/true, /*idle_classes_kept=*/4);
  ServeDistinctSets(f, 2'000);
}

TEST_CASE("waiting contacts keep their classes while idle ones are retired") {
  EngineFixture f(ManySkills(100'000), /*paranoid=*/true, /*idle_classes_kept=*/0);
  // Nobody can serve level 10 of s0..s9 yet: these wait, each in its own class.
  for (int s = 0; s < 10; ++s) {
    REQUIRE(f.Enqueue(absl::StrCat("w", s), "q", Channel::kVoice, {}, {{absl::StrCat("s", s), 10}})
                .ok());
  }
  std::vector<AgentSkill> low;
  for (int s = 0; s < 30; ++s) low.push_back({absl::StrCat("s", s), 5});
  f.Ready("low", low);
  for (int i = 0; i < 500; ++i) {  // churn through classes that go idle at once
    const std::string id = absl::StrCat("c", i);
    REQUIRE(f.Enqueue(id, "q", Channel::kVoice, {}, {{absl::StrCat("s", 10 + i % 20), 1 + i % 5}})
                .ok());
    REQUIRE(f.engine->Accept("low", id).ok());
    REQUIRE(f.engine->Complete("low", id).ok());
  }
  f.engine->CheckInvariants();
  // The waiting contacts are still routed: an expert takes them, best first.
  std::vector<AgentSkill> high;
  for (int s = 0; s < 30; ++s) high.push_back({absl::StrCat("s", s), 10});
  f.Ready("high", high);
  REQUIRE(f.StateOf("w0") == ContactState::kOffered);
  for (int s = 1; s < 10; ++s) REQUIRE(f.StateOf(absl::StrCat("w", s)) == ContactState::kWaiting);
  f.engine->CheckInvariants();
}

// Enqueues contact `id` in queue "q" needing s0 at `level` (and `language`, if any).
void EnqueueNeeding(EngineFixture& f, const std::string& id, Channel channel, int level,
                    const std::string& language = "") {
  REQUIRE(f.Enqueue(id, "q", channel, {}, {{"s0", level}}, language).ok());
}

EngineConfig VoiceChatSpanish() {
  EngineConfig config = ManySkills(100'000);
  config.skills.push_back("spanish");
  config.queues[0].channels = {Channel::kVoice, Channel::kChat};
  return config;
}

TEST_CASE("arrivals that differ in a level, a channel or a language get their own classes") {
  // Each queue remembers the classes of its recent arrivals and gives an arrival with
  // the same needs the same class: only the same needs.
  EngineFixture f(VoiceChatSpanish(), /*paranoid=*/true);
  // Nobody is logged in: these wait, in four classes.
  EnqueueNeeding(f, "hard", Channel::kVoice, 3);
  EnqueueNeeding(f, "easy", Channel::kVoice, 1);
  EnqueueNeeding(f, "chat", Channel::kChat, 1);
  EnqueueNeeding(f, "spanish", Channel::kVoice, 1, "spanish");
  EnqueueNeeding(f, "easy2", Channel::kVoice, 1);  // the same needs as "easy": its class
  f.engine->CheckInvariants();
  // A level-1 English voice agent can take exactly "easy" and "easy2", in arrival order.
  f.Ready("low", {{"s0", 1}});
  REQUIRE(f.AgentOf("easy") == "low");
  REQUIRE(f.engine->Accept("low", "easy").ok());
  REQUIRE(f.engine->Complete("low", "easy").ok());
  REQUIRE(f.AgentOf("easy2") == "low");
  REQUIRE(f.engine->Accept("low", "easy2").ok());
  REQUIRE(f.engine->Complete("low", "easy2").ok());
  for (const char* id : {"hard", "chat", "spanish"}) {
    REQUIRE(f.StateOf(id) == ContactState::kWaiting);
  }
  f.engine->CheckInvariants();
}

TEST_CASE("a remembered class that retires is not handed to the next arrival with its needs") {
  EngineFixture f(VoiceChatSpanish(), /*paranoid=*/true, /*idle_classes_kept=*/0);
  EnqueueNeeding(f, "easy", Channel::kVoice, 1);
  f.Ready("low", {{"s0", 1}});
  REQUIRE(f.engine->Accept("low", "easy").ok());
  REQUIRE(f.engine->Complete("low", "easy").ok());
  // "easy"'s class is idle with none in use, so the next arrival retires it first, and
  // that arrival's new class (level 2: not for "low") takes the freed id.
  EnqueueNeeding(f, "new", Channel::kVoice, 2);
  REQUIRE(f.StateOf("new") == ContactState::kWaiting);
  // "easy"'s needs again: a class of its own, offered to "low" at once.
  EnqueueNeeding(f, "easy2", Channel::kVoice, 1);
  REQUIRE(f.AgentOf("easy2") == "low");
  REQUIRE(f.StateOf("new") == ContactState::kWaiting);
  f.engine->CheckInvariants();
}

}  // namespace
}  // namespace acd::core::testing
