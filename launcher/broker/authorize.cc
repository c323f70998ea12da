#include "launcher/broker/authorize.h"

#include <cerrno>

#include "launcher/broker/decision_cache.h"

namespace portbind::broker {

namespace {

bool is_overflow(const PolicyState& state, const Peer& peer) {
    return peer.uid == state.overflow_uid || peer.uid == kOverflowId ||
           peer.gid == state.overflow_gid || peer.gid == kOverflowId;
}

std::string who(const Peer& peer) {
    return peer.names.user.empty() ? "uid " + std::to_string(peer.uid) : "user " + peer.names.user;
}

Verdict refuse(const Peer& peer, const Endpoint& endpoint, const std::string& why,
               const std::string& advice) {
    Verdict v;
    v.error = EACCES;
    v.reason = "refused " + endpoint.to_string() + " for " + who(peer) + ": " + why;
    if (!advice.empty()) {
        v.reason += "; " + advice;
    }
    v.log.push_back(
        LogLine{false, describe_peer(peer) + " socket " + endpoint.to_string() + ": " + why});
    return v;
}

}  // namespace

Decision decide_for_peer(const Policy& policy, const Caller& caller, const Endpoint& endpoint,
                         const std::optional<std::string>& exe) {
    if (exe) {
        return decide(policy, caller, Request{endpoint, exe});
    }
    if (!policy.valid()) {
        return Decision{false, nullptr};
    }
    const Request unknown_program{endpoint, std::nullopt};
    for (auto it = policy.rules.rbegin(); it != policy.rules.rend(); ++it) {
        const Rule& rule = *it;
        if (rule.command) {
            if (rule.action == Action::Permit) {
                continue;  // a permit for one program never covers an unknown one
            }
            // The unknown program may be exactly the one this rule denies.
            if (rule_matches(rule, caller, Request{endpoint, rule.command})) {
                return Decision{false, &rule};
            }
            continue;
        }
        if (rule_matches(rule, caller, unknown_program)) {
            return Decision{rule.action == Action::Permit, &rule};
        }
    }
    return Decision{false, nullptr};
}

std::string describe_peer(const Peer& peer) {
    return who(peer) + " (uid " + std::to_string(peer.uid) + ") pid " + std::to_string(peer.pid) +
           " exe " + peer.exe.value_or("unknown");
}

Verdict authorize(const PolicyState& state, const Peer& peer,
                  const std::vector<Endpoint>& endpoints) {
    if (endpoints.empty()) {
        Verdict v;
        v.error = EINVAL;
        v.reason = "no socket requested";
        return v;
    }
    if (is_overflow(state, peer)) {
        return refuse(peer, endpoints.front(),
                      "the peer's uid or gid is the overflow id " + std::to_string(kOverflowId) +
                          " (a user namespace without a mapping), which is never granted",
                      "ask from a process whose ids are mapped");
    }
    Verdict v;
    v.privileged.reserve(endpoints.size());
    for (const Endpoint& ep : endpoints) {
        const bool privileged = ep.port < state.unprivileged_start;
        v.privileged.push_back(privileged);
        const std::string prefix = describe_peer(peer) + " socket " + ep.to_string() + ": ";
        if (!privileged) {
            v.log.push_back(LogLine{true, prefix + "unprivileged port"});
            continue;
        }
        if (peer.uid == 0) {
            v.log.push_back(LogLine{true, prefix + "root caller"});
            continue;
        }
        if (state.policy == nullptr) {
            return refuse(peer, ep, "the broker has no usable policy (" + state.problem + ")",
                          "the administrator must fix " + state.file + " and reload the broker");
        }
        const Policy& policy = *state.policy;
        if (!policy.valid()) {
            return refuse(peer, ep,
                          "the policy has errors, so it denies everything (" +
                              policy.describe(policy.errors.front()) + ")",
                          "the administrator must fix " + state.file + " and reload the broker");
        }
        const Decision d = state.decisions != nullptr && &state.decisions->policy() == &policy
                               ? state.decisions->decide(peer.names, ep, peer.exe)
                               : decide_for_peer(policy, peer.names, ep, peer.exe);
        if (!d.permitted) {
            std::string why;
            if (d.rule == nullptr) {
                why = policy.files.empty() ? "there is no policy file " + state.file
                                           : "no rule permits it";
            } else {
                why = "denied by " + policy.location(d.rule->where);
                if (d.rule->command && !peer.exe) {
                    why +=
                        " (the peer's program is unknown to the broker, so rules naming a "
                        "program deny)";
                }
            }
            return refuse(peer, ep, why,
                          "ask the administrator to allow it in " + state.file +
                              " (see portbind.conf(5)), or use a port >= " +
                              std::to_string(state.unprivileged_start));
        }
        v.log.push_back(LogLine{true, prefix + "permitted by " + policy.location(d.rule->where)});
    }
    v.granted = true;
    return v;
}

}  // namespace portbind::broker
