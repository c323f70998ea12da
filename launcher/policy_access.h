// Loading the policy the launcher and 'check' use: the built-in location, or --policy for
// root callers.
#pragma once

#include <optional>
#include <string>

#include "policy/load.h"
#include "policy/policy.h"
#include "policy/result.h"

namespace portbind {

PolicyLocation policy_location(const std::optional<std::string>& override_file);

// Reads and parses. An Error means the files could not be trusted or read (deny all);
// syntax errors come back inside the Policy (Policy::valid() is false: deny all).
Result<Policy> load_policy(const PolicyLocation& location);

}  // namespace portbind
