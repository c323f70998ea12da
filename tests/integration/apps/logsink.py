#!/usr/bin/python3
"""A syslog listener for the cases: receives datagrams on a unix socket and appends each, with
a newline, to a file.

    logsink.py SOCKET OUT READY [SECONDS]

Creates SOCKET (mode 0666), then the file READY; runs until the file READY.stop exists or
SECONDS (default 15) have passed.
"""
import os
import socket
import sys
import time

path, out, ready = sys.argv[1:4]
seconds = float(sys.argv[4]) if len(sys.argv) > 4 else 15.0
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o666)
open(ready, "w").close()
s.settimeout(0.2)
end = time.time() + seconds
with open(out, "ab", buffering=0) as f:
    while time.time() < end and not os.path.exists(ready + ".stop"):
        try:
            f.write(s.recv(4096) + b"\n")
        except socket.timeout:
            pass
