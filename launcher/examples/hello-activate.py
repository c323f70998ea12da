#!/usr/bin/python3
"""A tiny web server that takes its listening socket from portbind (socket activation).

It never calls bind(): the socket arrives already bound and listening at fd 3, as
LISTEN_FDS=1 and LISTEN_PID=<this process> announce. Run it with:

    portbind --activate --port 443 -- /usr/bin/python3 hello-activate.py
"""
import http.server
import os
import pwd
import socket
import sys

SD_LISTEN_FDS_START = 3


def listen_socket():
    if os.environ.get("LISTEN_PID") != str(os.getpid()) or os.environ.get("LISTEN_FDS") != "1":
        sys.exit("hello-activate: start me through 'portbind --activate --port PORT -- ...'")
    return socket.socket(fileno=SD_LISTEN_FDS_START)


class Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        user = pwd.getpwuid(os.getuid()).pw_name
        body = f"hello from {user} (uid {os.getuid()}), served by pid {os.getpid()}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    sock = listen_socket()
    server = http.server.HTTPServer(sock.getsockname()[:2], Hello, bind_and_activate=False)
    server.socket = sock
    port = sock.getsockname()[1]
    print(f"hello-activate: serving on port {port} as {pwd.getpwuid(os.getuid()).pw_name}; "
          f"try: curl http://localhost:{port}/   (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
