// The environment the command receives: the caller's own, minus anything that could confuse
// a socket-activation receiver, plus LISTEN_* set exactly as systemd sets them.
//
// Pure: strings in, strings out. Protocol facts followed (sd_listen_fds(3), systemd
// execute.c): LISTEN_FDS is the decimal count; LISTEN_PID the decimal pid of the process that
// will call sd_listen_fds(), here the exec'd command; LISTEN_FDNAMES has exactly one name per
// fd, joined by ':'; LISTEN_PIDFDID (systemd >= 258) is the pidfd inode id of that process,
// only where pidfs makes it meaningful. Nothing is set when no fd is passed.
#pragma once

#include <sys/types.h>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace portbind {

struct ListenFds {
    std::vector<std::string> names;  // one per fd, each is_valid_fd_name()
    pid_t pid = 0;
    std::optional<std::uint64_t> pidfd_id;
};

// Builds the command's environment from `inherited` (the raw environ entries):
//  - drops entries without '=' or with an empty name, and later duplicates of a name
//    (the first one wins, as in doas), so the result is deterministic;
//  - drops every stale LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES, LISTEN_PIDFDID and
//    LISTEN_FDS_FIRST_FD (other LISTEN_* names are the app's own and pass through);
//  - replaces or adds each of `overrides` (NAME, value);
//  - appends LISTEN_* for `fds` when it has at least one name.
std::vector<std::string> build_child_environment(
    const std::vector<std::string_view>& inherited,
    const std::vector<std::pair<std::string, std::string>>& overrides, const ListenFds& fds);

}  // namespace portbind
