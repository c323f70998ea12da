"""Policies of a chosen size for the benchmark user, and saving/restoring whatever policy the
installation had before the run.

A policy of N rules permits the benchmark user the benchmark port with its FIRST rule; the
other N - 1 rules all fail to match the request (another user, a group the user is not in,
another port, another address, another protocol). portbind's last matching rule decides, so
it reads and checks every one of them: the worst case for a policy of that size.
Large policies are split into portbind.d/ drop-ins well below the 1 MiB per-file limit.
"""

from __future__ import annotations

import functools
import os
import shutil
from pathlib import Path

from context import Context, HarnessError

RULES_PER_FILE = 20000  # about 0.6 MiB of rules per file
SAVED = "policy-saved"


def rule_text(i: int, user: str, port: int) -> str:
    """The i-th filler rule: matches nothing the benchmark asks for."""
    shape = i % 5
    if shape == 0:
        return f"deny pbu{i} port {port}"
    if shape == 1:
        return f"permit :pbg{i} port 1-1023"
    if shape == 2:
        other = 1 + i % 1022  # 1..1022, then shifted past the benchmark port
        return f"deny {user} port {other if other < port else other + 1}"
    if shape == 3:
        return f"deny {user} port {port} addr 10.{(i >> 8) & 255}.{i & 255}.0/24"
    return f"deny {user} port {port} proto udp"


@functools.cache
def policy_files(size: int, user: str, port: int) -> list[tuple[str, str]]:
    """[(relative path, text)] for a policy of `size` rules."""
    if size < 1:
        raise ValueError("a policy needs at least the one rule that permits the benchmark")
    rules = [f"permit {user} port {port}"] + [rule_text(i, user, port) for i in range(1, size)]
    files = []
    for n, start in enumerate(range(0, size, RULES_PER_FILE)):
        name = "portbind.conf" if n == 0 else f"portbind.d/bench-{n:04d}.conf"
        header = f"# benchmark policy: {size} rules, part {n + 1}\n"
        files.append((name, header + "\n".join(rules[start:start + RULES_PER_FILE]) + "\n"))
    return files


def _write_root_file(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.chown(tmp, 0, 0)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def _clear(policy_dir: Path) -> None:
    conf = policy_dir / "portbind.conf"
    if conf.exists() or conf.is_symlink():
        conf.unlink()
    dropins = policy_dir / "portbind.d"
    if dropins.is_dir() and not dropins.is_symlink():
        for f in dropins.iterdir():
            if f.is_dir() and not f.is_symlink():
                shutil.rmtree(f)
            else:
                f.unlink()


def save(ctx: Context) -> None:
    """Copies portbind.conf and portbind.d/ aside (into the scratch directory)."""
    saved = ctx.scratch / SAVED
    saved.mkdir(mode=0o700)
    conf = ctx.policy_dir / "portbind.conf"
    if conf.is_file():
        shutil.copy2(conf, saved / "portbind.conf")
    dropins = ctx.policy_dir / "portbind.d"
    if dropins.is_dir():
        shutil.copytree(dropins, saved / "portbind.d", symlinks=True)
    else:
        dropins.mkdir(mode=0o755)
        os.chown(dropins, 0, 0)
        (saved / "no-portbind.d").touch()


def restore(ctx: Context) -> None:
    """Puts back what save() found (ownership root:root, as policy files must be)."""
    saved = ctx.scratch / SAVED
    if not saved.is_dir():
        return
    _clear(ctx.policy_dir)
    if (saved / "portbind.conf").is_file():
        shutil.copy2(saved / "portbind.conf", ctx.policy_dir / "portbind.conf")
        os.chown(ctx.policy_dir / "portbind.conf", 0, 0)
    dropins = ctx.policy_dir / "portbind.d"
    if (saved / "no-portbind.d").exists():
        shutil.rmtree(dropins, ignore_errors=True)
    elif (saved / "portbind.d").is_dir():
        for f in (saved / "portbind.d").iterdir():
            target = dropins / f.name
            if f.is_dir() and not f.is_symlink():
                shutil.copytree(f, target, symlinks=True)
            else:
                shutil.copy2(f, target, follow_symlinks=False)
            os.chown(target, 0, 0, follow_symlinks=False)


_verified: set[int] = set()


def install(ctx: Context, size: int) -> None:
    """Replaces the policy by one of `size` rules; the first time for each size, checks with
    `portbind check` (as the benchmark user) that portbind reads exactly this policy and that
    its first rule is the one that permits the request."""
    _clear(ctx.policy_dir)
    for name, text in policy_files(size, ctx.user, ctx.settings.port):
        _write_root_file(ctx.policy_dir / name, text)
    if size in _verified:
        return
    spec = f"127.0.0.1:{ctx.settings.port}"
    out = ctx.run(ctx.as_user([str(ctx.portbind), "check", spec]), 60,
                  f"portbind check {spec} with a policy of {size} rules")
    expected = f"permitted by {ctx.policy_dir / 'portbind.conf'}:2:"
    if expected not in out:
        raise HarnessError(f"portbind check does not decide by the benchmark policy's permit "
                           f"rule (expected '{expected}'); got: {out.strip()}")
    _verified.add(size)
