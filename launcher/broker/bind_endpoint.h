// The sockets of granted requests: created, bound and, for stream sockets, listening, so
// they cannot be used to connect from the privileged port.
//
// CAP_NET_BIND_SERVICE is effective only around bind(), and only for privileged ports: the
// broker binds the requests one wake-up of its loop granted together (at most
// kMaxRequestSockets sockets, or one larger request), raising the capability once for all
// their privileged binds and making no other call while it is effective (a failed bind
// lowers it, ends its request, and raises it again for the rest). Unprivileged binds run
// after, without it, so a port the policy judged unprivileged is never bound with it.
//
// Each request succeeds or fails whole: once one of its sockets fails, its sockets are
// closed (right after the capability is lowered) and the rest of it is not bound. One
// difference from binding each request alone remains: a request that also asks for
// unprivileged ports holds its privileged ones until those are bound, so if one of them
// fails, another request of the batch may have found its privileged port taken.
//
// A failure never names who holds the port (sockets.h bind_error() does): the broker sees
// more processes than its peer may (a uid-0 broker can read root's /proc/PID/fd), and a scan
// of /proc for each failed request would let any client make the broker slow.
#pragma once

#include <cstddef>
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
    std::size_t request = 0;  // jobs of one request are adjacent and share this number
    Endpoint endpoint;
    SocketOptions options;
    bool privileged = false;  // bind with CAP_NET_BIND_SERVICE (Verdict::privileged)
    BoundSocket result;       // set by bind_endpoints(); for a failed request, only the
                              // socket that failed carries the error, the others are empty
};

// Binds every job, request by request all or nothing.
void bind_endpoints(std::span<BindJob> jobs);

}  // namespace portbind::broker
