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

bool address_matches(const Rule& rule, const Endpoint& endpoint) {
    if (!rule.addresses) {
        return true;
    }
    if (!endpoint.dual_stack) {
        return covers(*rule.addresses, endpoint.address);
    }
    const bool v4 = covers(*rule.addresses, IpAddress::any(Family::V4));
    const bool v6 = covers(*rule.addresses, IpAddress::any(Family::V6));
    return rule.action == Action::Permit ? (v4 && v6) : (v4 || v6);
}

}  // namespace

bool rule_matches(const Rule& rule, const Caller& caller, const Request& request) {
    return subject_matches(rule.subject, caller) &&
           (!rule.ports || port_matches(*rule.ports, request.endpoint.port)) &&
           (!rule.proto || *rule.proto == request.endpoint.proto) &&
           address_matches(rule, request.endpoint) &&
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
