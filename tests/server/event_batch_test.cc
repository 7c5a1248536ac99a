// BatchPacker<Event, EventBatch>: how WatchEvents packs the events waiting for a
// subscriber into one message, reusing that message from write to write.
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "engine/server/event_feed.h"

namespace acd::server {
namespace {

using Packer = BatchPacker<v1::Event, v1::EventBatch>;
using EventPtr = std::shared_ptr<const v1::Event>;

EventPtr Queued(uint64_t sequence, const std::string& contact) {
  auto e = std::make_shared<v1::Event>();
  e->set_sequence(sequence);
  e->set_type(v1::CONTACT_QUEUED);
  e->set_contact_id(contact);
  e->set_queue("general");
  return e;
}

EventPtr AgentChanged(uint64_t sequence, const std::string& agent) {
  auto e = std::make_shared<v1::Event>();
  e->set_sequence(sequence);
  e->set_type(v1::AGENT_STATE_CHANGED);
  e->set_agent_id(agent);
  e->set_agent_state(v1::READY);
  return e;
}

// The batch carries exactly `events`, in order, byte for byte.
void RequireCarries(const v1::EventBatch& batch, const std::vector<EventPtr>& events) {
  REQUIRE(batch.events_size() == static_cast<int>(events.size()));
  for (size_t i = 0; i < events.size(); ++i) {
    CHECK(batch.events(static_cast<int>(i)).SerializeAsString() == events[i]->SerializeAsString());
  }
}

TEST_CASE("a batch carries exactly the events packed, in order, whatever it held before",
          "[event_batch]") {
  v1::EventBatch batch;
  const std::vector<EventPtr> first = {Queued(1, "c-1"), AgentChanged(2, "psr-1"),
                                       Queued(3, "c-2")};
  Packer::Pack(first, &batch);
  RequireCarries(batch, first);
  // The reused elements take the new events' fields only: no agent id left on a contact
  // event, no queue on an agent event.
  const std::vector<EventPtr> second = {AgentChanged(4, "psr-2"), Queued(5, "c-3")};
  Packer::Pack(second, &batch);
  RequireCarries(batch, second);
  CHECK(batch.events(0).queue().empty());
  CHECK(batch.events(1).agent_id().empty());
}

TEST_CASE("after a burst, a small batch lets the big one's elements go", "[event_batch]") {
  v1::EventBatch batch;
  std::vector<EventPtr> burst;
  for (uint64_t s = 1; s <= 256; ++s) burst.push_back(Queued(s, "c-" + std::to_string(s)));
  Packer::Pack(burst, &batch);
  RequireCarries(batch, burst);
  CHECK(batch.events().Capacity() >= 256);
  const std::vector<EventPtr> small = {Queued(257, "c-257")};
  Packer::Pack(small, &batch);
  RequireCarries(batch, small);
  CHECK(batch.events().Capacity() <= 64);
  // A steady flow of mid-size batches keeps its elements from write to write.
  std::vector<EventPtr> mid(burst.begin(), burst.begin() + 40);
  Packer::Pack(mid, &batch);
  const int capacity = batch.events().Capacity();
  Packer::Pack(mid, &batch);
  CHECK(batch.events().Capacity() == capacity);
  RequireCarries(batch, mid);
}

}  // namespace
}  // namespace acd::server
