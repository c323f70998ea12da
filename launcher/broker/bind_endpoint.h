// The sockets of granted requests: created, bound and, for stream sockets, listening, so
// they cannot be used to connect from the privileged port.
//
// CAP_NET_BIND_SERVICE is effective only around bind(), and only for privileged ports: the
// broker binds what one wake-up of its loop granted together, raising the capability once
// for all privileged binds and doing nothing else while it is effective. Unprivileged binds
// run without it, so a port the policy judged unprivileged is never bound with it.
//
// A failure never names who holds the port (sockets.h bind_error() does): the broker sees
// more processes than its peer may (a uid-0 broker can read root's /proc/PID/fd), and a scan
// of /proc for each failed request would let any client make the broker slow.
#pragma once

#include <span>
#include <string>

#include "launcher/socket_options.h"
#include "launcher/unique_fd.h"
#include "policy/socket_spec.h"

namespace portbind::broker {

struct BoundSocket {
    UniqueFd fd;          // valid on success
    int error = 0;        // the errno on failure
    std::string message;  // one line on failure
};

// One socket a verdict granted.
struct BindJob {
    Endpoint endpoint;
    SocketOptions options;
    bool privileged = false;  // bind with CAP_NET_BIND_SERVICE (Verdict::privileged)
    BoundSocket result;       // set by bind_endpoints()
};

// Binds every job; each succeeds or fails on its own.
void bind_endpoints(std::span<BindJob> jobs);

}  // namespace portbind::broker
