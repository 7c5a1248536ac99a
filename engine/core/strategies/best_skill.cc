// Routing strategy "best_skill": the free agent with the highest total level on the contact's required skills goes first (the most expert nurse for triage); ties go to the longest idle.
#include "engine/core/routing_strategy.h"

namespace acd::core {
namespace {

class BestSkill final : public RoutingStrategy {
 public:
  AgentRank Rank(const AgentRankInput& agent) override { return {-int64_t{agent.skill_level_sum}, agent.idle_since_us}; }
};

const StrategyRegistration kRegistration("best_skill", FactoryWithoutParams<BestSkill>());

}  // namespace
}  // namespace acd::core
