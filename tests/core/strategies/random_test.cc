#include <map>

#include "tests/core/strategies/strategy_fixture.h"

namespace acd::core::testing {
namespace {

std::vector<std::string> Picks(std::vector<StrategyParam> params, uint64_t engine_seed) {
  EngineConfig config = StrategyConfig("random", std::move(params));
  config.random_seed = engine_seed;
  EngineFixture f(config);
  for (int i = 0; i < 5; ++i) f.Ready(absl::StrCat("a", i));
  std::vector<std::string> picks;
  for (int i = 0; i < 200; ++i) picks.push_back(Handle(f, absl::StrCat("c", i)));
  return picks;
}

TEST_CASE("random: spreads contacts over agents, reproducibly") {
  const std::vector<std::string> picks = Picks({}, 1);
  std::map<std::string, int> counts;
  for (const std::string& p : picks) ++counts[p];
  CHECK(counts.size() == 5);
  for (const auto& [agent, count] : counts) {
    INFO(agent);
    CHECK(count > 15);  // 40 expected each
  }
  CHECK(Picks({}, 1) == picks);            // same seed, same picks
  CHECK(Picks({}, 2) != picks);            // the engine seed matters
  CHECK(Picks({{"seed", "99"}}, 1) == Picks({{"seed", "99"}}, 2));  // an explicit seed wins
}

}  // namespace
}  // namespace acd::core::testing
