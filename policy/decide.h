// The decision: may this caller bind this endpoint?
//
// Pure and total: no syscalls, no name-service lookups. The caller's identity arrives already
// resolved to names (the launcher looks it up once, not once per rule), so deciding over a
// 100,000-rule policy is one backwards scan with byte comparisons.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "policy/policy.h"

namespace portbind {

struct Caller {
    std::string user;                 // login name of the real uid; empty if it has none
    std::vector<std::string> groups;  // names of the primary and supplementary groups

    friend bool operator==(const Caller&, const Caller&) = default;
};

struct Request {
    Endpoint endpoint;
    std::optional<std::string> command;  // resolved absolute path of the command, if known
};

struct Decision {
    bool permitted = false;
    const Rule* rule = nullptr;  // the deciding rule; nullptr when none matched
};

// The last matching rule decides; no match, or an invalid policy, denies.
//
// A wildcard endpoint (0.0.0.0 or ::) serves every address of its family: a permit rule
// matches it only if its addresses name the whole family (`*`, a /0, or the wildcard address
// itself), a deny rule if any of its addresses is of that family. A dual-stack wildcard
// claims both families: a permit must reach both, a deny either.
Decision decide(const Policy& policy, const Caller& caller, const Request& request);

bool rule_matches(const Rule& rule, const Caller& caller, const Request& request);

}  // namespace portbind
