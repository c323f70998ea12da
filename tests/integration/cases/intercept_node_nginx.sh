#!/bin/bash
# Default mode with real servers that bind for themselves: node's http.createServer()
# .listen(443), and nginx run by the user with `listen 80` in its own configuration.
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

write_policy "permit pb_alice port 80,443"
http_get='import sys, urllib.request
r = urllib.request.urlopen(sys.argv[1], timeout=5)
print(r.status, r.read().decode().strip())'

node_app='require("http").createServer((q, r) => r.end("node-ok uid=" + process.getuid() + "\n")).listen(443)'
bg_start pb_alice node "$PB" --port 443 -- "$NODE" -e "$node_app"
assert_true "node listens on 443" wait_listen 443 tcp "$BG_LAST"
run ns_root "$PY" -c "$http_get" http://127.0.0.1:443/
assert_eq "200 node-ok uid=$(uid_of pb_alice)" "$RUN_OUT" "node answers on 443 as pb_alice (IPv4)"
run ns_root "$PY" -c "$http_get" 'http://[::1]:443/'
assert_eq "200 node-ok uid=$(uid_of pb_alice)" "$RUN_OUT" "node answers on 443 (IPv6, node binds [::])"
ns_kill_all

NGINX=/usr/sbin/nginx
if [ ! -x "$NGINX" ]; then
    ok "nginx # SKIP nginx is not installed"
    exit 0
fi
conf=$SCRATCH/shared/nginx
mkdir -p "$conf"
cat >"$conf/nginx.conf" <<NGINX_CONF
daemon off;
worker_processes 2;
pid $conf/nginx.pid;
error_log $conf/error.log;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $conf/body;
    proxy_temp_path $conf/proxy;
    fastcgi_temp_path $conf/fastcgi;
    uwsgi_temp_path $conf/uwsgi;
    scgi_temp_path $conf/scgi;
    server {
        listen 80;
        location / { return 200 "nginx-ok\n"; }
    }
}
NGINX_CONF
chown -R pb_alice "$conf"
bg_start pb_alice nginx "$PB" -- "$NGINX" -e "$conf/error.log" -c "$conf/nginx.conf"
assert_true "nginx listens on 80" wait_listen 80 tcp "$BG_LAST"
run ns_root "$PY" -c "$http_get" http://127.0.0.1:80/
assert_eq "200 nginx-ok" "$RUN_OUT" "nginx (run by pb_alice, listen 80 in its own config) answers"
workers=$(ip netns pids "$NS" | while read -r p; do
    if [ "$(readlink "/proc/$p/exe")" = "$NGINX" ]; then stat -c %U "/proc/$p"; fi
done | sort -u)
assert_eq "pb_alice" "$workers" "every nginx process runs as pb_alice"
