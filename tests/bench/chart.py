"""The PNG chart (gnuplot, pngcairo): four panels drawn from the same results as the
tables. Rows that were not measured are left out of the chart; the tables say why."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Optional

from results import Section, Table

SHORT = {
    "root": "root", "activate": "pb --activate", "default": "pb default", "setcap": "setcap node",
    "authbind": "authbind", "socat": "socat", "proxyd": "socket-proxyd", "nft": "nft redirect",
    "user-high": "user, high port", "default-high": "pb default, high", "app": "app (node)",
    "broker": "broker", "clients-1": "1 client", "clients-8": "8 clients",
    "clients-32": "32 clients",
}


def _label(key: str) -> str:
    if key.startswith("binder-"):
        return f"pb binder {int(key.split('-')[1]):,}"
    return SHORT.get(key, key)


def _find(sections: list[Section], section: str, table: str) -> Optional[Table]:
    for s in sections:
        if s.key == section:
            for t in s.tables:
                if t.key == table:
                    return t
    return None


def _bars(table: Optional[Table], metric: str, as_ratio: bool) -> list[str]:
    """Datablock lines: "label" value low high."""
    lines = []
    if table is None:
        return lines
    base = table.baseline()
    base_median = base.median(metric) if base is not None and base.measured() else None
    for row in table.rows:
        values = row.samples.get(metric) if row.measured() else None
        if not values:
            continue
        med, lo, hi = row.median(metric), min(values), max(values)
        if as_ratio:
            if not base_median:
                continue
            med, lo, hi = med / base_median, lo / base_median, hi / base_median
        lines.append(f'"{_label(row.key)}" {med:.6g} {lo:.6g} {hi:.6g}')
    return lines


def _launch(sections: list[Section], sizes: list[int]) -> list[str]:
    lines = []
    for size in sizes:
        t = _find(sections, "launch", f"launch-{size}")
        if t is None:
            continue
        cells = []
        for key in ("activate", "default", "authbind"):
            v = t.added(t.row(key), "wall") if any(r.key == key for r in t.rows) else None
            cells.append("?" if v is None else f"{v:.6g}")
        lines.append(f'"{size:,} rule{"" if size == 1 else "s"}" ' + " ".join(cells))
    return lines


def _panel(name: str, lines: list[str], plot: str, empty_title: str) -> str:
    if not lines:
        return (f'set title "{empty_title}: not measured"\nset xrange [0:1]\n'
                f'set yrange [0:1]\nplot NaN notitle\nset autoscale x\nset autoscale y\n')
    return f"${name} << EOD\n" + "\n".join(lines) + "\nEOD\n" + plot


def script(sections: list[Section], sizes: list[int], png: Path) -> str:
    serving = _bars(_find(sections, "serving", "serving"), "rps", as_ratio=True)
    p99 = _bars(_find(sections, "serving", "serving"), "p99", as_ratio=False)
    launch = _launch(sections, sizes)
    binds = _bars(_find(sections, "intercept", "bind"), "bind", as_ratio=False)
    grants = _bars(_find(sections, "broker", "broker"), "grants", as_ratio=False)
    rest = _bars(_find(sections, "memory", "rest"), "rest", as_ratio=False)
    common = ("set style data histograms\nset style fill solid 0.7 border -1\n"
              "set boxwidth 0.8\nset xtics rotate by -30 nomirror\nset grid ytics\n"
              'set datafile missing "?"\n')
    parts = [
        f'set terminal pngcairo size 1200,1300 font "sans,10"\nset output "{png}"\n',
        'set multiplot layout 3,2 title "portbind benchmarks (medians; bars: min-max)"\n',
        common,
        _panel("serving", serving,
               'set title "Serving throughput, ratio to node bound as root"\n'
               "set style histogram errorbars gap 1 lw 1\nset yrange [0:*]\n"
               "set arrow 1 from graph 0, first 0.98 to graph 1, first 0.98 nohead dt 2\n"
               "plot $serving using 2:3:4:xtic(1) notitle lc rgb '#4477aa'\n"
               "unset arrow 1\n", "Serving throughput"),
        _panel("p99", p99,
               'set title "Serving: p99 latency (ms)"\n'
               "set style histogram errorbars gap 1 lw 1\nset yrange [0:*]\n"
               "plot $p99 using 2:3:4:xtic(1) notitle lc rgb '#4477aa'\n",
               "Serving p99 latency"),
        _panel("launch", launch,
               'set title "Launch: wall time added to /bin/true (ms)"\n'
               "set style histogram clustered gap 1\nset yrange [*:*]\nset key top left\n"
               "plot $launch using 2:xtic(1) title 'portbind --activate' lc rgb '#4477aa', "
               "'' using 3 title 'portbind default' lc rgb '#66ccee', "
               "'' using 4 title 'authbind' lc rgb '#ee6677'\n", "Launch overhead"),
        _panel("binds", binds,
               'set title "One bind(), as the app sees it (µs, log scale)"\n'
               "set style histogram errorbars gap 1 lw 1\nset logscale y\nset yrange [*:*]\n"
               "plot $binds using 2:3:4:xtic(1) notitle lc rgb '#228833'\nunset logscale y\n",
               "bind() cost"),
        _panel("grants", grants,
               'set title "Broker: granted requests per second"\n'
               "set style histogram errorbars gap 1 lw 1\nset yrange [0:*]\n"
               "plot $grants using 2:3:4:xtic(1) notitle lc rgb '#ccbb44'\n",
               "Broker throughput"),
        _panel("rest", rest,
               'set title "Resident memory at rest (MiB)"\n'
               "set style histogram errorbars gap 1 lw 1\nset yrange [0:*]\n"
               "plot $rest using 2:3:4:xtic(1) notitle lc rgb '#aa3377'\n",
               "Memory at rest"),
        "unset multiplot\n",
    ]
    return "".join(parts)


def draw(sections: list[Section], sizes: list[int], png: Path) -> Optional[str]:
    """Writes png; returns None on success, else why there is no chart."""
    gnuplot = shutil.which("gnuplot")
    if gnuplot is None:
        return "gnuplot is not installed (Debian package gnuplot-nox)"
    text = script(sections, sizes, png)
    (png.parent / (png.stem + ".gp")).write_text(text)
    done = subprocess.run([gnuplot], input=text, capture_output=True, text=True, timeout=60,
                          check=False)
    if done.returncode != 0 or not png.is_file():
        return "gnuplot failed: " + " / ".join(done.stderr.strip().splitlines()[-3:])
    return None
