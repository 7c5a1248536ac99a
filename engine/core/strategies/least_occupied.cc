// Routing strategy "least_occupied": the free agent with the smallest share of its capacity in use (work items / total capacity) goes first; ties go to the longest idle. Suits blended chat/email desks where agents hold several contacts.
#include "engine/core/routing_strategy.h"

namespace acd::core {
namespace {

class LeastOccupied final : public RoutingStrategy {
 public:
  AgentRank Rank(const AgentRankInput& agent) override { return {agent.total_capacity > 0 ? int64_t{agent.active_items} * 1'000'000 / agent.total_capacity : 0, agent.idle_since_us}; }
};

const StrategyRegistration kRegistration("least_occupied", FactoryWithoutParams<LeastOccupied>());

}  // namespace
}  // namespace acd::core
