#include "simulators/html_report.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "engine/core/types.h"

namespace acd::sim {
namespace {

using core::AgentState;

// Tableau 10: distinct, and readable by most colour-blind readers.
constexpr std::array<const char*, 10> kPalette = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2",
                                                  "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
                                                  "#9c755f", "#bab0ac"};
constexpr const char* kAllColour = "#222222";

// The run's intervals, regrouped: one entry per interval, with the "ALL" row and the row
// of every queue shown.
struct Intervals {
  std::vector<absl::Time> starts;
  std::vector<absl::Time> ends;
  std::vector<const IntervalRow*> all;
  std::vector<std::string> queues;                        // shown: offered anything, in rules order
  std::vector<double> sl_targets;                         // of `queues`
  std::vector<std::vector<const IntervalRow*>> by_queue;  // [queue][interval], may be null

  size_t size() const { return starts.size(); }
  absl::Time mid(size_t i) const { return starts[i] + (ends[i] - starts[i]) / 2; }
};

Intervals Regroup(const Scenario& scenario, const ScenarioResult& r) {
  Intervals in;
  absl::flat_hash_map<std::string, size_t> shown;
  for (const QueueReport& q : r.queues) {
    if (q.offered == 0) continue;
    shown.emplace(q.queue, in.queues.size());
    in.queues.push_back(q.queue);
    in.sl_targets.push_back(q.sl_target);
  }
  in.by_queue.resize(in.queues.size());
  // Rows come interval by interval, "ALL" first (scenario_sim.h). Grouping by start time
  // rather than by the name "ALL" keeps a queue that happens to be called ALL apart.
  for (const IntervalRow& row : r.intervals) {
    if (in.starts.empty() || row.start != in.starts.back()) {
      in.starts.push_back(row.start);
      in.all.push_back(&row);
      for (auto& rows : in.by_queue) rows.push_back(nullptr);
      continue;
    }
    auto it = shown.find(row.queue);
    if (it != shown.end()) in.by_queue[it->second].back() = &row;
  }
  const absl::Time run_end = scenario.start + absl::Seconds(r.overall.simulated_seconds);
  for (size_t i = 0; i < in.starts.size(); ++i) {
    in.ends.push_back(i + 1 < in.starts.size() ? in.starts[i + 1]
                                               : std::max(run_end, in.starts[i]));
  }
  return in;
}

std::string Percent(double share) { return absl::StrFormat("%.1f%%", 100 * share); }

// A round step that cuts [0, max] into about `ticks` parts.
double NiceStep(double max, int ticks) {
  const double raw = max / ticks;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0}) {
    if (m * magnitude >= raw) return m * magnitude;
  }
  return 10 * magnitude;
}

// A chart's coordinate system: time across, a value up, in SVG user units.
struct Plot {
  double width = 920;
  double height = 260;
  double left = 52, right = 14, top = 12, bottom = 30;
  absl::Time t0, t1;
  double y_max = 1;
  double y_step = 1;
  bool y_percent = false;

  double X(absl::Time t) const {
    const double span = std::max(absl::ToDoubleSeconds(t1 - t0), 1.0);
    return left + (width - left - right) * absl::ToDoubleSeconds(t - t0) / span;
  }
  double Y(double v) const { return top + (height - top - bottom) * (1 - v / y_max); }
};

Plot CountPlot(const Intervals& in, double value_max) {
  Plot p;
  p.t0 = in.starts.front();
  p.t1 = in.ends.back();
  const int step = std::max(1, static_cast<int>(NiceStep(std::max(value_max, 1.0), 5)));
  p.y_step = step;
  p.y_max = std::max(step, static_cast<int>(std::ceil(value_max / step)) * step);
  return p;
}

Plot PercentPlot(const Intervals& in, double width, double height) {
  Plot p;
  p.width = width;
  p.height = height;
  p.t0 = in.starts.front();
  p.t1 = in.ends.back();
  p.y_max = 1;
  p.y_step = height < 200 ? 0.5 : 0.2;
  p.y_percent = true;
  return p;
}

