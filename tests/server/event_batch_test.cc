// EncodeEvent and BatchPacker<EncodedEvent, ByteBuffer>: how WatchEvents encodes each
// event once and sends a subscriber's waiting events as one EventBatch, by reference.
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "engine/server/event_feed.h"

namespace acd::server {
namespace {

using Packer = BatchPacker<EncodedEvent, grpc::ByteBuffer>;
using EncodedPtr = std::shared_ptr<const EncodedEvent>;

v1::Event Queued(uint64_t sequence, const std::string& contact) {
  v1::Event e;
  e.set_sequence(sequence);
  e.set_type(v1::CONTACT_QUEUED);
  e.set_contact_id(contact);
  e.set_queue("general");
  return e;
}

v1::Event AgentChanged(uint64_t sequence, const std::string& agent) {
  v1::Event e;
  e.set_sequence(sequence);
  e.set_type(v1::AGENT_STATE_CHANGED);
  e.set_agent_id(agent);
  e.set_agent_state(v1::READY);
  return e;
}

std::string Bytes(const grpc::Slice& slice) {
  return std::string(reinterpret_cast<const char*>(slice.begin()), slice.size());
}

std::string Bytes(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  REQUIRE(buffer.Dump(&slices).ok());
  std::string out;
  for (const grpc::Slice& s : slices) out += Bytes(s);
  return out;
}

// What the generated code would send for `events`.
std::string BatchOf(const std::vector<v1::Event>& events) {
  v1::EventBatch batch;
  for (const v1::Event& e : events) *batch.add_events() = e;
  return batch.SerializeAsString();
}

TEST_CASE("an encoded event is one element of EventBatch.events, byte for byte",
          "[event_batch]") {
  v1::Event small = Queued(7, "c-1");
  // Lengths that take one, two and three bytes of varint.
  v1::Event mid = AgentChanged(300, "psr-1");
  mid.set_reason(std::string(200, 'r'));
  v1::Event big = Queued(1ull << 40, "c-2");
  for (int q = 0; q < 2000; ++q) big.mutable_snapshot()->add_queues()->set_queue("queue");
  for (const v1::Event* e : {&small, &mid, &big}) {
    const EncodedPtr encoded = EncodeEvent(*e);
    CHECK(Bytes(encoded->element) == BatchOf({*e}));
    v1::EventBatch parsed;
    REQUIRE(parsed.ParseFromString(Bytes(encoded->element)));
    REQUIRE(parsed.events_size() == 1);
    CHECK(parsed.events(0).sequence() == e->sequence());
  }
  CHECK(EncodeEvent(big)->element.size() > 16384);
}

TEST_CASE("a packed batch is the EventBatch of exactly the events packed, in order",
          "[event_batch]") {
  Packer packer;
  const std::vector<v1::Event> first = {Queued(1, "c-1"), AgentChanged(2, "psr-1"),
                                        Queued(3, "c-2")};
  std::vector<EncodedPtr> encoded;
  for (const v1::Event& e : first) encoded.push_back(EncodeEvent(e));
  const std::string bytes = Bytes(*packer.Pack(encoded));
  CHECK(bytes == BatchOf(first));
  v1::EventBatch parsed;
  REQUIRE(parsed.ParseFromString(bytes));
  REQUIRE(parsed.events_size() == 3);
  CHECK(parsed.events(1).agent_id() == "psr-1");
  CHECK(parsed.events(1).queue().empty());

  // The next write replaces the batch: nothing of the first is left.
  const std::vector<v1::Event> second = {AgentChanged(4, "psr-2")};
  const std::vector<EncodedPtr> next = {EncodeEvent(second[0])};
  CHECK(Bytes(*packer.Pack(next)) == BatchOf(second));
}

TEST_CASE("packing refers to the encoded events, copying none, and outlives them",
          "[event_batch]") {
  Packer packer;
  std::vector<v1::Event> events;
  std::vector<EncodedPtr> encoded;
  for (uint64_t s = 1; s <= 256; ++s) {
    events.push_back(Queued(s, "contact-" + std::to_string(s)));
    encoded.push_back(EncodeEvent(events.back()));
  }
  const grpc::ByteBuffer* batch = packer.Pack(encoded);
  std::vector<grpc::Slice> slices;
  REQUIRE(batch->Dump(&slices).ok());
  REQUIRE(slices.size() == encoded.size());
  for (size_t i = 0; i < slices.size(); ++i) {
    CHECK(slices[i].begin() == encoded[i]->element.begin());  // the same bytes, not a copy
  }
  slices.clear();
  // The ring drops the events and every other subscriber is done with them: the batch
  // still holds its own references until it is written.
  encoded.clear();
  CHECK(Bytes(*batch) == BatchOf(events));
}

}  // namespace
}  // namespace acd::server
