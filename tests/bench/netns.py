"""The benchmark's private network namespace: the harness moves itself into a fresh one, so
every server, proxy and client it starts binds only that namespace's loopback, and the
namespace (with any nftables rules) vanishes when the last of them exits."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import time
from pathlib import Path

CLONE_NEWNET = 0x40000000
UNPRIVILEGED_PORT_START = Path("/proc/sys/net/ipv4/ip_unprivileged_port_start")


def _ns_id(pid: str) -> tuple[int, int]:
    st = os.stat(f"/proc/{pid}/ns/net")
    return st.st_dev, st.st_ino


def enter_fresh_namespace() -> None:
    """unshare(CLONE_NEWNET) for this (single-threaded) process, lo up, and the privileged
    port boundary pinned to 1024 and read back (container runtimes often set it to 0, which
    would make every privileged bind succeed without help)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"unshare(CLONE_NEWNET): {os.strerror(err)}")
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True, timeout=10)
    UNPRIVILEGED_PORT_START.write_text("1024\n")
    value = UNPRIVILEGED_PORT_START.read_text().strip()
    if value != "1024":
        raise OSError(f"ip_unprivileged_port_start is {value} in the namespace, not 1024")


def processes_in_namespace() -> list[int]:
    """Every other process in this process's network namespace: in a namespace of our own,
    necessarily processes this harness started (or their descendants)."""
    own = _ns_id("self")
    me = os.getpid()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            if _ns_id(entry.name) == own:
                found.append(int(entry.name))
        except OSError:
            continue  # exited meanwhile
    return found


def kill_leftovers() -> list[int]:
    """SIGKILLs whatever still runs in the namespace; returns the pids it found."""
    seen: list[int] = []
    for _ in range(10):
        pids = processes_in_namespace()
        if not pids:
            break
        for pid in pids:
            if pid not in seen:
                seen.append(pid)
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.1)
        # Reap our own children among them.
        while True:
            try:
                if os.waitpid(-1, os.WNOHANG)[0] == 0:
                    break
            except ChildProcessError:
                break
    return seen
