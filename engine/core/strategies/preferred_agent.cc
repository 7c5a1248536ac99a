// Routing strategy "preferred_agent": a contact that names a preferred agent (the PSR
// who handled the patient last time, say) waits for that agent alone for
// `fallback_after_seconds` (default 30); after that any eligible agent may take it,
// longest idle first. Contacts without a preference are routed longest idle first.
#include "engine/core/routing_strategy.h"

namespace acd::core {
namespace {

class PreferredAgent final : public RoutingStrategy {
 public:
  explicit PreferredAgent(absl::Duration wait) : wait_(wait) {}
  AgentRank Rank(const AgentRankInput& agent) override { return {agent.idle_since_us, 0}; }
  absl::Duration preferred_agent_wait() const override { return wait_; }

 private:
  absl::Duration wait_;
};

const StrategyRegistration kRegistration(
    "preferred_agent",
    [](const StrategyContext& context) -> absl::StatusOr<std::unique_ptr<RoutingStrategy>> {
      if (absl::Status s = CheckParamNames(context, {"fallback_after_seconds"}); !s.ok()) {
        return s;
      }
      absl::StatusOr<int64_t> seconds = IntParam(context, "fallback_after_seconds", 30, 1, 86400);
      if (!seconds.ok()) return seconds.status();
      return std::make_unique<PreferredAgent>(absl::Seconds(*seconds));
    });

}  // namespace
}  // namespace acd::core
