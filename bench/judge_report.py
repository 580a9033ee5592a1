#!/usr/bin/env python3
"""bench/judge_report.py - the Markdown report of bench/judge.sh.

Reads the cells bench/judge.sh collected (one JSON object a line: config,
rules, scenario, rpm, wall_ms and the summary of `slipway simulate -o json`)
and prints, per rollout configuration, one table row per scenario and volume,
then the acceptance checks of docs/simulate.md ("Bench") with the cells that
fail them.

usage: judge_report.py CELLS.jsonl SEEDS TOTAL_MS CELLS SLOWEST_MS SLOWEST_CELL VERSION HOLD_FACTOR FLAGGER_ARGS
       judge_report.py --merge VERSION CELLS.jsonl...   (partial runs of bench/judge.sh --cells,
                                                       e.g. one a scenario in parallel: one report)
"""
import json
import sys


def pct(a, n):
    return "%.1f%%" % (100.0 * a / n) if n else "-"


def num(v):
    if v is None:
        return "-"
    if isinstance(v, float) and v != int(v):
        return "%.1f" % v if v < 100 else "%.0f" % v
    return "%d" % v


def is_aa(name):
    return name.startswith("aa-")


def summarise(cell):
    """The numbers of one cell, from simulate's JSON."""
    d = cell["sim"]
    o = d["outcomes"]
    n = d["runs"]
    halted = o["rolled_back"] + o["paused"]
    rules = d.get("halt_rules", {})
    no_evidence = rules.get("inconclusive", 0) + rules.get("(no rule)", 0)
    if is_aa(cell["scenario"]):
        at, req = d["at_s"], d["canary_requests"]
    else:
        h = d["by_outcome"]["halted"]
        at, req = h["at_s"], h["canary_requests"]
    ref = d["reference"]
    wald = ref["wald"]["canary_requests"]
    ratio = None
    if not is_aa(cell["scenario"]) and wald and req["median"] is not None:
        ratio = req["median"] / wald
    hold_s = sum(s["hold_s"] for s in d["steps"])
    return {
        "n": n, "halted": halted, "detected": max(halted - no_evidence, 0), "rolled_back": o["rolled_back"], "paused": o["paused"],
        "insufficient": o["insufficient_traffic"], "promoted": o["promoted"], "unfinished": o["unfinished"],
        "no_evidence": no_evidence, "at": at, "req": req, "wald": wald, "wald_at": ref["wald"]["at_s"],
        "ratio": ratio, "hold_s": hold_s,
        "rb_req": d["by_outcome"]["rolled_back"]["canary_requests"]["median"],
        "rb_req_all": d.get("rolled_back_median_all_runs", "absent"),
        "fixed": ref["fixed_sample"]["per_arm_two_sided"], "metric": ref["metric"],
        "floor": ref["wald"].get("interval_canary_requests"),
    }


def merged_args(version, paths):
    """The arguments of one report over partial runs' cells (bench/judge.sh --cells)."""
    cells = [json.loads(line) for p in paths for line in open(p)]
    slow = max(cells, key=lambda c: c["wall_ms"])
    return cells, [None, str(cells[0]["sim"]["runs"]), str(sum(c["wall_ms"] for c in cells)), str(len(cells)),
                   str(slow["wall_ms"]), "%s %s %s %d" % (slow["config"], slow["rules"], slow["scenario"], slow["rpm"]),
                   version + " (partial runs merged; the time is the sum of the cells')", "3",
                   "--rules checks --judge threshold"]


