#include "simulators/progress_bar.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_format.h"

namespace acd::sim {

ProgressBar::ProgressBar(Clock clock, Writer writer, Options options)
    : clock_(std::move(clock)), writer_(std::move(writer)), options_(options) {
  start_ = clock_();
  last_draw_ = start_;
}

std::unique_ptr<ProgressBar> ProgressBar::ForTerminal(int fd) {
  if (isatty(fd) != 1) return nullptr;
  return std::make_unique<ProgressBar>([] { return std::chrono::steady_clock::now(); },
                                       [fd](std::string_view text) {
                                         // Best effort: a progress line that cannot be written is
                                         // not worth failing for.
                                         while (!text.empty()) {
                                           const ssize_t n = ::write(fd, text.data(), text.size());
                                           if (n <= 0) return;
                                           text.remove_prefix(static_cast<size_t>(n));
                                         }
                                       });
}

std::string ProgressBar::Line(const RunProgress& p, double elapsed_seconds) const {
  const double done = std::clamp(p.done, 0.0, 1.0);
  const int width = std::max(options_.bar_width, 1);
  const int filled = static_cast<int>(std::floor(done * width));
  std::string line = "[";
  line.append(static_cast<size_t>(filled), '#');
  line.append(static_cast<size_t>(width - filled), '.');
  line += "]";
  const double rate = elapsed_seconds > 0 ? static_cast<double>(p.contacts) / elapsed_seconds : 0;
  absl::StrAppendFormat(&line, " %5.1f%%  %d contacts  %.0f contacts/s  %.1f s", 100 * done,
                        p.contacts, rate, elapsed_seconds);
  return line;
}

void ProgressBar::Update(const RunProgress& p) {
  if (finished_) return;
  last_ = p;
  const auto now = clock_();
  if (now - start_ <= options_.show_after) return;  // "longer than"
  if (shown_ && now - last_draw_ < options_.redraw_every) return;
  Draw(now);
}

void ProgressBar::Draw(std::chrono::steady_clock::time_point now) {
  const std::string line = Line(last_, std::chrono::duration<double>(now - start_).count());
  std::string out = "\r" + line;
  // The line can only shrink when a count does; blank out what is left of the old one.
  if (line.size() < drawn_width_) out.append(drawn_width_ - line.size(), ' ');
  drawn_width_ = line.size();
  writer_(out);
  shown_ = true;
  last_draw_ = now;
}

void ProgressBar::Finish() {
  if (finished_) return;
  finished_ = true;
  if (!shown_) return;
  Draw(clock_());
  writer_("\n");
}

}  // namespace acd::sim
