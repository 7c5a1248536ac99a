// ProgressBar: the one-line progress display `acd-sim run` draws on stderr during a long
// run (issue 6). It is for a person watching a terminal, so it stays silent unless:
//   - the output is a terminal (ForTerminal returns no bar for a pipe or a file, so
//     scripts, ctest and redirected runs see nothing), and
//   - the run has taken longer than `show_after` of wall clock (short runs never flicker);
// and then it redraws at most once per `redraw_every`. Finish() ends the line with "\n".
//
// The wall clock and the output are injected (Clock, Writer), so a test can drive time by
// hand and read what would have been drawn. The bar only reads what the run reports
// (RunProgress); it never feeds anything back, so the run's result cannot depend on it.
// The run calls Update() every few thousand events, and Update() reads the clock once per
// call, so the cost on the simulation is a counter and a branch per event.
//
// Thread-compatible: one run, one thread.
#ifndef ACD_SIMULATORS_PROGRESS_BAR_H_
#define ACD_SIMULATORS_PROGRESS_BAR_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace acd::sim {

// How far a run has come.
struct RunProgress {
  double done = 0;       // share of the run done, 0..1
  int64_t contacts = 0;  // contacts offered so far
  double simulated_seconds = 0;
};

class ProgressBar {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  using Writer = std::function<void(std::string_view)>;

  struct Options {
    std::chrono::milliseconds show_after{1000};
    std::chrono::milliseconds redraw_every{100};
    int bar_width = 30;  // characters between the brackets
  };

  // Reads `clock` once now: the run starts here.
  ProgressBar(Clock clock, Writer writer, Options options);
  ProgressBar(Clock clock, Writer writer) : ProgressBar(std::move(clock), std::move(writer), {}) {}

  // A bar on `fd` with the steady clock if `fd` is a terminal; null otherwise.
  static std::unique_ptr<ProgressBar> ForTerminal(int fd);

  // Remembers `p`; draws it if the run has taken longer than show_after (not just as long)
  // and the last drawing is at least redraw_every old.
  void Update(const RunProgress& p);

  // If anything was drawn: draws the last progress once more and ends the line with "\n".
  // Otherwise writes nothing. Idempotent.
  void Finish();

  bool shown() const { return shown_; }

  // The line Update() draws for `p` after `elapsed_seconds` of wall clock, without "\r"
  // or padding: "[#####.....]  50.0%  1234 contacts  5678 contacts/s  2.1 s".
  std::string Line(const RunProgress& p, double elapsed_seconds) const;

 private:
  void Draw(std::chrono::steady_clock::time_point now);

  Clock clock_;
  Writer writer_;
  Options options_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
  RunProgress last_;
  size_t drawn_width_ = 0;  // of the last line drawn, to blank out its tail
  bool shown_ = false;
  bool finished_ = false;
};

}  // namespace acd::sim

#endif  // ACD_SIMULATORS_PROGRESS_BAR_H_
