#include "tests/core/strategies/strategy_fixture.h"

namespace acd::core::testing {
namespace {

TEST_CASE("round_robin: agents take turns") {
  EngineFixture f(StrategyConfig("round_robin"));
  f.Ready("a1");
  f.Ready("a2");
  f.Ready("a3");
  std::vector<std::string> order;
  for (int i = 0; i < 7; ++i) {
    order.push_back(Handle(f, absl::StrCat("c", i)));
    f.Tick(absl::Seconds(1));
  }
  CHECK(order == std::vector<std::string>{"a1", "a2", "a3", "a1", "a2", "a3", "a1"});
}

}  // namespace
}  // namespace acd::core::testing
