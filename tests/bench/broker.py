"""4. Broker: granted requests per second and p50/p99 latency of `portbind serve` with 1, 8
and 32 concurrent clients.

The broker runs as root (it keeps nothing but CAP_NET_BIND_SERVICE) on a socket in a
root-owned directory, pinned with the server side. tools/broker_load.c, built against the
libportbind installed with the portbind under test, runs the clients as threads of one
process of the benchmark user (pinned to the client CPU). Client i asks for
127.0.0.(i+1):PORT over and over, closing each socket it gets, so clients never contend
for one address and every answer should be a grant. Each run starts a fresh broker, checks
it with one grant, loads it for the warm-up, then for the measured seconds. EAGAIN answers
("too many connections, try again later") and connections the broker resets are retried
and counted, never counted as grants; their totals are reported below the table.
"""

from __future__ import annotations

import stat
import time
from pathlib import Path

import policy_files
from context import Context, HarnessError, Service
from results import Metric, Row, Section, Table

GRANTS = Metric("grants", "grants/s", higher_is_better=True)
P50 = Metric("p50", "p50 ms", higher_is_better=False)
P99 = Metric("p99", "p99 ms", higher_is_better=False)
CLIENTS = [1, 8, 32]
POLICY_RULES = 1000


def socket_path(ctx: Context) -> Path:
    assert ctx.broker_dir is not None
    return ctx.broker_dir / "portbind.sock"


def broker_argv(ctx: Context, kind: str) -> list[str]:
    """The server of a run: `portbind serve` itself, or the floor (tools/null_broker.c)."""
    sock = str(socket_path(ctx))
    if kind == "floor":
        return [str(ctx.tools["null_broker"]), sock]
    return [str(ctx.portbind), "serve", "--socket", sock]


def start(ctx: Context, limit: int, kind: str = "serve") -> Service:
    """A fresh broker, answering: HarnessError if it does not come up within 10 s."""
    sock = socket_path(ctx)
    sock.unlink(missing_ok=True)
    svc = Service(ctx, "broker", ctx.pinned(broker_argv(ctx, kind), "server"), limit)
    deadline = time.monotonic() + 10
    while True:
        try:
            if stat.S_ISSOCK(sock.stat().st_mode):
                break
        except FileNotFoundError:
            pass
        if not svc.alive():
            raise HarnessError(f"the broker exited: {svc.tail()}")
        if time.monotonic() > deadline:
            svc.stop()
            raise HarnessError(f"the broker did not create {sock} within 10 s: {svc.tail()}")
        time.sleep(0.05)
    try:
        load(ctx, 1, 0)
    except HarnessError:
        svc.stop()
        raise
    return svc


def load(ctx: Context, clients: int, seconds: int) -> dict[str, float]:
    """Runs broker_load; its counters by name."""
    argv = ctx.pinned(ctx.as_user(
        [str(ctx.tools["broker_load"]), str(clients), str(seconds), str(ctx.settings.port)],
        env={"PORTBIND_SOCKET": str(socket_path(ctx))}), "client")
    out = ctx.run(argv, seconds + 60, f"broker_load with {clients} clients")
    values = {}
    for line in out.strip().splitlines():
        name, _, value = line.partition(" ")
        values[name] = float(value)
    if set(values) != {"grants", "busy", "resets", "seconds", "p50_us", "p99_us"}:
        raise HarnessError(f"unexpected broker_load output: {out[:120]}")
    return values


