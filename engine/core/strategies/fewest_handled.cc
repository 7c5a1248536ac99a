// Routing strategy "fewest_handled": the free agent who has completed the fewest contacts since login goes first; ties go to the longest idle. Evens out counts across a shift.
#include "engine/core/routing_strategy.h"

namespace acd::core {
namespace {

class FewestHandled final : public RoutingStrategy {
 public:
  AgentRank Rank(const AgentRankInput& agent) override { return {agent.handled, agent.idle_since_us}; }
};

const StrategyRegistration kRegistration("fewest_handled", FactoryWithoutParams<FewestHandled>());

}  // namespace
}  // namespace acd::core
