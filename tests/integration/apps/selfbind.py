#!/usr/bin/python3
"""Test app that binds its own sockets, as unmodified servers do (portbind's default mode).

Usage: selfbind.py [OPTIONS] SOCKET...
  SOCKET = PROTO,ADDR,PORT[,dual|v6only]   e.g. tcp,::,443,dual  udp,0.0.0.0,53  tcp,::1,80
Options:
  --try          bind each SOCKET once, print "bind.N=OK|ERRNO", then exit 0 (no serving)
  --fork         bind each SOCKET in its own forked worker process (pre-forking server)
  --thread       bind each SOCKET from a new thread
  --rebind       bind, close, then bind each SOCKET again (a server restarting its listener)
  --delay S      sleep S seconds before binding
  --exit N       exit with status N after binding (no serving)

Serving: each TCP connection gets a report and is closed; each UDP datagram is answered
with the report. The report is KEY=VALUE lines like report.py's: pid, ppid, status.*
lines of /proc/self/status, and per socket bind result, sockname, acceptconn and the
result of connect() from the bound socket (a privileged source port must be unusable).
A failed bind is reported, not fatal, so the test can read the errno.
"""
import errno
import os
import selectors
import signal
import socket
import sys
import threading
import time

STATUS_KEYS = ("Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb",
               "NoNewPrivs", "Seccomp")


def errname(e):
    return errno.errorcode.get(e.errno, str(e.errno))


def make_socket(spec):
    parts = spec.split(",")
    proto, addr, port = parts[0], parts[1], int(parts[2])
    mode = parts[3] if len(parts) > 3 else ""
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    s = socket.socket(family, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0 if mode == "dual" else 1)
    return s, (addr, port)


def try_connect(s):
    if s.type != socket.SOCK_STREAM:
        return "n/a"
    try:
        s.connect(("::1" if s.family == socket.AF_INET6 else "127.0.0.1", 9))
        return "OK"
    except OSError as e:
        return errname(e)


def bind_one(spec, rebind):
    s, address = make_socket(spec)
    try:
        s.bind(address)
        if rebind:
            s.close()
            time.sleep(0.1)
            s, address = make_socket(spec)
            s.bind(address)
        return s, "OK"
    except OSError as e:
        s.close()
        return None, errname(e)


def report(results):
    lines = ["pid=%d" % os.getpid(), "ppid=%d" % os.getppid()]
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in STATUS_KEYS:
                lines.append("status.%s=%s" % (key, " ".join(value.split())))
    for i, (spec, s, result) in enumerate(results):
        lines.append("bind.%d=%s" % (i, result))
        if s is not None:
            name = s.getsockname()
            lines.append("sockname.%d=%s,%d" % (i, name[0], name[1]))
            lines.append("acceptconn.%d=%d" % (
                i, s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)))
    return lines


def serve(results, extra):
    sel = selectors.DefaultSelector()
    for _, s, _ in results:
        if s is None:
            continue
        if s.type == socket.SOCK_STREAM:
            s.listen(16)
        sel.register(s, selectors.EVENT_READ)
    if not sel.get_map():
        sys.exit(2)
    while True:
        for key, _ in sel.select():
            s = key.fileobj
            lines = report(results) + extra
            if s.type == socket.SOCK_STREAM:
                c, peer = s.accept()
                c.sendall(("\n".join(lines + ["peer=%s" % peer[0]]) + "\n").encode())
                c.close()
            else:
                _, peer = s.recvfrom(2048)
                s.sendto(("\n".join(lines + ["peer=%s" % peer[0]]) + "\n").encode(), peer)


def main():
    args = sys.argv[1:]
    opts = {"--try": False, "--fork": False, "--thread": False, "--rebind": False}
    delay, exit_code = 0.0, None
    specs = []
    while args:
        a = args.pop(0)
        if a in opts:
            opts[a] = True
        elif a == "--delay":
            delay = float(args.pop(0))
        elif a == "--exit":
            exit_code = int(args.pop(0))
        else:
            specs.append(a)
    signal.signal(signal.SIGUSR1, lambda *_: sys.exit(42))
    time.sleep(delay)
    if opts["--fork"]:
        for spec in specs:
            if os.fork() == 0:
                s, result = bind_one(spec, opts["--rebind"])
                serve([(spec, s, result)], ["worker=1"])
        while True:
            try:
                os.wait()
            except ChildProcessError:
                sys.exit(0)
    results = []
    for spec in specs:
        if opts["--thread"]:
            box = []
            t = threading.Thread(target=lambda: box.append(bind_one(spec, opts["--rebind"])))
            t.start()
            t.join()
            s, result = box[0]
        else:
            s, result = bind_one(spec, opts["--rebind"])
        results.append((spec, s, result))
    if opts["--try"]:
        for i, (_, s, result) in enumerate(results):
            print("bind.%d=%s" % (i, result))
            if s is not None:
                print("connect.%d=%s" % (i, try_connect(s)))
        sys.exit(0)
    if exit_code is not None:
        sys.exit(exit_code)
    serve(results, [])


if __name__ == "__main__":
    main()
