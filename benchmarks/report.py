#!/usr/bin/env python3
"""report.py: turns benchmarks/results/*.json (written by benchmarks/run.sh) into the
Markdown table benchmarks/RESULTS.md: every figure of issue 7 next to its target, "met" or
"missed". Keeps any text below the line "<!-- notes -->" of an existing RESULTS.md (the
hand-written analysis, e.g. perf profiles), so re-running does not erase it.

    report.py RESULTS_DIR RESULTS_MD
"""
import glob
import json
import os
import re
import statistics
import sys

NOTES_MARK = "<!-- notes -->"


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def verdict(ok):
    if ok is None:
        return "not measured"
    return "met" if ok else "**missed**"


def fmt(x, digits=0):
    if x is None:
        return "n/a"
    return f"{x:,.{digits}f}"


def percentiles_us(d):
    """'p50 / p99 / p99.9 us' of a dict with p50_us, p99_us and p999_us."""
    return (f"{fmt(d.get('p50_us'))} / {fmt(d.get('p99_us'))} / "
            f"{fmt(d.get('p999_us'))} us")


def core_runs(core):
    """{benchmark name: [its repetitions]}, without Google Benchmark's aggregates."""
    runs = {}
    for b in core.get("benchmarks", []):
        if b.get("run_type", "iteration") != "iteration":
            continue
        name = b.get("run_name", b["name"]).split("/iterations")[0]
        runs.setdefault(name, []).append(b)
    return runs


def core_rows(core):
    rows = []
    if not core:
        return [("core benchmark", "no results", "", "not measured")]
    runs = core_runs(core)

    def find(prefix):
        """(name, fastest repetition, every repetition's decisions/s, as listed)."""
        for name, reps in runs.items():
            if name.startswith(prefix):
                best = max(reps, key=lambda b: b.get("decisions_per_s", 0))
                return name, best, [b.get("decisions_per_s") for b in reps]
        return prefix, None, []

    def reps_note(rates):
        if len(rates) < 2:
            return ""
        return (f" (fastest of {len(rates)} repetitions: "
                f"{' / '.join(fmt(r) for r in rates)})")

    memory_ns = None
    host = runs.get("BM_HostMemoryLatency")
    if host:
        memory_ns = statistics.median(b["ns_per_load"] for b in host)

    name, b, rates = find("BM_OneQueue")
    if b:
        d = b.get("decisions_per_s")
        rows.append((f"core (1) {name}: decisions/s{reps_note(rates)}", fmt(d), ">= 2,000,000",
                     verdict(d >= 2e6)))
        rows.append((f"core (1) p50 / p99 / p99.9 per decision (ns), that repetition",
                     f"{fmt(b.get('p50_ns'))} / {fmt(b.get('p99_ns'))} / {fmt(b.get('p999_ns'))}",
                     "", ""))
    name, b, rates = find("BM_Skills")
    if b:
        d = b.get("decisions_per_s")
        p99 = b.get("p99_ns")
        p999 = b.get("p999_ns")
        rows.append((f"core (2) {name}: decisions/s{reps_note(rates)}", fmt(d), ">= 500,000",
                     verdict(d >= 5e5)))
        rows.append(("core (2) p99 per decision, that repetition", f"{fmt(p99 / 1e3, 2)} us",
                     "<= 5 us", verdict(p99 <= 5000)))
        rows.append(("core (2) p99.9 per decision, that repetition", f"{fmt(p999 / 1e3, 2)} us",
                     "<= 20 us", verdict(p999 <= 20000)))
        rows.append(("core (2) p50 per decision, that repetition",
                     f"{fmt(b.get('p50_ns') / 1e3, 2)} us", "", ""))
        if b.get("preemptions") is not None:
            rows.append(("core (2) decisions over 20 us / times the benchmark thread was "
                         "preempted meanwhile (involuntary context switches), that repetition",
                         f"{fmt(b.get('decisions_over_20us'))} / {fmt(b.get('preemptions'))}",
                         "", ""))
        if memory_ns and d:
            rows.append(("core (2) time per decision, in the host's memory latencies (the "
                         "row below): how many cache misses' worth of waiting a cycle costs",
                         fmt(1e9 / d / memory_ns, 1), "", ""))
    name, b, _ = find("BM_Memory")
    if b:
        w = b.get("bytes_per_waiting_contact")
        a = b.get("bytes_per_agent")
        mib = b.get("total_MiB")
        rows.append((f"core (3) {name}: bytes per waiting contact", fmt(w), "<= 256",
                     verdict(w <= 256)))
        rows.append(("core (3) bytes per agent", fmt(a), "<= 1,024", verdict(a <= 1024)))
        rows.append(("core (3) total heap for 1,000,000 waiting + 100,000 agents",
                     f"{fmt(mib, 1)} MiB", "<= 512 MiB", verdict(mib <= 512)))
        rows.append(("core (3) decisions/s at that scale (fastest repetition)",
                     fmt(b.get("decisions_per_s")), "", ""))
    for name, reps in runs.items():
        if name.startswith("BM_GetContactPosition/waiting:") and "real_time" in reps[0]:
            waiting = int(name.split(":")[1])
            rows.append((f"core: GetContact (position and EWT) of the last of {fmt(waiting)} "
                         f"waiting in one queue, per call ({reps[0].get('time_unit', 'us')}; "
                         f"median of repetitions)",
                         fmt(statistics.median(b["real_time"] for b in reps), 1), "", ""))
    if memory_ns:
        rows.append(("host, same run (not the engine): one dependent load from 64 MiB at "
                     "random, ns (median of repetitions; `BM_HostMemoryLatency`)",
                     fmt(memory_ns), "", ""))
    return rows


