// Routing strategy "longest_idle": the free agent who has waited longest since their last contact (or since going ready) is offered first. The classic ACD default: it spreads work evenly in time.
#include "engine/core/routing_strategy.h"

namespace acd::core {
namespace {

class LongestIdle final : public RoutingStrategy {
 public:
  AgentRank Rank(const AgentRankInput& agent) override { return {agent.idle_since_us, 0}; }
};

const StrategyRegistration kRegistration("longest_idle", FactoryWithoutParams<LongestIdle>());

}  // namespace
}  // namespace acd::core
