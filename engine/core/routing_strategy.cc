#include "engine/core/routing_strategy.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/core/assert.h"

namespace acd::core {

StrategyRegistry& StrategyRegistry::Global() {
  static StrategyRegistry* registry = new StrategyRegistry();
  return *registry;
}

absl::Status StrategyRegistry::Register(std::string name, StrategyFactory factory) {
  if (name.empty()) return absl::InvalidArgumentError("routing strategy name is empty");
  if (factories_.contains(name)) {
    return absl::AlreadyExistsError(
        absl::StrCat("routing strategy '", name, "' is registered twice"));
  }
  factories_.emplace(std::move(name), std::move(factory));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<RoutingStrategy>> StrategyRegistry::Create(
    absl::string_view name, const StrategyContext& context) const {
  auto it = factories_.find(name);
  if (it == factories_.end()) {
    return absl::NotFoundError(absl::StrCat("unknown routing strategy '", name,
                                            "' (known: ", absl::StrJoin(Names(), ", "), ")"));
  }
  return it->second(context);
}

std::vector<std::string> StrategyRegistry::Names() const {
  std::vector<std::string> names;
  names.reserve(factories_.size());
  for (const auto& [name, factory] : factories_) names.push_back(name);
  std::sort(names.begin(), names.end());
  return names;
}

StrategyRegistration::StrategyRegistration(std::string name, StrategyFactory factory) {
  absl::Status status = StrategyRegistry::Global().Register(std::move(name), std::move(factory));
  ACD_ASSERT(status.ok());
}

absl::StatusOr<int64_t> IntParam(const StrategyContext& context, absl::string_view name,
                                 int64_t fallback, int64_t min, int64_t max) {
  if (context.params == nullptr) return fallback;
  for (const auto& [key, value] : *context.params) {
    if (key != name) continue;
    int64_t parsed = 0;
    if (!absl::SimpleAtoi(value, &parsed) || parsed < min || parsed > max) {
      return absl::InvalidArgumentError(
          absl::StrCat("queue '", context.queue, "': strategy parameter ", name, "='", value,
                       "' must be an integer in [", min, ", ", max, "]"));
    }
    return parsed;
  }
  return fallback;
}

absl::Status CheckParamNames(const StrategyContext& context,
                             std::initializer_list<absl::string_view> known) {
  if (context.params == nullptr) return absl::OkStatus();
  for (const auto& [key, value] : *context.params) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("queue '", context.queue, "': unknown strategy parameter '", key,
                       "' (known: ", absl::StrJoin(known, ", "), ")"));
    }
  }
  return absl::OkStatus();
}

}  // namespace acd::core
