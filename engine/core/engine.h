// Engine: the ACD's deterministic state machine. It holds every queue, waiting contact
// and agent, decides which agent is offered which contact, and reports every change as
// an Event. It owns no thread, does no I/O and reads time only from the injected Clock:
// the same config, commands and clock readings give the same events, byte for byte.
//
// Thread-safety: none. One thread (acdd's core thread, or the simulator) calls it.
//
// Every command starts by reading the clock and firing the timers that are due (offer
// timeouts, wrap-up ends, skill expansion, max-wait overflow): that is time passing, not
// the command. Then the command is validated; a rejected command returns a Status saying
// why and changes nothing.
//
// Invariants, checked by ACD_ASSERT where cheap and by CheckInvariants() in full:
//  - a contact is offered to (or connected with) at most one agent;
//  - an agent never holds more work items per channel than its capacity, and a voice
//    item excludes every other item;
//  - work is conserved: after each command no routable agent with free capacity is
//    eligible for a contact that is still waiting;
//  - an agent that frees up takes the waiting contact that ranks first (priority with
//    aging, then arrival) across every queue it can serve;
//  - per queue, offered = answered + abandoned + overflowed + transferred out +
//    waiting + in offer.
//
// Matching cost does not depend on the number of waiting contacts. Contacts with the same
// (queue, channel, requirements, preferred agent) form a requirement class that keeps
// its waiting contacts in a heap ordered by key = order_base - priority * aging, and its
// free eligible agents in a heap ordered by the queue's RoutingStrategy. A new contact
// looks at one agent heap (O(log agents)); an agent that frees up looks at the heads of
// the classes it serves (O(classes served)).
//
// Position and expected wait (EWT). A waiting contact's position is 1 + the number of
// contacts waiting in the same queue that rank ahead of it (counted on request in the
// queue's rank index, O(queue length / 256 + log); the index exists from a queue's first
// position request and costs each enqueue and dequeue of that queue a sorted insert or
// erase in a block of at most 256). EWT = position x AHT / N, where AHT is the queue's
// average handle time over the statistics window (the queue's default_handle_time before
// anything was handled) and N is the number of agents logged in and READY-presence
// (ready, reserved, busy or in wrap-up, not NOT_READY) who can serve the contact's
// current requirement class. With N = 0 the EWT is unknown. This is the M/M/N "position
// over service rate" estimate that ACDs announce to callers; it reacts to staffing
// changes at once and to handle-time changes over the window.
#ifndef ACD_ENGINE_CORE_ENGINE_H_
#define ACD_ENGINE_CORE_ENGINE_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/core/clock.h"
#include "engine/core/config.h"
#include "engine/core/event.h"
#include "engine/core/routing_strategy.h"
#include "engine/core/stats.h"
#include "engine/core/types.h"

namespace acd::core {

using Attribute = std::pair<std::string, std::string>;

struct EnqueueRequest {
  std::string contact_id;
  std::string queue;
  Channel channel = Channel::kVoice;
  std::optional<int> priority;  // unset: the queue's default priority
  std::vector<SkillRequirement> requirements;  // in addition to the queue's
  std::string language;  // a skill name (e.g. "spanish"), required at level 1
  std::string preferred_agent_id;
  std::vector<Attribute> attributes;  // free-form; never logged
};

struct LoginRequest {
  std::string agent_id;
  std::vector<AgentSkill> skills;
  std::vector<ChannelCapacity> capacities;  // empty: 1 voice
};

struct ContactStatus {
  std::string contact_id;
  std::string queue;
  ContactState state = ContactState::kWaiting;
  Channel channel = Channel::kVoice;
  int priority = 0;
  int position = 0;  // 1-based while WAITING, else 0
  std::optional<absl::Duration> ewt;  // while WAITING and some agent can serve it
  // A waiting voice caller may be offered a callback: the queue takes CALLBACK contacts,
  // has a callback_offer_ewt, and the EWT exceeds it (or is unknown).
  bool callback_offered = false;
  std::string agent_id;  // while OFFERED or CONNECTED
  absl::Duration waited;  // since first arrival, until answered or ended
  int expansion_step = 0;
  std::vector<Attribute> attributes;
};

enum class WorkPhase : uint8_t { kOffered, kConnected, kWrapUp };

struct WorkItemStatus {
  std::string contact_id;  // empty in wrap-up once the contact's record is gone
  std::string queue;
  Channel channel = Channel::kVoice;
  WorkPhase phase = WorkPhase::kOffered;
  absl::Time deadline = absl::InfiniteFuture();  // offer timeout or wrap-up end
};

struct AgentStatus {
  std::string agent_id;
  AgentState state = AgentState::kLoggedOut;
  std::string reason;  // NOT_READY reason code
  absl::Time state_since;
  std::vector<AgentSkill> skills;
  std::vector<ChannelCapacity> capacities;
  std::vector<WorkItemStatus> work;
  int64_t handled = 0;
  double occupancy = 0;  // work time / (work + ready idle time) since login
};

struct QueueStatus {
  std::string queue;
  int waiting = 0;
  int in_offer = 0;
  absl::Duration longest_wait;
  QueueCounters window;  // the last EngineConfig::stats_window
  QueueCounters total;   // since the engine started
  absl::Duration service_level_threshold;
  double service_level_target = 0;
  // Agents who can serve the queue's own requirements on one of its channels, by state.
  std::array<int, 6> agents_by_state{};  // indexed by AgentState
  bool closed = false;  // closed now, by hand or by business hours
};

struct EngineSnapshot {
  uint64_t sequence = 0;  // the last event emitted before this snapshot
  absl::Time time;
  std::vector<QueueStatus> queues;  // in config order
  std::vector<AgentStatus> agents;  // logged-in agents, in login order
  std::array<int, 6> agents_by_state{};
};

struct EngineOptions {
  EventSink* sink = nullptr;  // may be null: events are counted and dropped
  const StrategyRegistry* registry = nullptr;  // null: StrategyRegistry::Global()
  // Check at every offer that the offered contact ranks first among all waiting
  // contacts the agent could take (O(waiting) per offer). For tests.
  bool paranoid = false;
  // Requirement classes nobody waits in are retired (and their ids reused) once there
  // are more than this many plus as many as there are classes in use, oldest idle first,
  // so memory and every agent's class list follow the requirement sets in use, not every
  // set ever seen. Tests set it low to exercise retirement.
  size_t idle_classes_kept = 256;
};

class Engine {
 public:
  // Validates `config` (ValidateConfig and strategy names/parameters) and builds an
  // engine. The clock must outlive the engine.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Engine>> Create(
      EngineConfig config, const Clock& clock, EngineOptions options = {});

  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // ---- Contacts ----
  // INVALID_ARGUMENT: bad id, unknown skill or language, a channel the queue does not
  // take, level or priority out of range, too many requirements or attributes.
  // NOT_FOUND: unknown queue. ALREADY_EXISTS: the id is in use (or recently finished). FAILED_PRECONDITION: the queue is closed. RESOURCE_EXHAUSTED: the queue is
  // at max_length, or an engine limit is reached.
  [[nodiscard]] absl::Status Enqueue(const EnqueueRequest& request);
  // The caller hung up (or the chat/email was withdrawn) while waiting or offered.
  [[nodiscard]] absl::Status Cancel(absl::string_view contact_id, absl::string_view reason);
  [[nodiscard]] absl::Status ChangePriority(absl::string_view contact_id, int priority);
  // Moves a waiting, offered or connected contact to another queue. It keeps its first
  // arrival time (for reporting and for its place), its priority and its own
  // requirements, and takes the target queue's requirements, timers and strategy.
  [[nodiscard]] absl::Status Transfer(absl::string_view contact_id, absl::string_view queue);
  // A waiting voice contact becomes a CALLBACK contact in the same queue, keeping its place.
  [[nodiscard]] absl::Status RequestCallback(absl::string_view contact_id);
  // Transfers a contact to its queue's escalation_queue (FAILED_PRECONDITION if none).
  [[nodiscard]] absl::Status Escalate(absl::string_view contact_id);

