// acdd: the ACD server. Runs the core on one thread and serves the acd.v1 gRPC API,
// grpc.health.v1.Health and server reflection. Prints "listening on HOST:PORT" once it
// accepts calls; SIGINT/SIGTERM stop it gracefully (exit 0); SIGHUP reloads --rules.
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <future>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "engine/core/config.h"
#include "engine/server/core_loop.h"
#include "engine/server/grpc_process.h"
#include "engine/server/services.h"
#include "routing_rules/rules_loader.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"

namespace {

struct Flags {
  std::string listen = "127.0.0.1:50051";
  std::string rules;
  std::string log_level = "info";
  size_t event_ring = 10'000;
  size_t stream_buffer = 1'024;
  size_t event_batch = 256;
  int max_streams = 10'000;
  int max_streams_per_client = 16;
  int max_message_bytes = 64 * 1024;
  int shutdown_grace_ms = 5'000;
  int max_pending_commands = 10'000;
  int contact_refresh_ms = 1'000;
  std::string clock_start;  // RFC 3339; empty: now
  double clock_speed = 1;
};

// "HOST:PORT" -> HOST (brackets kept for IPv6).
std::string HostOf(const std::string& address) {
  const size_t colon = address.rfind(':');
  return colon == std::string::npos ? address : address.substr(0, colon);
}

// Loads --rules, printing every problem as file:line:column. nullopt: not loadable.
std::optional<acd::rules::LoadedRules> LoadRules(const std::string& path) {
  std::vector<acd::rules::RuleProblem> problems;
  absl::StatusOr<acd::rules::LoadedRules> loaded = acd::rules::LoadRulesFile(path, &problems);
  if (loaded.ok()) return *std::move(loaded);
  if (problems.empty()) spdlog::error("{}", loaded.status().ToString());
  for (const acd::rules::RuleProblem& p : problems) {
    spdlog::error("{}", acd::rules::FormatProblem(path, p));
  }
  return std::nullopt;
}

// The engine's clock from --clock-start and --clock-speed; nullopt (after saying why) if
// either is not valid.
std::optional<acd::server::ServerClock> MakeClock(const Flags& flags) {
  acd::server::ServerClock::Options options;
  options.speed = flags.clock_speed;
  if (!flags.clock_start.empty()) {
    absl::Time start;
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, flags.clock_start, &start, &error)) {
      spdlog::error("--clock-start {}: not an RFC 3339 time such as 2026-11-23T07:00:00-05:00 ({})",
                    flags.clock_start, error);
      return std::nullopt;
    }
    options.start = start;
  }
  absl::StatusOr<acd::server::ServerClock> clock = acd::server::ServerClock::Create(options);
  if (!clock.ok()) {
    spdlog::error("--clock-start, --clock-speed: {}", std::string(clock.status().message()));
    return std::nullopt;
  }
  if (clock->counted()) {
    spdlog::warn(
        "the engine's clock starts at {} and runs at {}x real time (--clock-start, "
        "--clock-speed: for demos and load tests)",
        absl::FormatTime(absl::RFC3339_sec, clock->Now(), absl::UTCTimeZone()), clock->speed());
  }
  return *clock;
}

