// Privilege: what portbind holds, how it narrows it to one capability, how it drops it.
//
// Contract for every function here: the process is single-threaded (capabilities and
// set*id are per-thread at the syscall level), and the privilege state is tracked by the
// caller through PrivilegeMode, never re-inferred from geteuid() (bubblewrap CVE-2020-5291).
#pragma once

#include <sys/types.h>

#include <optional>
#include <vector>

#include "policy/result.h"

namespace portbind {

enum class PrivilegeMode {
    Root,            // the caller's real uid is 0: not subject to the policy
    Setuid,          // installed setuid root, run by a non-root user
    FileCapability,  // installed with cap_net_bind_service=p, run by a non-root user
    Unprivileged,    // holds nothing: only unprivileged ports can be bound
};

// Reads the real/effective/saved ids and the capability sets. Refuses an installation that
// gives more than it should: setuid to a non-root user, or capabilities beyond
// CAP_NET_BIND_SERVICE when not setuid root.
Result<PrivilegeMode> detect_privilege_mode();

// Why an Unprivileged process has no privilege, for the refusal message.
std::string explain_missing_privilege();

struct Credentials {
    uid_t uid = 0;
    gid_t gid = 0;
    std::optional<std::vector<gid_t>> groups;  // nullopt: keep the current list
};

// Becomes `target` (groups, then gid, then uid) keeping only CAP_NET_BIND_SERVICE in the
// permitted set (not effective), then verifies: all three uids and gids are the target's,
// the capability sets are exactly {permitted: cap_net_bind_service}, no ambient
// capabilities, keep-caps off, and the process is not dumpable (so the caller cannot ptrace
// it or read its memory while it holds the capability).
Status become_keeping_bind_capability(const Credentials& target);

// CAP_NET_BIND_SERVICE in the effective set for the lifetime of the object: only around
// bind(). Lowering can only fail if the kernel misbehaves; then the process aborts rather
// than continue with an effective capability.
class BindCapability {
  public:
    static Result<BindCapability> raise();
    BindCapability(BindCapability&& other) noexcept : active_(other.active_) {
        other.active_ = false;
    }
    BindCapability(const BindCapability&) = delete;
    BindCapability& operator=(const BindCapability&) = delete;
    BindCapability& operator=(BindCapability&&) = delete;
    ~BindCapability();

  private:
    BindCapability() = default;
    bool active_ = false;
};

// Clears every capability set (effective, permitted, inheritable, ambient) and verifies the
// drop: ids are the target's, all sets are empty, keep-caps is off, and regaining root with
// setuid(0)/setgid(0) fails.
Status drop_all_privileges(const Credentials& target);

}  // namespace portbind
