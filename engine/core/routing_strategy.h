// RoutingStrategy: the pluggable rule that orders the free agents who could take a
// contact of one queue. Strategies are registered by name in a StrategyRegistry, one
// per file under engine/core/strategies/, the way Envoy registers extension factories;
// a queue's config names its strategy and parameters.
//
// How ranking is used: each requirement class keeps its free, eligible agents in a heap
// ordered by Rank(); the lowest rank is offered first, ties go to the agent that logged
// in first. A rank is computed when an agent's availability changes (it becomes free,
// takes an offer, finishes work), never per decision, so it must depend only on the
// inputs below. Strategies that need randomness own a seeded Random.
//
// Core thread only.
#ifndef ACD_ENGINE_CORE_ROUTING_STRATEGY_H_
#define ACD_ENGINE_CORE_ROUTING_STRATEGY_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/core/config.h"

namespace acd::core {

// What a strategy may look at when ranking an agent for a requirement class.
struct AgentRankInput {
  int64_t idle_since_us = 0;  // when the agent last became free of all work, or ready
  int active_items = 0;       // offers, connected contacts and wrap-ups it holds now
  int total_capacity = 0;     // sum of its per-channel capacities
  int64_t handled = 0;        // contacts completed since login
  uint64_t last_offer_ticket = 0;  // increases with every offer; 0 = never offered
  int skill_level_sum = 0;    // sum of its levels on the class's required skills
};

// Smaller ranks first: compared as (primary, secondary).
struct AgentRank {
  int64_t primary = 0;
  int64_t secondary = 0;
  friend bool operator<(const AgentRank& a, const AgentRank& b) {
    return a.primary != b.primary ? a.primary < b.primary : a.secondary < b.secondary;
  }
  friend bool operator==(const AgentRank& a, const AgentRank& b) = default;
};

class RoutingStrategy {
 public:
  virtual ~RoutingStrategy() = default;

  // Ranks an agent that is free to take a contact of this strategy's queue.
  virtual AgentRank Rank(const AgentRankInput& agent) = 0;

  // If non-zero, a contact naming a preferred agent waits for that agent alone for this
  // long, then any eligible agent may take it. Zero: preferred agents are ignored.
  virtual absl::Duration preferred_agent_wait() const { return absl::ZeroDuration(); }
};

// Everything a factory gets: the queue's parameters and a seed derived from the engine's
// seed and the queue name, for strategies that draw random numbers.
struct StrategyContext {
  absl::string_view queue;
  const std::vector<StrategyParam>* params = nullptr;
  uint64_t seed = 0;
};

// Builds a strategy, or INVALID_ARGUMENT naming the bad parameter.
using StrategyFactory =
    std::function<absl::StatusOr<std::unique_ptr<RoutingStrategy>>(const StrategyContext&)>;

// Name -> factory. The global registry is filled by static registration at start-up;
// tests may build their own registry and hand it to the engine.
class StrategyRegistry {
 public:
  static StrategyRegistry& Global();

  // ALREADY_EXISTS if the name is taken.
  [[nodiscard]] absl::Status Register(std::string name, StrategyFactory factory);

  // NOT_FOUND (listing the known names) if no strategy has this name.
  [[nodiscard]] absl::StatusOr<std::unique_ptr<RoutingStrategy>> Create(
      absl::string_view name, const StrategyContext& context) const;

  bool Contains(absl::string_view name) const { return factories_.contains(name); }
  std::vector<std::string> Names() const;  // sorted

 private:
  absl::flat_hash_map<std::string, StrategyFactory> factories_;
};

// Registers at static-initialization time; a duplicate name aborts start-up.
struct StrategyRegistration {
  StrategyRegistration(std::string name, StrategyFactory factory);
};

// Reads an integer parameter in [min, max], or returns `fallback` if absent.
// INVALID_ARGUMENT names the parameter and queue if it is malformed or out of range.
absl::StatusOr<int64_t> IntParam(const StrategyContext& context, absl::string_view name,
                                 int64_t fallback, int64_t min, int64_t max);

// INVALID_ARGUMENT if `params` has a name not in `known`.
absl::Status CheckParamNames(const StrategyContext& context,
                             std::initializer_list<absl::string_view> known);

// The factory of a strategy that takes no parameters (any parameter is an error).
template <typename T>
StrategyFactory FactoryWithoutParams() {
  return [](const StrategyContext& context) -> absl::StatusOr<std::unique_ptr<RoutingStrategy>> {
    if (absl::Status s = CheckParamNames(context, {}); !s.ok()) return s;
    return std::make_unique<T>();
  };
}

}  // namespace acd::core

#endif  // ACD_ENGINE_CORE_ROUTING_STRATEGY_H_