  // ---- Agents ----
  // A logged-in agent starts NOT_READY(LOGIN).
  [[nodiscard]] absl::Status Login(const LoginRequest& request);
  // Withdraws pending offers and ends wrap-up. FAILED_PRECONDITION with a connected contact.
  [[nodiscard]] absl::Status Logout(absl::string_view agent_id);
  [[nodiscard]] absl::Status SetReady(absl::string_view agent_id);
  // Withdraws pending offers (the contacts go back to their place); connected work goes
  // on, and the agent stays NOT_READY when it ends.
  [[nodiscard]] absl::Status SetNotReady(absl::string_view agent_id, absl::string_view reason);
  // FAILED_PRECONDITION if the contact is not offered to this agent now (it may have
  // timed out, been withdrawn or cancelled).
  [[nodiscard]] absl::Status Accept(absl::string_view agent_id, absl::string_view contact_id);
  [[nodiscard]] absl::Status Reject(absl::string_view agent_id, absl::string_view contact_id);
  // Ends a connected contact; the agent goes to WRAP_UP for the queue's wrap-up time.
  [[nodiscard]] absl::Status Complete(absl::string_view agent_id, absl::string_view contact_id);
  [[nodiscard]] absl::Status EndWrapUp(absl::string_view agent_id);
  // Supervisor: READY, NOT_READY(reason; default SUPERVISOR) or LOGGED_OUT.
  [[nodiscard]] absl::Status ForceState(absl::string_view agent_id, AgentState state,
                                        absl::string_view reason);

  // ---- Rules ----
  // Replaces the rules in force, atomically between two commands. Every live contact
  // keeps its place and wait: waiting contacts are re-routed under the new rules in
  // their order, offers and connections go on. Contacts of a queue the new rules drop
  // move to the queue named in config.queue_moves. Refused, changing nothing, with
  // INVALID_ARGUMENT (the config is invalid) or FAILED_PRECONDITION (a dropped queue
  // still has contacts and no move, a contact needs a dropped skill, or a moved contact's
  // channel is not taken by its new queue). Queue statistics carry over by queue name.
  [[nodiscard]] absl::Status ApplyConfig(EngineConfig config);

  // ---- Time ----
  // Fires every timer due at the clock's current reading, in (deadline, creation) order.
  void Advance();
  // The earliest pending timer, if any (it may turn out to be stale; firing it is harmless).
  std::optional<absl::Time> NextTimer() const;

  // ---- Queries (const; safe inside EventSink::OnEvent) ----
  [[nodiscard]] absl::StatusOr<ContactStatus> GetContact(absl::string_view contact_id) const;
  [[nodiscard]] absl::StatusOr<AgentStatus> GetAgent(absl::string_view agent_id) const;
  EngineSnapshot Snapshot() const;
  uint64_t last_sequence() const;
  absl::Time now() const;
  const EngineConfig& config() const;

  // Checks every invariant above against the full state by brute force; aborts with a
  // message on the first violation. O(contacts x agents): for tests.
  void CheckInvariants() const;

 private:
  class Impl;
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace acd::core

#endif  // ACD_ENGINE_CORE_ENGINE_H_
