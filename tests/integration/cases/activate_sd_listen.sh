#!/bin/bash
# libsystemd's sd_listen_fds_with_names() accepts what portbind passes:
# named sockets in --port order, default name "unknown", LISTEN_PID valid.
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

write_policy "permit pb_alice port 443"

# sd_check DESC EXPECTED_NAMES FD3_PORT FD4_PORT -- PORTBIND_PORT_ARGS...
sd_check() {
    local desc=$1 names=$2 p3=$3 p4=$4 port
    shift 5
    # sd_report exits 2 (and stops serving) unless it sees exactly these names.
    bg_start pb_alice sd "$PB" --activate "$@" -- "$APPS/sd_report" 2 "${names%%:*}" "${names#*:}"
    assert_true "$desc: both ports bound" wait_listen "$p4" tcp "$BG_LAST"
    for port in "$p3" "$p4"; do
        assert_fetch "$desc: sd_report answers on port $port" 127.0.0.1 "$port"
        local r=$REPORT
        assert_eq sd_report "$(rget "$r" runtime)" "$desc: answer from sd_report (port $port)"
        assert_eq 2 "$(rget "$r" count)" "$desc: sd_listen_fds_with_names returned 2 (port $port)"
        assert_eq "$names" "$(rget "$r" names)" "$desc: names are $names (port $port)"
        assert_eq "$p3" "$(rget "$r" fd.3.port)" "$desc: fd 3 is port $p3"
        assert_eq "$p4" "$(rget "$r" fd.4.port)" "$desc: fd 4 is port $p4"
        assert_eq 1 "$(rget "$r" fd.3.stream_listening)" "$desc: fd 3 is a listening stream socket"
        assert_eq 1 "$(rget "$r" fd.4.stream_listening)" "$desc: fd 4 is a listening stream socket"
        assert_eq "<unset>" "$(rget "$r" after.LISTEN_FDS)" "$desc: LISTEN_FDS consumed by sd_listen_fds(unset=1)"
    done
    ns_kill_all
}

sd_check "named" web:admin 443 8443 -- --port 443=web --port 8443=admin
sd_check "named, reversed order" admin:web 8443 443 -- --port 8443=admin --port 443=web
sd_check "unnamed" unknown:unknown 443 8443 -- --port 443 --port 8443

assert_not_listening 443
assert_not_listening 8443
