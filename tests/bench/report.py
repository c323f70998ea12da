"""The markdown report: the machine, how the run was made, and one table per measurement
(median, min and max over the repetitions, and the ratio of medians to the table's
baseline row, measured in the same run). check_results.py parses exactly this format."""

from __future__ import annotations

from typing import Optional

from results import Metric, Row, Section, Table

NOT_MEASURED = "not measured: "
FAILED = "failed: "
DASH = "—"
BASELINE = "baseline"


def number(v: Optional[float]) -> str:
    if v is None:
        return DASH
    a = abs(v)
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 100:
        return f"{v:.0f}"
    if a >= 10:
        return f"{v:.1f}"
    if a >= 1:
        return f"{v:.2f}"
    return f"{v:.3f}"


def signed(v: Optional[float]) -> str:
    return DASH if v is None else ("+" if v >= 0 else "−") + number(abs(v))


def ratio(v: Optional[float]) -> str:
    return DASH if v is None else f"{v:.3f}"


def header(metrics: list[Metric]) -> list[str]:
    cells = ["Variant"]
    for m in metrics:
        arrow = "↑" if m.higher_is_better else "↓"
        cells += [f"{m.title} {arrow} median", "min", "max", "ratio"]
        if m.added_column:
            cells.append("added")
    return cells + ["Notes"]


def row_cells(table: Table, row: Row) -> list[str]:
    cells = [row.label]
    for m in table.metrics:
        values = row.samples.get(m.key) if row.measured() else None
        if values:
            cells += [number(row.median(m.key)), number(min(values)), number(max(values)),
                      ratio(table.ratio(row, m.key))]
        else:
            cells += [DASH] * 4
        if m.added_column:
            cells.append(DASH if row.baseline or not values else signed(table.added(row, m.key)))
    if row.failed is not None:
        note = FAILED + row.failed
    elif row.unavailable is not None:
        note = NOT_MEASURED + row.unavailable
    elif not row.measured():
        note = FAILED + "no measurement was taken"
    else:
        note = ""
    if row.baseline:
        note = BASELINE + ("; " + note if note else "")
    return cells + [note]


def _escape(cell: str) -> str:
    return cell.replace("|", "\\|").replace("\n", " ")


def markdown_table(table: Table) -> str:
    head = header(table.metrics)
    lines = ["| " + " | ".join(head) + " |",
             "|" + "|".join(["---"] + ["---:"] * (len(head) - 2) + ["---"]) + "|"]
    for row in table.rows:
        lines.append("| " + " | ".join(_escape(c) for c in row_cells(table, row)) + " |")
    return "\n".join(lines)


def render(sections: list[Section], machine: dict[str, str], run_info: dict[str, str],
           chart: Optional[str]) -> str:
    out = ["# portbind benchmark results", ""]
    out += ["| Run | |", "|---|---|"]
    out += [f"| {_escape(k)} | {_escape(v)} |" for k, v in run_info.items()]
    out += ["", "| Machine | |", "|---|---|"]
    out += [f"| {_escape(k)} | {_escape(v)} |" for k, v in machine.items()]
    out += ["", "Each table: median, min and max over the repetitions; ratio = median / the "
            "baseline row's median from the same run (↑ higher is better, ↓ lower is better).",
            ""]
    if chart:
        out += [f"![portbind benchmark chart]({chart})", ""]
    for n, s in enumerate(sections, 1):
        out += [f"## {n}. {s.title}", "", s.intro, ""]
        if s.error:
            out += [f"**The section broke off:** {s.error}", ""]
        for t in s.tables:
            out += [f"**{t.caption}**", "", markdown_table(t), ""]
        for f in s.findings:
            out.append(f"- {f}")
        if s.findings:
            out.append("")
    return "\n".join(out)
