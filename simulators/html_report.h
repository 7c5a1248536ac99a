// HTML report of a scenario run: `acd-sim run SCENARIO --report out.html` (issue 6). One
// self-contained page for a manager rather than a script: the headline KPIs, charts of
// waiting contacts, service level per interval against each queue's target, and agents by
// state over the run's 15-minute intervals, and the KPI table per queue and overall.
//
// Self-contained means the page works with no network: no scripts at all, no external
// fonts, style sheets or images; the charts are inline SVG drawn here from the
// ScenarioResult. Every piece of text taken from the scenario, its rules or the result
// (scenario name, queue names, zone) is HTML-escaped. The page shows queue names, codes
// and counts only: the result holds no contact or agent identities, and none are added.
//
// Chart points, for whoever checks them: waiting contacts and agents by state are the
// samples at each interval's end (IntervalRow::*_at_end), one point per interval; the
// service level is per interval (answered within threshold / (answered + abandoned)),
// plotted at the interval's middle, with no point where nothing was answered or abandoned.
//
// Pure functions; the same scenario and result give the same bytes.
#ifndef ACD_SIMULATORS_HTML_REPORT_H_
#define ACD_SIMULATORS_HTML_REPORT_H_

#include <string>
#include <string_view>

#include "simulators/scenario.h"
#include "simulators/scenario_sim.h"

namespace acd::sim {

// `text` with &, <, >, " and ' replaced by character references: safe in HTML text and
// in quoted attribute values.
std::string HtmlEscape(std::string_view text);

// The whole page, starting "<!DOCTYPE html>".
std::string ScenarioResultToHtml(const Scenario& scenario, const ScenarioResult& r);

}  // namespace acd::sim

#endif  // ACD_SIMULATORS_HTML_REPORT_H_