std::string Point(const Plot& p, absl::Time t, double v) {
  return absl::StrFormat("%.1f,%.1f", p.X(t), p.Y(v));
}

// Local-time ticks across [t0, t1]: the shortest step giving at most `ticks_max` ticks.
std::string TimeAxis(const Plot& p, const absl::TimeZone& zone, int ticks_max) {
  const double span_minutes = absl::ToDoubleMinutes(p.t1 - p.t0);
  int step = 1440;
  for (int s : {15, 30, 60, 120, 180, 240, 360, 720, 1440}) {
    if (span_minutes / s <= ticks_max) {
      step = s;
      break;
    }
  }
  const char* format = span_minutes > 1440 ? "%a %H:%M" : "%H:%M";
  const absl::CivilMinute first = absl::ToCivilMinute(p.t0, zone);
  const absl::CivilDay day(first);
  int minute = (first.hour() * 60 + first.minute() + step - 1) / step * step;
  std::string out;
  const double y = p.height - p.bottom;
  for (int guard = 0; guard < 10 * ticks_max; ++guard, minute += step) {
    const absl::Time t = absl::FromCivil(absl::CivilMinute(day) + minute, zone);
    if (t < p.t0) continue;
    if (t > p.t1) break;
    absl::StrAppendFormat(&out,
                          "<line class=\"tick\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
                          "<text class=\"xl\" x=\"%.1f\" y=\"%.1f\">%s</text>\n",
                          p.X(t), y, p.X(t), y + 4, p.X(t), y + 17,
                          HtmlEscape(absl::FormatTime(format, t, zone)));
  }
  return out;
}

// "<svg ...>" with the grid, the value axis and the time axis; the caller adds the data
// and "</svg>".
std::string OpenChart(const Plot& p, const absl::TimeZone& zone, std::string_view id,
                      std::string_view label) {
  std::string out = absl::StrFormat(
      "<svg id=\"%s\" class=\"chart\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
      "aria-label=\"%s\">\n",
      HtmlEscape(id), p.width, p.height, HtmlEscape(label));
  for (int k = 0; k * p.y_step <= p.y_max + 1e-9; ++k) {
    const double v = k * p.y_step;
    const std::string text =
        p.y_percent ? absl::StrFormat("%.0f%%", 100 * v) : absl::StrFormat("%.0f", v);
    absl::StrAppendFormat(&out,
                          "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
                          "<text class=\"yl\" x=\"%.1f\" y=\"%.1f\">%s</text>\n",
                          p.left, p.Y(v), p.width - p.right, p.Y(v), p.left - 6, p.Y(v) + 4, text);
  }
  absl::StrAppendFormat(&out,
                        "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
                        p.left, p.height - p.bottom, p.width - p.right, p.height - p.bottom);
  out += TimeAxis(p, zone, p.width < 600 ? 6 : 12);
  return out;
}

// One line; a missing value breaks it. data-points counts the values drawn.
std::string LinePath(const Plot& p, std::string_view name, std::string_view colour,
                     const std::vector<std::pair<absl::Time, std::optional<double>>>& values,
                     double stroke_width) {
  std::string d;
  int points = 0;
  bool pen_down = false;
  for (const auto& [t, v] : values) {
    if (!v.has_value()) {
      pen_down = false;
      continue;
    }
    absl::StrAppend(&d, d.empty() ? "" : " ", pen_down ? "L" : "M", Point(p, t, *v));
    pen_down = true;
    ++points;
  }
  return absl::StrFormat(
      "<path class=\"line\" data-series=\"%s\" data-points=\"%d\" stroke=\"%s\" "
      "stroke-width=\"%.1f\" d=\"%s\"><title>%s</title></path>\n",
      HtmlEscape(name), points, colour, stroke_width, d, HtmlEscape(name));
}

