#include "tests/core/strategies/strategy_fixture.h"

namespace acd::core::testing {
namespace {

class FirstLoggedIn final : public RoutingStrategy {
 public:
  AgentRank Rank(const AgentRankInput&) override { return {0, 0}; }
};

TEST_CASE("every built-in strategy is registered by name") {
  const std::vector<std::string> names = StrategyRegistry::Global().Names();
  CHECK(names == std::vector<std::string>{"best_skill", "fewest_handled", "least_occupied",
                                          "longest_idle", "preferred_agent", "random",
                                          "round_robin"});
}

TEST_CASE("a registry refuses duplicate names and can be injected") {
  StrategyRegistry registry;
  REQUIRE(registry.Register("first_logged_in", FactoryWithoutParams<FirstLoggedIn>()).ok());
  CHECK(registry.Register("first_logged_in", FactoryWithoutParams<FirstLoggedIn>()).code() ==
        absl::StatusCode::kAlreadyExists);
  FakeClock clock;
  EngineOptions options;
  options.registry = &registry;
  CHECK(Engine::Create(StrategyConfig("first_logged_in"), clock, options).ok());
  CHECK_FALSE(Engine::Create(StrategyConfig("longest_idle"), clock, options).ok());
}

}  // namespace
}  // namespace acd::core::testing
