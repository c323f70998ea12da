// portbind.conf(5) grammar, one rule per line:
//
//   permit|deny SUBJECT [port PORTS] [proto tcp|udp] [addr ADDRS] [cmd PATH]
//
// Pure: text in, Policy out. The parser never stops at the first error: every error is
// collected with file:line:col so an admin can fix them all at once. Any error makes the
// policy invalid, and an invalid policy denies everything (Policy::valid()).
#pragma once

#include <vector>

#include "policy/policy.h"

namespace portbind {

inline constexpr std::size_t kMaxPolicyLine = 4096;

// Takes the texts over (Policy::texts) instead of copying them.
Policy parse_policy(std::vector<PolicySource>&& sources);
Policy parse_policy(const std::vector<PolicySource>& sources);

}  // namespace portbind
