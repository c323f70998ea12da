"""What every benchmark section needs: the settings of this run, the programs under test,
the unprivileged benchmark user, CPU pinning, and bounded process control.

All processes run inside the benchmark's own network namespace (see netns.py), so
everything they bind is on that namespace's loopback and disappears with it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

USER_PATH = "/usr/bin:/bin"


@dataclass
class Settings:
    quick: bool
    reps: int
    port: int  # the privileged port every variant serves on
    backend_port: int  # where the app listens behind a proxy or redirect
    serve_seconds: int
    warmup_seconds: int
    connections: int
    launch_rounds: int  # spawns per command per repetition
    policy_sizes: list[int]
    bind_count: int  # bind() calls per run
    authbind_bind_count: int  # authbind forks a helper per bind(): fewer
    syscall_batches: int
    syscall_calls: int
    broker_seconds: int  # load per broker run
    server_cpu: Optional[int]
    client_cpu: Optional[int]


class HarnessError(Exception):
    """A benchmark run could not be carried out (not a slow result: a broken one)."""


@dataclass
class Context:
    settings: Settings
    scratch: Path
    portbind: Path
    policy_dir: Path
    user: str
    tools: dict[str, Path]  # compiled helpers (spawn_timer, bind_loop, syscall_loop)
    server_js: Path
    node: Path
    setcap_node: Optional[Path]  # a copy of node with cap_net_bind_service=ep, or None
    broker_dir: Optional[Path]  # root-owned 0755 directory for the broker's socket
    unavailable: dict[str, str] = field(default_factory=dict)  # variant -> reason

    # ------------------------------------------------------------ command prefixes

    def as_user(self, argv: list[str], env: Optional[dict[str, str]] = None) -> list[str]:
        """argv run as the benchmark user, with a small fixed environment (plus env)."""
        extra = [f"{k}={v}" for k, v in (env or {}).items()]
        return [
            "setpriv", f"--reuid={self.user}", f"--regid={self.user}", "--init-groups", "--",
            "env", "-i", f"PATH={USER_PATH}", "HOME=/", f"USER={self.user}",
            f"LOGNAME={self.user}", "LANG=C.UTF-8",
        ] + extra + argv

    def pinned(self, argv: list[str], role: str) -> list[str]:
        """argv pinned to the server's or the client's CPU, when pinning is on."""
        cpu = self.settings.server_cpu if role == "server" else self.settings.client_cpu
        return argv if cpu is None else ["taskset", "-c", str(cpu)] + argv

    # ------------------------------------------------------------ foreground commands

    def run(self, argv: list[str], timeout: float, what: str) -> str:
        """Runs argv to completion (bounded); returns stdout; HarnessError on any failure."""
        try:
            done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                                  text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as e:
            raise HarnessError(f"{what}: no result within {timeout:g} s") from e
        except OSError as e:
            raise HarnessError(f"{what}: {e}") from e
        if done.returncode != 0:
            detail = (done.stderr.strip() or done.stdout.strip()).splitlines()[-3:]
            raise HarnessError(f"{what}: exit status {done.returncode}: " + " / ".join(detail))
        return done.stdout


class Service:
    """A background process (a server, a proxy) in its own session, bounded by timeout(1) so
    it ends by itself even if the harness is killed. stop() ends the whole session."""

    def __init__(self, ctx: Context, name: str, argv: list[str], limit: int):
        self.name = name
        self.log = ctx.scratch / f"{name}.log"
        full = ["timeout", "-k", "2", str(limit)] + argv
        with open(self.log, "w") as log:
            self.popen = subprocess.Popen(full, stdin=subprocess.DEVNULL, stdout=log,
                                          stderr=subprocess.STDOUT, start_new_session=True)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def command_pid(self) -> int:
        """The pid of the command itself (timeout's child; taskset, setpriv and env exec in
        place, so this is the program named last in argv)."""
        for _ in range(100):
            try:
                children = Path(f"/proc/{self.popen.pid}/task/{self.popen.pid}/children")
                pids = children.read_text().split()
            except OSError:
                pids = []
            if pids:
                return int(pids[0])
            if not self.alive():
                break
            time.sleep(0.02)
        raise HarnessError(f"{self.name}: its command is not running; log: {self.tail()}")

    def tail(self) -> str:
        try:
            lines = self.log.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return " / ".join(lines[-3:]) or "(empty)"

    def stop(self) -> None:
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.popen.wait(timeout=3)
            except subprocess.TimeoutExpired:
                pass
        # Whatever is left of the session (an app that outlived its launcher).
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            self.popen.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass


def http_ok(port: int, timeout: float = 1.0) -> bool:
    """One plain HTTP/1.1 request to 127.0.0.1:port; True on a 200 answer."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
            data = b""
            while len(data) < 12:
                chunk = s.recv(256)
                if not chunk:
                    break
                data += chunk
            return data.startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def wait_http(port: int, services: list[Service], seconds: float = 15.0) -> None:
    """Waits until 127.0.0.1:port answers 200; HarnessError if a service dies or time runs
    out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if http_ok(port):
            return
        for s in services:
            if not s.alive():
                raise HarnessError(f"{s.name} exited before serving: {s.tail()}")
        time.sleep(0.05)
    raise HarnessError(f"nothing answered on port {port} within {seconds:g} s: " +
                       "; ".join(f"{s.name}: {s.tail()}" for s in services))


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def wait_port_free(ports: list[int], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if all(port_is_free(p) for p in ports):
            return
        time.sleep(0.05)
    raise HarnessError(f"ports {ports} still in use {seconds:g} s after their servers stopped")


def rss_kib(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of pid in KiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    if len(fields) != 2:
        raise HarnessError(f"/proc/{pid}/status has no VmRSS/VmHWM")
    return fields["VmRSS"], fields["VmHWM"]
