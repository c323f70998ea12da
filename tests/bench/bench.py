#!/usr/bin/python3
"""portbind benchmarks: portbind against what users would pick instead, side by side, in one
run. See tests/bench/README.md.

    sudo tests/bench/bench.py [--quick] [--reps N] [--out DIR] [--publish] ...

As root it installs the Debian packages it needs (wrk, socat, authbind, nftables,
gnuplot-nox), builds portbind (RelWithDebInfo) and installs it under /opt/portbind-bench
with cap_net_bind_service=p and its policy in /opt/portbind-bench/etc, creates the
unprivileged user pb_bench, moves itself into a fresh network namespace, and runs every
comparison interleaved and repeated. It writes results.md (tables), results.json (every
sample) and results.png (chart) to the output directory. Everything it starts is bounded in
time and killed at the end; the user, the authbind permission file and the policy it
replaced are put back as they were. Exit status: 0, 1 if any measurement failed, 2 on bad
usage, 77 when not root.
"""

from __future__ import annotations

import argparse
import datetime
import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree

import broker  # noqa: E402
import chart  # noqa: E402
import intercept  # noqa: E402
import launch  # noqa: E402
import machine  # noqa: E402
import memory  # noqa: E402
import netns  # noqa: E402
import policy_files  # noqa: E402
import report  # noqa: E402
import serving  # noqa: E402
from context import Context, HarnessError, Settings  # noqa: E402
from results import Section, to_json  # noqa: E402

SOURCE = HERE.parent.parent
PACKAGES = ["wrk", "socat", "authbind", "nftables", "gnuplot-nox"]
SECTIONS = {
    "serving": serving.run,
    "launch": launch.run,
    "intercept": intercept.run,
    "broker": broker.run,
    "memory": memory.run,
}
USER = "pb_bench"
PROXYD = Path("/lib/systemd/systemd-socket-proxyd")
AUTHBIND_BYPORT = Path("/etc/authbind/byport")
README = HERE / "README.md"
PUBLISHED_PNG = "performance.png"
BEGIN, END = "<!-- results begin -->", "<!-- results end -->"
LOCK = "/run/portbind-bench.lock"


def log(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="bench.py", description="portbind against the alternatives, side by side.")
    p.add_argument("--quick", action="store_true",
                   help="smoke mode: every comparison, 2 repetitions of about a second each")
    p.add_argument("--reps", type=int, help="repetitions (default 5, quick 2)")
    p.add_argument("--only", help="comma-separated sections: " + ",".join(SECTIONS))
    p.add_argument("--out", type=Path, help="output directory (default build/bench/results)")
    p.add_argument("--no-install", action="store_true",
                   help="do not apt-get install; missing tools make their rows 'not measured'")
    p.add_argument("--build-dir", type=Path, default=SOURCE / "build" / "bench",
                   help="where portbind is built (default build/bench)")
    p.add_argument("--prefix", type=Path, default=Path("/opt/portbind-bench"),
                   help="where portbind is installed; its policy is PREFIX/etc")
    p.add_argument("--portbind", type=Path,
                   help="use this installed portbind instead of building (needs --policy-dir)")
    p.add_argument("--policy-dir", type=Path,
                   help="the policy directory --portbind was built for; its contents are "
                        "saved and restored")
    p.add_argument("--port", type=int, default=443, help="privileged port (default 443)")
    p.add_argument("--no-pin", action="store_true", help="do not pin server and wrk to CPUs")
    p.add_argument("--scratch-root", type=Path, default=Path("/var/tmp"),
                   help="parent of the temporary directory (must allow file capabilities)")
    p.add_argument("--publish", action="store_true",
                   help="copy the table into tests/bench/README.md and the chart to "
                        f"tests/bench/{PUBLISHED_PNG} (only if nothing failed)")
    args = p.parse_args()
    if (args.portbind is None) != (args.policy_dir is None):
        p.error("--portbind and --policy-dir go together")
    if not 1 <= args.port <= 1023:
        p.error("--port must be a privileged port (1-1023)")
    if args.reps is not None and args.reps < 1:
        p.error("--reps must be at least 1")
    if args.only:
        unknown = set(args.only.split(",")) - set(SECTIONS)
        if unknown:
            p.error(f"unknown sections: {', '.join(sorted(unknown))}")
    return args


