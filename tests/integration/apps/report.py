#!/usr/bin/python3
"""Socket-activated test app.

Takes the sockets passed at fd 3.. (LISTEN_FDS / LISTEN_PID / LISTEN_FDNAMES)
and serves them.  For every TCP connection it writes a report and closes the
connection; every UDP datagram is answered with the same report.

The report is a list of KEY=VALUE lines:
  env.LISTEN_FDS=...            value of each LISTEN_* variable (or <unset>)
  rawenv=NAME=VALUE             every raw LISTEN_* entry of /proc/self/environ
  env.HOME / env.USER / env.LOGNAME
  pid=...                       os.getpid()
  status.Uid=... etc.           selected /proc/self/status lines
  startfds=0,1,2,3              fds open when the app started
  startfd.N=TARGET              readlink of /proc/self/fd/N at start
  listen.N.family/type/proto/sockname/acceptconn/v6only/cloexec/nonblock
  regain.NAME=ERRNO|OK          attempts to regain privilege (in a child)
  peer=...                      the peer of this connection / datagram

Exit status: 3 if LISTEN_PID != getpid(), 4 if LISTEN_FDS is missing/invalid.
"""

import ctypes
import errno
import fcntl
import os
import selectors
import socket
import sys


def snapshot_fds():
    fds = {}
    for name in os.listdir("/proc/self/fd"):
        try:
            fds[int(name)] = os.readlink("/proc/self/fd/" + name)
        except OSError:
            pass  # the directory fd used by listdir itself
    return dict(sorted(fds.items()))


START_FDS = snapshot_fds()
PID = os.getpid()


def die(code, msg):
    if sys.stderr is not None:
        print("report.py: " + msg, file=sys.stderr)
    sys.exit(code)


if os.environ.get("LISTEN_PID") != str(PID):
    die(3, "LISTEN_PID=%r but pid is %d" % (os.environ.get("LISTEN_PID"), PID))
try:
    NFDS = int(os.environ["LISTEN_FDS"])
except (KeyError, ValueError):
    die(4, "LISTEN_FDS missing or invalid: %r" % os.environ.get("LISTEN_FDS"))
if NFDS < 1:
    die(4, "LISTEN_FDS=%d" % NFDS)

FAMILIES = {socket.AF_INET: "AF_INET", socket.AF_INET6: "AF_INET6",
            socket.AF_UNIX: "AF_UNIX"}
TYPES = {socket.SOCK_STREAM: "SOCK_STREAM", socket.SOCK_DGRAM: "SOCK_DGRAM"}
SO_DOMAIN = getattr(socket, "SO_DOMAIN", 39)
SO_PROTOCOL = getattr(socket, "SO_PROTOCOL", 38)
SO_ACCEPTCONN = getattr(socket, "SO_ACCEPTCONN", 30)


def describe_fd(fd):
    """Everything about a passed fd, read before Python touches it."""
    out = {}
    out["cloexec"] = 1 if fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC else 0
    out["nonblock"] = 1 if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_NONBLOCK else 0
    s = socket.socket(fileno=os.dup(fd))
    try:
        dom = s.getsockopt(socket.SOL_SOCKET, SO_DOMAIN)
        typ = s.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE)
        out["family"] = FAMILIES.get(dom, str(dom))
        out["type"] = TYPES.get(typ, str(typ))
        out["proto"] = s.getsockopt(socket.SOL_SOCKET, SO_PROTOCOL)
        name = s.getsockname()
        out["sockname"] = "%s,%d" % (name[0], name[1])
        out["acceptconn"] = s.getsockopt(socket.SOL_SOCKET, SO_ACCEPTCONN)
        if dom == socket.AF_INET6:
            out["v6only"] = s.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY)
        else:
            out["v6only"] = "n/a"
    finally:
        s.close()
    return out


LISTEN = {}
for fd in range(3, 3 + NFDS):
    try:
        LISTEN[fd] = describe_fd(fd)
    except OSError as e:
        LISTEN[fd] = {"error": errno.errorcode.get(e.errno, str(e.errno))}


def raw_listen_env():
    with open("/proc/self/environ", "rb") as f:
        entries = f.read().split(b"\0")
    return [e.decode("utf-8", "replace") for e in entries
            if e.startswith(b"LISTEN_")]


