// Routing strategy "round_robin": free agents take turns: the one whose last offer is oldest (never offered first) goes next, like Asterisk's rrmemory.
#include "engine/core/routing_strategy.h"

namespace acd::core {
namespace {

class RoundRobin final : public RoutingStrategy {
 public:
  AgentRank Rank(const AgentRankInput& agent) override { return {static_cast<int64_t>(agent.last_offer_ticket), 0}; }
};

const StrategyRegistration kRegistration("round_robin", FactoryWithoutParams<RoundRobin>());

}  // namespace
}  // namespace acd::core
