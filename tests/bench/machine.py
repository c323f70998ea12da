"""A description of the machine and the software a run measured, for the report."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path


def _first_line(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return "not installed"
    text = (done.stdout or done.stderr).strip()
    return text.splitlines()[0].strip() if text else "unknown"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return "unknown"


def _mem_total() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _package(name: str) -> str:
    return _first_line(["dpkg-query", "-W", "-f", "${Version}", name])


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def describe(portbind: Path, build_type: str) -> dict[str, str]:
    return {
        "CPU": f"{_cpu_model()}, {os.cpu_count()} CPUs (nproc)",
        "Memory": _mem_total(),
        "Kernel": platform.release(),
        "OS": _os_name(),
        "Virtualization": _first_line(["systemd-detect-virt"]),
        "Load average at start": loadavg(),
        "portbind": f"{_first_line([str(portbind), '--version'])} ({build_type})",
        "node": _first_line(["node", "--version"]),
        "wrk": _package("wrk"),
        "socat": _package("socat"),
        "authbind": _package("authbind"),
        "nftables": _package("nftables"),
        "systemd (socket-proxyd)": _package("systemd"),
        "syslog socket /dev/log": "present" if Path("/dev/log").exists() else
                                  "absent (portbind's syslog lines go nowhere)",
    }