def status_lines():
    wanted = ("Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd",
              "CapAmb", "NoNewPrivs", "Seccomp")
    out = []
    with open("/proc/self/status") as f:
        for line in f:
            key, _, val = line.partition(":")
            if key in wanted:
                val = " ".join(val.split())
                if key == "Groups":
                    val = " ".join(str(g) for g in sorted(int(x) for x in val.split()))
                out.append("status.%s=%s" % (key, val))
    return out


def regain_attempts():
    """Try to regain privilege in a forked child; report each errno."""
    libc = ctypes.CDLL(None, use_errno=True)

    def prctl_ambient_raise():
        # PR_CAP_AMBIENT=47, PR_CAP_AMBIENT_RAISE=2, CAP_NET_BIND_SERVICE=10
        if libc.prctl(47, 2, 10, 0, 0) != 0:
            e = ctypes.get_errno()
            raise OSError(e, os.strerror(e))

    def capset_raise():
        class Hdr(ctypes.Structure):
            _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

        class Data(ctypes.Structure):
            _fields_ = [("effective", ctypes.c_uint32),
                        ("permitted", ctypes.c_uint32),
                        ("inheritable", ctypes.c_uint32)]
        hdr = Hdr(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
        data = (Data * 2)()
        data[0].effective = data[0].permitted = 1 << 10
        if libc.capset(ctypes.byref(hdr), data) != 0:
            e = ctypes.get_errno()
            raise OSError(e, os.strerror(e))

    def bind_privileged():
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        try:
            s.bind(("::", 444))
        finally:
            s.close()

    tries = [
        ("setuid0", lambda: os.setuid(0)),
        ("seteuid0", lambda: os.seteuid(0)),
        ("setresuid_e0", lambda: os.setresuid(-1, 0, -1)),
        ("setgid0", lambda: os.setgid(0)),
        ("setegid0", lambda: os.setegid(0)),
        ("setgroups0", lambda: os.setgroups([0])),
        ("capset_raise", capset_raise),
        ("ambient_raise", prctl_ambient_raise),
        ("bind444", bind_privileged),
    ]
    r, w = os.pipe()
    child = os.fork()
    if child == 0:
        try:
            os.close(r)
            lines = []
            for name, fn in tries:
                try:
                    fn()
                    lines.append("regain.%s=OK" % name)
                except OSError as e:
                    lines.append("regain.%s=%s" % (name, errno.errorcode.get(e.errno, str(e.errno))))
            os.write(w, ("\n".join(lines) + "\n").encode())
        finally:
            os._exit(0)
    os.close(w)
    data = b""
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        data += chunk
    os.close(r)
    os.waitpid(child, 0)
    return data.decode().splitlines()


def report(peer):
    lines = []
    for key in ("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "LISTEN_PIDFDID"):
        lines.append("env.%s=%s" % (key, os.environ.get(key, "<unset>")))
    for entry in raw_listen_env():
        lines.append("rawenv=" + entry)
    for key in ("HOME", "USER", "LOGNAME"):
        lines.append("env.%s=%s" % (key, os.environ.get(key, "<unset>")))
    lines.append("pid=%d" % PID)
    lines.extend(status_lines())
    lines.append("startfds=" + ",".join(str(fd) for fd in START_FDS))
    for fd, target in START_FDS.items():
        lines.append("startfd.%d=%s" % (fd, target))
    for fd, info in LISTEN.items():
        for key, val in info.items():
            lines.append("listen.%d.%s=%s" % (fd, key, val))
    lines.extend(regain_attempts())
    lines.append("peer=%s" % (peer[0],))
    lines.append("end=1")
    return ("\n".join(lines) + "\n").encode()


def main():
    sel = selectors.DefaultSelector()
    socks = []
    for fd in LISTEN:
        s = socket.socket(fileno=fd)
        socks.append(s)
        sel.register(s, selectors.EVENT_READ)
    while True:
        for key, _ in sel.select():
            s = key.fileobj
            try:
                if s.type == socket.SOCK_STREAM:
                    conn, peer = s.accept()
                    with conn:
                        conn.setblocking(True)
                        conn.sendall(report(peer))
                else:
                    _, peer = s.recvfrom(65535)
                    s.sendto(report(peer), peer)
            except (BlockingIOError, InterruptedError, ConnectionError):
                continue


if __name__ == "__main__":
    main()
