#include "policy/decide.h"

#include <algorithm>

namespace portbind {

namespace {

bool subject_matches(const Subject& subject, const Caller& caller) {
    switch (subject.kind) {
        case Subject::Kind::Anyone:
            return true;
        case Subject::Kind::User:
            return !caller.user.empty() && subject.name == caller.user;
        case Subject::Kind::Group:
            return std::find(caller.groups.begin(), caller.groups.end(), subject.name) !=
                   caller.groups.end();
    }
    return false;
}

bool port_matches(const std::vector<PortRange>& ranges, std::uint16_t port) {
    return std::any_of(ranges.begin(), ranges.end(),
                       [&](const PortRange& r) { return r.first <= port && port <= r.last; });
}

bool covers(const std::vector<AddressPattern>& patterns, const IpAddress& address) {
    return std::any_of(patterns.begin(), patterns.end(), [&](const AddressPattern& p) {
        return p.any || p.network.contains(address);
    });
}

// Whether a rule's patterns reach the wildcard address of `family` (0.0.0.0 or ::). A socket
// bound there serves every address of the family, so a permit must name the whole family
// (`*`, a /0 network, or the wildcard address itself), while a deny that names any address of
// the family applies to it.
bool covers_wildcard(const std::vector<AddressPattern>& patterns, Family family, Action action) {
    const unsigned full = family == Family::V4 ? 32 : 128;
    return std::any_of(patterns.begin(), patterns.end(), [&](const AddressPattern& p) {
        if (p.any) {
            return true;
        }
        if (p.network.base.family != family) {
            return false;
        }
        return action == Action::Deny || p.network.prefix == 0 ||
               (p.network.prefix == full && p.network.base.is_any());
    });
}

bool address_matches(const Rule& rule, const Endpoint& endpoint) {
    if (!rule.addresses) {
        return true;
    }
    if (!endpoint.address.is_any()) {
        return covers(*rule.addresses, endpoint.address);
    }
    if (!endpoint.dual_stack) {
        return covers_wildcard(*rule.addresses, endpoint.address.family, rule.action);
    }
    const bool v4 = covers_wildcard(*rule.addresses, Family::V4, rule.action);
    const bool v6 = covers_wildcard(*rule.addresses, Family::V6, rule.action);
    return rule.action == Action::Permit ? (v4 && v6) : (v4 || v6);
}

}  // namespace

// A conjunction of pure tests, so their order is free: the integer comparisons come first
// because most rules of a large policy fail on the port or protocol, before any name or
// address is compared.
bool rule_matches(const Rule& rule, const Caller& caller, const Request& request) {
    return (!rule.ports || port_matches(*rule.ports, request.endpoint.port)) &&
           (!rule.proto || *rule.proto == request.endpoint.proto) &&
           subject_matches(rule.subject, caller) && address_matches(rule, request.endpoint) &&
           (!rule.command || (request.command && *rule.command == *request.command));
}

Decision decide(const Policy& policy, const Caller& caller, const Request& request) {
    if (!policy.valid()) {
        return Decision{false, nullptr};
    }
    for (auto it = policy.rules.rbegin(); it != policy.rules.rend(); ++it) {
        if (rule_matches(*it, caller, request)) {
            return Decision{it->action == Action::Permit, &*it};
        }
    }
    return Decision{false, nullptr};
}

}  // namespace portbind