// An HTML legend under a chart.
std::string Legend(const std::vector<std::pair<std::string, std::string>>& entries) {
  std::string out = "<div class=\"legend\">";
  for (const auto& [name, colour] : entries) {
    absl::StrAppendFormat(&out, "<span><i style=\"background:%s\"></i>%s</span>", colour,
                          HtmlEscape(name));
  }
  return out + "</div>\n";
}

std::string WaitingChart(const Scenario& scenario, const Intervals& in) {
  double top = 0;
  for (const IntervalRow* row : in.all) top = std::max(top, 1.0 * row->waiting_at_end);
  const Plot p = CountPlot(in, top);
  std::string out = OpenChart(p, scenario.zone, "chart-waiting", "waiting contacts over time");
  std::vector<std::pair<std::string, std::string>> legend;
  for (size_t q = 0; q < in.queues.size(); ++q) {
    std::vector<std::pair<absl::Time, std::optional<double>>> values;
    for (size_t i = 0; i < in.size(); ++i) {
      const IntervalRow* row = in.by_queue[q][i];
      values.emplace_back(in.ends[i],
                          row == nullptr ? std::nullopt : std::optional(1.0 * row->waiting_at_end));
    }
    const char* colour = kPalette[q % kPalette.size()];
    out += LinePath(p, in.queues[q], colour, values, 1.5);
    legend.emplace_back(in.queues[q], colour);
  }
  std::vector<std::pair<absl::Time, std::optional<double>>> all;
  for (size_t i = 0; i < in.size(); ++i) all.emplace_back(in.ends[i], in.all[i]->waiting_at_end);
  out += LinePath(p, "all queues", kAllColour, all, 2.5);
  legend.emplace_back("all queues", kAllColour);
  return out + "</svg>\n" + Legend(legend);
}

// Service level of `rows` per interval against `target` (none: no target line). Markers
// below the target are drawn as misses.
std::string ServiceLevelChart(const Scenario& scenario, const Intervals& in, const Plot& p,
                              std::string_view id, std::string_view name,
                              const std::vector<const IntervalRow*>& rows,
                              std::optional<double> target) {
  std::string out =
      OpenChart(p, scenario.zone, id, absl::StrCat("service level: ", std::string(name)));
  if (target.has_value()) {
    absl::StrAppendFormat(&out,
                          "<line class=\"target\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
                          "y2=\"%.1f\"><title>target %s</title></line>\n",
                          p.left, p.Y(*target), p.width - p.right, p.Y(*target), Percent(*target));
  }
  std::vector<std::pair<absl::Time, std::optional<double>>> values;
  std::string markers;
  for (size_t i = 0; i < in.size(); ++i) {
    const IntervalRow* row = rows[i];
    if (row == nullptr || row->answered + row->abandoned == 0) {
      values.emplace_back(in.mid(i), std::nullopt);
      continue;
    }
    values.emplace_back(in.mid(i), row->service_level);
    const bool miss = target.has_value() && row->service_level < *target;
    absl::StrAppendFormat(&markers,
                          "<circle class=\"%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\"><title>%s: "
                          "%s (%d answered, %d abandoned)</title></circle>\n",
                          miss ? "miss" : "met", p.X(in.mid(i)), p.Y(row->service_level),
                          HtmlEscape(absl::FormatTime("%H:%M", in.starts[i], scenario.zone)),
                          Percent(row->service_level), row->answered, row->abandoned);
  }
  out += LinePath(p, name, "#4e79a7", values, 1.5);
  return out + markers + "</svg>\n";
}

