// Shared set-up for the routing strategy tests: one queue using the named strategy.
#ifndef ACD_TESTS_CORE_STRATEGIES_STRATEGY_FIXTURE_H_
#define ACD_TESTS_CORE_STRATEGIES_STRATEGY_FIXTURE_H_

#include "tests/core/engine_fixture.h"

namespace acd::core::testing {

inline EngineConfig StrategyConfig(std::string strategy,
                                   std::vector<StrategyParam> params = {}) {
  QueueConfig q;
  q.name = "q";
  q.channels = {Channel::kVoice, Channel::kChat};
  q.requirements = {{"a", 1}};
  q.strategy = std::move(strategy);
  q.strategy_params = std::move(params);
  return TestConfig({q});
}

// Enqueues, accepts and completes one contact; returns the agent that took it.
inline std::string Handle(EngineFixture& f, const std::string& contact,
                          Channel channel = Channel::kVoice) {
  REQUIRE(f.Enqueue(contact, "q", channel).ok());
  const std::string agent = f.AgentOf(contact);
  REQUIRE(!agent.empty());
  REQUIRE(f.engine->Accept(agent, contact).ok());
  REQUIRE(f.engine->Complete(agent, contact).ok());
  return agent;
}

}  // namespace acd::core::testing

#endif  // ACD_TESTS_CORE_STRATEGIES_STRATEGY_FIXTURE_H_
