#!/usr/bin/python3
"""Checks that a benchmark run produced a well-formed report; never judges speed.

    check_results.py [--require-measured TEXT]... DIR

DIR holds results.md, results.json and (unless the report says why not) results.png.
Checks: the five sections in order, each with its tables; every table has one header, one
alignment row and rows of the same width; exactly one baseline row per table, whose ratios
are 1.000 when it was measured; every measured row has numbers with min <= median <= max and
a ratio; every other row says "not measured: REASON" or "failed: ERROR" and has no numbers;
no row failed; results.json agrees with the markdown; the PNG is a PNG under 200 KB.
With --require-measured TEXT, rows whose label contains TEXT must have been measured unless
the reason is a tool that is not installed or the broker not being built.
Prints every problem found; exit 0 when there is none, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import re
import struct
import sys
from pathlib import Path

SECTIONS = ["Serving throughput and p99 latency", "Launch overhead", "bind() interception",
            "Broker", "Memory"]
MACHINE_KEYS = ["CPU", "Memory", "Kernel", "OS", "portbind"]
RUN_KEYS = ["Date (UTC)", "Command", "Mode", "Repetitions", "CPU pinning"]
EXCUSED = re.compile(r"not installed|broker not built")
NUMBER = re.compile(r"^[+−-]?[0-9][0-9,]*(\.[0-9]+)?$")
DASH = "—"
PNG_LIMIT = 200 * 1024


def num(cell: str) -> float:
    return float(cell.replace(",", "").replace("−", "-"))


def split_row(line: str) -> list[str]:
    body = line.strip()
    if not (body.startswith("|") and body.endswith("|")):
        raise ValueError(f"not a table row: {line!r}")
    cells = re.split(r"(?<!\\)\|", body[1:-1])
    return [c.strip() for c in cells]


class Checker:
    def __init__(self, required: list[str]) -> None:
        self.problems: list[str] = []
        self.required = required
        self.tables = 0

    def fail(self, msg: str) -> None:
        self.problems.append(msg)

    def key_table(self, lines: list[str], start: int, title: str, keys: list[str]) -> None:
        found = {}
        i = start + 2
        while i < len(lines) and lines[i].startswith("|"):
            cells = split_row(lines[i])
            if len(cells) == 2:
                found[cells[0]] = cells[1]
            i += 1
        for k in keys:
            if not found.get(k):
                self.fail(f"the {title} table has no '{k}'")

    def table(self, where: str, rows: list[str]) -> None:
        self.tables += 1
        try:
            cells = [split_row(r) for r in rows]
        except ValueError as e:
            self.fail(f"{where}: {e}")
            return
        head, align, body = cells[0], cells[1], cells[2:]
        if head[0] != "Variant" or head[-1] != "Notes":
            self.fail(f"{where}: header must run from 'Variant' to 'Notes': {head}")
            return
        if len(align) != len(head) or not all(re.fullmatch(r":?-{3,}:?", a) for a in align):
            self.fail(f"{where}: bad alignment row")
        if not body:
            self.fail(f"{where}: no rows")
        # Metric groups: "<metric> median", min, max, ratio[, added].
        groups = []
        for i, h in enumerate(head):
            if h.endswith(" median"):
                has_added = i + 4 < len(head) and head[i + 4] == "added"
                if head[i + 1:i + 4] != ["min", "max", "ratio"]:
                    self.fail(f"{where}: '{h}' is not followed by min, max, ratio")
                groups.append((i, has_added))
        if not groups:
            self.fail(f"{where}: no metric columns")
        numeric = {j for i, added in groups for j in range(i, i + 4 + added)}
        baselines = 0
        for row in body:
            label = row[0] if row else "?"
            w = f"{where}, row '{label}'"
            if len(row) != len(head):
                self.fail(f"{w}: {len(row)} cells, header has {len(head)}")
                continue
            note = row[-1]
            is_baseline = note == "baseline" or note.startswith("baseline; ")
            baselines += is_baseline
            if is_baseline:
                note = note.removeprefix("baseline").removeprefix("; ")
            values = [row[j] for j in sorted(numeric)]
            if note.startswith("failed: "):
                self.fail(f"{w}: {note}")
                continue
            if note.startswith("not measured: "):
                if len(note) <= len("not measured: "):
                    self.fail(f"{w}: 'not measured' without a reason")
                if any(v != DASH for v in values):
                    self.fail(f"{w}: not measured, yet has numbers")
                for text in self.required:
                    if text in label and not EXCUSED.search(note):
                        self.fail(f"{w}: must be measured ({note})")
                continue
            if note:
                self.fail(f"{w}: unexpected note '{note}'")
            for i, added in groups:
                med, lo, hi, ratio = row[i:i + 4]
                if not all(NUMBER.match(v) for v in (med, lo, hi, ratio)):
                    self.fail(f"{w}: non-numeric cells {[med, lo, hi, ratio]}")
                    continue
                if not num(lo) <= num(med) <= num(hi):
                    self.fail(f"{w}: not min <= median <= max: {lo} {med} {hi}")
                if is_baseline and ratio != "1.000":
                    self.fail(f"{w}: baseline ratio is {ratio}, not 1.000")
                if added:
                    cell = row[i + 4]
                    if is_baseline and cell != DASH:
                        self.fail(f"{w}: baseline has an 'added' value")
                    if not is_baseline and not NUMBER.match(cell):
                        self.fail(f"{w}: 'added' is not a number: {cell}")
        if baselines != 1:
            self.fail(f"{where}: {baselines} baseline rows, expected exactly 1")

    def markdown(self, text: str) -> list[str]:
        lines = text.splitlines()
        if not lines or lines[0] != "# portbind benchmark results":
            self.fail("results.md does not start with '# portbind benchmark results'")
        for title, keys in (("Run", RUN_KEYS), ("Machine", MACHINE_KEYS)):
            starts = [i for i, l in enumerate(lines) if l.startswith(f"| {title} |")]
            if len(starts) != 1:
                self.fail(f"results.md needs exactly one '{title}' table")
            else:
                self.key_table(lines, starts[0], title, keys)
        titles = [m.group(2) for l in lines if (m := re.match(r"^## (\d+)\. (.*)$", l))]
        if titles != SECTIONS:
            self.fail(f"sections are {titles}, expected {SECTIONS}")
        section = "?"
        i = 0
        while i < len(lines):
            m = re.match(r"^## \d+\. (.*)$", lines[i])
            if m:
                section = m.group(1)
            if lines[i].startswith("**The section broke off:**"):
                self.fail(f"section '{section}': {lines[i]}")
            if lines[i].startswith("| Variant |"):
                j = i
                while j < len(lines) and lines[j].startswith("|"):
                    j += 1
                caption = lines[i - 2] if i >= 2 else "?"
                self.table(f"'{section}' {caption}", lines[i:j])
                i = j
                continue
            i += 1
        return lines

    def json_file(self, path: Path, md_tables: int) -> None:
        try:
            data = json.loads(path.read_text())
            titles = [s["title"] for s in data["sections"]]
            tables = sum(len(s["tables"]) for s in data["sections"])
        except (OSError, ValueError, KeyError, TypeError) as e:
            self.fail(f"results.json: {e}")
            return
        if titles != SECTIONS:
            self.fail(f"results.json sections are {titles}")
        if tables != md_tables:
            self.fail(f"results.json has {tables} tables, results.md {md_tables}")

    def png(self, path: Path, text: str) -> None:
        if "![portbind benchmark chart](results.png)" not in text:
            if "| Chart | not produced: " not in text:
                self.fail("results.md neither shows the chart nor says why there is none")
            return
        try:
            data = path.read_bytes()
        except OSError as e:
            self.fail(f"results.png: {e}")
            return
        if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
            self.fail("results.png is not a PNG")
            return
        width, height = struct.unpack(">II", data[16:24])
        if width < 400 or height < 300:
            self.fail(f"results.png is only {width}x{height}")
        if len(data) > PNG_LIMIT:
            self.fail(f"results.png is {len(data)} bytes, over {PNG_LIMIT}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--require-measured", action="append", default=[], metavar="TEXT")
    p.add_argument("dir", type=Path)
    args = p.parse_args()
    c = Checker(args.require_measured)
    try:
        text = (args.dir / "results.md").read_text()
    except OSError as e:
        print(f"check_results: {e}", file=sys.stderr)
        return 1
    c.markdown(text)
    c.json_file(args.dir / "results.json", c.tables)
    c.png(args.dir / "results.png", text)
    for problem in c.problems:
        print(f"check_results: {problem}", file=sys.stderr)
    if c.problems:
        return 1
    print(f"check_results: {args.dir}: {c.tables} tables, well-formed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