def main():
    if sys.argv[1] == "--merge":
        cells, args = merged_args(sys.argv[2], sys.argv[3:])
    else:
        args = sys.argv[1:10]
        cells = [json.loads(line) for line in open(args[0])]
    path, seeds, total_ms, ncells, slowest_ms, slowest_cell, version, hold_factor, flagger_args = args
    hold_factor = float(hold_factor)
    by = {}
    for c in cells:
        by[(c["config"], c["rules"], c["scenario"], c["rpm"])] = c
    scenarios = []
    for c in cells:
        if c["scenario"] not in scenarios:
            scenarios.append(c["scenario"])
    volumes = sorted({c["rpm"] for c in cells})
    w = print
    w("# Judge benchmark: `slipway simulate` on the issue's scenario table")
    w("")
    w("%s; %s seeds a cell; %s cells in %.1f s (slowest cell %.2f s: %s)." % (
        version or "slipway", seeds, ncells, int(total_ms) / 1000.0, int(slowest_ms) / 1000.0, slowest_cell))
    w("Traffic model: Poisson arrivals split by the engine's weights, Binomial errors, lognormal latency")
    w("(median 45 ms, p99 200 ms; canary x ratio).  Latency scenarios at 0.1% errors on both sides.")
    w("*halted* = rolled back or paused by a criterion: the false-halt rate for A/A rows, the detection")
    w("rate otherwise.  *time* and *canary req.* are medians (and p90) from the first step to the decision,")
    w("over all decided runs for A/A rows and over halted runs otherwise.  *Wald n*: Wald's expected canary")
    w("requests on the strategy's schedule (alpha 0.05, power 0.8; A/A rows: for a doubling of the error")
    w("rate; latency rows: requests slower than 2x the stable p99); *ratio* = median canary req. / Wald n.")
    w("*look*: canary requests in one look of the judge (the sequential judge looks every 20 canary")
    w("requests, at least 250 ms and at most 10 s apart) at the split where Wald's bound is reached: a")
    w("judge decides at its looks, so no judge can use fewer at that traffic.")
    w("*no-evid.* = rollbacks without evidence (inconclusive intervals counted as failed checks); the")
    w("acceptance checks count a detection only when it is not one of these.")
    w("*Flagger*: the Canary file's own checks with failed-check counting only (`%s`)." % flagger_args.strip())
    for config, title in (("canary-file", "Runbook canary-config.yaml (Flagger Canary: 10%..50% by 10, 1m steps, threshold 5)"),
                          ("default-strategy", "Runbook default strategy (1% 5m, 10% 15m, 50% 15m; threshold 1)")):
        flagger = any(k[0] == config and k[1] == "checks" for k in by)
        w("")
        w("## " + title)
        w("")
        head = ["scenario", "rpm", "halted", "rolled back", "paused", "insuff.", "promoted", "no-evid.",
                "time s (p90)", "canary req. (p90)", "Wald n", "ratio", "look"]
        if flagger:
            head += ["Flagger halted", "Flagger time s"]
        w("| " + " | ".join(head) + " |")
        w("|" + "---|" * len(head))
        for sc in scenarios:
            for v in volumes:
                c = by.get((config, "all", sc, v))
                if not c:
                    continue
                s = summarise(c)
                row = [sc, "%d" % v, pct(s["halted"], s["n"]), pct(s["rolled_back"], s["n"]), pct(s["paused"], s["n"]),
                       pct(s["insufficient"], s["n"]), pct(s["promoted"], s["n"]), "%d" % s["no_evidence"],
                       "%s (%s)" % (num(s["at"]["median"]), num(s["at"]["p90"])),
                       "%s (%s)" % (num(s["req"]["median"]), num(s["req"]["p90"])), num(s["wald"]),
                       "%.2f" % s["ratio"] if s["ratio"] is not None else "-", num(s["floor"])]
                if flagger:
                    f = by.get((config, "checks", sc, v))
                    if f:
                        fs = summarise(f)
                        row += [pct(fs["halted"], fs["n"]), "%s (%s)" % (num(fs["at"]["median"]), num(fs["at"]["p90"]))]
                    else:
                        row += ["-", "-"]
                w("| " + " | ".join(row) + " |")

    # acceptance (docs/simulate.md, "Bench": the criteria as this bench reads them)
    checks = []

    def check(name, failing):
        checks.append((name, failing))

    unattainable = []
    below80 = []
    fail = []
    for (config, rules, sc, v), c in sorted(by.items()):
        if rules != "all" or not is_aa(sc):
            continue
        s = summarise(c)
        if s["halted"] > 0.05 * s["n"]:
            fail.append("%s %s %d: %s" % (config, sc, v, pct(s["halted"], s["n"])))
    check("A/A: at most 5% of healthy rollouts halted on evidence, every cell", fail)
    fail = ["%s %s %d: %d" % (k[0], k[2], k[3], summarise(c)["no_evidence"]) for k, c in sorted(by.items())
            if k[1] == "all" and is_aa(k[2]) and summarise(c)["no_evidence"]]
    check("A/A: none rolled back without evidence", fail)
    fail = ["%s %s %d: %s" % (k[0], k[2], k[3], pct(summarise(c)["insufficient"], summarise(c)["n"]))
            for k, c in sorted(by.items())
            if k[1] == "all" and is_aa(k[2]) and k[3] >= 1000 and summarise(c)["insufficient"]]
    check("A/A: no run ends waiting for traffic at 1,000 requests/min or more", fail)
    def first_step_starved(k):
        # the strategy's first step cannot pass a healthy canary at this volume: more than a
        # fifth of the A/A runs at the same base rate end waiting for traffic there, so no
        # regression can get past it either (the step only ends once its question is answered)
        c = by.get((k[0], "all", "aa-1%", k[3]))
        if not c:
            return False
        s = summarise(c)
        return s["insufficient"] > 0.2 * s["n"]

    starved = sorted(set("%s %d" % (k[0], k[3]) for k in by if k[1] == "all" and first_step_starved(k)))
    fail = []
    for k, c in sorted(by.items()):
        if k[1] != "all" or k[2] != "1->2%":
            continue
        s = summarise(c)
        if s["wald_at"] is None or s["wald_at"] > hold_factor * s["hold_s"] or first_step_starved(k):
            continue  # traffic does not allow it within the schedule's maximum holds
        if s["detected"] < 0.8 * s["n"]:
            fail.append("%s %d: detected %s" % (k[0], k[3], pct(s["detected"], s["n"])))
        if s["floor"] is not None and s["floor"] > 1.5 * s["wald"]:
            unattainable.append("%s 1%%->2%% %d: one look is %s canary requests, Wald %s" % (
                k[0], k[3], num(s["floor"]), num(s["wald"])))
        elif s["ratio"] is None or s["ratio"] > 1.5:
            fail.append("%s %d: median/Wald %s" % (k[0], k[3], "%.2f" % s["ratio"] if s["ratio"] else "-"))
    check("1%%->2%%: detected in >= 80%% with median canary requests <= 1.5x Wald, where Wald's time fits "
          "the schedule's maximum holds (%g x the holds)" % hold_factor, fail)
    fail = []
    for k, c in sorted(by.items()):
        if k[1] != "all" or k[2] != "1->6%":
            continue
        s = summarise(c)
        if s["wald_at"] is None or s["wald_at"] > hold_factor * s["hold_s"] or first_step_starved(k):
            continue
        rb = s["rolled_back"] - s["no_evidence"]
        # the criterion: rolled back with a median of at most 200 canary requests, the
        # median over every run (a run not rolled back counts as never: so more than half are
        # rolled back); cells from before the per-run median was kept fall back to 80% of runs
        # and the median over the rolled-back runs
        med = s["rb_req_all"]
        if med == "absent":
            med = s["rb_req"] if rb >= 0.8 * s["n"] else None
        if rb < 0.8 * s["n"]:
            below80.append("%s 1%%->6%% %d: %s" % (k[0], k[3], pct(rb, s["n"])))
        if s["floor"] is not None and s["floor"] > 200 and rb >= 0.8 * s["n"]:
            unattainable.append("%s 1%%->6%% %d: one look is %s canary requests" % (k[0], k[3], num(s["floor"])))
        elif s["no_evidence"] or med is None or med > 200:
            fail.append("%s %d: rolled back on evidence %s, median %s canary requests over every run" % (
                k[0], k[3], pct(rb, s["n"]), num(med)))
    check("1%->6%: rolled back with a median of at most 200 canary requests over every run (a run not "
          "rolled back counting as never), where Wald's time fits the schedule's maximum holds", fail)
    fail = ["%s %d: %s" % (k[0], k[3], pct(summarise(c)["detected"], summarise(c)["n"])) for k, c in sorted(by.items())
            if k[1] == "all" and k[2] == "latency-2.2x" and k[3] >= 1000
            and summarise(c)["detected"] < 0.95 * summarise(c)["n"]]
    check("latency 2.2x: halted in >= 95% of runs at 1,000 requests/min and above", fail)
    fail = []
    for sc in ("aa-0.1%", "aa-1%"):
        c = by.get(("default-strategy", "all", sc, 1000.0))
        if c:
            s = summarise(c)
            if s["promoted"] < 0.95 * s["n"]:
                fail.append("%s: promoted %s" % (sc, pct(s["promoted"], s["n"])))
    check("the runbook default strategy promotes a healthy release at 1,000 requests/min (>= 95% of runs)", fail)
    w("")
    w("## Acceptance")
    w("")
    for name, failing in checks:
        if failing:
            w("- **FAIL** %s: %s" % (name, "; ".join(failing[:12]) + (" ..." if len(failing) > 12 else "")))
        else:
            w("- pass: %s" % name)
    if starved:
        w("")
        w("Not judged on detection (the strategy's first step cannot pass a healthy canary at that")
        w("volume: more than a fifth of the A/A runs at 1% end waiting for traffic there, and a")
        w("regression cannot get past a step that a healthy canary cannot): " + "; ".join(starved) + ".")
    if below80:
        w("")
        w("1% -> 6% rolled back in fewer than 80% of runs (the rest paused for a person, none")
        w("promoted unless the table says so): " + "; ".join(below80) + ".")
    if unattainable:
        w("")
        w("Not judged on the number of canary requests (one look already holds more than the")
        w("criterion allows, so only the detection rate counts there): " + "; ".join(unattainable) + ".")


if __name__ == "__main__":
    main()
