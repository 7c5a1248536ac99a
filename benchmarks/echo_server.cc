// echo_server: the ceiling for the server benchmarks (issue 7). A bare gRPC callback server
// implementing acd.v1.Gateway's EnqueueContact, CancelContact and GetContact by answering
// a ContactStatus at once, on the gRPC thread, with no engine behind it. Built against the
// same gRPC and the same generated stubs as acdd, with the same HTTP/2 stream limit, so
// "acdd / echo" measures what the engine, the core thread hop and the edge checks cost.
//
// It also serves Supervisor.WatchEvents as the ceiling of the fan-out test: each stream
// gets a SNAPSHOT, then synthetic CONTACT_QUEUED events (ids, queue, time: the size of
// acdd's), numbered one by one, in full batches of --event-batch (acdd's most per message,
// and its default) written back to back, the next one started from the previous write's
// completion on the gRPC thread, as fast as the client reads. So "events/s delivered"
// against it is what this gRPC build can push to 100 subscribers on this machine with no
// engine at all, every message full.
//
// With --reject-duplicate-enqueues it remembers every contact id it was asked to enqueue
// and answers a repeated one ALREADY_EXISTS, as acdd does: the ceiling for h2load's
// EnqueueContact run, whose one body repeats a single id, so that both servers take
// gRPC's error path (the ids are kept for the server's life: a diagnostic, not for load).
//
// Prints "listening on HOST:PORT" once it accepts calls (port 0 picks a free one, like
// acdd); SIGINT/SIGTERM stop it (exit 0). Every other method is UNIMPLEMENTED.
#include <grpcpp/grpcpp.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <utility>

#include "CLI/CLI.hpp"
#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "acd/v1/gateway.grpc.pb.h"
#include "acd/v1/supervisor.grpc.pb.h"
#include "engine/server/grpc_process.h"

namespace acd::bench {
namespace {

// Finishes a unary call at once, on the calling gRPC thread.
grpc::ServerUnaryReactor* Answer(grpc::CallbackServerContext* context, grpc::Status status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(std::move(status));
  return reactor;
}

// Answers EnqueueContact, CancelContact and GetContact from the request alone (and, when
// told to reject duplicate enqueues, the set of ids seen).
class EchoGateway final : public v1::Gateway::CallbackService {
 public:
  explicit EchoGateway(bool reject_duplicate_enqueues)
      : reject_duplicate_enqueues_(reject_duplicate_enqueues) {}

  grpc::ServerUnaryReactor* EnqueueContact(grpc::CallbackServerContext* context,
                                           const v1::EnqueueContactRequest* request,
                                           v1::ContactStatus* response) override {
    if (reject_duplicate_enqueues_ && !FirstEnqueue(request->contact_id())) {
      return Answer(context, grpc::Status(grpc::StatusCode::ALREADY_EXISTS,
                                         absl::StrCat("contact '", request->contact_id(),
                                                      "' already exists")));
    }
    response->set_contact_id(request->contact_id());
    response->set_queue(request->queue());
    response->set_state(v1::WAITING);
    response->set_position(1);
    response->set_channel(request->channel());
    response->set_priority(request->has_priority() ? request->priority() : 0);
    return Answer(context, grpc::Status::OK);
  }

  grpc::ServerUnaryReactor* CancelContact(grpc::CallbackServerContext* context,
                                          const v1::CancelContactRequest* request,
                                          v1::ContactStatus* response) override {
    response->set_contact_id(request->contact_id());
    response->set_state(v1::ABANDONED);
    return Answer(context, grpc::Status::OK);
  }

  // What acdd answers for a contact waiting alone in its queue.
  grpc::ServerUnaryReactor* GetContact(grpc::CallbackServerContext* context,
                                       const v1::GetContactRequest* request,
                                       v1::ContactStatus* response) override {
    response->set_contact_id(request->contact_id());
    response->set_queue("general");
    response->set_state(v1::WAITING);
    response->set_position(1);
    response->set_channel(v1::VOICE);
    return Answer(context, grpc::Status::OK);
  }

 private:
  bool FirstEnqueue(const std::string& contact_id) {
    absl::MutexLock lock(&mu_);
    return seen_.insert(contact_id).second;
  }

