// StreamQueue: the rules of a stream's outgoing messages, without a server. Each test
// plays one order of pushes, kicks, write completions and cancellation, and checks the
// steps the reactor would perform.
#include "engine/server/stream_queue.h"

#include <catch2/catch.hpp>
#include <memory>
#include <string>

namespace acd::server {
namespace {

using Queue = StreamQueue<std::string>;
using Step = Queue::Step;

std::shared_ptr<const std::string> Msg(const std::string& text) {
  return std::make_shared<const std::string>(text);
}

// Pushes `text`; returns whether a kick was asked for.
bool Push(Queue& q, const std::string& text,
          Queue::PushResult expect = Queue::PushResult::kQueued) {
  bool kick = false;
  CHECK(q.Push(Msg(text), &kick) == expect);
  return kick;
}

// Checks that `step` writes `text`, then returns from its StartWrite().
void RequireWrite(Queue& q, const Step& step, const std::string& text) {
  REQUIRE(step.kind == Step::kWrite);
  REQUIRE(step.messages.size() == 1);
  CHECK(*step.messages[0] == text);
  REQUIRE(q.WriteStarted().kind == Step::kNone);
}

// The texts a write step carries, joined: "abc" for a batch of a, b and c.
std::string Texts(const Step& step) {
  std::string texts;
  for (const auto& message : step.messages) texts += *message;
  return texts;
}

void RequireFinish(const Step& step, grpc::StatusCode code) {
  REQUIRE(step.kind == Step::kFinish);
  CHECK(step.status.error_code() == code);
}

TEST_CASE("an idle stream asks for one kick; a backlog is written in order, one at a time",
          "[stream_queue]") {
  Queue q(10);
  CHECK(Push(q, "a"));
  CHECK_FALSE(Push(q, "b"));  // the kick is already scheduled
  CHECK_FALSE(Push(q, "c"));
  RequireWrite(q, q.Kick(), "a");
  CHECK_FALSE(Push(q, "d"));  // a write is in flight
  RequireWrite(q, q.WriteDone(true), "b");
  RequireWrite(q, q.WriteDone(true), "c");
  RequireWrite(q, q.WriteDone(true), "d");
  CHECK(q.WriteDone(true).kind == Step::kNone);
  CHECK(q.pending() == 0);
  CHECK(Push(q, "e"));  // idle again
  RequireWrite(q, q.Kick(), "e");
}

TEST_CASE("writes are buffered while more are queued, but never the first", "[stream_queue]") {
  Queue q(10);
  Push(q, "a");
  Push(q, "b");
  Push(q, "c");
  Step step = q.Kick();
  REQUIRE(step.kind == Step::kWrite);
  CHECK_FALSE(step.more);  // the first write carries the headers: never buffered
  REQUIRE(q.WriteStarted().kind == Step::kNone);
  step = q.WriteDone(true);
  CHECK(Texts(step) == "b");
  CHECK(step.more);  // c follows
  REQUIRE(q.WriteStarted().kind == Step::kNone);
  step = q.WriteDone(true);
  CHECK(Texts(step) == "c");
  CHECK_FALSE(step.more);  // the last of the backlog flushes
  REQUIRE(q.WriteStarted().kind == Step::kNone);
  CHECK(q.WriteDone(true).kind == Step::kNone);
}

TEST_CASE("a batched stream writes everything waiting, up to max_batch, in order",
          "[stream_queue]") {
  Queue q(100, /*max_batch=*/3);
  CHECK(Push(q, "a"));
  Step step = q.Kick();  // only a was waiting: a batch of one, at once
  REQUIRE(step.kind == Step::kWrite);
  CHECK(Texts(step) == "a");
  CHECK_FALSE(step.more);
  REQUIRE(q.WriteStarted().kind == Step::kNone);
  for (const char* text : {"b", "c", "d", "e", "f", "g", "h"}) CHECK_FALSE(Push(q, text));
  CHECK(q.pending() == 7);
  step = q.WriteDone(true);
  CHECK(Texts(step) == "bcd");
  CHECK(step.more);  // e-h wait behind it
  CHECK(q.pending() == 4);
  REQUIRE(q.WriteStarted().kind == Step::kNone);
  step = q.WriteDone(true);
  CHECK(Texts(step) == "efg");
  REQUIRE(q.WriteStarted().kind == Step::kNone);
  step = q.WriteDone(true);
  CHECK(Texts(step) == "h");
  CHECK_FALSE(step.more);
  REQUIRE(q.WriteStarted().kind == Step::kNone);
  CHECK(q.WriteDone(true).kind == Step::kNone);
  CHECK(q.pending() == 0);
}

TEST_CASE("a batched stream counts its bound in messages and ends after its last batch",
          "[stream_queue]") {
  Queue q(4, /*max_batch=*/8);
  Push(q, "a");
  Push(q, "b");
  Step step = q.Kick();
  CHECK(Texts(step) == "ab");
  REQUIRE(q.WriteStarted().kind == Step::kNone);
  // The two in flight no longer count: four more fit, a fifth overflows.
  for (const char* text : {"c", "d", "e", "f"}) Push(q, text);
  Push(q, "g", Queue::PushResult::kCutOff);
  RequireFinish(q.WriteDone(true), grpc::StatusCode::RESOURCE_EXHAUSTED);

  Queue r(10, /*max_batch=*/8);
  Push(r, "a");
  Push(r, "b");
  CHECK_FALSE(r.EndAfterPending(grpc::Status::OK));  // the kick is already scheduled
  step = r.Kick();
  CHECK(Texts(step) == "ab");
  REQUIRE(r.WriteStarted().kind == Step::kNone);
  RequireFinish(r.WriteDone(true), grpc::StatusCode::OK);
}

TEST_CASE("a write done before its StartWrite returned is continued by the starter",
          "[stream_queue]") {
  // gRPC may complete a write on another thread while StartWrite() is still
  // running; the reactor's write operation must not be started again until it returns.
  Queue q(10);
  Push(q, "a");
  Push(q, "b");
  const Step first = q.Kick();
  REQUIRE(first.kind == Step::kWrite);
  CHECK(q.WriteDone(true).kind == Step::kNone);  // kept for the starter
  CHECK(q.Cancelled().kind == Step::kNone);      // still one write in flight (b not yet)
  // The starter returns from StartWrite(a) and learns a is done: the stream was cancelled
  // meanwhile, so b is dropped and the call finishes.
  RequireFinish(q.WriteStarted(), grpc::StatusCode::CANCELLED);

  Queue r(10);
  Push(r, "a");
  Push(r, "b");
  REQUIRE(r.Kick().kind == Step::kWrite);
  CHECK(r.WriteDone(true).kind == Step::kNone);
  const Step next = r.WriteStarted();  // continues with b on the starter's thread
  RequireWrite(r, next, "b");
  CHECK(r.WriteDone(true).kind == Step::kNone);
}

TEST_CASE("cancellation while a write is in flight still finishes the call once",
          "[stream_queue]") {
  // The order that hung acdd's shutdown (issue 4): the client goes away (OnCancel) with a
  // backlog and a write in flight; the write then fails.
  Queue q(1000);
  Push(q, "a");
  Push(q, "b");
  RequireWrite(q, q.Kick(), "a");
  CHECK(q.Cancelled().kind == Step::kNone);  // the write in flight must complete first
  CHECK(q.ending());
  RequireFinish(q.WriteDone(false), grpc::StatusCode::CANCELLED);
  CHECK(q.pending() == 0);
  CHECK(q.Kick().kind == Step::kNone);  // never twice
  CHECK(q.Cancelled().kind == Step::kNone);
}

TEST_CASE("a failed write before the cancellation finishes once", "[stream_queue]") {
  Queue q(10);
  Push(q, "a");
  Push(q, "b");
  RequireWrite(q, q.Kick(), "a");
  RequireFinish(q.WriteDone(false), grpc::StatusCode::CANCELLED);
  CHECK(q.Cancelled().kind == Step::kNone);
}

TEST_CASE("cancellation of an idle stream finishes at once", "[stream_queue]") {
  Queue q(10);
  RequireFinish(q.Cancelled(), grpc::StatusCode::CANCELLED);
  bool kick = true;
  CHECK(q.Push(Msg("late"), &kick) == Queue::PushResult::kDropped);
  CHECK_FALSE(kick);
}

TEST_CASE("cancellation with a kick scheduled leaves the finish to the kick", "[stream_queue]") {
  Queue q(10);
  CHECK(Push(q, "a"));
  CHECK(q.Cancelled().kind == Step::kNone);
  RequireFinish(q.Kick(), grpc::StatusCode::CANCELLED);
}

TEST_CASE("a subscriber that falls behind is cut off with RESOURCE_EXHAUSTED", "[stream_queue]") {
  Queue q(2);
  Push(q, "a");
  RequireWrite(q, q.Kick(), "a");  // in flight; the client does not read
  Push(q, "b");
  Push(q, "c");
  CHECK_FALSE(Push(q, "d", Queue::PushResult::kCutOff));  // the write in flight finishes it
  Push(q, "e", Queue::PushResult::kDropped);
  CHECK(q.pending() == 0);
  const Step last = q.WriteDone(true);
  RequireFinish(last, grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK(last.status.error_message().find("resume") != std::string::npos);
}

TEST_CASE("EndAfterPending writes what is queued, then finishes with its status",
          "[stream_queue]") {
  Queue q(10);
  Push(q, "a");
  Push(q, "b");
  CHECK_FALSE(q.EndAfterPending(grpc::Status::OK));  // the kick is scheduled already
  Push(q, "late", Queue::PushResult::kDropped);
  RequireWrite(q, q.Kick(), "a");
  RequireWrite(q, q.WriteDone(true), "b");
  RequireFinish(q.WriteDone(true), grpc::StatusCode::OK);

  Queue idle(10);
  CHECK(idle.EndAfterPending(grpc::Status::OK));  // nothing queued: the kick finishes
  RequireFinish(idle.Kick(), grpc::StatusCode::OK);
}

TEST_CASE("the first end wins", "[stream_queue]") {
  Queue q(10);
  Push(q, "a");
  q.EndAfterPending(grpc::Status::OK);
  q.CutOff(grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down"));
  CHECK(q.pending() == 0);  // the cut-off still drops what waits
  RequireFinish(q.Kick(), grpc::StatusCode::OK);
}

TEST_CASE("a resume backlog fits once the bound is raised", "[stream_queue]") {
  Queue q(2);
  q.set_capacity(5);
  for (const char* m : {"1", "2", "3", "4", "5"}) Push(q, m);
  Push(q, "6", Queue::PushResult::kCutOff);
}

}  // namespace
}  // namespace acd::server
