#!/usr/bin/python3
"""Closing summary of the adversarial suite: per security-checklist scenario, what tried it
and how it came out.

  summary.py [--table scenarios.tsv] [--log RESULTS] [--unit-tests UNIT_TESTS_BINARY]

scenarios.tsv lists the checklist's scenarios and what covers each. RESULTS holds the lines
"SCENARIO ID CASE MODE OUTCOME ASSERTS RUN" that the integration cases wrote while they ran
(lib.sh): OUTCOME is refused / documented (every assert of that scenario passed), failed, or
untried (no assert ran); only the latest RUN of each case in each mode counts. Unit suites named in the table are run here (a Boost.Test suite
takes milliseconds). Nothing is inferred from a case that did not run: a scenario without a
result is reported as not tried.

Exit status: 0 when no scenario failed and every applicable one was tried; 1 otherwise; 77
(skipped) when RESULTS holds nothing, i.e. no integration case ran (not root, or skipped).
"""
import argparse
import collections
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def read_table(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            fields = line.split("\t")
            if len(fields) != 6:
                sys.exit("%s:%d: expected 6 tab-separated fields, found %d" % (path, lineno, len(fields)))
            sid, section, title, kind, covered, note = fields
            if kind not in ("refused", "documented", "n/a"):
                sys.exit("%s:%d: unknown kind '%s'" % (path, lineno, kind))
            if (kind == "n/a") != (covered == "-"):
                sys.exit("%s:%d: an n/a scenario has no coverage, any other has some" % (path, lineno))
            rows.append({"id": sid, "section": section, "title": title, "kind": kind,
                         "covered": [] if covered == "-" else covered.split(), "note": note})
    return rows


def read_results(path):
    """id -> [(source, outcome)], from the latest run of each case in each mode."""
    records, latest = [], {}
    if os.path.exists(path):
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                words = line.split()
                if len(words) != 7 or words[0] != "SCENARIO":
                    continue
                _, sid, case, mode, outcome, _asserts, run = words
                records.append((sid, case, mode, outcome, run))
                latest[(case, mode)] = run
    results = collections.defaultdict(list)
    count = 0
    for sid, case, mode, outcome, run in records:
        if latest[(case, mode)] == run:
            results[sid].append(("case:%s[%s]" % (case, mode), outcome))
            count += 1
    return results, count


def run_unit_suites(binary, suites):
    outcomes = {}
    for suite in sorted(suites):
        if not binary or not os.access(binary, os.X_OK):
            outcomes[suite] = "not run"
            continue
        try:
            r = subprocess.run([binary, "--run_test=" + suite, "--report_level=no",
                                "--log_level=nothing"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, timeout=120, check=False)
            outcomes[suite] = "passed" if r.returncode == 0 else "failed"
        except (OSError, subprocess.TimeoutExpired):
            outcomes[suite] = "failed"
    return outcomes


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--table", default=os.path.join(HERE, "scenarios.tsv"))
    ap.add_argument("--log", default=os.environ.get("PORTBIND_SCENARIO_LOG",
                                                     "/opt/portbind-test/scenario-results.log"))
    ap.add_argument("--unit-tests", default="")
    args = ap.parse_args()

    rows = read_table(args.table)
    cases_dir = os.path.join(os.path.dirname(os.path.abspath(args.table)), "cases")
    for r in rows:
        for c in r["covered"]:
            kind, _, name = c.partition(":")
            if kind == "case" and not os.path.isfile(os.path.join(cases_dir, name + ".sh")):
                sys.exit("%s: scenario %s names case '%s', which %s does not hold"
                         % (args.table, r["id"], name, cases_dir))
            if kind not in ("case", "unit"):
                sys.exit("%s: scenario %s: unknown coverage '%s'" % (args.table, r["id"], c))
    results, count = read_results(args.log)
    if count == 0:
        print("adversarial summary: no scenario results in %s (the integration cases did not run: "
              "they need root and the fixture)" % args.log)
        return 77
    known = {r["id"] for r in rows}
    strays = sorted(set(results) - known, key=int)

    suites = {c[5:] for r in rows for c in r["covered"] if c.startswith("unit:")}
    unit = run_unit_suites(args.unit_tests, suites)

    counts = collections.Counter()
    lines = []
    for r in rows:
        sources = list(results.get(r["id"], []))
        for c in r["covered"]:
            if c.startswith("unit:"):
                outcome = unit[c[5:]]
                sources.append((c, r["kind"] if outcome == "passed" else outcome))
        tried = [s for s in sources if s[1] not in ("untried", "not run")]
        if r["kind"] == "n/a":
            verdict = "n/a"
        elif any(o == "failed" for _, o in sources):
            verdict = "FAILED"
        elif not tried:
            verdict = "NOT TRIED"
        else:
            verdict = r["kind"]
        counts[verdict] += 1
        if verdict not in ("n/a", "NOT TRIED"):
            counts["tried"] += 1
        merged = collections.OrderedDict()
        for src, outcome in sources:
            if src not in merged.setdefault(outcome, []):
                merged[outcome].append(src)
        detail = "; ".join("%s: %s" % (o, " ".join(s)) for o, s in merged.items())
        if verdict == "n/a":
            detail = "not applicable: " + r["note"]
        elif verdict == "NOT TRIED":
            detail = "nothing tried it" + (" (" + detail + ")" if detail else "") + \
                     "; covered by " + " ".join(r["covered"])
        lines.append("%3s  %-10s %s\n                 %s" % (r["id"], verdict, r["title"], detail))

    print("Adversarial suite: security checklist scenarios (%s)" % os.path.basename(args.table))
    print("  id  outcome    scenario / what tried it")
    for line in lines:
        print(line)
    for sid in strays:
        print("  ?  results for scenario %s, which %s does not list" % (sid, args.table))
    print()
    print("%d scenarios tried, %d refused as expected, %d documented behaviour, "
          "%d not applicable (listed with why), %d not tried, %d failed"
          % (counts["tried"], counts["refused"], counts["documented"], counts["n/a"],
             counts["NOT TRIED"], counts["FAILED"]))
    if args.unit_tests == "" and suites:
        print("(unit suites not run: no --unit-tests binary given)")
    return 0 if counts["FAILED"] == 0 and counts["NOT TRIED"] == 0 and not strays else 1


if __name__ == "__main__":
    sys.exit(main())
