// Who holds a port: sockets from /proc/net, owners from /proc/<pid>/fd.
//
// Shows only what the caller could see anyway: /proc/net lists every socket with its owner
// uid, but a socket's process is found only when the caller may read that process's fd
// directory (its own processes, or every process for root).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "launcher/proc_net.h"

namespace portbind {

struct PortHolder {
    SocketEntry socket;
    std::vector<pid_t> pids;            // empty when not visible to the caller
    std::vector<std::string> commands;  // parallel to pids
    std::string user;                   // owner name, or the uid in decimal
};

// Listening TCP and bound UDP sockets, optionally only those on `port` (and `proto`).
std::vector<PortHolder> find_port_holders(std::optional<std::uint16_t> port,
                                          std::optional<Proto> proto);

// "pid 1234 (nginx), user www-data" for the holders of `port`/`proto`; empty if none.
std::string describe_port_holders(std::uint16_t port, Proto proto);

// One line per holder, for 'portbind who'.
std::string format_holder(const PortHolder& holder);

}  // namespace portbind
