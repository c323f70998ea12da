// Finding the command, placing the sockets at fd 3.., and exec.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "launcher/unique_fd.h"
#include "policy/result.h"

namespace portbind {

inline constexpr int kFirstListenFd = 3;  // SD_LISTEN_FDS_START

// The absolute, symlink-free path of `name`: a name with a '/' is taken as a path, anything
// else is looked up in `search_path` (PATH) as execvp() does. Runs with the caller's own
// filesystem rights, so it reveals nothing the caller could not see. CommandNotFound (127)
// or CommandNotExecutable (126) when it cannot be run, checked before anything is bound.
Result<std::string> resolve_command(const std::string& name, const std::string& search_path);

// The inode id of a pidfd for this process when the kernel has pidfs (Linux >= 6.9), for
// LISTEN_PIDFDID; nullopt otherwise.
std::optional<std::uint64_t> own_pidfd_id();

// Moves `sockets` to fds 3, 4, ... in order without ever touching fds 0-2, clears
// close-on-exec on exactly those, and closes every other fd above them.
Status place_listen_fds(std::vector<UniqueFd> sockets);

// execve(); returns only on failure, as CommandNotFound/CommandNotExecutable.
Error exec_command(const std::string& path, const std::vector<std::string>& argv,
                   const std::vector<std::string>& env);

}  // namespace portbind
