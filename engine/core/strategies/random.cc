// Routing strategy "random": a free agent is picked at random, reproducibly. Each time an
// agent becomes free it draws a rank from the queue's own seeded generator; the lowest
// rank goes first. The seed is the parameter `seed` if given, otherwise derived from the
// engine's seed and the queue name, so the same run always routes the same way.
#include "engine/core/random.h"
#include "engine/core/routing_strategy.h"

namespace acd::core {
namespace {

class RandomStrategy final : public RoutingStrategy {
 public:
  explicit RandomStrategy(uint64_t seed) : random_(seed) {}
  AgentRank Rank(const AgentRankInput& agent) override {
    return {static_cast<int64_t>(random_.Next() >> 1), 0};
  }

 private:
  Random random_;
};

const StrategyRegistration kRegistration(
    "random", [](const StrategyContext& context) -> absl::StatusOr<std::unique_ptr<RoutingStrategy>> {
      if (absl::Status s = CheckParamNames(context, {"seed"}); !s.ok()) return s;
      absl::StatusOr<int64_t> seed =
          IntParam(context, "seed", static_cast<int64_t>(context.seed >> 1), 0, INT64_MAX);
      if (!seed.ok()) return seed.status();
      return std::make_unique<RandomStrategy>(static_cast<uint64_t>(*seed));
    });

}  // namespace
}  // namespace acd::core