def h2load_figures(results, name, prefix="h2load"):
    text_path = os.path.join(results, f"{prefix}_{name}.txt")
    if not os.path.exists(text_path):
        return None
    text = open(text_path).read()
    out = {"raw": text}
    m = re.search(r"finished in ([\d.]+)s, ([\d.]+) req/s", text)
    if m:
        out["req_per_s"] = float(m.group(2))
    m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed",
                  text)
    if m:
        out["done"] = int(m.group(3))
        out["failed"] = int(m.group(5))
    lat = []
    log_path = os.path.join(results, f"{prefix}_{name}.log")
    if os.path.exists(log_path):
        for line in open(log_path):
            parts = line.split()
            if len(parts) >= 3:
                lat.append(int(parts[2]))
    if lat:
        lat.sort()

        def q(p):
            return lat[min(len(lat) - 1, int(p * (len(lat) - 1)))]

        out.update(p50_us=q(0.5), p99_us=q(0.99), p999_us=q(0.999))
    return out


def h2load_rounds(results, name, prefix):
    """h2load_figures of each round run.sh made (PREFIX_NAME_R.txt), in round order."""
    runs = []
    while (f := h2load_figures(results, f"{name}_{len(runs) + 1}", prefix)) is not None:
        runs.append(f)
    return runs


def round_ratios(num, den):
    """Per-round req/s ratios num / den and their median (None if there are none)."""
    ratios = [a.get("req_per_s", 0) / b["req_per_s"] for a, b in zip(num, den)
              if b.get("req_per_s")]
    return ratios, (statistics.median(ratios) if ratios else None)


def server_cpu_us(cpu, rpcs_per_s):
    """A server's CPU per RPC in us: its CPU seconds over the client's whole run (warm-up
    included; run.sh's with_server_cpu) divided by that run's RPCs, estimated as the
    window's rate times the run's length."""
    return 1e6 * cpu["cpu_s"] / (rpcs_per_s * cpu["client_s"])


