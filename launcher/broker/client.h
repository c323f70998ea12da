// The client side of the broker protocol: ask the broker at a unix socket path for bound
// sockets. Used by the launcher (`portbind --broker`) and, through a C wrapper, by
// libportbind's portbind_bind().
//
// Before anything is sent the broker is authenticated, because a fake one could hand out
// sockets connected to anywhere:
//  1. The socket's directory must be owned by root and not writable by others, so only
//     root, or a group root chose, can have put a socket there (never /tmp, never the
//     abstract namespace: paths must be absolute).
//  2. The path must be a socket, and after connect() the server's SO_PEERCRED uid must be 0
//     or the uid that owns the socket file (a broker started by systemd shows uid 0, the
//     credentials of whoever called listen(); a broker that created its own socket as a
//     dedicated user shows that user, who also owns the file).
// Then every descriptor received is checked against what was asked: a socket of the
// requested family, type and protocol, bound to the requested port (and address, if one was
// given), listening if it is a stream socket. Descriptors arrive close-on-exec.
//
// Call this only with the credentials the broker should judge: the broker decides by the
// connecting process's ids, captured at connect().
#pragma once

#include <string>
#include <vector>

#include "launcher/client/portbind.h"
#include "launcher/socket_options.h"
#include "launcher/unique_fd.h"
#include "policy/result.h"
#include "policy/socket_spec.h"

namespace portbind::broker {

inline constexpr char kDefaultSocketPath[] = PORTBIND_DEFAULT_SOCKET;

// How long connecting, sending and receiving may each take before the client gives up.
inline constexpr int kClientTimeoutSeconds = 10;

struct Exchange {
    int error = 0;                  // 0 on success, otherwise the errno that describes the failure
    std::string message;            // one line on failure
    std::vector<UniqueFd> sockets;  // on success, one per spec, in order
};

// The whole exchange; never throws except std::bad_alloc. Errors: ENAMETOOLONG, EINVAL (bad
// path or request), EPERM (the broker is not trusted), ENOENT/ECONNREFUSED (no broker),
// ETIMEDOUT, EPROTO (malformed reply), EMFILE (no room for the descriptors), or the
// broker's own answer (EACCES: denied by the policy; EADDRINUSE; ...).
Exchange exchange_with_broker(const std::string& socket_path, const std::vector<SocketSpec>& specs,
                              const SocketOptions& options);

Result<std::vector<UniqueFd>> request_sockets(const std::string& socket_path,
                                              const std::vector<SocketSpec>& specs,
                                              const SocketOptions& options);

Result<UniqueFd> request_socket(const std::string& socket_path, const SocketSpec& spec,
                                const SocketOptions& options);

}  // namespace portbind::broker
