"""The benchmark's results as data: sections of tables of rows, each row either measured
(one value per repetition for every metric) or explicitly not measured, with the reason.

Nothing here measures anything; it only holds numbers and derives medians and ratios, so a
result can never be produced without a measurement behind it.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Optional


@dataclass
class Metric:
    key: str
    title: str  # column heading, with the unit
    higher_is_better: bool
    added_column: bool = False  # also show median(row) - median(baseline)


@dataclass
class Row:
    key: str
    label: str
    baseline: bool = False
    samples: dict[str, list[float]] = field(default_factory=dict)  # metric key -> per-rep values
    unavailable: Optional[str] = None  # why it could not be measured here (a missing tool...)
    failed: Optional[str] = None  # the harness tried and something went wrong

    def add(self, metric: str, value: float) -> None:
        self.samples.setdefault(metric, []).append(float(value))

    def measured(self) -> bool:
        return self.unavailable is None and self.failed is None and bool(self.samples)

    def median(self, metric: str) -> Optional[float]:
        values = self.samples.get(metric)
        return statistics.median(values) if values else None


@dataclass
class Table:
    key: str
    caption: str
    metrics: list[Metric]
    rows: list[Row] = field(default_factory=list)

    def row(self, key: str) -> Row:
        for r in self.rows:
            if r.key == key:
                return r
        raise KeyError(key)

    def baseline(self) -> Optional[Row]:
        for r in self.rows:
            if r.baseline:
                return r
        return None

    def ratio(self, row: Row, metric: str) -> Optional[float]:
        base = self.baseline()
        if base is None or not row.measured() or not base.measured():
            return None
        a, b = row.median(metric), base.median(metric)
        if a is None or b is None or b == 0:
            return None
        return a / b

    def added(self, row: Row, metric: str) -> Optional[float]:
        base = self.baseline()
        if base is None or not row.measured() or not base.measured():
            return None
        a, b = row.median(metric), base.median(metric)
        return None if a is None or b is None else a - b


@dataclass
class Section:
    key: str
    title: str
    intro: str
    tables: list[Table] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)  # computed sentences (goals, growth)
    error: Optional[str] = None  # the section itself broke off

    def table(self, key: str) -> Table:
        for t in self.tables:
            if t.key == key:
                return t
        raise KeyError(key)

    def failed(self) -> bool:
        return self.error is not None or any(r.failed for t in self.tables for r in t.rows)


def to_json(sections: list[Section]) -> list[dict]:
    out = []
    for s in sections:
        tables = []
        for t in s.tables:
            rows = []
            for r in t.rows:
                entry: dict = {"key": r.key, "label": r.label, "baseline": r.baseline}
                if r.unavailable is not None:
                    entry["not_measured"] = r.unavailable
                if r.failed is not None:
                    entry["failed"] = r.failed
                if r.measured():
                    entry["samples"] = r.samples
                    entry["median"] = {m.key: r.median(m.key) for m in t.metrics}
                    entry["ratio"] = {m.key: t.ratio(r, m.key) for m in t.metrics}
                rows.append(entry)
            tables.append({
                "key": t.key,
                "caption": t.caption,
                "metrics": [m.__dict__ for m in t.metrics],
                "rows": rows,
            })
        out.append({
            "key": s.key,
            "title": s.title,
            "tables": tables,
            "findings": s.findings,
            "error": s.error,
        })
    return out