def server_cpu_us_per_k_events(cpu, stream):
    """A server's CPU per 1,000 events delivered in us, over a stream run's whole length
    (run.sh's with_server_cpu around it), or None without the figures."""
    if not cpu or not stream.get("events_delivered_whole_run"):
        return None
    return 1e9 * cpu["cpu_s"] / stream["events_delivered_whole_run"]


def rounds_label(label, ratios):
    return f"{label} (median of rounds: " + ", ".join(f"{x:.2f}" for x in ratios) + ")"


def h2load_rows(results, prefix, method, ratio_label):
    """Rows for one h2load call against both servers, round by round, with the median
    ratio and its verdict."""
    h = {n: h2load_rounds(results, n, prefix) for n in ("echo", "acdd")}
    if not (h["echo"] and h["acdd"]):
        return [(f"h2load {method}", "not run (install nghttp2-client)", "", "not measured")]
    rows = []
    for n in ("echo", "acdd"):
        runs = h[n]
        rows.append((f"h2load -> {n}: {method} req/s (4 conns x 32 streams), per round",
                     " / ".join(fmt(f.get("req_per_s")) for f in runs), "", ""))
        rows.append((f"h2load -> {n}: {method} latency p50 / p99 / p99.9 (last round)",
                     percentiles_us(runs[-1]), "", ""))
    ratios, ratio = round_ratios(h["acdd"], h["echo"])
    if ratio is not None:
        rows.append((rounds_label(ratio_label, ratios), f"{ratio:.2f}", ">= 0.8",
                     verdict(ratio >= 0.8)))
    return rows


def pgo_rows(results):
    """The plain core against the shipped one (profile-guided, link-time optimized), side by
    side (compare_core.sh)."""
    path = os.path.join(results, "core_pgo_pairs.txt")
    if not os.path.exists(path):
        return []
    pairs = [float(m.group(1)) for m in re.finditer(r"^pair .* new/old ([0-9.]+)$", open(path).read(), re.M)]
    if not pairs:
        return [("core (1) profile-guided, link-time optimized build over the plain one", "no pairs", "", "")]
    return [(f"core (1) profile-guided, link-time optimized build over the plain one: decisions/s ratio, both run "
             f"at once, one per CPU (median of {len(pairs)} pairs: "
             f"{', '.join(fmt(r, 2) for r in pairs)})", fmt(statistics.median(pairs), 2), "", "")]


def count_rows(counts):
    """Per decision under callgrind (count_core.sh): instructions and simulated misses."""
    rows = []
    for r in (counts or {}).get("runs", []):
        scale = {"BM_OneQueue": "(1)", "BM_Skills": "(2)"}.get(r["benchmark"], r["benchmark"])
        p = r["per_decision"]
        rows.append((f"core {scale} per decision under callgrind, the shipped build: instructions / "
                     f"L1 data misses / L1 instruction misses / last-level misses ({fmt(r['decisions'])} "
                     f"measured decisions; simulated caches, the same on every host)",
                     f"{fmt(p['instructions'])} / {fmt(p['l1_data_misses'], 1)} / "
                     f"{fmt(p['l1_instruction_misses'], 1)} / {fmt(p['last_level_misses'], 2)}",
                     "", ""))
    return rows


