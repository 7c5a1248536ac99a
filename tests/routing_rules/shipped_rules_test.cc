// The rule sets we ship load, and the healthcare one behaves as its comments promise.
#include <filesystem>

#include <catch2/catch.hpp>

#include "engine/core/clock.h"
#include "engine/core/engine.h"
#include "routing_rules/rules_loader.h"

namespace acd::rules {
namespace {

std::string Path(const std::string& name) { return std::string(ACD_RULES_DIR) + "/" + name; }

absl::Time Utc(int y, int m, int d, int hh, int mm) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, hh, mm, 0), absl::UTCTimeZone());
}

TEST_CASE("every shipped rules file is valid") {
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(ACD_RULES_DIR)) {
    if (entry.path().extension() != ".textproto") continue;
    ++files;
    INFO(entry.path());
    absl::StatusOr<LoadedRules> loaded = LoadRulesFile(entry.path());
    CHECK(loaded.ok());
    if (!loaded.ok()) WARN(loaded.status().message());
  }
  CHECK(files >= 2);
}

struct Center {
  explicit Center(absl::Time start) : clock(start) {
    absl::StatusOr<LoadedRules> loaded = LoadRulesFile(Path("healthcare_psc.textproto"));
    REQUIRE(loaded.ok());
    auto created = core::Engine::Create(loaded->config, clock);
    REQUIRE(created.ok());
    engine = std::move(*created);
  }
  absl::Status Enqueue(const std::string& id, const std::string& queue,
                       core::Channel channel = core::Channel::kVoice,
                       const std::string& language = "") {
    core::EnqueueRequest r;
    r.contact_id = id;
    r.queue = queue;
    r.channel = channel;
    r.language = language;
    return engine->Enqueue(r);
  }
  void Agent(const std::string& id, std::vector<core::AgentSkill> skills) {
    core::LoginRequest r;
    r.agent_id = id;
    r.skills = std::move(skills);
    REQUIRE(engine->Login(r).ok());
    REQUIRE(engine->SetReady(id).ok());
  }
  core::FakeClock clock;
  std::unique_ptr<core::Engine> engine;
};

TEST_CASE("healthcare: a nurse who serves two lines answers triage first") {
  Center c(Utc(2026, 11, 23, 15, 0));  // Monday 10:00 Eastern: everything open
  REQUIRE(c.Enqueue("refill", "prescriptions").ok());
  c.clock.Advance(absl::Minutes(5));
  REQUIRE(c.Enqueue("chest_pain", "clinical_triage").ok());
  c.Agent("nurse", {{"clinical_triage", 6}, {"prescriptions", 5}});
  CHECK(c.engine->GetContact("chest_pain")->agent_id == "nurse");
}

TEST_CASE("healthcare: Spanish callers reach Spanish-speaking PSRs only") {
  Center c(Utc(2026, 11, 23, 15, 0));
  c.Agent("english", {{"scheduling", 7}});
  REQUIRE(c.Enqueue("es1", "scheduling", core::Channel::kVoice, "spanish").ok());
  CHECK(c.engine->GetContact("es1")->state == core::ContactState::kWaiting);
  c.Agent("bilingual", {{"scheduling", 4}, {"spanish", 8}});
  CHECK(c.engine->GetContact("es1")->agent_id == "bilingual");
}

TEST_CASE("healthcare: scheduling hours follow Eastern time across the DST change") {
  // Monday 2026-03-02, EST (UTC-5): opens 07:00 local = 12:00 UTC.
  Center before(Utc(2026, 3, 2, 11, 59));
  REQUIRE(before.Enqueue("early", "scheduling").ok());
  CHECK(before.engine->GetContact("early")->channel == core::Channel::kCallback);  // closed
  before.clock.Set(Utc(2026, 3, 2, 12, 0));
  REQUIRE(before.Enqueue("on_time", "scheduling").ok());
  CHECK(before.engine->GetContact("on_time")->channel == core::Channel::kVoice);
  // Monday 2026-03-09, EDT (UTC-4): opens 07:00 local = 11:00 UTC.
  Center after(Utc(2026, 3, 9, 11, 0));
  REQUIRE(after.Enqueue("on_time", "scheduling").ok());
  CHECK(after.engine->GetContact("on_time")->channel == core::Channel::kVoice);
  // Chats are refused while closed; billing overflows to information and referral.
  Center night(Utc(2026, 3, 10, 3, 0));  // 23:00 EDT
  CHECK(night.Enqueue("chat", "scheduling", core::Channel::kChat).code() ==
        absl::StatusCode::kFailedPrecondition);
  REQUIRE(night.Enqueue("bill", "billing_insurance").ok());
  CHECK(night.engine->GetContact("bill")->queue == "info_referral");
}

TEST_CASE("healthcare: Thanksgiving is a holiday for scheduling") {
  Center c(Utc(2026, 11, 26, 15, 0));  // Thursday 10:00 Eastern
  REQUIRE(c.Enqueue("c1", "scheduling").ok());
  CHECK(c.engine->GetContact("c1")->channel == core::Channel::kCallback);
}

TEST_CASE("healthcare: complaints escalate to the supervisor tier") {
  Center c(Utc(2026, 11, 23, 15, 0));
  c.Agent("psr", {{"complaints", 8}});
  REQUIRE(c.Enqueue("angry", "complaints").ok());
  REQUIRE(c.engine->Accept("psr", "angry").ok());
  REQUIRE(c.engine->Escalate("angry").ok());
  CHECK(c.engine->GetContact("angry")->queue == "supervisors");
}

}  // namespace
}  // namespace acd::rules
