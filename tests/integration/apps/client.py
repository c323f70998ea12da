#!/usr/bin/python3
"""Test client: client.py [--udp] HOST PORT [TIMEOUT_SECONDS]

TCP: connects (retrying while refused, so it doubles as a readiness poll),
reads until EOF and prints what it got.  UDP: sends a datagram every 0.2 s
until an answer arrives and prints it.  Exits 1 if nothing arrived before the
deadline (default 5 s).
"""

import socket
import sys
import time


def main():
    args = sys.argv[1:]
    udp = False
    if args and args[0] == "--udp":
        udp = True
        args = args[1:]
    if len(args) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    host, port = args[0], int(args[1])
    deadline = time.monotonic() + (float(args[2]) if len(args) == 3 else 5.0)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    last = "timeout"
    while time.monotonic() < deadline:
        left = max(0.05, deadline - time.monotonic())
        try:
            if udp:
                with socket.socket(family, socket.SOCK_DGRAM) as s:
                    s.settimeout(min(0.2, left))
                    s.sendto(b"report?\n", (host, port))
                    data, _ = s.recvfrom(65535)
                    sys.stdout.write(data.decode("utf-8", "replace"))
                    return 0
            with socket.create_connection((host, port), timeout=left) as s:
                s.settimeout(left)
                chunks = []
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    chunks.append(chunk)
                data = b"".join(chunks)
                if not data:
                    last = "connection closed without data"
                    time.sleep(0.05)
                    continue
                sys.stdout.write(data.decode("utf-8", "replace"))
                return 0
        except (ConnectionRefusedError, socket.timeout, ConnectionResetError) as e:
            last = repr(e)
            if not udp:
                time.sleep(0.05)
    print("client.py: no answer from %s port %d (%s): %s"
          % (host, port, "udp" if udp else "tcp", last), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