def run(ctx: Context) -> Section:
    s = ctx.settings
    section = Section(
        "broker", "Broker",
        f"Granted requests per second and latency of one portbind_bind() call, with 1, 8 and "
        f"32 concurrent clients of `portbind serve` ({s.broker_seconds} s per run after a "
        f"{s.warmup_seconds} s warm-up, a fresh broker per run, {s.reps} repetitions, "
        f"interleaved; policy of {POLICY_RULES} rules). The broker runs as root with only "
        f"CAP_NET_BIND_SERVICE, on the server CPU; the clients are threads of one process of "
        f"the unprivileged user, on the client CPU, each asking for its own address "
        f"127.0.0.N:{s.port} and closing the socket at once. Each run of `portbind serve` "
        f"is followed by a run of the floor, tools/null_broker.c: a server of the same "
        f"protocol that makes only the system calls a grant needs (accept, receive, socket, "
        f"bind, listen, send the descriptor, close) and checks nothing, so it shows what any "
        f"broker could reach on this machine.")
    table = Table("broker", "Broker", [GRANTS, P50, P99])
    floor = Table("broker-floor", "Floor: a broker that only makes the system calls",
                  [GRANTS, P50, P99])
    section.tables += [table, floor]
    why = ctx.unavailable.get("broker")
    for n in CLIENTS:
        for t in (table, floor):
            t.rows.append(Row(f"clients-{n}", f"{n} concurrent client" + ("s" if n > 1 else ""),
                              baseline=n == 1, unavailable=why))
    if why:
        section.findings.append("Goal (at least 20,000 grants/s with 32 clients, p99 under "
                                f"5 ms): not evaluated ({why}).")
        return section
    policy_files.install(ctx, POLICY_RULES)
    totals = {n: {"grants": 0.0, "busy": 0.0, "resets": 0.0} for n in CLIENTS}
    limit = s.warmup_seconds + s.broker_seconds + 60
    runs = [(n, kind) for n in CLIENTS for kind in ("serve", "floor")]
    for rep in range(s.reps):
        for i in range(len(runs)):
            n, kind = runs[(2 * rep + i) % len(runs)]
            row = (table if kind == "serve" else floor).row(f"clients-{n}")
            if row.failed:
                continue
            broker = None
            try:
                broker = start(ctx, limit, kind)
                if s.warmup_seconds > 0:
                    load(ctx, n, s.warmup_seconds)
                v = load(ctx, n, s.broker_seconds)
                if not broker.alive():
                    raise HarnessError(f"the broker exited during the run: {broker.tail()}")
            except HarnessError as e:
                row.failed = str(e)
                continue
            finally:
                if broker is not None:
                    broker.stop()
            row.add(GRANTS.key, v["grants"] / v["seconds"])
            row.add(P50.key, v["p50_us"] / 1000)
            row.add(P99.key, v["p99_us"] / 1000)
            if kind == "serve":
                for k in totals[n]:
                    totals[n][k] += v[k]
    findings(section, totals)
    return section


def findings(section: Section, totals: dict[int, dict[str, float]]) -> None:
    t = section.table("broker")
    top = t.row(f"clients-{CLIENTS[-1]}")
    floor = section.table("broker-floor").row(f"clients-{CLIENTS[-1]}")
    if top.measured():
        rate, p99 = top.median(GRANTS.key), top.median(P99.key)
        met = rate is not None and p99 is not None and rate >= 20000 and p99 < 5
        section.findings.append(
            f"Goal: at least 20,000 grants/s with {CLIENTS[-1]} clients, p99 under 5 ms "
            f"(measured {rate:,.0f}/s, p99 {p99:.2f} ms): {'met' if met else 'not met'}.")
        floor_rate = floor.median(GRANTS.key) if floor.measured() else None
        if rate is not None and floor_rate:
            section.findings.append(
                f"Against the floor with {CLIENTS[-1]} clients: {floor_rate:,.0f} grants/s, p99 "
                f"{floor.median(P99.key):.2f} ms, so `portbind serve` reaches "
                f"{rate / floor_rate:.2f} of what any broker of this protocol reaches here.")
    for n, v in totals.items():
        asked = v["grants"] + v["busy"] + v["resets"]
        if asked and (v["busy"] or v["resets"]):
            section.findings.append(
                f"With {n} client{'s' if n > 1 else ''}, {v['busy']:,.0f} of {asked:,.0f} "
                f"requests were answered EAGAIN (too many connections) and {v['resets']:,.0f} "
                f"were reset by the broker; each was retried, none counted as a grant.")
