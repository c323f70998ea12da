// The broker's event loop: accepts peers on the listening socket, judges each request by the
// policy and the peer's kernel-provided identity, and passes the bound sockets back.
//
// MUST-list:
//  1. One thread, no fork: CAP_NET_BIND_SERVICE is raised per thread only around bind() (the
//     privileged binds of one wake-up together; bind_endpoint.h).
//  2. Non-blocking everywhere; every connection has a deadline from accept to reply and from
//     reply to the peer's close. Nothing a peer does (or fails to do) blocks another peer.
//  3. Bounded: at most kMaxConnections open, kMaxConnectionsPerUid per peer uid, one request
//     per connection of at most kMaxMessageSize bytes; descriptors a peer attaches never
//     enter the broker (requests are read without a control buffer).
//  4. Malformed input is answered with -EPROTO (or -EPROTONOSUPPORT) where possible and the
//     connection closed; nothing a peer sends can stop the loop.
//  5. Each socket handed out is created for that request and sent to that peer only; the
//     broker keeps no copy.
//  6. The policy is loaded once and replaced only by a valid one on SIGHUP; a reload that
//     fails keeps the old policy and says so.
//  7. Every grant and denial is logged (syslog authpriv, and stderr unless it is the journal)
//     with the peer's uid, pid, executable and sockets.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "launcher/broker/listener.h"
#include "policy/load.h"
#include "policy/result.h"

namespace portbind::broker {

inline constexpr std::size_t kMaxConnections = 1024;
inline constexpr std::size_t kMaxConnectionsPerUid = 128;
inline constexpr std::chrono::seconds kConnectionDeadline{2};

struct ServerConfig {
    PolicyLocation policy;
};

// Serves until SIGTERM or SIGINT (success) or an unrecoverable error of the loop itself.
// Tells systemd READY=1 once serving (sd_notify, when NOTIFY_SOCKET is set).
Status serve(Listener listener, const ServerConfig& config);

}  // namespace portbind::broker
