// Whether a broker peer gets the sockets it asked for. Pure: the policy, the peer as the
// kernel described it (with its names already resolved) and the resolved endpoints in; a
// verdict, its reason and the log lines out.
//
// The rules are the launcher's (policy/decide.h), with what differs for a peer on a socket:
//  1. The peer's identity is the kernel's (SO_PEERCRED, SO_PEERGROUPS), never a claim.
//  2. A peer whose uid or gid is the overflow id (65534: a user namespace without a
//     mapping) is refused outright, whatever the policy says about anyone.
//  3. uid 0 is not subject to the policy, as for the launcher.
//  4. The peer's executable may be unknown (the kernel lacks SO_PEERPIDFD, or the broker
//     may not read /proc/PID/exe). Then a rule naming a program never permits, and a deny
//     rule naming a program applies as if the peer ran that program: unknown fails closed.
//  5. All or nothing: one refused socket refuses the whole request.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "policy/decide.h"
#include "policy/policy.h"

namespace portbind::broker {

inline constexpr uid_t kOverflowId = 65534;

class DecisionCache;

struct Peer {
    uid_t uid = 0;
    gid_t gid = 0;
    pid_t pid = 0;                   // 0 when the peer is in a pid namespace we cannot see
    Caller names;                    // user and group names; empty when the ids have none
    std::optional<std::string> exe;  // the peer's executable, only when known reliably
};

struct PolicyState {
    const Policy* policy = nullptr;  // nullptr: no usable policy, every privileged port denied
    // The decisions over `policy` remembered (decision_cache.h), or nullptr to decide each
    // time. Consulted only when made for `policy` itself.
    DecisionCache* decisions = nullptr;
    std::string problem;  // why there is no usable policy
    std::string file;     // the main policy file, for advice
    unsigned unprivileged_start = 1024;
    uid_t overflow_uid = kOverflowId;  // /proc/sys/kernel/overflowuid
    gid_t overflow_gid = kOverflowId;  // /proc/sys/kernel/overflowgid
};

struct LogLine {
    bool granted = false;
    std::string text;
};

struct Verdict {
    bool granted = false;
    int error = 0;                 // EACCES when refused
    std::string reason;            // one line for the client when refused
    std::vector<bool> privileged;  // per endpoint: bind with CAP_NET_BIND_SERVICE
    std::vector<LogLine> log;      // the denial when refused; one grant per socket otherwise
};

Verdict authorize(const PolicyState& state, const Peer& peer,
                  const std::vector<Endpoint>& endpoints);

// decide() for a peer whose executable may be unknown (rule 4 above).
Decision decide_for_peer(const Policy& policy, const Caller& caller, const Endpoint& endpoint,
                         const std::optional<std::string>& exe);

// "user alice (uid 1000) pid 42 exe /usr/bin/python3", for log lines.
std::string describe_peer(const Peer& peer);

}  // namespace portbind::broker