std::string ServiceLevelCharts(const Scenario& scenario, const Intervals& in) {
  // Overall: a target line only when every queue shown has the same target.
  std::optional<double> common_target;
  if (!in.sl_targets.empty() && std::all_of(in.sl_targets.begin(), in.sl_targets.end(),
                                            [&](double t) { return t == in.sl_targets.front(); })) {
    common_target = in.sl_targets.front();
  }
  std::string out = ServiceLevelChart(scenario, in, PercentPlot(in, 920, 220), "chart-sl-all",
                                      "all queues", in.all, common_target);
  if (!common_target.has_value() && !in.sl_targets.empty()) {
    out += "<p class=\"note\">The queues have different targets; each is drawn below.</p>\n";
  }
  out += "<div class=\"multiples\">\n";
  for (size_t q = 0; q < in.queues.size(); ++q) {
    absl::StrAppendFormat(&out, "<figure><figcaption>%s <small>target %s</small></figcaption>\n",
                          HtmlEscape(in.queues[q]), Percent(in.sl_targets[q]));
    out += ServiceLevelChart(scenario, in, PercentPlot(in, 450, 170), absl::StrCat("chart-sl-", q),
                             in.queues[q], in.by_queue[q], in.sl_targets[q]);
    out += "</figure>\n";
  }
  return out + "</div>\n";
}

// Logged-in agents by state, stacked; bottom to top.
struct StateBand {
  AgentState state;
  const char* label;
  const char* colour;
};
constexpr std::array<StateBand, 5> kBands = {{
    {AgentState::kBusy, "busy", "#4e79a7"},
    {AgentState::kReserved, "offer ringing", "#a0cbe8"},
    {AgentState::kWrapUp, "wrap-up", "#b07aa1"},
    {AgentState::kReady, "ready (idle)", "#59a14f"},
    {AgentState::kNotReady, "not ready (break, RONA ...)", "#f28e2b"},
}};

std::string AgentsChart(const Scenario& scenario, const Intervals& in) {
  const size_t n = in.size();
  // cumulative[b][i]: agents in bands 0..b at the end of interval i.
  std::vector<std::vector<double>> cumulative(kBands.size(), std::vector<double>(n, 0));
  for (size_t i = 0; i < n; ++i) {
    double sum = 0;
    for (size_t b = 0; b < kBands.size(); ++b) {
      sum += in.all[i]->agents_by_state_at_end[static_cast<int>(kBands[b].state)];
      cumulative[b][i] = sum;
    }
  }
  const Plot p =
      CountPlot(in, *std::max_element(cumulative.back().begin(), cumulative.back().end()));
  std::string out = OpenChart(p, scenario.zone, "chart-agents", "agents by state over time");
  std::vector<std::pair<std::string, std::string>> legend;
  for (size_t b = 0; b < kBands.size(); ++b) {
    // The band's top edge forward, then the one below it backward.
    std::string d;
    for (size_t i = 0; i < n; ++i) {
      absl::StrAppend(&d, i == 0 ? "M" : " L", Point(p, in.ends[i], cumulative[b][i]));
    }
    for (size_t i = n; i-- > 0;) {
      absl::StrAppend(&d, " L", Point(p, in.ends[i], b == 0 ? 0 : cumulative[b - 1][i]));
    }
    absl::StrAppendFormat(&out,
                          "<path class=\"band\" data-series=\"%s\" data-points=\"%d\" "
                          "fill=\"%s\" d=\"%s Z\"><title>%s</title></path>\n",
                          kBands[b].label, n, kBands[b].colour, d, kBands[b].label);
    legend.emplace_back(kBands[b].label, kBands[b].colour);
  }
  return out + "</svg>\n" + Legend(legend);
}

std::string Tile(std::string_view label, std::string_view value) {
  return absl::StrFormat("<div class=\"tile\"><b>%s</b><span>%s</span></div>\n", value, label);
}

