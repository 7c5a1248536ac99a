// The progress line of `acd-sim run`: silent for the first second and off a terminal,
// then at most ten drawings a second, ended by a newline; and a run's result does not
// depend on whether anyone watches it.
#include "simulators/progress_bar.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <string>

#include "absl/strings/match.h"
#include "simulators/scenario.h"
#include "simulators/scenario_report.h"
#include "simulators/scenario_sim.h"
#include "simulators/single_queue_sim.h"

namespace acd::sim {
namespace {

using std::chrono::milliseconds;

// A clock moved by hand and a writer that keeps what it is given.
struct Terminal {
  std::chrono::steady_clock::time_point now{};
  std::string written;
  int writes = 0;

  ProgressBar Bar() {
    return ProgressBar([this] { return now; },
                       [this](std::string_view text) {
                         written += text;
                         ++writes;
                       });
  }
};

RunProgress Progress(double done, int64_t contacts) {
  RunProgress p;
  p.done = done;
  p.contacts = contacts;
  return p;
}

TEST_CASE("the progress bar draws nothing in the first second", "[sim]") {
  Terminal t;
  ProgressBar bar = t.Bar();
  for (int ms = 0; ms <= 1000; ms += 50) {
    t.now = std::chrono::steady_clock::time_point{} + milliseconds(ms);
    bar.Update(Progress(ms / 2000.0, ms));
  }
  CHECK(t.written.empty());
  CHECK_FALSE(bar.shown());
  SECTION("and a run that ends within it leaves no trace") {
    bar.Finish();
    CHECK(t.written.empty());
  }
  SECTION("then draws, at most every 100 ms, and ends with a newline") {
    t.now += milliseconds(1);  // 1.001 s
    bar.Update(Progress(0.5, 2002));
    CHECK(bar.shown());
    CHECK(t.writes == 1);
    CHECK(absl::StartsWith(t.written, "\r["));
    CHECK(absl::StrContains(t.written, " 50.0%"));
    CHECK(absl::StrContains(t.written, "2002 contacts"));
    CHECK(absl::StrContains(t.written, "2000 contacts/s"));  // 2002 in 1.001 s
    t.now += milliseconds(99);
    bar.Update(Progress(0.6, 3000));
    CHECK(t.writes == 1);
    t.now += milliseconds(1);
    bar.Update(Progress(0.7, 3500));
    CHECK(t.writes == 2);
    CHECK(absl::StrContains(t.written, " 70.0%"));
    bar.Finish();
    CHECK(t.writes == 4);  // the last state once more, then the newline
    CHECK(absl::EndsWith(t.written, "\n"));
    bar.Finish();
    bar.Update(Progress(0.9, 4000));
    CHECK(t.writes == 4);
  }
}

TEST_CASE("the progress line is the bar, percent, contacts, rate and time", "[sim]") {
  Terminal t;
  const ProgressBar bar = t.Bar();
  CHECK(bar.Line(Progress(0.5, 1000), 2.0) ==
        "[###############...............]  50.0%  1000 contacts  500 contacts/s  2.0 s");
  CHECK(bar.Line(Progress(1.5, 0), 0) ==
        "[##############################] 100.0%  0 contacts  0 contacts/s  0.0 s");
}

TEST_CASE("a shorter line blanks out the rest of the longer one before it", "[sim]") {
  Terminal t;
  ProgressBar bar = t.Bar();
  t.now += milliseconds(1500);
  bar.Update(Progress(0.5, 123456));
  const size_t long_line = t.written.size();
  t.written.clear();
  t.now += milliseconds(200);
  bar.Update(Progress(0.5, 1));
  CHECK(t.written.size() == long_line);
  CHECK(absl::EndsWith(t.written, " "));
}

TEST_CASE("no progress bar off a terminal; one on a terminal", "[sim]") {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  CHECK(ProgressBar::ForTerminal(fds[1]) == nullptr);
  close(fds[0]);
  close(fds[1]);
  const int null_fd = open("/dev/null", O_WRONLY);
  REQUIRE(null_fd >= 0);
  CHECK(ProgressBar::ForTerminal(null_fd) == nullptr);
  close(null_fd);

  // A pseudo-terminal stands in for a person's terminal.
  const int master = posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) {
    WARN("no pseudo-terminals here; the terminal half is not checked");
    if (master >= 0) close(master);
    return;
  }
  const int terminal = open(ptsname(master), O_RDWR | O_NOCTTY);
  REQUIRE(terminal >= 0);
  CHECK(ProgressBar::ForTerminal(terminal) != nullptr);
  close(terminal);
  close(master);
}

TEST_CASE("watching a run does not change its result", "[sim]") {
  absl::StatusOr<Scenario> s = LoadScenarioFile(
      std::string(ACD_SOURCE_DIR) + "/simulators/scenarios/healthcare_flu_surge.textproto");
  REQUIRE(s.ok());
  auto bytes = [&](const RunOptions& options) {
    absl::StatusOr<ScenarioResult> r = RunScenario(*s, options);
    REQUIRE(r.ok());
    r->overall.wall_seconds = 0;
    r->overall.contacts_per_second = 0;
    return ScenarioResultToJson(*s, *r).dump() + IntervalsToCsv(*s, *r);
  };
  int calls = 0;
  RunProgress last;
  double done_before = 0;
  bool monotonic = true;
  RunOptions watched;
  watched.progress = [&](const RunProgress& p) {
    ++calls;
    monotonic = monotonic && p.done >= done_before;
    done_before = p.done;
    last = p;
  };
  CHECK(bytes(watched) == bytes(RunOptions{}));
  CHECK(calls > 2);  // every 4096 events over a surge day, and at the end
  CHECK(monotonic);
  CHECK(last.done == 1);
  CHECK(last.contacts > 0);

  SingleQueueScenario quick;
  quick.arrivals_per_hour = 200;
  quick.handle_seconds_mean = 180;
  quick.agents = 14;
  quick.contacts = 20000;
  absl::StatusOr<SimulatedKpis> unwatched = RunSingleQueue(quick);
  calls = 0;
  quick.progress = [&](const RunProgress& p) {
    ++calls;
    last = p;
  };
  absl::StatusOr<SimulatedKpis> quick_watched = RunSingleQueue(quick);
  REQUIRE(unwatched.ok());
  REQUIRE(quick_watched.ok());
  CHECK(quick_watched->service_level == unwatched->service_level);
  CHECK(quick_watched->mean_wait_seconds == unwatched->mean_wait_seconds);
  CHECK(calls > 2);
  CHECK(last.done == 1);
  CHECK(last.contacts == quick_watched->sim_totals.offered);
}

}  // namespace
}  // namespace acd::sim