  const bool reject_duplicate_enqueues_;
  absl::Mutex mu_;
  absl::flat_hash_set<std::string> seen_ ABSL_GUARDED_BY(mu_);
};

// One WatchEvents stream: writes batches of events back to back until the client goes
// away. Deletes itself when gRPC is done with it.
class EventPump final : public grpc::ServerWriteReactor<v1::EventBatch> {
 public:
  explicit EventPump(int batch_size) {
    // A message must stay unchanged until its write completes, so the snapshot has its own.
    v1::Event* snapshot = snapshot_.add_events();
    snapshot->set_type(v1::SNAPSHOT);
    snapshot->mutable_snapshot()->set_sequence(0);
    StartWrite(&snapshot_);
    for (int i = 0; i < batch_size; ++i) {
      v1::Event* event = batch_.add_events();
      event->set_type(v1::CONTACT_QUEUED);
      event->set_queue("general");
      event->set_channel(v1::VOICE);
      event->set_priority(0);
      event->mutable_time()->set_seconds(1'800'000'000);
    }
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {  // cancelled or broken: nothing more can be written
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "client gone"));
      return;
    }
    for (v1::Event& event : *batch_.mutable_events()) {
      ++sequence_;
      event.set_sequence(sequence_);
      event.set_contact_id("lc12345l-" + std::to_string(sequence_ / 2));
      event.mutable_time()->set_nanos(static_cast<int32_t>(sequence_ % 1'000'000'000));
    }
    StartWrite(&batch_);
  }
  void OnDone() override { delete this; }

 private:
  v1::EventBatch snapshot_;
  v1::EventBatch batch_;
  uint64_t sequence_ = 0;
};

class EchoSupervisor final : public v1::Supervisor::CallbackService {
 public:
  explicit EchoSupervisor(int event_batch) : event_batch_(event_batch) {}
  grpc::ServerWriteReactor<v1::EventBatch>* WatchEvents(
      grpc::CallbackServerContext* context, const v1::WatchEventsRequest* request) override {
    return new EventPump(event_batch_);
  }

 private:
  const int event_batch_;
};

// "HOST:PORT" -> HOST (brackets kept for IPv6).
std::string HostOf(const std::string& address) {
  const size_t colon = address.rfind(':');
  return colon == std::string::npos ? address : address.substr(0, colon);
}

}  // namespace
}  // namespace acd::bench

int main(int argc, char** argv) {
  acd::server::ConfigureGrpcProcess();
  std::string listen = "127.0.0.1:0";
  // acdd allows max(4 x --max-streams-per-client, 100) concurrent HTTP/2 streams per
  // connection; with its default of 16 that is 100. Keep the same so both servers see the
  // same flow of calls from a load client.
  int max_concurrent_streams = 100;
  CLI::App app{"echo_server: bare acd.v1.Gateway (Enqueue/Cancel answered at once), the "
               "benchmark ceiling"};
  app.add_option("--listen", listen, "HOST:PORT to listen on; port 0 picks a free port")
      ->capture_default_str();
  app.add_option("--max-concurrent-streams", max_concurrent_streams,
                 "HTTP/2 streams per connection (acdd's default is 100)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1'000'000));
  bool reject_duplicate_enqueues = false;
  app.add_flag("--reject-duplicate-enqueues", reject_duplicate_enqueues,
               "answer ALREADY_EXISTS to an EnqueueContact of an id seen before, as acdd does");
  int event_batch = 256;
  app.add_option("--event-batch", event_batch,
                 "events in each WatchEvents message (acdd's --event-batch default)")
      ->capture_default_str()
      ->check(CLI::Range(1, 65'536));
  CLI11_PARSE(app, argc, argv);

  // SIGINT/SIGTERM are taken by sigwait() below; block them before gRPC starts threads.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  acd::bench::EchoGateway gateway(reject_duplicate_enqueues);
  acd::bench::EchoSupervisor supervisor(event_batch);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &port);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, max_concurrent_streams);
  builder.RegisterService(&gateway);
  builder.RegisterService(&supervisor);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::cerr << "echo_server: cannot listen on " << listen << "\n";
    return 1;
  }
  std::cout << "listening on " << acd::bench::HostOf(listen) << ":" << port << std::endl;

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  server->Wait();
  return 0;
}
