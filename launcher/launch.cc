// `portbind --activate --port SPEC... -- COMMAND`: the launcher's phases, in order.
//
// Entry state (established by main): fds 0-2 open, no other fds, non-dumpable, and, unless
// the caller is root, running as the caller with at most CAP_NET_BIND_SERVICE permitted.
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "launcher/audit_log.h"
#include "launcher/command.h"
#include "launcher/commands.h"
#include "launcher/identity.h"
#include "launcher/listen_env.h"
#include "launcher/policy_access.h"
#include "launcher/sockets.h"
#include "policy/decide.h"

extern char** environ;

namespace portbind {

namespace {

struct Plan {
    Identity target;                // who the command runs as
    bool subject_to_policy = true;  // false for root callers
    bool holds_bind_capability = false;
    std::string command_path;
    std::vector<Endpoint> endpoints;
    std::vector<bool> privileged;  // per endpoint: needs CAP_NET_BIND_SERVICE
    std::vector<std::string> grant_log;
};

Credentials credentials_of(const Identity& id, bool set_groups) {
    Credentials c{id.uid, id.gid, std::nullopt};
    if (set_groups) {
        c.groups = id.groups;
    }
    return c;
}

std::string who(const Identity& id) {
    return id.name.empty() ? "uid " + std::to_string(id.uid) : "user " + id.name;
}

// Phase: whose command this is. Root may name another user; nobody else may.
Status choose_target(const LaunchArgs& args, PrivilegeMode mode, Plan& plan) {
    const bool root = mode == PrivilegeMode::Root;
    if (!root && (args.user || args.policy_file)) {
        return Error{ErrorKind::Usage,
                     std::string("refused ") + (args.user ? "--user" : "--policy") +
                         ": only root may use it",
                     "run without it, or ask the administrator"};
    }
    plan.subject_to_policy = !root;
    if (args.user) {
        auto user = lookup_user(*args.user);
        if (!user.ok()) {
            return std::move(user).take_error();
        }
        plan.target = std::move(user).value();
        // Root becomes the user now, keeping only the bind capability.
        if (auto s = become_keeping_bind_capability(credentials_of(plan.target, true)); !s.ok()) {
            return s;
        }
        plan.holds_bind_capability = true;
        return success();
    }
    auto caller = current_caller();
    if (!caller.ok()) {
        return std::move(caller).take_error();
    }
    plan.target = std::move(caller).value();
    plan.holds_bind_capability =
        mode == PrivilegeMode::Setuid || mode == PrivilegeMode::FileCapability;
    return success();
}

// Phase: the command must exist before anything is bound.
Status find_command(const LaunchArgs& args, Plan& plan) {
    const char* path = ::getenv("PATH");  // the caller's own search path, used with its rights
    auto resolved = resolve_command(args.command[0], path ? path : "/usr/local/bin:/usr/bin:/bin");
    if (!resolved.ok()) {
        return std::move(resolved).take_error();
    }
    plan.command_path = std::move(resolved).value();
    return success();
}

Status resolve_endpoints(const LaunchArgs& args, Plan& plan) {
    bool wildcard = false;
    for (const SocketSpec& spec : args.specs) {
        wildcard = wildcard || !spec.address;
    }
    const bool ipv6 = wildcard && host_has_ipv6();
    const unsigned unprivileged_start = read_unprivileged_port_start();
    for (const SocketSpec& spec : args.specs) {
        const Endpoint ep = resolve_endpoint(spec, ipv6, args.socket.v6only);
        for (const Endpoint& other : plan.endpoints) {
            if (other == ep) {
                return Error{ErrorKind::Usage, "socket " + ep.to_string() + " requested twice",
                             "give each --port once"};
            }
        }
        plan.endpoints.push_back(ep);
        plan.privileged.push_back(ep.port < unprivileged_start);
    }
    return success();
}

std::string log_line(const Plan& plan, const Endpoint& ep, const std::string& why) {
    return who(plan.target) + " (uid " + std::to_string(plan.target.uid) + ") cmd " +
           plan.command_path + " socket " + ep.to_string() + ": " + why;
}

// Phase: the policy decides every privileged endpoint before the first bind (all or nothing).
Status authorize(const LaunchArgs& args, PrivilegeMode mode, Plan& plan) {
    std::size_t privileged_count = 0;
    for (const bool p : plan.privileged) {
        privileged_count += p ? 1 : 0;
    }
    if (privileged_count == 0) {
        return success();
    }
    const std::string low_port_hint =
        "or use a port >= " + std::to_string(read_unprivileged_port_start());
    if (plan.subject_to_policy) {
        const PolicyLocation location = policy_location(args.policy_file);
        auto policy = load_policy(location);
        if (!policy.ok()) {
            log_decision(false, log_line(plan, plan.endpoints.front(), policy.error().message));
            return std::move(policy).take_error();
        }
        const Policy& p = policy.value();
        const Caller caller = policy_names(plan.target);
        for (std::size_t i = 0; i < plan.endpoints.size(); ++i) {
            if (!plan.privileged[i]) {
                continue;
            }
            const Endpoint& ep = plan.endpoints[i];
            const Decision d = decide(p, caller, Request{ep, plan.command_path});
            const std::string refused = "refused " + ep.to_string() + " for " + who(plan.target);
            if (!p.valid()) {
                log_decision(false, log_line(plan, ep, "policy has errors"));
                return Error{ErrorKind::PolicyInvalid,
                             refused + ": the policy has errors, so it denies everything (" +
                                 p.describe(p.errors.front()) + ")",
                             "the administrator can list them with 'portbind check " +
                                 std::to_string(ep.port) + "'"};
            }
            if (!d.permitted) {
                const std::string why = d.rule != nullptr ? "denied by " + p.location(d.rule->where)
                                        : p.files.empty()
                                            ? "there is no policy file " + location.file
                                            : "no rule permits it";
                log_decision(false, log_line(plan, ep, why));
                return Error{ErrorKind::Denied, refused + ": " + why,
                             "ask the administrator to allow it in " + location.file +
                                 " (see portbind.conf(5)), " + low_port_hint};
            }
            plan.grant_log.push_back(
                log_line(plan, ep, "permitted by " + p.location(d.rule->where)));
        }
    } else {
        for (std::size_t i = 0; i < plan.endpoints.size(); ++i) {
            if (plan.privileged[i]) {
                plan.grant_log.push_back(log_line(plan, plan.endpoints[i], "root caller"));
            }
        }
    }
    if (mode == PrivilegeMode::Unprivileged) {
        return Error{ErrorKind::Denied,
                     "cannot bind " + plan.endpoints.front().to_string() + ": " +
                         explain_missing_privilege(),
                     "ask the administrator to run 'setcap cap_net_bind_service=p' on portbind, " +
                         low_port_hint};
    }
    return success();
}

// Phase: create, bind (with the capability effective only for privileged ports), listen.
Result<std::vector<UniqueFd>> bind_all(const LaunchArgs& args, const Plan& plan) {
    std::vector<UniqueFd> sockets;
    for (std::size_t i = 0; i < plan.endpoints.size(); ++i) {
        const Endpoint& ep = plan.endpoints[i];
        auto fd = open_socket(ep, args.socket);
        if (!fd.ok()) {
            return std::move(fd).take_error();
        }
        std::optional<BindCapability> capability;
        if (plan.privileged[i] && plan.holds_bind_capability) {
            auto raised = BindCapability::raise();
            if (!raised.ok()) {
                return std::move(raised).take_error();
            }
            capability.emplace(std::move(raised).value());
        }
        Status bound = bind_socket(fd.value().get(), ep);
        capability.reset();  // effective only for the bind() itself
        if (!bound.ok()) {
            return std::move(bound).take_error();
        }
        if (auto s = start_listening(fd.value().get(), ep, args.socket.backlog); !s.ok()) {
            return std::move(s).take_error();
        }
        sockets.push_back(std::move(fd).value());
    }
    return sockets;
}

std::vector<std::pair<std::string, std::string>> identity_overrides(const LaunchArgs& args,
                                                                    const Identity& target) {
    if (!args.user) {
        return {};
    }
    std::vector<std::pair<std::string, std::string>> env = {
        {"HOME", target.home}, {"USER", target.name}, {"LOGNAME", target.name}};
    if (!target.shell.empty()) {
        env.emplace_back("SHELL", target.shell);
    }
    return env;
}

}  // namespace

Error run_launch(const LaunchArgs& args, PrivilegeMode mode, const InheritedState& inherited) {
    if (!args.activate) {
        return Error{ErrorKind::Usage,
                     "no mode given: this version hands sockets over by socket activation only",
                     "add --activate and have the command take its sockets from fd 3 "
                     "(LISTEN_FDS, see portbind(1))"};
    }
    if (args.specs.empty()) {
        return Error{ErrorKind::Usage, "--activate needs at least one --port SPEC",
                     "e.g. portbind --activate --port 443 -- COMMAND"};
    }
    Plan plan;
    if (auto s = choose_target(args, mode, plan); !s.ok()) {
        return std::move(s).take_error();
    }
    if (auto s = find_command(args, plan); !s.ok()) {
        return std::move(s).take_error();
    }
    if (auto s = resolve_endpoints(args, plan); !s.ok()) {
        return std::move(s).take_error();
    }
    if (auto s = authorize(args, mode, plan); !s.ok()) {
        return std::move(s).take_error();
    }
    auto sockets = bind_all(args, plan);
    if (!sockets.ok()) {
        return std::move(sockets).take_error();
    }
    // Root running its own command keeps root; everyone else ends with nothing.
    if (mode != PrivilegeMode::Root || args.user) {
        if (auto s = drop_all_privileges(credentials_of(plan.target, args.user.has_value()));
            !s.ok()) {
            return std::move(s).take_error();
        }
    }
    for (const std::string& line : plan.grant_log) {
        log_decision(true, line);
    }
    close_log();

    ListenFds fds;
    for (const SocketSpec& spec : args.specs) {
        fds.names.push_back(spec.name);
    }
    fds.pid = ::getpid();  // portbind execs in place, so the command keeps this pid
    fds.pidfd_id = own_pidfd_id();
    std::vector<std::string_view> inherited_env;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
        inherited_env.emplace_back(*e);
    }
    const auto env =
        build_child_environment(inherited_env, identity_overrides(args, plan.target), fds);
    if (auto s = place_listen_fds(std::move(sockets).value()); !s.ok()) {
        return std::move(s).take_error();
    }
    restore_inherited_state(inherited);
    return exec_command(plan.command_path, args.command, env);
}

}  // namespace portbind
