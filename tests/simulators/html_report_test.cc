// `acd-sim run SCENARIO --report`: the page is whole and self-contained, names every queue
// that took contacts, escapes what it takes from files, and its charts have one point per
// interval, placed where the data says.
#include "simulators/html_report.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "simulators/scenario.h"
#include "simulators/scenario_sim.h"

namespace acd::sim {
namespace {

const std::string kScenarios = std::string(ACD_SOURCE_DIR) + "/simulators/scenarios/";

struct Run {
  Scenario scenario;
  ScenarioResult result;
};

Run RunShipped(const std::string& name) {
  absl::StatusOr<Scenario> s = LoadScenarioFile(kScenarios + name);
  INFO(name << ": " << s.status());
  REQUIRE(s.ok());
  absl::StatusOr<ScenarioResult> r = RunScenario(*s);
  INFO(r.status());
  REQUIRE(r.ok());
  r->overall.wall_seconds = 0;
  r->overall.contacts_per_second = 0;
  return Run{*std::move(s), *std::move(r)};
}

// The text between `open` (inclusive) and the next `close` (inclusive), or "".
std::string Between(const std::string& html, const std::string& open, const std::string& close) {
  const size_t from = html.find(open);
  if (from == std::string::npos) return "";
  const size_t to = html.find(close, from + open.size());
  if (to == std::string::npos) return "";
  return html.substr(from, to + close.size() - from);
}

std::string Chart(const std::string& html, const std::string& id) {
  return Between(html, absl::StrCat("<svg id=\"", id, "\""), "</svg>");
}

// The value of attribute `name` of the element that has data-series="`series`".
std::string SeriesAttribute(const std::string& chart, const std::string& series,
                            const std::string& name) {
  const std::string element = Between(chart, absl::StrCat("data-series=\"", series, "\""), ">");
  const std::string value = Between(element, absl::StrCat(" ", name, "=\""), "\"");
  REQUIRE(value.size() >= name.size() + 3);
  return value.substr(name.size() + 3, value.size() - name.size() - 4);
}

struct Xy {
  double x = 0, y = 0;
};

// The coordinates of an SVG path "M1,2 L3,4 ... [Z]".
std::vector<Xy> PathPoints(const std::string& d) {
  std::vector<Xy> points;
  for (absl::string_view token : absl::StrSplit(d, ' ', absl::SkipEmpty())) {
    if (token == "Z") continue;
    REQUIRE((token[0] == 'M' || token[0] == 'L'));
    token.remove_prefix(1);
    std::vector<absl::string_view> xy = absl::StrSplit(token, ',');
    REQUIRE(xy.size() == 2);
    Xy p;
    REQUIRE(absl::SimpleAtod(xy[0], &p.x));
    REQUIRE(absl::SimpleAtod(xy[1], &p.y));
    points.push_back(p);
  }
  return points;
}

std::vector<const IntervalRow*> AllRows(const ScenarioResult& r) {
  std::vector<const IntervalRow*> rows;
  for (const IntervalRow& row : r.intervals) {
    if (row.queue == "ALL") rows.push_back(&row);
  }
  return rows;
}

TEST_CASE("HtmlEscape replaces the five characters that matter", "[sim]") {
  CHECK(HtmlEscape("a<b&c>d\"e'f") == "a&lt;b&amp;c&gt;d&quot;e&#39;f");
  CHECK(HtmlEscape("clinical_triage") == "clinical_triage");
  CHECK(HtmlEscape("") == "");
}

TEST_CASE("the report of a shipped scenario is one self-contained page", "[sim]") {
  const Run run = RunShipped("healthcare_normal_monday.textproto");
  const std::string html = ScenarioResultToHtml(run.scenario, run.result);
  CHECK(absl::StartsWith(html, "<!DOCTYPE html>\n"));
  CHECK(absl::EndsWith(html, "</html>\n"));
  CHECK(absl::StrContains(html, "<svg"));
  CHECK(absl::StrContains(html, "<h1>healthcare normal Monday</h1>"));
  CHECK(absl::StrContains(html, absl::StrCat("seed ", run.scenario.proto.seed())));
  int queues_shown = 0;
  for (const QueueReport& q : run.result.queues) {
    if (q.offered == 0) continue;
    ++queues_shown;
    INFO(q.queue);
    CHECK(absl::StrContains(html, absl::StrCat("<tr><th>", q.queue, "</th>")));
    CHECK(absl::StrContains(html, absl::StrCat("data-series=\"", q.queue, "\"")));
  }
  CHECK(queues_shown >= 5);
  // Nothing fetched from anywhere: no scripts, links, images, fonts or URLs.
  for (const char* external :
       {"http://", "https://", "<script", "<link", "<img", "src=", "href=", "@import", "url("}) {
    INFO(external);
    CHECK_FALSE(absl::StrContains(html, external));
  }
  // Contacts and agents are never named (ids are "c<N>" and "<group>-<N>").
  CHECK_FALSE(absl::StrContains(html, "c1<"));
  CHECK_FALSE(absl::StrContains(html, "-1<"));
  // Same result, same bytes.
  CHECK(ScenarioResultToHtml(run.scenario, run.result) == html);
}

TEST_CASE("the charts have one point per interval, where the data puts it", "[sim]") {
  const Run run = RunShipped("healthcare_normal_monday.textproto");
  const std::string html = ScenarioResultToHtml(run.scenario, run.result);
  const std::vector<const IntervalRow*> all = AllRows(run.result);
  REQUIRE(all.size() >= 40);  // 07:00 to 19:00 and the drain

  SECTION("waiting contacts: the line peaks at the interval with the most waiting") {
    const std::string chart = Chart(html, "chart-waiting");
    REQUIRE_FALSE(chart.empty());
    CHECK(SeriesAttribute(chart, "all queues", "data-points") == absl::StrCat(all.size()));
    const std::vector<Xy> points = PathPoints(SeriesAttribute(chart, "all queues", "d"));
    REQUIRE(points.size() == all.size());
    // Up is smaller y. The first interval with the most waiting is the first highest point.
    const auto most = std::max_element(all.begin(), all.end(), [](auto* a, auto* b) {
      return a->waiting_at_end < b->waiting_at_end;
    });
    REQUIRE((*most)->waiting_at_end > 0);
    const auto highest = std::min_element(points.begin(), points.end(),
                                          [](const Xy& a, const Xy& b) { return a.y < b.y; });
    CHECK(highest - points.begin() == most - all.begin());
    // Time runs left to right.
    CHECK(std::is_sorted(points.begin(), points.end(),
                         [](const Xy& a, const Xy& b) { return a.x < b.x; }));
  }

  SECTION("service level: a marker per interval that answered or lost anyone") {
    const std::string chart = Chart(html, "chart-sl-all");
    REQUIRE_FALSE(chart.empty());
    const size_t with_contacts = std::count_if(
        all.begin(), all.end(), [](auto* row) { return row->answered + row->abandoned > 0; });
    REQUIRE(with_contacts > 0);
    size_t markers = 0;
    for (size_t at = chart.find("<circle"); at != std::string::npos;
         at = chart.find("<circle", at + 1)) {
      ++markers;
    }
    CHECK(markers == with_contacts);
    CHECK(SeriesAttribute(chart, "all queues", "data-points") == absl::StrCat(with_contacts));
  }

  SECTION("agents by state: each band has a top and a bottom edge across every interval") {
    const std::string chart = Chart(html, "chart-agents");
    REQUIRE_FALSE(chart.empty());
    for (const char* band : {"busy", "offer ringing", "wrap-up", "ready (idle)"}) {
      INFO(band);
      CHECK(SeriesAttribute(chart, band, "data-points") == absl::StrCat(all.size()));
      CHECK(PathPoints(SeriesAttribute(chart, band, "d")).size() == 2 * all.size());
    }
    // The busy band is the bottom one: its height at the busiest interval's end is the
    // tallest of all its heights.
    const std::vector<Xy> busy = PathPoints(SeriesAttribute(chart, "busy", "d"));
    const size_t n = all.size();
    const auto busiest = std::max_element(all.begin(), all.end(), [](auto* a, auto* b) {
      return a->agents_by_state_at_end[static_cast<int>(core::AgentState::kBusy)] <
             b->agents_by_state_at_end[static_cast<int>(core::AgentState::kBusy)];
    });
    const size_t i = busiest - all.begin();
    const double height = busy[2 * n - 1 - i].y - busy[i].y;  // bottom edge runs backwards
    for (size_t k = 0; k < n; ++k) CHECK(busy[2 * n - 1 - k].y - busy[k].y <= height + 0.05);
    CHECK(height > 0);
  }
}

// A result built by hand, with names that need escaping.
Run Handmade(const std::string& queue_name) {
  Run run;
  run.scenario.proto.set_name("<script>alert(\"x\")</script> & co");
  run.scenario.proto.set_seed(5);
  run.scenario.zone = absl::UTCTimeZone();
  run.scenario.start = absl::FromUnixSeconds(1'800'000'000);  // on a quarter hour
  run.scenario.duration = absl::Minutes(30);
  QueueReport q;
  q.queue = queue_name;
  q.offered = 10;
  q.answered = 9;
  q.abandoned = 1;
  q.sl_target = 0.8;
  q.service_level = 0.7;
  run.result.queues.push_back(q);
  run.result.overall.offered = 10;
  run.result.overall.simulated_seconds = 1800;
  for (int i = 0; i < 2; ++i) {
    for (const std::string& name : {std::string("ALL"), queue_name}) {
      IntervalRow row;
      row.start = run.scenario.start + absl::Minutes(15 * i);
      row.queue = name;
      row.offered = 5;
      row.answered = 4 + i;
      row.abandoned = 1 - i;
      row.waiting_at_end = 3 - i;
      row.agents_by_state_at_end[static_cast<int>(core::AgentState::kBusy)] = 2;
      row.agents_by_state_at_end[static_cast<int>(core::AgentState::kReady)] = 1;
      run.result.intervals.push_back(row);
    }
  }
  return run;
}

TEST_CASE("names from the scenario and the rules are escaped", "[sim]") {
  const Run run = Handmade("a<b&c>");
  const std::string html = ScenarioResultToHtml(run.scenario, run.result);
  CHECK(absl::StrContains(html, "a&lt;b&amp;c&gt;"));
  CHECK_FALSE(absl::StrContains(html, "a<b&c>"));
  CHECK(absl::StrContains(html, "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co"));
  CHECK_FALSE(absl::StrContains(html, "<script"));
  CHECK(SeriesAttribute(Chart(html, "chart-waiting"), "a&lt;b&amp;c&gt;", "data-points") == "2");
}

TEST_CASE("a queue called ALL is still told apart from the ALL rows", "[sim]") {
  const Run run = Handmade("ALL");
  const std::string chart = Chart(ScenarioResultToHtml(run.scenario, run.result), "chart-waiting");
  CHECK(SeriesAttribute(chart, "ALL", "data-points") == "2");
  CHECK(SeriesAttribute(chart, "all queues", "data-points") == "2");
}

TEST_CASE("a result without intervals still makes a page", "[sim]") {
  Run run = Handmade("general");
  run.result.intervals.clear();
  const std::string html = ScenarioResultToHtml(run.scenario, run.result);
  CHECK(absl::StartsWith(html, "<!DOCTYPE html>"));
  CHECK(absl::StrContains(html, "no intervals"));
  CHECK_FALSE(absl::StrContains(html, "<svg"));
}

}  // namespace
}  // namespace acd::sim
