// `portbind check`: the policy's explain mode. Reports every syntax error with
// file:line:col, then for each SPEC the decision and the rule that made it.
//
// Runs with no privilege (main drops it before dispatching here, unless the caller is root),
// so it reads nothing the caller could not read.
#include <iostream>

#include "launcher/commands.h"
#include "launcher/identity.h"
#include "launcher/policy_access.h"
#include "launcher/sockets.h"
#include "policy/decide.h"

namespace portbind {

Result<int> run_check(const CheckArgs& args, PrivilegeMode mode) {
    const bool root = mode == PrivilegeMode::Root;
    if (!root && (args.user || args.policy_file)) {
        return Error{ErrorKind::Usage,
                     std::string("refused ") + (args.user ? "--user" : "--policy") +
                         ": only root may use it with check",
                     "run 'portbind check SPEC...' to check your own access"};
    }
    auto identity = args.user ? lookup_user(*args.user) : current_caller();
    if (!identity.ok()) {
        return std::move(identity).take_error();
    }
    const PolicyLocation location = policy_location(args.policy_file);
    auto policy = load_policy(location);
    if (!policy.ok()) {
        return std::move(policy).take_error();
    }
    const Policy& p = policy.value();
    for (const PolicyError& e : p.errors) {
        std::cout << p.describe(e) << '\n';
    }
    if (p.files.empty()) {
        std::cout << "no policy file " << location.file << ": every privileged port is denied\n";
    }

    const Identity& id = identity.value();
    const bool exempt = id.uid == 0;
    const Caller caller = policy_names(id);
    const std::string subject = id.name.empty() ? "uid " + std::to_string(id.uid) : id.name;
    bool wildcard = false;
    for (const SocketSpec& spec : args.specs) {
        wildcard = wildcard || !spec.address;
    }
    const bool ipv6 = wildcard && host_has_ipv6();
    const unsigned unprivileged_start = read_unprivileged_port_start();
    bool all_permitted = true;
    for (const SocketSpec& spec : args.specs) {
        const Endpoint ep = resolve_endpoint(spec, ipv6, args.v6only);
        std::cout << subject << ": " << ep.to_string() << ": ";
        if (ep.port >= unprivileged_start) {
            std::cout << "permitted: port " << ep.port << " is not privileged (at or above "
                      << unprivileged_start << "), no rule needed\n";
            continue;
        }
        if (exempt) {
            std::cout << "permitted: root is not subject to the policy\n";
            continue;
        }
        const Decision d = decide(p, caller, Request{ep, args.command});
        all_permitted = all_permitted && d.permitted;
        if (!p.valid()) {
            std::cout << "denied: the policy has " << p.errors.size()
                      << " error(s) and denies everything until they are fixed\n";
        } else if (d.rule == nullptr) {
            std::cout << "denied: no rule matched\n";
        } else {
            std::cout << (d.permitted ? "permitted by " : "denied by ") << p.location(d.rule->where)
                      << ": " << p.text_of(*d.rule) << '\n';
        }
    }
    std::cout.flush();
    if (!p.valid()) {
        return Error{
            ErrorKind::PolicyInvalid,
            "the policy has " + std::to_string(p.errors.size()) + " error(s) and denies everything",
            "fix the lines listed above"};
    }
    return all_permitted ? 0 : 1;
}

}  // namespace portbind
