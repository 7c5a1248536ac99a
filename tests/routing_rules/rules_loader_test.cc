// Golden tests: each class of problem in a rules file, with its exact message and place.
#include <catch2/catch.hpp>

#include "routing_rules/rules_loader.h"

namespace acd::rules {
namespace {

// A valid base to break in one place at a time.
constexpr absl::string_view kHeader = R"(skills: "a"
skills: "b"
)";

std::string Error(absl::string_view body) {
  absl::StatusOr<LoadedRules> loaded = ParseRules(absl::StrCat(kHeader, body), "test.textproto");
  REQUIRE_FALSE(loaded.ok());
  CHECK(loaded.status().code() == absl::StatusCode::kInvalidArgument);
  return std::string(loaded.status().message());
}

TEST_CASE("a valid file loads into the engine's config") {
  absl::StatusOr<LoadedRules> loaded = ParseRules(absl::StrCat(kHeader, R"(
version: "v7"
queues {
  name: "q"
  channels: [VOICE, CHAT]
  default_priority: 5
  requirements { skill: "a" min_level: 3 }
  expansion { after_seconds: 30 min_level_cap: 1 also_accept { skill: "b" } }
  strategy { name: "preferred_agent" params { key: "fallback_after_seconds" value: "10" } }
  service_level { threshold_seconds: 15 target: 0.9 }
  wrap_up_seconds: 12
  rona { set_not_ready: false }
  hours { time_zone: "Europe/Madrid" open { days: [MONDAY, FRIDAY] from: "08:30" to: "24:00" } }
}
)"),
                                                  "ok.textproto");
  REQUIRE(loaded.ok());
  const core::QueueConfig& q = loaded->config.queues.at(0);
  CHECK(loaded->version == "v7");
  CHECK(loaded->checksum.rfind("fnv1a64:", 0) == 0);
  CHECK(q.channels == std::vector<core::Channel>{core::Channel::kVoice, core::Channel::kChat});
  CHECK(q.default_priority == 5);
  CHECK(q.requirements.at(0).min_level == 3);
  CHECK(q.expansion.at(0).after == absl::Seconds(30));
  CHECK(q.expansion.at(0).also_accept.at(0).skill == "b");
  CHECK(q.expansion.at(0).also_accept.at(0).min_level == 1);
  CHECK(q.strategy == "preferred_agent");
  CHECK(q.service_level_threshold == absl::Seconds(15));
  CHECK(q.wrap_up == absl::Seconds(12));
  CHECK(q.offer_timeout == absl::Seconds(20));  // default
  CHECK_FALSE(q.rona_sets_not_ready);
  CHECK(q.hours.enabled);
  CHECK(q.hours.weekly.size() == 2);
  CHECK(q.hours.weekly[1].day == absl::Weekday::friday);
  CHECK(q.hours.weekly[1].open_minute == 8 * 60 + 30);
  CHECK(q.hours.weekly[1].close_minute == 24 * 60);
}

TEST_CASE("syntax errors give file:line:column") {
  CHECK(Error("queues { name: \"q\"\n  wrap_up_seconds: \"soon\" }\n") ==
        "test.textproto:4:20: Expected integer, got: \"soon\"");
  CHECK(Error("queues { nmae: \"q\" }\n") ==
        "test.textproto:3:14: Message type \"acd.v1.QueueRule\" has no field named \"nmae\".");
  CHECK(Error("queues { name: \"q\" channels: [PIGEON] }\n") ==
        "test.textproto:3:37: Unknown enumeration value of \"PIGEON\" for field \"channels\".");
}

TEST_CASE("rule errors name the queue and field, at the queue's line") {
  CHECK(Error("queues {\n  name: \"q\"\n  requirements { skill: \"c\" }\n}\n") ==
        "test.textproto:5:3: queue 'q': requirements: unknown skill 'c'");
  CHECK(Error("queues { name: \"q\" requirements { skill: \"a\" min_level: 11 } }\n") ==
        "test.textproto:3:20: queue 'q': requirements: skill 'a' level 11 is outside 1-10");
  CHECK(Error("queues { name: \"q\" strategy { name: \"fastest\" } }\n") ==
        "test.textproto:3:20: queue 'q': strategy: unknown routing strategy 'fastest' (known: best_skill, "
        "fewest_handled, least_occupied, longest_idle, preferred_agent, random, round_robin)");
  CHECK(Error("queues { name: \"q\" }\nqueues { name: \"q\" }\n") ==
        "test.textproto: queues: duplicate queue 'q'");
  CHECK(Error("queues { name: \"q\" wrap_up_seconds: -5 }\n") ==
        "test.textproto:3:20: queue 'q': wrap_up_seconds -5 is negative");
  CHECK(Error("queues { name: \"q\" channels: [VOICE, CHAT] max_wait_seconds: 60 overflow_queue: "
              "\"r\" }\nqueues { name: \"r\" channels: [VOICE] }\n") ==
        "test.textproto:3:65: queue 'q': overflow_queue 'r' does not take CHAT contacts");
  CHECK(Error("queues { name: \"q\" hours { time_zone: \"Mars/Olympus\" } }\n") ==
        "test.textproto:3:20: queue 'q': unknown time zone 'Mars/Olympus'");
  CHECK(Error("queues { name: \"q\" hours { holidays: \"25/12/2026\" } }\n") ==
        "test.textproto:3:20: queue 'q': holiday '25/12/2026' is not a YYYY-MM-DD date");
  CHECK(Error("queues { name: \"q\" hours { open { days: [MONDAY] from: \"8am\" to: \"17:00\" } } "
              "}\n") ==
        "test.textproto:3:20: queue 'q': opening hours '8am'-'17:00' are not HH:MM times");
}

TEST_CASE("overflow and escalation cycles are refused") {
  CHECK(Error(R"(queues { name: "x" max_wait_seconds: 60 overflow_queue: "y" }
queues { name: "y" max_wait_seconds: 60 overflow_queue: "z" }
queues { name: "z" when_closed { action: OVERFLOW overflow_queue: "x" } }
)") == "test.textproto: queues: overflow cycle x -> y -> z -> x");
  CHECK(Error(R"(queues { name: "x" escalation_queue: "y" }
queues { name: "y" escalation_queue: "x" }
)") == "test.textproto: queues: escalation cycle x -> y -> x");
}

TEST_CASE("every problem is reported, not just the first") {
  std::vector<RuleProblem> problems;
  auto loaded = ParseRules(absl::StrCat(kHeader, R"(queues { name: "q" wrap_up_seconds: -1
  offer_timeout_seconds: -2 hours { time_zone: "Nowhere/Land" } }
)"),
                           "t", &problems);
  REQUIRE_FALSE(loaded.ok());
  CHECK(problems.size() == 3);
}

TEST_CASE("a missing file is NOT_FOUND") {
  CHECK(LoadRulesFile("/nonexistent/rules.textproto").status().code() ==
        absl::StatusCode::kNotFound);
}

TEST_CASE("the checksum changes with the bytes") {
  CHECK(RulesChecksum("a") != RulesChecksum("b"));
  CHECK(RulesChecksum("a") == RulesChecksum("a"));
}

TEST_CASE("times of day are HH:MM from 00:00 to 24:00") {
  int minutes = -1;
  CHECK(ParseTimeOfDay("00:00", &minutes));
  CHECK(minutes == 0);
  CHECK(ParseTimeOfDay("08:30", &minutes));
  CHECK(minutes == 8 * 60 + 30);
  CHECK(ParseTimeOfDay("24:00", &minutes));  // the end of the day
  CHECK(minutes == 24 * 60);
  minutes = -1;
  for (absl::string_view bad :
       {"", "8:30", "08:3", "0830", "08:30:00", "24:01", "25:00", "12:60", "-1:00", "ab:cd",
        "08-30", "+8:30", " 8:30", "08: 5", "08:+5", "8 :30", "08:30 ", "0\xd9:30"}) {
    CAPTURE(bad);
    CHECK_FALSE(ParseTimeOfDay(bad, &minutes));
    CHECK(minutes == -1);  // untouched
  }
}

}  // namespace
}  // namespace acd::rules
