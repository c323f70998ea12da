"""5. Memory: peak resident set of portbind while it launches a command, and resident set
at rest of the processes that stay behind while an app serves (portbind's binding process,
the proxies, the broker), next to the app itself.

Launch peaks come from wait4()'s ru_maxrss (spawn_timer), which covers portbind before it
execs the command as well as its children. Resting sizes are VmRSS from /proc after the app
has answered one request, read from the process itself (found as the child of timeout(1)).
"""

from __future__ import annotations

import time

import broker
import launch
import policy_files
import serving
from context import Context, HarnessError, Service, rss_kib, wait_http, wait_port_free
from results import Metric, Row, Section, Table

PEAK = Metric("peak", "peak RSS MiB", higher_is_better=False)
REST = Metric("rest", "RSS MiB", higher_is_better=False)
LAUNCH_ROUNDS = 3
SETTLE_SECONDS = 0.5


def _mib(kib: int) -> float:
    return kib / 1024.0


def launch_rows(ctx: Context) -> list[tuple[str, str, int, list[str]]]:
    """(key, label, policy size, argv) for the launch-peak table; /bin/true first."""
    cmds = {k: (label, argv) for k, label, argv in launch.commands(ctx)}
    rows = [("true", "/bin/true", 0, cmds["true"][1])]
    for size in ctx.settings.policy_sizes:
        for key in ("activate", "default"):
            rows.append((f"{key}-{size}", f"{cmds[key][0]}, {launch.size_label(size)}", size,
                         cmds[key][1]))
    return rows


def resting(ctx: Context) -> list[tuple[str, str, int]]:
    """(key, label, policy size) of the processes measured at rest; the app first."""
    rows = [("app", "the app itself: node's http server, bound as root", 0)]
    for size in ctx.settings.policy_sizes:
        rows.append((f"binder-{size}", f"portbind's binding process (default mode), "
                     f"{launch.size_label(size)}", size))
    rows += [
        ("socat", "socat (listening parent)", 0),
        ("proxyd", "systemd-socket-proxyd (after its first connection)", 0),
        ("broker", "portbind serve (the broker, after one grant)", 0),
    ]
    return rows


def _start_and_find(ctx: Context, key: str) -> tuple[list[Service], int]:
    """Starts what the resting row `key` measures; returns the services and the pid to
    read."""
    s = ctx.settings
    if key == "app":
        svcs = serving.start_root(ctx)
        wait_http(s.port, svcs)
        return svcs, svcs[0].command_pid()
    if key.startswith("binder-"):
        svcs = serving.start_default(ctx)
        wait_http(s.port, svcs)
        return svcs, svcs[0].command_pid()  # portbind itself; the app is its child
    if key == "socat":
        svcs = serving.start_socat(ctx)
        wait_http(s.port, svcs)
        return svcs, svcs[1].command_pid()
    if key == "broker":
        svc = broker.start(ctx, 120)  # already answered one request
        return [svc], svc.command_pid()
    if key == "proxyd":
        svcs = serving.start_proxyd(ctx)
        wait_http(s.port, svcs)
        # systemd-socket-activate execs the proxy in place on the first connection.
        pid = svcs[1].command_pid()
        exe = ctx.run(["readlink", f"/proc/{pid}/exe"], 5, "readlink").strip()
        if not exe.endswith("systemd-socket-proxyd"):
            raise HarnessError(f"expected systemd-socket-proxyd at pid {pid}, found {exe}")
        return svcs, pid
    raise KeyError(key)


def measure_rest(ctx: Context, key: str) -> float:
    services: list[Service] = []
    try:
        services, pid = _start_and_find(ctx, key)
        time.sleep(SETTLE_SECONDS)
        rss, _ = rss_kib(pid)
        return _mib(rss)
    finally:
        for svc in reversed(services):
            svc.stop()
        wait_port_free([ctx.settings.port, ctx.settings.backend_port])


def _unavailable(ctx: Context, key: str) -> str | None:
    return ctx.unavailable.get(key) if key in ("socat", "proxyd", "broker") else None


def run(ctx: Context) -> Section:
    s = ctx.settings
    section = Section(
        "memory", "Memory",
        f"Peak RSS while launching /bin/true ({LAUNCH_ROUNDS} launches per repetition; the "
        f"largest ru_maxrss), and RSS at rest of each resident process {SETTLE_SECONDS:g} s "
        f"after the app answered its first request. {s.reps} repetitions, interleaved.")
    peaks = Table("peak", "Peak RSS at launch", [PEAK])
    rest = Table("rest", "RSS at rest", [REST])
    section.tables += [peaks, rest]
    lrows = launch_rows(ctx)
    for key, label, _, _ in lrows:
        peaks.rows.append(Row(key, label, baseline=key == "true"))
    rrows = resting(ctx)
    for key, label, _ in rrows:
        rest.rows.append(Row(key, label, baseline=key == "app",
                             unavailable=_unavailable(ctx, key)))
    sizes = s.policy_sizes
    live_rest = [r for r in rrows if rest.row(r[0]).unavailable is None]
    policy_files.install(ctx, sizes[0])
    broken = launch.preflight(ctx, [(r[0], r[3]) for r in lrows if r[2] in (0, sizes[0])])
    for r in lrows:
        # The same command with another policy size fails the same way.
        key = r[0].rsplit("-", 1)[0] + f"-{sizes[0]}" if r[2] else r[0]
        if key in broken:
            peaks.row(r[0]).failed = broken[key]
    live_peaks = [r for r in lrows if not peaks.row(r[0]).failed]
    for rep in range(s.reps):
        for j in range(len(sizes)):
            size = sizes[(rep + j) % len(sizes)]
            policy_files.install(ctx, size)
            block = [r for r in live_peaks if r[2] in (0, size)]
            try:
                timed = launch.spawn_timer(ctx, [r[3] for r in block], LAUNCH_ROUNDS, warmup=1)
            except HarnessError as e:
                for r in block:
                    if r[2] == size:
                        peaks.row(r[0]).failed = str(e)
                timed = []
            for r, (maxrss, _, _) in zip(block, timed):
                if r[2] == size or (r[2] == 0 and size == sizes[0]):
                    peaks.row(r[0]).add(PEAK.key, _mib(maxrss))
            for key, _, rsize in live_rest:
                if rsize != size and not (rsize == 0 and size == sizes[0]):
                    continue
                row = rest.row(key)
                if row.failed:
                    continue
                try:
                    row.add(REST.key, measure_rest(ctx, key))
                except HarnessError as e:
                    row.failed = str(e)
    return section
