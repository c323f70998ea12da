"""2. Launch overhead: the wall time portbind adds to starting a command, as the unprivileged
benchmark user, with policies of growing size; and authbind's for the same job.

spawn_timer (tools/spawn_timer.c) starts the commands of one block interleaved, round after
round (A B C D, B C D A, ...), and reports every wall time and CPU time. A block is one
policy size; the blocks themselves alternate between sizes from one repetition to the next. A
repetition's value for a command is the median of its rounds in that block, so every figure
is compared with /bin/true timed in the same block. The wall time is what a user waits; the
CPU time (user + system, of the command and what it waited for) is the work itself, which
other load on the machine hardly changes, so it is the figure to compare across runs.
"""

from __future__ import annotations

import statistics
from typing import Optional

import policy_files
from context import Context, HarnessError
from results import Metric, Row, Section, Table

WALL = Metric("wall", "wall ms", higher_is_better=False,
              added_column=True)
CPU = Metric("cpu", "CPU ms", higher_is_better=False, added_column=True)
WARMUP_ROUNDS = 3


def commands(ctx: Context) -> list[tuple[str, str, list[str]]]:
    """(key, label, argv) of the commands timed in every block; /bin/true first."""
    pb = str(ctx.portbind)
    spec = f"127.0.0.1:{ctx.settings.port}"
    return [
        ("true", "/bin/true", ["/bin/true"]),
        ("floor", "exec_only /bin/true (a static program that only executes the command: "
         "the least a launcher can add)", [str(ctx.tools["exec_only"]), "/bin/true"]),
        ("version", "portbind --version (its process start alone)", [pb, "--version"]),
        ("activate", f"portbind --activate --port {spec} -- /bin/true",
         [pb, "--activate", "--port", spec, "--", "/bin/true"]),
        ("default", f"portbind --port {spec} -- /bin/true",
         [pb, "--port", spec, "--", "/bin/true"]),
        ("authbind", "authbind /bin/true", ["/usr/bin/authbind", "/bin/true"]),
    ]


def spawn_timer(ctx: Context, argvs: list[list[str]], rounds: int,
                warmup: int = WARMUP_ROUNDS) -> list[tuple[int, list[float], list[float]]]:
    """Runs spawn_timer as the benchmark user; [(maxrss KiB, [wall ms per round],
    [CPU ms per round])] per argv."""
    argv = [str(ctx.tools["spawn_timer"]), str(rounds), str(warmup)]
    for i, a in enumerate(argvs):
        argv += (["--next"] if i else []) + a
    limit = 120 + rounds * len(argvs) * 2
    out = ctx.run(ctx.pinned(ctx.as_user(argv), "server"), limit, "spawn_timer")
    results: list[tuple[int, list[float], list[float]]] = []
    for i, line in enumerate(out.strip().splitlines()):
        fields = line.split()
        if len(fields) != rounds + 2 or int(fields[0]) != i:
            raise HarnessError(f"unexpected spawn_timer output line: {line[:80]}")
        try:
            pairs = [tuple(int(ns) for ns in f.split(",")) for f in fields[2:]]
        except ValueError:
            raise HarnessError(f"unexpected spawn_timer output line: {line[:80]}") from None
        if any(len(p) != 2 for p in pairs):
            raise HarnessError(f"unexpected spawn_timer output line: {line[:80]}")
        results.append((int(fields[1]), [p[0] / 1e6 for p in pairs],
                        [p[1] / 1e6 for p in pairs]))
    if len(results) != len(argvs):
        raise HarnessError("spawn_timer reported fewer commands than it was given")
    return results


def preflight(ctx: Context, cmds: list[tuple[str, list[str]]]) -> dict[str, str]:
    """Runs each (key, argv) once on its own; {key: error} for those that fail, so one
    broken command is reported on its own row instead of spoiling its whole block."""
    broken = {}
    for key, argv in cmds:
        try:
            spawn_timer(ctx, [argv], 1, warmup=0)
        except HarnessError as e:
            broken[key] = str(e)
    return broken


def size_label(size: int) -> str:
    return f"{size:,} rule" + ("" if size == 1 else "s")