def settings_for(args: argparse.Namespace) -> Settings:
    cpus = sorted(os.sched_getaffinity(0))
    pin = not args.no_pin and len(cpus) >= 2
    q = args.quick
    return Settings(
        quick=q, reps=args.reps or (2 if q else 5), port=args.port, backend_port=8080,
        serve_seconds=1 if q else 10, warmup_seconds=1 if q else 3, connections=32,
        launch_rounds=5 if q else 40, policy_sizes=[1, 1000, 100000],
        bind_count=50 if q else 2000, authbind_bind_count=10 if q else 200,
        syscall_batches=3 if q else 20, syscall_calls=10000 if q else 100000,
        broker_seconds=1 if q else 5,
        server_cpu=cpus[-1] if pin else None, client_cpu=cpus[0] if pin else None)


# ------------------------------------------------------------------- preparation


def run_checked(argv: list[str], what: str, timeout: float = 3600) -> None:
    log(what)
    done = subprocess.run(argv, timeout=timeout, check=False,
                          env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    if done.returncode != 0:
        raise HarnessError(f"{what} failed (exit status {done.returncode})")


def install_packages() -> None:
    missing = [p for p in PACKAGES
               if subprocess.run(["dpkg-query", "-W", "-f", "${Status}", p],
                                 capture_output=True, text=True).stdout != "install ok installed"]
    if not missing:
        return
    cmd = ["apt-get", "install", "-y", "--no-install-recommends"] + missing
    try:
        run_checked(cmd, "installing " + " ".join(missing))
    except HarnessError:
        run_checked(["apt-get", "update"], "apt-get update")
        run_checked(cmd, "installing " + " ".join(missing))


def build_and_install(args: argparse.Namespace) -> tuple[Path, Path]:
    prefix = args.prefix.resolve()
    etc = prefix / "etc"
    run_checked(["cmake", "-S", str(SOURCE), "-B", str(args.build_dir),
                 "-DCMAKE_BUILD_TYPE=RelWithDebInfo", "-DBUILD_TESTING=OFF",
                 f"-DCMAKE_INSTALL_PREFIX={prefix}", f"-DCMAKE_INSTALL_SYSCONFDIR={etc}"],
                "configuring portbind (RelWithDebInfo)")
    run_checked(["cmake", "--build", str(args.build_dir), f"-j{os.cpu_count() or 1}"],
                "building portbind")
    run_checked(["cmake", "--install", str(args.build_dir)], f"installing into {prefix}")
    for d in [prefix, etc, etc / "portbind.d"]:
        d.mkdir(mode=0o755, exist_ok=True)
    for d in [prefix] + [p for p in prefix.rglob("*") if p.is_dir()]:
        os.chown(d, 0, 0)
        os.chmod(d, 0o755)
    binary = prefix / "bin" / "portbind"
    caps = subprocess.run(["getcap", str(binary)], capture_output=True, text=True).stdout
    if "cap_net_bind_service=p" not in caps:
        raise HarnessError(f"{binary} lacks the file capability cap_net_bind_service=p "
                           f"(getcap: '{caps.strip()}'); is {prefix} on a nosuid mount?")
    return binary, etc


def libportbind_flags(portbind: Path) -> list[str] | None:
    """Compiler flags for the libportbind installed with `portbind` (same prefix, never
    another copy on the system), with an rpath to it; None when there is none."""
    prefix = portbind.resolve().parent.parent
    dirs = [str(d) for d in sorted(prefix.glob("lib*/pkgconfig")) +
            sorted(prefix.glob("lib*/*/pkgconfig"))]
    if not dirs:
        return None
    env = dict(os.environ, PKG_CONFIG_LIBDIR=":".join(dirs), PKG_CONFIG_PATH="")
    flags, libdir = (subprocess.run(["pkg-config", *args, "portbind"], capture_output=True,
                                    text=True, env=env, check=False)
                     for args in (["--cflags", "--libs"], ["--variable=libdir"]))
    if flags.returncode != 0 or libdir.returncode != 0:
        return None
    return flags.stdout.split() + [f"-Wl,-rpath,{libdir.stdout.strip()}", "-pthread"]


# Tools that need more than libc: their extra flags, or why they cannot be built.
def tool_flags(name: str, portbind: Path) -> list[str] | str:
    if name == "broker_load":
        flags = libportbind_flags(portbind)
        return flags if flags is not None else (
            f"broker not built (no libportbind installed next to {portbind})")
    if name == "exec_only":
        return ["-static"]  # the floor is the cheapest program start: no dynamic loader
    return []


def compile_tools(scratch: Path, portbind: Path,
                  unavailable: dict[str, str]) -> dict[str, Path]:
    if shutil.which("cc") is None:
        raise HarnessError("no C compiler (cc); install build-essential")
    bindir = scratch / "bin"
    bindir.mkdir(mode=0o755)
    tools = {}
    for src in sorted((HERE / "tools").glob("*.c")):
        out = bindir / src.stem
        flags = tool_flags(src.stem, portbind)
        if isinstance(flags, str):
            unavailable.setdefault(src.stem, flags)
            continue
        done = subprocess.run(["cc", "-O2", "-Wall", "-Wextra", "-o", str(out), str(src)] +
                              flags, capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            raise HarnessError(f"cannot compile {src.name}: {done.stderr.strip()}")
        os.chmod(out, 0o755)
        tools[src.stem] = out
    return tools


def broker_unavailable(portbind: Path) -> str | None:
    """Why the broker cannot be measured with this portbind, or None."""
    done = subprocess.run([str(portbind), "serve", "--help"], capture_output=True, text=True,
                          timeout=10, check=False)
    if done.returncode != 0 or "--socket" not in done.stdout:
        return f"broker not built ({portbind} has no 'serve' command)"
    return None


def mount_allows_caps(path: Path) -> bool:
    opts = subprocess.run(["findmnt", "-no", "OPTIONS", "-T", str(path)], capture_output=True,
                          text=True).stdout.strip()
    return bool(opts) and "nosuid" not in opts.split(",")


class Environment:
    """The system changes a run makes (user, authbind permission, policy, scratch) and
    their undoing."""

    def __init__(self) -> None:
        self.created_user = False
        self.authbind_file: Path | None = None
        self.ctx: Context | None = None
        self.scratch: Path | None = None
        self.broker_dir: Path | None = None

    def ensure_user(self) -> None:
        if subprocess.run(["getent", "passwd", USER], capture_output=True).returncode != 0:
            run_checked(["useradd", "-M", "-d", "/nonexistent", "-s", "/usr/sbin/nologin",
                         "-U", USER], f"creating the benchmark user {USER}")
            self.created_user = True

    def grant_authbind(self, port: int) -> str | None:
        """Creates authbind's permission for USER on port; returns why not, if it cannot."""
        if shutil.which("authbind") is None or not Path("/usr/lib/authbind/helper").exists():
            return "authbind not installed"
        f = AUTHBIND_BYPORT / str(port)
        if f.exists() or f.is_symlink():
            return f"{f} already exists; left untouched (choose another --port)"
        f.touch(mode=0o500)
        self.authbind_file = f
        shutil.chown(f, USER, USER)
        os.chmod(f, 0o500)
        return None

    def undo(self) -> None:
        left = netns.kill_leftovers()
        if left:
            log(f"killed {len(left)} leftover process(es) in the benchmark namespace")
        if self.ctx is not None:
            policy_files.restore(self.ctx)
        if self.authbind_file is not None:
            self.authbind_file.unlink(missing_ok=True)
        if self.created_user:
            subprocess.run(["userdel", USER], capture_output=True, timeout=30)
        for d in (self.scratch, self.broker_dir):
            if d is not None:
                shutil.rmtree(d, ignore_errors=True)


def prepare(args: argparse.Namespace, env: Environment, portbind: Path,
            policy_dir: Path) -> Context:
    settings = settings_for(args)
    node = shutil.which("node")
    if node is None:
        raise HarnessError("node is not installed (Debian package nodejs)")
    env.scratch = Path(tempfile.mkdtemp(prefix="portbind-bench.", dir=args.scratch_root))
    os.chmod(env.scratch, 0o755)
    env.ensure_user()
    unavailable: dict[str, str] = {}
    for tool, key, pkg in [("wrk", "wrk", "wrk"), ("socat", "socat", "socat"),
                           ("nft", "nft", "nftables")]:
        if shutil.which(tool) is None:
            unavailable[key] = f"{tool} not installed (Debian package {pkg})"
    if shutil.which("systemd-socket-activate") is None or not PROXYD.exists():
        unavailable["proxyd"] = "systemd-socket-activate or systemd-socket-proxyd not installed"
    why = env.grant_authbind(settings.port)
    if why:
        unavailable["authbind"] = why
    server_js = env.scratch / "server.js"
    shutil.copyfile(HERE / "apps" / "server.js", server_js)
    os.chmod(server_js, 0o644)
    setcap_node = None
    if not mount_allows_caps(env.scratch):
        unavailable["setcap"] = f"{args.scratch_root} is on a nosuid mount"
    else:
        setcap_node = env.scratch / "node-setcap"
        shutil.copyfile(node, setcap_node)
        os.chmod(setcap_node, 0o755)
        done = subprocess.run(["setcap", "cap_net_bind_service=ep", str(setcap_node)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            unavailable["setcap"] = "setcap failed: " + done.stderr.strip()
            setcap_node = None
    why = broker_unavailable(portbind)
    if why:
        unavailable["broker"] = why
    # The broker refuses a socket directory with a group/other-writable ancestor (/var/tmp).
    env.broker_dir = Path(tempfile.mkdtemp(prefix="portbind-bench.", dir="/run"))
    os.chmod(env.broker_dir, 0o755)
    tools = compile_tools(env.scratch, portbind, unavailable)
    if "broker" not in unavailable and "broker_load" in unavailable:
        unavailable["broker"] = unavailable["broker_load"]
    ctx = Context(settings=settings, scratch=env.scratch, portbind=portbind,
                  policy_dir=policy_dir, user=USER, tools=tools, server_js=server_js,
                  node=Path(node), setcap_node=setcap_node, broker_dir=env.broker_dir,
                  unavailable=unavailable)
    policy_files.save(ctx)
    env.ctx = ctx
    return ctx


def check_namespace(ctx: Context) -> None:
    """The benchmark is only meaningful if the user cannot bind the port unaided."""
    probe = ctx.as_user([str(ctx.tools["bind_loop"]), "127.0.0.1", str(ctx.settings.port), "1"])
    done = subprocess.run(probe, capture_output=True, text=True, timeout=30)
    if done.returncode == 0:
        raise HarnessError(f"{ctx.user} can bind port {ctx.settings.port} without help in the "
                           "benchmark namespace; the comparison would be meaningless")
    if "nft" not in ctx.unavailable:
        table = "portbind_bench_probe"
        try:
            ctx.run(["nft", f"add table ip {table}"], 10, "nft add table")
            ctx.run(["nft", f"add chain ip {table} output "
                     "{ type nat hook output priority -100; }"], 10, "nft nat chain")
        except HarnessError as e:
            ctx.unavailable["nft"] = f"nftables NAT is not available here ({e})"
        subprocess.run(["nft", "delete", "table", "ip", table], capture_output=True, timeout=10)


# ------------------------------------------------------------------- output


def publish(out: Path, markdown: str, png: Path | None) -> None:
    text = README.read_text()
    if BEGIN not in text or END not in text:
        raise HarnessError(f"{README} has no {BEGIN} ... {END} markers")
    body = markdown.replace("(results.png)", f"({PUBLISHED_PNG})")
    body = re.sub(r"^# .*\n\n", "", body, count=1)
    body = re.sub(r"^(#+) ", lambda m: "#" + m.group(1) + " ", body, flags=re.M)
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    README.write_text(head + BEGIN + "\n\n" + body.strip() + "\n\n" + END + tail)
    if png is not None:
        shutil.copyfile(png, HERE / PUBLISHED_PNG)
    log(f"published into {README}" + (f" and {HERE / PUBLISHED_PNG}" if png else ""))


def write_outputs(args: argparse.Namespace, out: Path, sections: list[Section],
                  machine_info: dict[str, str], run_info: dict[str, str],
                  settings: Settings) -> bool:
    out.mkdir(parents=True, exist_ok=True)
    png = out / "results.png"
    png.unlink(missing_ok=True)
    no_chart = chart.draw(sections, settings.policy_sizes, png)
    if no_chart:
        run_info["Chart"] = "not produced: " + no_chart
    markdown = report.render(sections, machine_info, run_info,
                             None if no_chart else "results.png")
    (out / "results.md").write_text(markdown + "\n")
    (out / "results.json").write_text(json.dumps({
        "run": run_info, "machine": machine_info, "settings": settings.__dict__,
        "sections": to_json(sections)}, indent=1, ensure_ascii=False) + "\n")
    log(f"wrote {out / 'results.md'}, results.json" + ("" if no_chart else ", results.png"))
    failed = any(s.failed() for s in sections)
    if args.publish:
        if failed:
            log("not publishing: some measurements failed")
        else:
            publish(out, markdown, None if no_chart else png)
    return not failed


def _terminated(signum: int, _frame: object) -> None:
    # Unwind through every finally: (so the run's system changes are undone), past the
    # per-section error handling, which only catches Exception.
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGTERM, _terminated)
    if os.geteuid() != 0:
        print("bench: needs root (it installs portbind with a file capability, creates a "
              "user and a network namespace); skipped", file=sys.stderr)
        return 77
    os.umask(0o022)
    # One run at a time: runs share the benchmark user and the authbind permission file.
    lock = open(LOCK, "w")  # held until the process exits
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise HarnessError(f"another benchmark run holds {LOCK}") from None
    started = time.monotonic()
    out = (args.out or args.build_dir / "results").resolve()
    if not args.no_install:
        install_packages()
    if args.portbind is not None:
        portbind, policy_dir, build_type = args.portbind, args.policy_dir, "as installed"
    else:
        portbind, policy_dir = build_and_install(args)
        build_type = "RelWithDebInfo"
    settings = settings_for(args)
    machine_info = machine.describe(portbind, build_type)
    only = set(args.only.split(",")) if args.only else set(SECTIONS)
    wanted = [name for name in SECTIONS if name in only]
    env = Environment()
    sections: list[Section] = []
    try:
        ctx = prepare(args, env, portbind, policy_dir)
        netns.enter_fresh_namespace()
        check_namespace(ctx)
        for name in wanted:
            log(f"measuring: {name}")
            t0 = time.monotonic()
            try:
                sections.append(SECTIONS[name](ctx))
                log(f"{name}: {time.monotonic() - t0:.0f} s")
            except Exception as e:  # a broken section must not hide the others' results
                s = Section(name, name, "")
                s.error = f"{type(e).__name__}: {e}"
                traceback.print_exc()
                sections.append(s)
    finally:
        env.undo()
    pin = ("no" if settings.server_cpu is None else
           f"server side on CPU {settings.server_cpu}, wrk on CPU {settings.client_cpu}")
    run_info = {
        "Date (UTC)": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
        "Command": "sudo tests/bench/bench.py " + " ".join(sys.argv[1:]),
        "Mode": "quick (smoke)" if settings.quick else "full",
        "Repetitions": str(settings.reps),
        "CPU pinning": pin,
        "Duration": f"{(time.monotonic() - started) / 60:.1f} min",
        "Load average at end": machine.loadavg(),
    }
    ok = write_outputs(args, out, sections, machine_info, run_info, settings)
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except HarnessError as e:
        log(str(e))
        sys.exit(1)
    except KeyboardInterrupt as e:
        log(f"interrupted ({e or 'SIGINT'}); the run's system changes were undone")
        sys.exit(130)
