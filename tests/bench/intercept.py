"""3. bind() interception: what one bind() costs the app in each arrangement, and what the
default mode's seccomp filter adds to the app's other system calls.

bind_loop (tools/bind_loop.c) times each bind() of a fresh socket from inside the app; a
run's value is the median of its binds. syscall_loop (tools/syscall_loop.c) times batches
of getppid() and read() calls; a run's value is the median batch. Runs are interleaved and
repeated like everything else. The serving table shows the same filter under real load
(portbind's default mode against --activate, which has no filter).
"""

from __future__ import annotations

import statistics

import policy_files
from context import Context, HarnessError
from results import Metric, Row, Section, Table

BIND = Metric("bind", "µs per bind()", higher_is_better=False)
GETPPID = Metric("getppid", "ns per getppid()", higher_is_better=False)
READ = Metric("read", "ns per read()", higher_is_better=False)
POLICY_RULES = 1000


def bind_variants(ctx: Context) -> list[tuple[str, str, bool, list[str], int]]:
    """(key, label, as_user, argv, count) for the bind() table; the baseline first."""
    s = ctx.settings
    loop = str(ctx.tools["bind_loop"])
    pb = [str(ctx.portbind), "--port", f"127.0.0.1:{s.port}", "--"]
    n, na = str(s.bind_count), str(s.authbind_bind_count)
    return [
        ("root", f"root, port {s.port}, no help", False,
         [loop, "127.0.0.1", str(s.port), n], s.bind_count),
        ("user-high", f"unprivileged, port {s.backend_port}, no filter", True,
         [loop, "127.0.0.1", str(s.backend_port), n], s.bind_count),
        ("default", f"portbind default mode, port {s.port} (intercepted and performed)", True,
         pb + [loop, "127.0.0.1", str(s.port), n], s.bind_count),
        ("default-high", f"portbind default mode, port {s.backend_port} (intercepted, left to "
         "the kernel)", True, pb + [loop, "127.0.0.1", str(s.backend_port), n], s.bind_count),
        ("authbind", f"authbind, port {s.port} (setuid helper per bind())", True,
         ["/usr/bin/authbind", loop, "127.0.0.1", str(s.port), na], s.authbind_bind_count),
    ]


def syscall_variants(ctx: Context) -> list[tuple[str, str, list[str]]]:
    s = ctx.settings
    loop = [str(ctx.tools["syscall_loop"]), str(s.syscall_batches), str(s.syscall_calls)]
    return [
        ("plain", "unprivileged, no filter", loop),
        ("default", "under portbind's default mode (bind() filter installed)",
         [str(ctx.portbind), "--port", f"127.0.0.1:{s.port}", "--"] + loop),
        ("activate", "under portbind --activate (no filter)",
         [str(ctx.portbind), "--activate", "--port", f"127.0.0.1:{s.port}", "--"] + loop),
    ]


def parse_numbers(line: str, count: int, what: str) -> list[float]:
    fields = line.split()
    if len(fields) != count:
        raise HarnessError(f"{what}: expected {count} values, got {len(fields)}")
    return [float(f) for f in fields]


def run_binds(ctx: Context, user: bool, argv: list[str], count: int) -> float:
    full = ctx.pinned(ctx.as_user(argv) if user else argv, "server")
    out = ctx.run(full, 60 + count * 0.05, "bind_loop")
    lines = out.strip().splitlines()
    if len(lines) != 1:
        raise HarnessError(f"bind_loop printed {len(lines)} lines")
    return statistics.median(parse_numbers(lines[0], count, "bind_loop")) / 1000.0


def run_syscalls(ctx: Context, argv: list[str]) -> tuple[float, float]:
    s = ctx.settings
    out = ctx.run(ctx.pinned(ctx.as_user(argv), "server"), 120, "syscall_loop")
    values = {}
    for line in out.strip().splitlines():
        name, _, rest = line.partition(" ")
        values[name] = statistics.median(parse_numbers(rest, s.syscall_batches, "syscall_loop"))
    if set(values) != {"getppid", "read"}:
        raise HarnessError(f"unexpected syscall_loop output: {out[:80]}")
    return values["getppid"], values["read"]


def run(ctx: Context) -> Section:
    s = ctx.settings
    section = Section(
        "intercept", "bind() interception",
        f"One bind() of a fresh TCP socket to 127.0.0.1, timed inside the app "
        f"({s.bind_count} binds per run, {s.authbind_bind_count} under authbind; median per "
        f"run), and the cost of other system calls under the filter ({s.syscall_batches} "
        f"batches of {s.syscall_calls} calls; median batch). {s.reps} repetitions, "
        f"interleaved; policy of {POLICY_RULES} rules (the binding process decides every "
        f"privileged bind() against it).")
    binds = Table("bind", "Cost of one bind()", [BIND])
    calls = Table("syscalls", "System calls other than bind()", [GETPPID, READ])
    section.tables += [binds, calls]
    bvars = bind_variants(ctx)
    svars = syscall_variants(ctx)
    for key, label, *_ in bvars:
        binds.rows.append(Row(key, label, baseline=key == "root",
                              unavailable=ctx.unavailable.get(key)))
    for key, label, _ in svars:
        calls.rows.append(Row(key, label, baseline=key == "plain"))
    policy_files.install(ctx, POLICY_RULES)
    live = [v for v in bvars if binds.row(v[0]).unavailable is None]
    for rep in range(s.reps):
        for i in range(len(live)):
            key, _, user, argv, count = live[(rep + i) % len(live)]
            row = binds.row(key)
            if row.failed:
                continue
            try:
                row.add(BIND.key, run_binds(ctx, user, argv, count))
            except HarnessError as e:
                row.failed = str(e)
        for i in range(len(svars)):
            key, _, argv = svars[(rep + i) % len(svars)]
            row = calls.row(key)
            if row.failed:
                continue
            try:
                getppid, read = run_syscalls(ctx, argv)
            except HarnessError as e:
                row.failed = str(e)
                continue
            row.add(GETPPID.key, getppid)
            row.add(READ.key, read)
    findings(section)
    return section


def findings(section: Section) -> None:
    binds = section.table("bind")
    d = binds.row("default")
    if d.measured():
        section.findings.append(
            f"One intercepted and performed bind() takes {d.median(BIND.key):.1f} µs in the "
            f"app (median), against {binds.row('root').median(BIND.key) or float('nan'):.1f} µs "
            f"for root's own bind().")
    calls = section.table("syscalls")
    f = calls.row("default")
    ratio = calls.ratio(f, GETPPID.key)
    if ratio is not None:
        section.findings.append(
            f"Under the filter, getppid() costs {ratio:.3f}× and read() "
            f"{calls.ratio(f, READ.key):.3f}× what they cost without it.")
