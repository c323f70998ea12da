// Granting a capability to one opened file: every rule, then the change through the fd.
// Shared by `grant` and `reapply`, so a file re-granted after an upgrade passes exactly the
// checks the first grant did.
#pragma once

#include <string>
#include <vector>

#include "launcher/setcap/cap_sets.h"
#include "launcher/setcap/registry.h"
#include "launcher/setcap/target_open.h"
#include "policy/result.h"

namespace portbind {

struct CheckedGrant {
    OpenedTarget target;
    CapSets caps;
    std::string caps_text;              // canonical cap_to_text form
    std::vector<std::string> warnings;  // risks --force accepted; non-empty = recorded forced
};

// The file rules (type, owner, mode, links, setuid, mount), the content rules (ELF, not a
// script, not an interpreter unless `force`), the capability rules, and that any capability
// already on the file is portbind's own (per `registry`) unless `force`. The directories
// were checked while `target` was opened (open_target with check_directories).
Result<CheckedGrant> check_grant(OpenedTarget target, const CapSets& caps, bool force,
                                 const Registry& registry);

// Sets the capabilities through the fd, verifies them by reading them back, logs the change
// to syslog (authpriv), and returns the registry entry describing it (granted: now).
Result<RegistryEntry> apply_grant(const CheckedGrant& grant);

// The one-line syslog record of a refusal.
void log_refusal(const std::string& action, const std::string& path, const Error& error);

}  // namespace portbind
