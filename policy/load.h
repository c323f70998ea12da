// Reading the policy files: the only code in policy/ that touches the OS.
//
// Invariants (each is a refusal, never a warning):
//  1. Every directory from / down to the policy file and to portbind.d is opened with
//     O_NOFOLLOW and must be a directory owned by root and not writable by group or others.
//  2. Files are opened relative to their verified directory fd, O_NOFOLLOW|O_NONBLOCK, and all
//     checks (regular file, root-owned, not group/other-writable, size cap) are made with
//     fstat() on that fd: a path swapped after the check is never read.
//  3. Drop-ins are portbind.d/*.conf in byte order; names starting with '.' are skipped.
//  4. A missing portbind.conf is an empty policy (deny all); a missing portbind.d is no
//     drop-ins. Any other failure is an Error, and the caller denies everything.
// portbind reads the policy with the caller's own credentials, so the files must be
// world-readable; that also keeps the loader from being a file-read oracle.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "policy/policy.h"
#include "policy/result.h"

namespace portbind {

inline constexpr std::size_t kMaxPolicyFileSize = 1 << 20;
inline constexpr std::size_t kMaxDropIns = 1024;

struct PolicyLocation {
    std::string file;                       // absolute path of portbind.conf
    std::optional<std::string> dropin_dir;  // absolute path of portbind.d, if used
};

Result<std::vector<PolicySource>> read_policy_sources(const PolicyLocation& location);

}  // namespace portbind