int Run(const Flags& flags) {
  const std::optional<acd::server::ServerClock> clock = MakeClock(flags);
  if (!clock.has_value()) return 2;
  acd::core::EngineConfig config = acd::core::DefaultConfig();
  acd::server::RulesOrigin origin;
  if (!flags.rules.empty()) {
    std::optional<acd::rules::LoadedRules> loaded = LoadRules(flags.rules);
    if (!loaded.has_value()) {
      spdlog::error("--rules {}: not loaded; acdd does not start", flags.rules);
      return 2;
    }
    config = loaded->config;
    origin = {flags.rules, loaded->version, loaded->checksum, loaded->proto};
  }

  // SIGINT/SIGTERM (stop) and SIGHUP (reload --rules) are taken by sigwait() below; block
  // them before any thread starts so no other thread is interrupted.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  acd::server::EventFeed::Options feed;
  feed.ring_events = flags.event_ring;
  feed.subscriber_buffer = flags.stream_buffer;
  feed.max_streams = flags.max_streams;
  feed.max_streams_per_client = flags.max_streams_per_client;
  feed.contact_refresh = absl::Milliseconds(flags.contact_refresh_ms);
  absl::StatusOr<std::unique_ptr<acd::server::CoreLoop>> loop =
      acd::server::CoreLoop::Create(std::move(config), feed, flags.max_pending_commands, *clock);
  if (!loop.ok()) {
    spdlog::error("cannot start the engine: {}", loop.status().ToString());
    return 1;
  }
  (*loop)->Start();

  acd::server::GatewayService gateway(**loop, flags.stream_buffer);
  acd::server::AgentDeskService agent_desk(**loop, flags.stream_buffer);
  acd::server::SupervisorService supervisor(**loop, flags.stream_buffer, flags.event_batch);
  const std::string rules_source = origin.source;
  acd::server::AdminService admin(**loop, std::move(origin));

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(flags.listen, grpc::InsecureServerCredentials(), &port);
  builder.SetMaxReceiveMessageSize(flags.max_message_bytes);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             std::max(flags.max_streams_per_client * 4, 100));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 60'000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20'000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10'000);
  builder.RegisterService(&gateway);
  builder.RegisterService(&agent_desk);
  builder.RegisterService(&supervisor);
  builder.RegisterService(&admin);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    spdlog::error("cannot listen on {}", flags.listen);
    (*loop)->Stop();
    return 1;
  }
  std::cout << "listening on " << HostOf(flags.listen) << ":" << port << std::endl;
  spdlog::info("acdd listening on {}:{} with rules from {}", HostOf(flags.listen), port,
               rules_source);

  int signal_number = 0;
  while (true) {
    sigwait(&signals, &signal_number);
    if (signal_number != SIGHUP) break;
    if (flags.rules.empty()) {
      spdlog::warn("SIGHUP: no --rules file to reload");
      continue;
    }
    // Reading and checking the file happens here, off the core thread.
    std::optional<acd::rules::LoadedRules> loaded = LoadRules(flags.rules);
    if (!loaded.has_value()) {
      spdlog::error("SIGHUP: {} not reloaded; the rules in force stay", flags.rules);
      continue;
    }
    const std::string version = loaded->version;
    const std::string checksum = loaded->checksum;
    absl::Status queued = admin.Apply(
        *std::move(loaded), flags.rules,
        [path = flags.rules, version, checksum](absl::Status status, uint64_t sequence) {
          if (status.ok()) {
            spdlog::info("SIGHUP: rules from {} (version '{}', {}) in force at event {}", path,
                         version, checksum, sequence);
          } else {
            spdlog::error("SIGHUP: the engine refused {}: {}", path, status.ToString());
          }
        });
    if (!queued.ok()) spdlog::error("SIGHUP: {}", queued.ToString());
  }
  spdlog::info("signal {}: shutting down", signal_number);

  // Health first, so load balancers stop sending; then end the streams (they never end on
  // their own), then stop accepting and let in-flight calls finish on the still-running core.
  server->GetHealthCheckService()->SetServingStatus(false);
  std::promise<void> streams_ended;
  (*loop)->Post([&streams_ended](acd::core::Engine&, acd::server::EventFeed& f) {
    f.EndAll();
    streams_ended.set_value();
  });
  streams_ended.get_future().wait();
  spdlog::debug("streams ended");
  server->Shutdown(std::chrono::system_clock::now() +
                   std::chrono::milliseconds(flags.shutdown_grace_ms));
  spdlog::debug("calls finished");
  server->Wait();
  (*loop)->Stop();
  spdlog::debug("core stopped");
  spdlog::info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  acd::server::ConfigureGrpcProcess();
  Flags flags;
  CLI::App app{"acdd: the ACD engine server (gRPC API acd.v1)"};
  app.add_option("--listen", flags.listen, "HOST:PORT to listen on; port 0 picks a free port")
      ->capture_default_str();
  app.add_option("--rules", flags.rules,
                 "routing rules file (textproto of acd.v1.RoutingRules); SIGHUP reloads it. "
                 "Default: one queue 'general' needing skill 'general'");
  app.add_option("--log-level", flags.log_level, "trace, debug, info, warn, error")
      ->capture_default_str();
  app.add_option("--event-ring", flags.event_ring, "recent events kept for WatchEvents resume")
      ->capture_default_str();
  app.add_option("--stream-buffer", flags.stream_buffer,
                 "events (WatchEvents) or updates (WatchOffers, WatchContact) a stream "
                 "subscriber may fall behind before it is cut off")
      ->capture_default_str()
      ->check(CLI::Range(1, 1'000'000));
  app.add_option("--event-batch", flags.event_batch,
                 "most events one WatchEvents message carries (a subscriber with a backlog "
                 "gets it in batches; 1 sends every event alone)")
      ->capture_default_str()
      ->check(CLI::Range(1, 65'536));
  app.add_option("--max-streams", flags.max_streams, "open streams in all")
      ->capture_default_str()
      ->check(CLI::Range(1, 1'000'000));
  app.add_option("--max-streams-per-client", flags.max_streams_per_client,
                 "open streams per client connection")
      ->capture_default_str()
      ->check(CLI::Range(1, 10'000));
  app.add_option("--max-message-bytes", flags.max_message_bytes, "largest request accepted")
      ->capture_default_str()
      ->check(CLI::Range(1024, 64 * 1024 * 1024));
  app.add_option("--max-pending-commands", flags.max_pending_commands,
                 "client commands that may wait for the core thread before UNAVAILABLE")
      ->capture_default_str()
      ->check(CLI::Range(1, 10'000'000));
  app.add_option("--contact-refresh-ms", flags.contact_refresh_ms,
                 "WatchContact: how often position and EWT are recomputed as queues move")
      ->capture_default_str()
      ->check(CLI::Range(10, 60'000));
  app.add_option("--clock-start", flags.clock_start,
                 "for demos and load tests: the engine's clock starts at this RFC 3339 time "
                 "(e.g. 2026-11-23T07:00:00-05:00) instead of the wall clock's; business "
                 "hours, holidays and every reported time follow it");
  app.add_option("--clock-speed", flags.clock_speed,
                 "for demos and load tests: the engine's clock runs this many times as fast "
                 "as real time (from --clock-start, or from now), timers and all; play a "
                 "scenario with acd-sim load --speed at the same value")
      ->capture_default_str();
  app.add_option("--shutdown-grace-ms", flags.shutdown_grace_ms,
                 "time in-flight calls get to finish on SIGINT/SIGTERM")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  auto logger = spdlog::stderr_color_mt("acdd");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(flags.log_level));
  return Run(flags);
}
