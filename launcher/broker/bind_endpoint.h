// One socket for a broker peer: created, bound (with CAP_NET_BIND_SERVICE effective only
// around bind(), and only for a privileged port) and, for stream sockets, listening, so it
// cannot be used to connect from the privileged port.
//
// A failure never names who holds the port (sockets.h bind_error() does): the broker sees
// more processes than its peer may (a uid-0 broker can read root's /proc/PID/fd), and a scan
// of /proc for each failed request would let any client make the broker slow.
#pragma once

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

BoundSocket bind_endpoint(const Endpoint& endpoint, const SocketOptions& options, bool privileged);

}  // namespace portbind::broker