std::string Headline(const Intervals& in, const ScenarioResult& r) {
  const OverallReport& o = r.overall;
  std::string out = "<div class=\"tiles\">\n";
  out += Tile("contacts offered", absl::StrCat(o.offered));
  out += Tile("service level (answered in threshold / offered)", Percent(o.service_level));
  out += Tile("average speed of answer", absl::StrFormat("%.0f s", o.asa_seconds));
  out += Tile("abandon rate", Percent(o.abandon_rate));
  out += Tile("agent occupancy", Percent(o.occupancy));
  size_t peak = 0;
  for (size_t i = 1; i < in.size(); ++i) {
    if (in.all[i]->waiting_at_end > in.all[peak]->waiting_at_end) peak = i;
  }
  if (!in.all.empty()) {
    out += Tile("most waiting at a quarter hour", absl::StrCat(in.all[peak]->waiting_at_end));
  }
  return out + "</div>\n";
}

std::string KpiRow(std::string_view name, std::string_view threshold, std::string_view target,
                   bool missed, int64_t offered, int64_t answered, int64_t abandoned,
                   int64_t overflowed, double service_level, double asa, double aht,
                   double abandon_rate) {
  return absl::StrFormat(
      "<tr><th>%s</th><td>%s</td><td>%s</td><td>%d</td><td>%d</td><td>%d</td><td>%d</td>"
      "<td class=\"%s\">%s</td><td>%.1f</td><td>%.1f</td><td>%s</td></tr>\n",
      HtmlEscape(name), threshold, target, offered, answered, abandoned, overflowed,
      missed ? "miss" : "", Percent(service_level), asa, aht, Percent(abandon_rate));
}

std::string KpiTable(const ScenarioResult& r) {
  std::string out =
      "<table class=\"kpi\">\n<thead><tr><th>queue</th><th>SL threshold</th><th>SL target</th>"
      "<th>offered</th><th>answered</th><th>abandoned</th><th>overflowed</th><th>service "
      "level</th><th>ASA s</th><th>AHT s</th><th>abandon rate</th></tr></thead>\n<tbody>\n";
  for (const QueueReport& q : r.queues) {
    if (q.offered == 0) continue;
    out += KpiRow(q.queue, absl::StrFormat("%.0f s", q.sl_threshold_seconds), Percent(q.sl_target),
                  q.service_level < q.sl_target, q.offered, q.answered, q.abandoned, q.overflowed,
                  q.service_level, q.asa_seconds, q.aht_seconds, q.abandon_rate);
  }
  const OverallReport& o = r.overall;
  out += "</tbody>\n<tfoot>\n";
  out += KpiRow("overall", "", "", false, o.offered, o.answered, o.abandoned, o.overflowed_out,
                o.service_level, o.asa_seconds, o.aht_seconds, o.abandon_rate);
  out += "</tfoot>\n</table>\n";
  absl::StrAppendFormat(&out,
                        "<p class=\"note\">Service level = answered within the queue's threshold "
                        "/ offered. Per queue, overflowed = moved on to another queue, and "
                        "contacts overflowed in count as offered again; overall, each contact "
                        "counts once and overflowed = left with nowhere to go. Also: p_wait "
                        "%.3f, mean wait %.1f s, callbacks %d, RONAs %d, refused %d, "
                        "unfinished %d.</p>\n",
                        o.p_wait, o.mean_wait_seconds, o.callbacks, o.ronas, o.refused,
                        o.unfinished);
  return out;
}

std::string Duration(absl::Duration d) {
  const int64_t minutes = absl::ToInt64Minutes(d);
  if (minutes < 60) return absl::StrCat(minutes, " min");
  return minutes % 60 == 0 ? absl::StrCat(minutes / 60, " h")
                           : absl::StrCat(minutes / 60, " h ", minutes % 60, " min");
}

constexpr const char* kStyle = R"(
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
 color:#222;background:#fff;max-width:980px;margin:24px auto;padding:0 16px;line-height:1.4}
