"""1. Serving throughput and p99 latency: the same node http server reached on the
privileged port in every way a user might arrange it, loaded by wrk over loopback.

Every variant runs once per repetition, in an order rotated from one repetition to the next
(A B C ... then B C ... A), each on a freshly started server that is warmed up with an
unrecorded wrk run first. The server side (app, proxy, portbind) is pinned to one CPU and
wrk to the other, so a proxy's work competes with the app for the server's CPU as it would
on a real host.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from typing import Callable, Optional

import policy_files
from context import Context, HarnessError, Service, wait_http, wait_port_free
from results import Metric, Row, Section, Table

RPS = Metric("rps", "requests/s", higher_is_better=True)
P99 = Metric("p99", "p99 ms", higher_is_better=False)
POLICY_RULES = 1000


@dataclass
class Variant:
    key: str
    label: str
    start: Callable[[Context], list[Service]]
    teardown: Optional[Callable[[Context], None]] = None


def _limit(ctx: Context) -> int:
    s = ctx.settings
    return s.warmup_seconds + s.serve_seconds + 60


def _app(ctx: Context, name: str, port: int, user: bool, node: Optional[str] = None,
         launcher: Optional[list[str]] = None) -> Service:
    argv = (launcher or []) + [node or str(ctx.node), str(ctx.server_js), "--port", str(port)]
    argv = ctx.as_user(argv) if user else argv
    return Service(ctx, name, ctx.pinned(argv, "server"), _limit(ctx))


def start_root(ctx: Context) -> list[Service]:
    return [_app(ctx, "root-node", ctx.settings.port, user=False)]


def start_setcap(ctx: Context) -> list[Service]:
    return [_app(ctx, "setcap-node", ctx.settings.port, user=True, node=str(ctx.setcap_node))]


def start_activate(ctx: Context) -> list[Service]:
    p = ctx.settings.port
    argv = ctx.as_user([str(ctx.portbind), "--activate", "--port", f"127.0.0.1:{p}", "--",
                        str(ctx.node), str(ctx.server_js), "--fd", "3"])
    return [Service(ctx, "portbind-activate", ctx.pinned(argv, "server"), _limit(ctx))]


def start_default(ctx: Context) -> list[Service]:
    p = ctx.settings.port
    launcher = [str(ctx.portbind), "--port", f"127.0.0.1:{p}", "--"]
    return [_app(ctx, "portbind-default", p, user=True, launcher=launcher)]


def start_authbind(ctx: Context) -> list[Service]:
    return [_app(ctx, "authbind", ctx.settings.port, user=True, launcher=["/usr/bin/authbind"])]


def _backend(ctx: Context) -> Service:
    return _app(ctx, "backend-node", ctx.settings.backend_port, user=True)


def start_socat(ctx: Context) -> list[Service]:
    s = ctx.settings
    back = _backend(ctx)
    front = Service(ctx, "socat", ctx.pinned([
        "socat", f"TCP-LISTEN:{s.port},bind=127.0.0.1,reuseaddr,fork,backlog=4096",
        f"TCP:127.0.0.1:{s.backend_port}"
    ], "server"), _limit(ctx))
    return [back, front]


def start_proxyd(ctx: Context) -> list[Service]:
    # systemd-socket-proxyd needs an activated socket: systemd-socket-activate (what a
    # .socket unit does) binds the port as root and starts the proxy on the first connection.
    s = ctx.settings
    back = _backend(ctx)
    front = Service(ctx, "socket-proxyd", ctx.pinned([
        "systemd-socket-activate", "-l", f"127.0.0.1:{s.port}",
        "/lib/systemd/systemd-socket-proxyd", f"127.0.0.1:{s.backend_port}"
    ], "server"), _limit(ctx))
    return [back, front]


NFT_TABLE = "portbind_bench"


def start_nft(ctx: Context) -> list[Service]:
    s = ctx.settings
    # Loopback traffic never passes prerouting: redirect in the nat output hook.
    ctx.run(["nft", f"add table ip {NFT_TABLE}"], 10, "nft add table")
    ctx.run(["nft", f"add chain ip {NFT_TABLE} output "
             "{ type nat hook output priority -100; policy accept; }"], 10, "nft add chain")
    ctx.run(["nft", f"add rule ip {NFT_TABLE} output ip daddr 127.0.0.1 tcp dport {s.port} "
             f"redirect to :{s.backend_port}"], 10, "nft add rule")
    return [_backend(ctx)]


def stop_nft(ctx: Context) -> None:
    subprocess.run(["nft", "delete", "table", "ip", NFT_TABLE], capture_output=True, timeout=10)


VARIANTS = [
    Variant("root", "node bound as root", start_root),
    Variant("activate", "portbind --activate", start_activate),
    Variant("default", "portbind (default mode)", start_default),
    Variant("setcap", "setcap cap_net_bind_service on a copy of node", start_setcap),
    Variant("authbind", "authbind", start_authbind),
    Variant("socat", "socat in front of the app on a high port", start_socat),
    Variant("proxyd", "systemd-socket-proxyd in front (systemd-socket-activate)", start_proxyd),
    Variant("nft", "nftables redirect to the app's high port", start_nft, stop_nft),
]

_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def parse_wrk(out: str) -> tuple[float, float]:
    """(requests/s, p99 latency in ms) from `wrk --latency`; HarnessError if the run had
    errors or non-2xx answers (a broken path must not pass for a slow one)."""
    rps = re.search(r"^Requests/sec:\s+([0-9.]+)\s*$", out, re.M)
    p99 = re.search(r"^\s+99%\s+([0-9.]+)(us|ms|s)\s*$", out, re.M)
    if not rps or not p99:
        raise HarnessError("unexpected wrk output: " + " / ".join(out.strip().splitlines()[-4:]))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if bad:
        raise HarnessError(f"wrk got {bad.group(1)} non-2xx answers")
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       out)
    if errors and any(int(n) for n in errors.groups()):
        raise HarnessError("wrk socket errors: " + errors.group(0))
    return float(rps.group(1)), float(p99.group(1)) * _UNIT_MS[p99.group(2)]


def wrk(ctx: Context, seconds: int) -> str:
    s = ctx.settings
    argv = ctx.pinned(["wrk", "-t1", f"-c{s.connections}", f"-d{seconds}s", "--latency",
                       f"http://127.0.0.1:{s.port}/"], "client")
    return ctx.run(argv, seconds + 30, "wrk")


def measure_once(ctx: Context, v: Variant) -> tuple[float, float]:
    s = ctx.settings
    services: list[Service] = []
    try:
        services = v.start(ctx)
        wait_http(s.port, services)
        if s.warmup_seconds > 0:
            wrk(ctx, s.warmup_seconds)
        result = parse_wrk(wrk(ctx, s.serve_seconds))
        for svc in services:
            if not svc.alive():
                raise HarnessError(f"{svc.name} exited during the run: {svc.tail()}")
        return result
    finally:
        for svc in reversed(services):
            svc.stop()
        if v.teardown:
            v.teardown(ctx)
        wait_port_free([s.port, s.backend_port])


def unavailable(ctx: Context, key: str) -> Optional[str]:
    if key in ctx.unavailable:
        return ctx.unavailable[key]
    if "wrk" in ctx.unavailable:
        return ctx.unavailable["wrk"]
    return None


def run(ctx: Context) -> Section:
    s = ctx.settings
    section = Section(
        "serving", "Serving throughput and p99 latency",
        f"wrk -t1 -c{s.connections} -d{s.serve_seconds}s --latency against node's http server "
        f"on 127.0.0.1:{s.port} (one small response per request, keep-alive), after a "
        f"{s.warmup_seconds} s warm-up; {s.reps} repetitions, variants interleaved. Proxies "
        f"and the redirect forward to the same app on port {s.backend_port}. portbind runs "
        f"with a policy of {POLICY_RULES} rules.")
    table = Table("serving", "Serving", [RPS, P99])
    section.tables.append(table)
    for v in VARIANTS:
        table.rows.append(Row(v.key, v.label, baseline=v.key == "root",
                              unavailable=unavailable(ctx, v.key)))
    live = [v for v in VARIANTS if table.row(v.key).unavailable is None]
    if not live:
        return section
    policy_files.install(ctx, POLICY_RULES)
    for rep in range(s.reps):
        for i in range(len(live)):
            v = live[(rep + i) % len(live)]
            row = table.row(v.key)
            if row.failed:
                continue
            try:
                rps, p99 = measure_once(ctx, v)
            except HarnessError as e:
                row.failed = str(e)
                continue
            row.add(RPS.key, rps)
            row.add(P99.key, p99)
    findings(section)
    return section


def findings(section: Section) -> None:
    t = section.table("serving")
    ratios = {r.key: t.ratio(r, RPS.key) for r in t.rows}
    pb = [ratios.get("activate"), ratios.get("default")]
    proxies = {k: ratios.get(k) for k in ("socat", "proxyd", "nft")}
    if any(r is None for r in pb):
        section.findings.append("Goal (both portbind modes at least 0.98 of the baseline's "
                                "throughput, ahead of every proxy): not evaluated, a row is "
                                "missing.")
        return
    section.findings.append(
        f"The default mode's bind() filter under load: its throughput is "
        f"{pb[1] / pb[0]:.3f}× that of --activate, which has no filter.")
    measured_proxies = {k: r for k, r in proxies.items() if r is not None}
    met_floor = all(r >= 0.98 for r in pb)
    ahead = all(min(pb) > r for r in measured_proxies.values())
    section.findings.append(
        f"Goal: both portbind modes at least 0.98 of the baseline's throughput "
        f"(measured {pb[0]:.3f} and {pb[1]:.3f}): {'met' if met_floor else 'not met'}; "
        f"ahead of every proxy measured ({', '.join(sorted(measured_proxies)) or 'none'}): "
        f"{'met' if ahead and measured_proxies else 'not met'}.")
