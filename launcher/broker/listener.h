// The broker's listening socket: one it creates at a path, or the one systemd passes by
// socket activation (LISTEN_FDS). Either way an AF_UNIX SOCK_SEQPACKET socket bound to a
// filesystem path (never the abstract namespace, which has no permissions: anyone could
// take the name first) in a directory that passes locate_socket(); the daemon refuses to
// start otherwise. Mode 0666: who gets which socket is decided per request.
#pragma once

#include <cstddef>
#include <string>

#include "launcher/unique_fd.h"
#include "policy/result.h"

namespace portbind::broker {

struct Listener {
    UniqueFd fd;
    std::string path;
};

// How many descriptors systemd passed to this process by socket activation (LISTEN_PID is
// this process and LISTEN_FDS is set), leaving the environment as it is. For main: these
// fds (3, 4, ...) must survive the closing of inherited descriptors for `portbind serve`.
std::size_t count_activation_fds();

// Takes the one socket systemd passed (it must be exactly one), checks it, and unsets
// LISTEN_FDS, LISTEN_PID and LISTEN_FDNAMES.
Result<Listener> take_activated_listener();

// Creates the socket at `path`. A stale socket left by a broker that is gone is replaced; a
// live one is refused. With `create_directory` (root) a missing last directory is created
// root-owned 0755.
Result<Listener> create_listener(const std::string& path, bool create_directory);

}  // namespace portbind::broker
