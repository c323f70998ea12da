// Who is on the other end of a broker connection, from the kernel only: SO_PEERCRED (uid,
// gid, pid, captured by the kernel at connect()), SO_PEERGROUPS (supplementary groups) and
// SO_PEERPIDFD (Linux 6.5+) for the executable. Nothing the client sends is believed.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "policy/decide.h"
#include "policy/result.h"

namespace portbind::broker {

struct PeerCredentials {
    uid_t uid = 0;
    gid_t gid = 0;
    pid_t pid = 0;  // 0 when the peer's pid namespace hides it
};

Result<PeerCredentials> peer_credentials(int connection);

// The peer's supplementary groups (Linux 4.13+).
Result<std::vector<gid_t>> peer_groups(int connection);

// The peer's executable, or nullopt when it cannot be known reliably: the kernel has no
// SO_PEERPIDFD, the broker may not read /proc/PID/exe (that needs the peer's uid or
// CAP_SYS_PTRACE), or the process exited, so its pid may name another process. The path
// is the executable at the time of the check: a peer can exec another program after
// connecting, which is why rules naming a program are only as strong as that program.
std::optional<std::string> peer_executable(int connection, pid_t pid);

// The names the policy matches: the uid's login name and the group names (name-service
// lookups; ids without a name match no name rule). `overflow_gid` is left out of the groups.
Caller lookup_peer_names(uid_t uid, gid_t gid, const std::vector<gid_t>& groups,
                         gid_t overflow_gid);

// /proc/sys/kernel/overflowuid and overflowgid: the ids unmapped user-namespace ids
// appear as (65534 when unreadable).
uid_t read_overflow_uid();
gid_t read_overflow_gid();

}  // namespace portbind::broker