def run(ctx: Context) -> Section:
    s = ctx.settings
    section = Section(
        "launch", "Launch overhead",
        f"Wall time from posix_spawn() to wait4() of each command as the unprivileged user, "
        f"and its CPU time (user + system, as wait4() reports it; the load on the machine "
        f"inflates the wall time, hardly the CPU time) "
        f"({s.launch_rounds} interleaved rounds per block after {WARMUP_ROUNDS} warm-up "
        f"rounds, {s.reps} repetitions; a repetition's value is its median). portbind binds "
        f"127.0.0.1:{s.port} in both modes, so it reads the whole policy and decides; "
        f"`portbind --version` reads no policy and binds nothing, so it shows what starting "
        f"the program costs by itself. authbind only prepares its LD_PRELOAD library (it "
        f"works at bind() time, see the bind() table).")
    cmds = commands(ctx)
    for size in s.policy_sizes:
        table = Table(f"launch-{size}", f"Policy of {size_label(size)}", [WALL, CPU])
        for key, label, _ in cmds:
            table.rows.append(Row(key, label, baseline=key == "true",
                                  unavailable=ctx.unavailable.get(key)))
        section.tables.append(table)
    live = [c for c in cmds if ctx.unavailable.get(c[0]) is None]
    sizes = s.policy_sizes
    policy_files.install(ctx, sizes[0])
    broken = preflight(ctx, [(key, argv) for key, _, argv in live])
    for size in sizes:
        for key, error in broken.items():
            section.table(f"launch-{size}").row(key).failed = error
    live = [c for c in live if c[0] not in broken]
    for rep in range(s.reps):
        for j in range(len(sizes)):
            size = sizes[(rep + j) % len(sizes)]
            table = section.table(f"launch-{size}")
            policy_files.install(ctx, size)
            try:
                timed = spawn_timer(ctx, [c[2] for c in live], s.launch_rounds)
            except HarnessError as e:
                for key, _, _ in live:
                    table.row(key).failed = str(e)
                continue
            for (key, _, _), (_, walls, cpus) in zip(live, timed):
                table.row(key).add(WALL.key, statistics.median(walls))
                table.row(key).add(CPU.key, statistics.median(cpus))
    findings(ctx, section)
    return section


def _added(section: Section, size: int, key: str, metric: str = WALL.key) -> Optional[float]:
    t = section.table(f"launch-{size}")
    return t.added(t.row(key), metric)


def findings(ctx: Context, section: Section) -> None:
    sizes = ctx.settings.policy_sizes
    floor_size = 1000 if 1000 in sizes else sizes[0]
    floor = _added(section, floor_size, "floor", CPU.key)
    if floor is not None:
        section.findings.append(
            f"Floor: a static program that only executes the command adds {floor:.3f} ms of "
            f"CPU time ({_added(section, floor_size, 'floor'):.3f} ms wall) to /bin/true. "
            f"Every launcher that runs as its own program pays at least this; the 0.5 ms goal "
            f"leaves {0.5 - floor:.3f} ms for reading the policy, deciding, binding and "
            f"dropping privilege.")
    for key, name in (("activate", "portbind --activate"), ("default", "portbind (default)")):
        if 1000 in sizes:
            a = _added(section, 1000, key)
            c = _added(section, 1000, key, CPU.key)
            if a is not None:
                cpu = f" (CPU time: {c:+.3f} ms)" if c is not None else ""
                above = (f"; {c - floor:.3f} ms of CPU time above the floor"
                         if c is not None and floor is not None else "")
                section.findings.append(
                    f"Goal: under 0.5 ms added with 1,000 rules, {name}: {a:.3f} ms wall "
                    f"time added{cpu}: {'met' if a < 0.5 else 'not met'}{above}.")
        lo, hi = min(sizes), max(sizes)
        for metric, what in ((WALL.key, "wall"), (CPU.key, "CPU")):
            a_lo, a_hi = _added(section, lo, key, metric), _added(section, hi, key, metric)
            if hi > lo and a_lo is not None and a_hi is not None:
                per_1000 = (a_hi - a_lo) / (hi - lo) * 1000
                section.findings.append(
                    f"Growth with policy size, {name}, {what} time: {a_lo:.3f} ms added with "
                    f"{size_label(lo)}, {a_hi:.3f} ms with {size_label(hi)}, about "
                    f"{per_1000 * 1000:.1f} µs per 1,000 rules (linear fit through the two "
                    f"ends).")