h1{margin:0 0 4px;font-size:1.6em}h2{margin:28px 0 6px;font-size:1.2em}
.meta,.note{color:#555;font-size:.9em}
.tiles{display:flex;flex-wrap:wrap;gap:10px;margin:16px 0}
.tile{border:1px solid #ddd;border-radius:6px;padding:8px 12px;min-width:130px}
.tile b{display:block;font-size:1.5em}.tile span{color:#555;font-size:.8em}
svg.chart{width:100%;height:auto;display:block}
svg .grid{stroke:#e6e6e6}svg .axis,svg .tick{stroke:#888}
svg text{font-size:11px;fill:#555}svg .yl{text-anchor:end}svg .xl{text-anchor:middle}
svg .line{fill:none;stroke-linejoin:round}
svg .target{stroke:#c00;stroke-dasharray:6 4;stroke-width:1.2}
svg circle.met{fill:#4e79a7}svg circle.miss{fill:#c00}
svg .band{stroke:#fff;stroke-width:.5}
.legend{font-size:.85em;margin:4px 0 0 52px}.legend span{margin-right:14px;white-space:nowrap}
.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px}
.multiples{display:grid;grid-template-columns:repeat(auto-fill,minmax(440px,1fr));gap:8px}
figure{margin:0}figcaption{font-weight:600;font-size:.95em}figcaption small{color:#c00;font-weight:400}
table.kpi{border-collapse:collapse;font-size:.9em;width:100%}
table.kpi th,table.kpi td{border-bottom:1px solid #e6e6e6;padding:4px 6px;text-align:right}
table.kpi th:first-child{text-align:left}table.kpi tfoot{font-weight:600}
td.miss{color:#c00;font-weight:600}
)";

}  // namespace

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string ScenarioResultToHtml(const Scenario& scenario, const ScenarioResult& r) {
  const Intervals in = Regroup(scenario, r);
  const std::string name = HtmlEscape(scenario.proto.name());
  std::string out = absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
      name, " — acd-sim report</title>\n<style>", kStyle, "</style>\n</head>\n<body>\n<h1>", name,
      "</h1>\n");
  const std::string arrivals =
      scenario.duration.has_value()
          ? absl::StrCat("arrivals for ", Duration(*scenario.duration))
          : absl::StrCat("arrivals until ", scenario.proto.contacts(), " contacts");
  absl::StrAppendFormat(
      &out,
      "<p class=\"meta\">seed %d · starts %s (%s) · %s · %s simulated, in %d intervals of 15 "
      "minutes (the first and last may be shorter)",
      scenario.proto.seed(),
      HtmlEscape(absl::FormatTime("%a %Y-%m-%d %H:%M", scenario.start, scenario.zone)),
      HtmlEscape(scenario.zone.name()), arrivals,
      Duration(absl::Seconds(r.overall.simulated_seconds)), in.size());
  if (r.overall.wall_seconds > 0) {
    absl::StrAppendFormat(&out, " · %.2f s of wall clock", r.overall.wall_seconds);
  }
  out += ".</p>\n";
  out += Headline(in, r);
  if (in.size() == 0) {
    out += "<p class=\"note\">The run has no intervals to chart.</p>\n";
  } else {
    out +=
        "<h2>Waiting contacts</h2>\n<p class=\"note\">Contacts waiting in queue at the end "
        "of each interval.</p>\n";
    out += WaitingChart(scenario, in);
    out +=
        "<h2>Service level per interval</h2>\n<p class=\"note\">Answered within the "
        "queue's threshold / (answered + abandoned) in each interval, against the target "
        "(dashed). Red points miss it; no point: nothing answered or abandoned.</p>\n";
    out += ServiceLevelCharts(scenario, in);
    out +=
        "<h2>Agents by state</h2>\n<p class=\"note\">Logged-in agents at the end of each "
        "interval.</p>\n";
    out += AgentsChart(scenario, in);
  }
  out += "<h2>KPIs</h2>\n";
  out += KpiTable(r);
  out +=
      "<p class=\"note\">Made by acd-sim run: every routing decision by the real engine, in "
      "virtual time. The same scenario and seed give the same figures.</p>\n"
      "</body>\n</html>\n";
  return out;
}

}  // namespace acd::sim