def main():
    results, md_path = sys.argv[1], sys.argv[2]
    start = load(os.path.join(results, "machine_start.json")) or {}
    end = load(os.path.join(results, "machine_end.json")) or {}
    machine = start.get("start", {})
    notes = ""
    if os.path.exists(md_path):
        old = open(md_path).read()
        if NOTES_MARK in old:
            notes = old.split(NOTES_MARK, 1)[1]

    lines = []
    lines.append("# Benchmark results (issue 7)")
    lines.append("")
    lines.append("Generated by `benchmarks/report.py` from `benchmarks/results/*.json`; "
                 "reproduce with one command:")
    lines.append("")
    lines.append(f"    {os.environ.get('RUN_COMMAND', 'benchmarks/run.sh')}")
    lines.append("")
    lines.append(f"- Date (UTC): {start.get('date', '?')}")
    lines.append(f"- Machine: {machine.get('nproc', '?')} CPUs, {machine.get('cpu', '?')}, "
                 f"Linux {machine.get('kernel', '?')}")
    build = load(os.path.join(results, "build.json")) or {}
    if build.get("core"):
        lines.append(f"- Build: Release; engine/core {build['core']}")
    lines.append(f"- Load average (1/5/15 min) before the run: "
                 f"{' / '.join(machine.get('loadavg', ['?']))}; after: "
                 f"{' / '.join(end.get('loadavg', ['?']))}")
    lines.append("- The machine is shared (two other engineers build and test on the same two "
                 "cores), so absolute figures are noisy. Load client, servers and h2load all run "
                 "on the same two cores as well. What counts are the ratios measured in the same "
                 "run: acdd and the echo server are measured alternately, round by round.")
    lines.append("")

    rows = []
    rows += core_rows(load(os.path.join(results, "core.json")))
    rows += pgo_rows(results)
    counts = load(os.path.join(results, "core_counts.json"))
    rows += count_rows(counts)
    for name, what in (("small", "180/h, AHT 240 s, 14 agents"),
                       ("medium", "3,600/h, AHT 180 s, 200 agents, patience 120 s"),
                       ("large", "20,000/h, AHT 300 s, 1,700 agents")):
        s = load(os.path.join(results, f"sim_{name}.json"))
        if s:
            c = s.get("contacts_per_second")
            rows.append((f"acd-sim quick form ({what}): contacts/s of wall clock",
                         fmt(c), ">= 1,000,000 (issue 6)", verdict(c >= 1e6)))

    # Unary load, acdd vs echo, round by round.
    ratios = []
    acdd_runs, echo_runs = [], []
    for path in sorted(glob.glob(os.path.join(results, "unary_acdd_*.json"))):
        r = path.rsplit("_", 1)[1]
        a = load(path)
        e = load(os.path.join(results, f"unary_echo_{r}"))
        if a:
            acdd_runs.append(a)
        if e:
            echo_runs.append(e)
        if a and e and e["rpcs_per_s"] > 0:
            ratios.append(a["rpcs_per_s"] / e["rpcs_per_s"])
    if acdd_runs and echo_runs:
        a = acdd_runs[-1]
        cfg = f"{a['channels']} connections, {a['in_flight']} pairs in flight"
        for label, runs in (("acdd", acdd_runs), ("echo", echo_runs)):
            rps = [x["rpcs_per_s"] for x in runs]
            lat = runs[-1]["latency_all"]
            errs = sum(x["errors_total"] for x in runs)
            rows.append((f"load_client -> {label}: RPCs/s (Enqueue+Cancel, {cfg}), per round",
                         " / ".join(fmt(x) for x in rps), "", ""))
            rows.append((f"load_client -> {label}: latency p50 / p99 / p99.9 (last round)",
                         percentiles_us(lat),
                         "", ""))
            rows.append((f"load_client -> {label}: failed RPCs", fmt(errs), "0",
                         verdict(errs == 0)))
        cpu = {}
        for label in ("echo", "acdd"):
            per_rpc = []
            for path in sorted(glob.glob(os.path.join(results, f"cpu_{label}_*.json"))):
                r = path.rsplit("_", 1)[1]
                c = load(path)
                u = load(os.path.join(results, f"unary_{label}_{r}"))
                if c and u and u["rpcs_per_s"] > 0:
                    per_rpc.append(server_cpu_us(c, u["rpcs_per_s"]))
            if per_rpc:
                cpu[label] = statistics.median(per_rpc)
                rows.append((f"{label} server CPU per RPC (median of rounds: "
                             + ", ".join(f"{x:.1f}" for x in per_rpc) + " us)",
                             f"{cpu[label]:.1f} us", "", ""))
        if len(cpu) == 2:
            rows.append(("CPU efficiency acdd / echo (echo's CPU per RPC over acdd's)",
                         f"{cpu['echo'] / cpu['acdd']:.2f}", "", ""))
        ratio = statistics.median(ratios)
        rows.append((rounds_label("**throughput ratio acdd / echo**", ratios),
                     f"{ratio:.2f}", ">= 0.8", verdict(ratio >= 0.8)))

    rows += h2load_rows(results, "h2load", "EnqueueContact",
                        "**h2load ratio acdd / echo** (same body: acdd answers ALREADY_EXISTS "
                        "after the first; see note)")
    # The same EnqueueContact run against an echo server that also answers ALREADY_EXISTS
    # to the repeated id: both take gRPC's error path, so this ratio is what acdd adds.
    dup = h2load_rounds(results, "echo_dup", "h2load")
    ratios, ratio = round_ratios(h2load_rounds(results, "acdd", "h2load"), dup)
    if ratio is not None:
        rows.append(("h2load -> echo answering ALREADY_EXISTS after the first, as acdd does "
                     "(--reject-duplicate-enqueues): EnqueueContact req/s, per round",
                     " / ".join(fmt(f.get("req_per_s")) for f in dup), "", ""))
        rows.append((rounds_label("h2load EnqueueContact ratio acdd / that echo (both answer "
                                  "the same statuses; a diagnostic of the row above it)",
                                  ratios), f"{ratio:.2f}", "", ""))
    rows += h2load_rows(results, "h2load_get", "GetContact",
                        "**h2load GetContact ratio acdd / echo** (a read of contact h2load-1: "
                        "OK on both)")

    s = load(os.path.join(results, "stream_acdd_paced.json"))
    if s:
        ev = s["events_per_s"]
        cut = s["subscribers_cut_off"]
        rate = s["load"].get("rate_pairs_per_s_asked", 0)
        rows.append((f"**WatchEvents -> acdd: events/s delivered to {s['subscribers']} "
                     f"subscribers** (one connection each; load paced at {fmt(rate)} pairs/s = "
                     f"{fmt(2 * rate * s['subscribers'])} events/s to deliver)", fmt(ev),
                     ">= 250,000, none cut off", verdict(ev >= 250000 and cut == 0)))
        first = s.get("first_cut_off_after_load_start_s", -1)
        when = f" (the first {first:.2f} s after the load started)" if first >= 0 else ""
        rows.append(("WatchEvents -> acdd (paced): subscribers cut off (RESOURCE_EXHAUSTED)",
                     fmt(cut) + when, "0", verdict(cut == 0)))
        rows.append(("WatchEvents -> acdd (paced): live events received over the whole run, "
                     "all subscribers", fmt(s.get("events_delivered_whole_run")), "", ""))
        if "events_out_of_sequence" in s:
            gaps = s["events_out_of_sequence"]
            rows.append(("WatchEvents -> acdd (paced): events out of sequence (a gap, a repeat "
                         "or a reordering; every subscriber checks each event against the one "
                         "before)", fmt(gaps), "0", verdict(gaps == 0)))
        if s.get("messages_whole_run"):
            rows.append(("WatchEvents -> acdd (paced): events per message (EventBatch), "
                         "whole run, all subscribers",
                         f"{s['events_delivered_whole_run'] / s['messages_whole_run']:.1f}", "",
                         ""))
        per_k = server_cpu_us_per_k_events(
            load(os.path.join(results, "cpu_stream_acdd_paced.json")), s)
        if per_k is not None:
            rows.append(("WatchEvents -> acdd (paced): acdd's CPU per 1,000 events delivered "
                         "(all its threads, unary load included; whole run)",
                         f"{per_k:.0f} us", "", ""))
        rows.append(("WatchEvents -> acdd (paced): engine events/s in the window, "
                     "unary RPCs/s meanwhile",
                     f"{fmt(s['engine_events_per_s'])}, {fmt(s['load']['rpcs_per_s'])}", "", ""))
    s = load(os.path.join(results, "stream_acdd_low.json"))
    if s:
        rate = s["load"].get("rate_pairs_per_s_asked", 0)
        rows.append((f"WatchEvents -> acdd, load paced at only {fmt(rate)} pairs/s "
                     f"({fmt(2 * rate * s['subscribers'])} events/s to deliver): events/s "
                     "delivered / subscribers cut off",
                     f"{fmt(s['events_per_s'])} / {fmt(s['subscribers_cut_off'])}", "", ""))
    s = load(os.path.join(results, "stream_acdd_full.json"))
    if s:
        rows.append((f"WatchEvents -> acdd under full unary load ({s['load']['in_flight']} in "
                     "flight): events/s delivered / subscribers cut off / unary RPCs/s",
                     f"{fmt(s['events_per_s'])} / {fmt(s['subscribers_cut_off'])} / "
                     f"{fmt(s['load']['rpcs_per_s'])}", "", ""))
    s = load(os.path.join(results, "stream_acdd_full_split.json"))
    if s:
        per_k = server_cpu_us_per_k_events(
            load(os.path.join(results, "cpu_stream_acdd_full_split.json")), s)
        per_k = f" / {per_k:.0f} us" if per_k is not None else ""
        rows.append(("WatchEvents -> acdd under full unary load, acdd held to CPU 0 and the "
                     "load client (subscribers and unary load) to CPU 1 (a diagnostic of the "
                     "server's capacity): events/s delivered / subscribers cut off / unary "
                     "RPCs/s / acdd's CPU per 1,000 events delivered",
                     f"{fmt(s['events_per_s'])} / {fmt(s['subscribers_cut_off'])} / "
                     f"{fmt(s['load']['rpcs_per_s'])}{per_k}", "", ""))
    for name, what in (("echo_ceiling", "one connection each"),
                       ("echo_ceiling_shared", "all on one connection")):
        s = load(os.path.join(results, f"stream_{name}.json"))
        if s:
            rows.append((f"WatchEvents -> echo_server ceiling, {s['subscribers']} subscribers "
                         f"({what}), no engine, no unary load: events/s delivered",
                         fmt(s["events_per_s"]), "", ""))
    for name in ("acdd_paced", "acdd_low", "acdd_full", "acdd_full_split", "echo_ceiling",
                 "echo_ceiling_shared"):
        s = load(os.path.join(results, f"stream_{name}.json"))
        if s and s.get("subscribers_ended_otherwise"):
            rows.append((f"WatchEvents ({name}): subscribers ended otherwise",
                         json.dumps(s["subscriber_end_codes"]), "0", "**missed**"))

    def latency_row(label, name):  # a row of p50 / p99 / p99.9 from roundtrip_NAME.json
        r = load(os.path.join(results, f"roundtrip_{name}.json"))
        if r:
            rows.append((f"{label}: p50 / p99 / p99.9", percentiles_us(r["latency_all"]), "", ""))
        return r

    floor = latency_row("unloaded round trip floor: loopback TCP ping-pong between two "
                        "processes, no gRPC", "floor")
    for n in ("acdd", "echo"):
        r = load(os.path.join(results, f"roundtrip_{n}.json"))
        if r:
            lat = r["latency_all"]
            target = ("<= 250 us", verdict(lat["p99_us"] <= 250)) if n == "acdd" else ("", "")
            rows.append((f"unloaded round trip -> {n}: p99 (one RPC in flight)",
                         f"{fmt(lat['p99_us'])} us", *target))
            rows.append((f"unloaded round trip -> {n}: p50 / p99.9",
                         f"{fmt(lat['p50_us'])} / {fmt(lat['p999_us'])} us", "", ""))
            cpu = load(os.path.join(results, f"cpu_roundtrip_{n}.json"))
            if cpu and r.get("rpcs_per_s") and "client_cpu_us_per_rpc" in r:
                rows.append((f"unloaded round trip -> {n}: CPU per RPC, server / client "
                             f"(gRPC's threads included)",
                             f"{fmt(server_cpu_us(cpu, r['rpcs_per_s']))} / "
                             f"{fmt(r['client_cpu_us_per_rpc'])} us", "", ""))
            if floor:
                base = floor["latency_all"]
                rows.append((f"unloaded round trip -> {n} over the TCP floor: p50 / p99 ratio",
                             f"{lat['p50_us'] / base['p50_us']:.1f} / "
                             f"{lat['p99_us'] / base['p99_us']:.1f}", "", ""))

    for n in ("echo", "acdd"):
        h = h2load_figures(results, f"{n}_1", "h2load_rtt")
        if h and "p50_us" in h:
            rows.append((f"unloaded round trip -> {n}, h2load as the client (nghttp2, one "
                         f"connection, one GetContact at a time; a diagnostic): p50 / p99 / p99.9",
                         f"{fmt(h['p50_us'])} / {fmt(h['p99_us'])} / {fmt(h['p999_us'])} us",
                         "", ""))

    for n, what in (("floor", "loopback TCP floor"), ("echo", "echo"), ("acdd", "acdd")):
        latency_row(f"unloaded round trip -> {what}, client and server held to one CPU (no "
                    f"wake-up crosses CPUs; a diagnostic)", f"{n}_onecpu")

    lines.append("| figure | measured | target | verdict |")
    lines.append("|---|---|---|---|")
    for r in rows:
        lines.append("| " + " | ".join(str(c) for c in r) + " |")
    lines.append("")
    lines.append("How each figure is measured:")
    lines.append("")
    lines.append("- Core: `core_benchmark` (Google Benchmark, `engine/core` only); see the "
                 "comment at the top of `benchmarks/core_benchmark.cc`.")
    lines.append("- `load_client` (gRPC C++ callback API): each in-flight slot runs "
                 "EnqueueContact then CancelContact of the same contact (unique ids, queue "
                 "`general`, VOICE); RPCs/s counts both calls; latency is per RPC. Against acdd "
                 "with the default rules (no agents), every contact waits and is then cancelled "
                 "(CONTACT_QUEUED, CONTACT_ABANDONED: two engine events per pair). The echo "
                 "server (`benchmarks/echo_server.cc`) answers both calls at once on the gRPC "
                 "thread, same gRPC build and same HTTP/2 stream limit (100).")
    lines.append("- h2load (nghttp2-client) sends one pre-framed EnqueueContact body for every "
                 "request, so against acdd only the first enqueue succeeds and the rest are "
                 "answered ALREADY_EXISTS (grpc-status 6 in the trailers, which h2load does not "
                 "read): still a full RPC through the edge check and the core thread, but a "
                 "cheaper command than a real enqueue, and one that takes gRPC's error path (a "
                 "non-OK status costs gRPC more than an OK one). The echo server gets the same "
                 "body and answers OK. So h2load also sends GetContact of contact h2load-1 "
                 "(created by the first enqueue): OK on both servers, a read through acdd's core "
                 "thread. The enqueue run also goes to a third server, `echo_server "
                 "--reject-duplicate-enqueues`, which answers a repeated id ALREADY_EXISTS as "
                 "acdd does: the ratio over it is what acdd adds when both take the error path. "
                 "Each call runs in rounds (H2LOAD_ROUNDS), the servers alternating within each; "
                 "a ratio is the median of the rounds' ratios.")
    lines.append("- WatchEvents: 100 `Supervisor.WatchEvents` streams (after_sequence 0) are "
                 "opened first, each on its own connection (distinct `grpc::ChannelArguments` "
                 "with a local subchannel pool), so acdd's `--max-streams-per-client` (16) is "
                 "not raised; then unary load runs: paced (open loop, `--rate`) so that the "
                 "engine makes exactly the events the target asks for (2 per pair), and closed "
                 "loop at full speed. Events/s = live events received by all subscribers "
                 "together in the window / window. acdd sends each subscriber every event "
                 "waiting for it in one `EventBatch` per write (up to `--event-batch`, 256), so "
                 "a subscriber with a backlog gets many events per gRPC message; each event "
                 "is serialized once, and a write sends the waiting events' bytes by "
                 "reference. acdd's CPU is read from /proc over the whole client run. The "
                 "split run holds acdd to CPU 0 and the load client to CPU 1. The "
                 "echo_server ceiling streams synthetic events in full batches of 256 as fast "
                 "as the subscribers read, with no engine and no unary load.")
    lines.append("- Unloaded round trip: one connection, one RPC at a time, for 5 s, from "
                 "blocking calls (gRPC's sync API: the calling thread polls the connection "
                 "itself, so no hand-off between the client's own threads is in the time). "
                 "Just before, `load_client --mode tcp-floor` measures the host's floor under "
                 "any such round trip: a loopback TCP ping-pong of 128 bytes each way between "
                 "it and a child process it forks (blocking reads and writes, TCP_NODELAY), no "
                 "gRPC; the ratios over it say how much gRPC and the server add. Then h2load "
                 "does the same as a client (`-c 1 -m 1`: one connection, one GetContact of "
                 "contact h2load-1 at a time, 5 s; percentiles from its per-request log), so "
                 "the figure is also read without gRPC C++'s client in it.")
    if counts and counts.get("runs"):
        lines.append("- Callgrind counts (`benchmarks/count_core.sh`): the shipped core_benchmark "
                     "runs under valgrind's callgrind, which counts the measured cycles alone "
                     "(the benchmark zeroes the counters as they start and dumps them as they "
                     f"end), with simulated caches ({counts.get('cache', '?')}). They are not times, "
                     "and the host's load does not move them: two runs of one binary agree "
                     "within a fraction of a percent, so they tell a change of a few percent "
                     "that the timings here cannot. Level-1 instruction misses follow where the "
                     "linker put the code, which moves from one profile-guided build to the "
                     "next, and have not shown in the timings. Where the instructions go, by function "
                     "(self): " + "; ".join(
                         f"{r['benchmark']}: " + ", ".join(
                             f"{fn} {fmt(100 * share, 1)}%" for fn, share in r["top_instructions"][:6])
                         for r in counts["runs"]) + ".")
    profiles = [("perf_core_Skills.txt", "core scale 2 (BM_Skills), by function, self time"),
                ("perf_core_OneQueue.txt", "core scale 1 (BM_OneQueue), by function, self time"),
                ("perf_stream.txt", "acdd under the WatchEvents load: threads, then the core "
                                    "thread inclusive"),
                ("perf_roundtrip.txt", "acdd in the unloaded round trip: threads, then the "
                                       "core thread inclusive")]
    present = [(f, what) for f, what in profiles if os.path.exists(os.path.join(results, f))]
    if present:
        lines.append("")
        lines.append("## Profiles of this run (PERF=1; `perf record`, cpu-clock samples)")
        for f, what in present:
            lines.append("")
            lines.append(f"{what} (`benchmarks/results/{f}`, first 15 lines):")
            lines.append("")
            lines.append("```")
            with open(os.path.join(results, f)) as profile:
                lines += [l.rstrip()[:140] for l in profile.readlines()[:15]]
            lines.append("```")
    lines.append("")
    lines.append(NOTES_MARK)
    lines.append(notes.lstrip("\n") if notes else "")
    with open(md_path, "w") as f:
        f.write("\n".join(lines).rstrip("\n") + "\n")


if __name__ == "__main__":
    main()
