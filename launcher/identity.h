// Who the caller is, looked up once, up front, and carried as plain values afterwards.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "policy/decide.h"
#include "policy/result.h"

namespace portbind {

struct Identity {
    uid_t uid = 0;
    gid_t gid = 0;
    // Supplementary groups. For the caller: exactly its current getgroups() list, which is
    // never changed (a session that dropped a group must not get it back). For --user: the
    // user's groups from the group database (initgroups semantics).
    std::vector<gid_t> groups;
    std::string name;  // empty when the uid has no passwd entry
    std::string home;
    std::string shell;
};

// The real uid/gid and current supplementary groups of this process.
Result<Identity> current_caller();

// A user named on the command line (--user, root only), with its database groups.
Result<Identity> lookup_user(const std::string& name);

// The names the policy matches against: the user name and the names of the primary and
// supplementary groups. Ids without a name simply match no name rule.
Caller policy_names(const Identity& identity);

}  // namespace portbind
