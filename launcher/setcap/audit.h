// `portbind setcap audit [DIR]...`: every file carrying a capability below the given trees
// (default: the system binary directories), with its risks and whether portbind granted it.
//
// Read-only. Walks without following symlinks and without crossing into other filesystems;
// only regular files that carry a security.capability attribute are opened (never FIFOs or
// devices), for reading.
#pragma once

#include <string>
#include <vector>

#include "policy/result.h"

namespace portbind {

// Exit status: 0 when no file has a risk, 1 when some do.
Result<int> run_setcap_audit(const std::vector<std::string>& dirs);

}  // namespace portbind
