// Creating, binding and listening: one syscall-level step per function.
//
// Sockets are created by the process running with the caller's uid (the kernel takes the
// socket owner from the creator's fsuid), so they are the caller's, not root's: they cannot
// join a root service's SO_REUSEPORT group and uid-based filtering sees the caller.
#pragma once

#include <cstdint>

#include "launcher/socket_options.h"
#include "launcher/unique_fd.h"
#include "policy/result.h"
#include "policy/socket_spec.h"

namespace portbind {

// Whether an AF_INET6 socket can be created at all (false on hosts booted without IPv6).
bool host_has_ipv6();

// net.ipv4.ip_unprivileged_port_start of the current network namespace; 1024 when it cannot
// be read. Only used to decide which ports need a policy rule: a port wrongly thought
// unprivileged is bound without the capability, so the kernel still refuses it.
unsigned read_unprivileged_port_start();

// A new close-on-exec socket for `endpoint` with the options applied, not yet bound.
Result<UniqueFd> open_socket(const Endpoint& endpoint, const SocketOptions& options);

// bind() alone: 0 or the errno. Nothing else happens here, because callers run it with
// CAP_NET_BIND_SERVICE effective and lower it before doing anything more.
int bind_socket(int fd, const Endpoint& endpoint);

// The message for a failed bind_socket(); "address in use" names the holder when the caller
// may see it (a /proc scan: call it only after the capability is lowered).
Error bind_error(const Endpoint& endpoint, int err);

// listen() for stream sockets; datagram sockets are left as they are.
Status start_listening(int fd, const Endpoint& endpoint, int backlog);

}  // namespace portbind
