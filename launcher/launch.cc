// `portbind [--activate] [--port SPEC]... -- COMMAND`: the launcher's phases, in order:
// choose who runs the command, find the command, resolve and authorize the sockets, bind
// them, then hand over, either by socket activation (exec in place with LISTEN_FDS) or by
// serving the command's own bind() calls from a binding process (the default mode).
//
// Entry state (established by main): fds 0-2 open, no other fds, non-dumpable, and, unless
// the caller is root, running as the caller with at most CAP_NET_BIND_SERVICE permitted.
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "launcher/audit_log.h"
#include "launcher/bind_filter.h"
#include "launcher/bind_service.h"
#include "launcher/broker/client.h"
#include "launcher/command.h"
#include "launcher/commands.h"
#include "launcher/fd_passing.h"
#include "launcher/identity.h"
#include "launcher/listen_env.h"
#include "launcher/policy_access.h"
#include "launcher/sockets.h"
#include "launcher/supervisor.h"
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
    std::vector<bool> privileged;    // per endpoint: needs CAP_NET_BIND_SERVICE
    std::unique_ptr<Policy> policy;  // loaded when the caller is subject to it and needs it
    std::vector<std::string> grant_log;
    // The broker's socket when the privileged sockets come from the broker (which then
    // decides by the credentials of this process), not from portbind's own privilege.
    std::optional<std::string> broker;
    bool broker_by_default = false;  // chosen because portbind holds no privilege
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

bool is_socket(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode);
}

// Phase: where the privileged sockets come from. --broker names the broker; a portbind that
// holds no privilege (an installation with no privileged binary) uses the broker at its
// default path when that exists. The path is never taken from the environment.
void choose_socket_source(const LaunchArgs& args, PrivilegeMode mode, Plan& plan) {
    if (args.broker) {
        plan.broker = args.broker->empty() ? broker::kDefaultSocketPath : *args.broker;
    } else if (mode == PrivilegeMode::Unprivileged && is_socket(broker::kDefaultSocketPath)) {
        plan.broker = broker::kDefaultSocketPath;
        plan.broker_by_default = true;
    }
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

// Loads the policy into the plan once. A policy that cannot be trusted or read is a refusal.
Status load_plan_policy(const LaunchArgs& args, Plan& plan) {
    if (plan.policy) {
        return success();
    }
    auto policy = load_policy(policy_location(args.policy_file));
    if (!policy.ok()) {
        log_decision(
            false, who(plan.target) + " cmd " + plan.command_path + ": " + policy.error().message);
        return std::move(policy).take_error();
    }
    plan.policy = std::make_unique<Policy>(std::move(policy).value());
    return success();
}

std::string low_port_hint() {
    return "or use a port >= " + std::to_string(read_unprivileged_port_start());
}

Error no_privilege(const std::string& what) {
    return Error{ErrorKind::Denied, "cannot bind " + what + ": " + explain_missing_privilege(),
                 "ask the administrator to run 'setcap cap_net_bind_service=p' on portbind, " +
                     low_port_hint()};
}

// Phase: the policy decides every privileged endpoint before the first bind (all or nothing).
Status authorize(const LaunchArgs& args, PrivilegeMode mode, Plan& plan) {
    std::size_t privileged_count = 0;
    for (const bool p : plan.privileged) {
        privileged_count += p ? 1 : 0;
    }
    if (privileged_count == 0 || plan.broker) {
        return success();  // nothing to decide, or the broker decides
    }
    if (plan.subject_to_policy) {
        if (auto s = load_plan_policy(args, plan); !s.ok()) {
            return s;
        }
        const Policy& p = *plan.policy;
        const PolicyLocation location = policy_location(args.policy_file);
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
                                 " (see portbind.conf(5)), " + low_port_hint()};
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
        return no_privilege(plan.endpoints.front().to_string());
    }
    return success();
}

// Phase: create, bind (with the capability effective only for privileged ports), and for
// socket activation listen. In the default mode the sockets are reservations: bound, not
// listening, held until the command binds the port itself.
// Phase, with a broker: one request for every privileged socket (all or nothing), answered
// with sockets bound and, for streams, listening.
Result<std::vector<UniqueFd>> request_from_broker(const LaunchArgs& args, const Plan& plan) {
    std::vector<SocketSpec> wanted;
    std::string first;
    for (std::size_t i = 0; i < plan.endpoints.size(); ++i) {
        if (plan.privileged[i]) {
            wanted.push_back(args.specs[i]);
            first = first.empty() ? plan.endpoints[i].to_string() : first;
        }
    }
    if (wanted.empty()) {
        return std::vector<UniqueFd>{};
    }
    auto granted = broker::request_sockets(*plan.broker, wanted, args.socket);
    if (!granted.ok() && plan.broker_by_default && granted.error().kind != ErrorKind::Denied) {
        // Nobody asked for the broker: the missing privilege is the news, the broker a detail.
        Error e = no_privilege(first);
        e.message += "; nor could the broker help: " + granted.error().message;
        return e;
    }
    if (!granted.ok()) {
        const Error& e = granted.error();
        // A refusal by the broker already says what to do; other failures are about reaching it.
        std::string advice =
            e.kind == ErrorKind::Denied
                ? ""
                : "check that the broker runs at that path ('portbind serve', portbind-serve(8))";
        return Error{e.kind,
                     "cannot get " + first + (wanted.size() > 1 ? " and the other sockets" : "") +
                         " from the broker: " + e.message,
                     std::move(advice)};
    }
    return std::move(granted).value();
}

Result<std::vector<UniqueFd>> bind_all(const LaunchArgs& args, const Plan& plan) {
    std::vector<UniqueFd> from_broker;
    if (plan.broker) {
        auto granted = request_from_broker(args, plan);
        if (!granted.ok()) {
            return std::move(granted).take_error();
        }
        from_broker = std::move(granted).value();
    }
    std::size_t next_from_broker = 0;
    std::vector<UniqueFd> sockets;
    for (std::size_t i = 0; i < plan.endpoints.size(); ++i) {
        const Endpoint& ep = plan.endpoints[i];
        if (plan.broker && plan.privileged[i]) {
            sockets.push_back(std::move(from_broker.at(next_from_broker++)));
            continue;
        }
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
        const int err = bind_socket(fd.value().get(), ep);
        capability.reset();  // effective only for the bind() itself
        if (err != 0) {
            return bind_error(ep, err);
        }
        if (args.activate) {
            if (auto s = start_listening(fd.value().get(), ep, args.socket.backlog); !s.ok()) {
                return std::move(s).take_error();
            }
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

// The caller's environment. In secure-execution mode (setuid or file capabilities) glibc has
// already removed the loader's "unsafe" variables (LD_*, TMPDIR, TZDIR, ...) from environ;
// the original strings cannot be read back (the process is not dumpable, so
// /proc/self/environ is root's), and the command does not get them: as with sudo, set them
// inside the command (`portbind ... -- env TMPDIR=/x app`).
std::vector<std::string> caller_environment() {
    std::vector<std::string> env;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
        env.emplace_back(*e);
    }
    return env;
}

std::vector<std::string> command_environment(const LaunchArgs& args, const Identity& target,
                                             const ListenFds& fds) {
    const std::vector<std::string> inherited = caller_environment();
    const std::vector<std::string_view> views(inherited.begin(), inherited.end());
    return build_child_environment(views, identity_overrides(args, target), fds);
}

// A command root runs as another user must not be able to type into root's terminal
// (TIOCSTI works only on one's controlling terminal): it gives up the controlling terminal.
// It stays in root's foreground process group, so Ctrl-C and Ctrl-Z still reach it, and can
// still read and write the terminal through the descriptors it inherited; taking the
// terminal back (TIOCSCTTY) would need CAP_SYS_ADMIN. A session leader keeps its terminal:
// giving it up would hang up the session, which is its own anyway.
Status leave_controlling_terminal() {
    if (::getsid(0) == ::getpid()) {
        return success();
    }
    UniqueFd tty(::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!tty.valid()) {
        return success();  // no controlling terminal
    }
    if (::ioctl(tty.get(), TIOCNOTTY) != 0) {
        return Error{
            ErrorKind::System,
            std::string("cannot detach the command from the terminal: ") + std::strerror(errno),
            "run it without a terminal, e.g. with </dev/null >LOG 2>&1 setsid"};
    }
    return success();
}

Status drop_for_command(const LaunchArgs& args, PrivilegeMode mode, const Plan& plan) {
    // Root running its own command keeps root; everyone else ends with nothing.
    if (mode == PrivilegeMode::Root && !args.user) {
        return success();
    }
    if (auto s = drop_all_privileges(credentials_of(plan.target, args.user.has_value())); !s.ok()) {
        return s;
    }
    return args.user ? leave_controlling_terminal() : success();
}

// Hand-over by socket activation: sockets at fd 3.., LISTEN_*, exec in place. Returns only
// on failure.
Error hand_over_by_activation(const LaunchArgs& args, PrivilegeMode mode, const Plan& plan,
                              std::vector<UniqueFd> sockets, const InheritedState& inherited) {
    if (auto s = drop_for_command(args, mode, plan); !s.ok()) {
        return std::move(s).take_error();
    }
    for (const std::string& line : plan.grant_log) {
        log_decision(true, line);
    }
    close_log();
    ListenFds fds;
    for (std::size_t i = 0; i < sockets.size(); ++i) {
        fds.names.push_back(args.specs.at(i).name);
    }
    fds.pid = ::getpid();  // portbind execs in place, so the command keeps this pid
    fds.pidfd_id = own_pidfd_id();
    const auto env = command_environment(args, plan.target, fds);
    if (auto s = place_listen_fds(std::move(sockets)); !s.ok()) {
        return std::move(s).take_error();
    }
    restore_inherited_state(inherited);
    return exec_command(plan.command_path, args.command, env);
}

// The app side of the default mode, in the forked child: drop everything, install the bind()
// filter, give its listener to the binding process (our parent), exec. Never returns.
[[noreturn]] void become_app(const LaunchArgs& args, PrivilegeMode mode, const Plan& plan,
                             UniqueFd channel, const InheritedState& inherited,
                             const sigset_t& original_mask, const struct sigaction& original_chld,
                             pid_t binder) {
    auto fail = [&](const Error& e) {
        (void)send_failure(channel.get(), e.message + (e.advice.empty() ? "" : "; " + e.advice));
        ::_exit(exit_status_for(e));
    };
    if (auto s = drop_for_command(args, mode, plan); !s.ok()) {
        fail(s.error());
    }
    auto listener = install_bind_filter();
    if (!listener.ok()) {
        fail(listener.error());
    }
    if (auto s = send_fd(channel.get(), listener.value().get()); !s.ok()) {
        ::_exit(kExitFailure);
    }
    const auto env = command_environment(args, plan.target, ListenFds{});
    // Closes every fd from 3 up: the listener, the channel, the reservations, syslog.
    if (auto s = place_listen_fds({}); !s.ok()) {
        ::_exit(kExitFailure);
    }
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 || ::getppid() != binder) {
        ::_exit(kExitFailure);  // portbind died before we could run
    }
    restore_inherited_state(inherited);
    ::sigaction(SIGCHLD, &original_chld, nullptr);
    ::sigprocmask(SIG_SETMASK, &original_mask, nullptr);
    const Error e = exec_command(plan.command_path, args.command, env);
    const std::string line = render(e) + "\n";
    (void)!::write(STDERR_FILENO, line.data(), line.size());
    ::_exit(exit_status_for(e));
}

// Hand-over by serving the command's own bind() calls: fork; the child becomes the app
// under the bind() filter; this process stays behind as the binding process, holding only
// CAP_NET_BIND_SERVICE, and returns the app's exit status.
Result<int> hand_over_by_binding(const LaunchArgs& args, PrivilegeMode mode, Plan& plan,
                                 std::vector<UniqueFd> reservations,
                                 const InheritedState& inherited) {
    if (plan.subject_to_policy && !plan.broker) {
        if (auto s = load_plan_policy(args, plan); !s.ok()) {
            return std::move(s).take_error();
        }
    }
    BindServiceConfig config;
    config.broker = plan.broker;  // then the broker decides each bind, not a policy here
    config.policy = std::move(plan.policy);
    config.caller = policy_names(plan.target);
    config.who = who(plan.target) + " (uid " + std::to_string(plan.target.uid) + ")";
    config.uid = plan.target.uid;
    config.specs = args.specs;
    config.options = args.socket;
    for (std::size_t i = 0; i < reservations.size(); ++i) {
        config.reservations.push_back(
            Reservation{plan.endpoints[i], plan.privileged[i], std::move(reservations[i])});
    }
    config.unprivileged_start = read_unprivileged_port_start();
    for (const std::string& line : plan.grant_log) {
        log_decision(true, line + " (reserved)");
    }

    const sigset_t blocked = supervisor_blocked_signals();
    sigset_t original_mask;
    if (::sigprocmask(SIG_BLOCK, &blocked, &original_mask) != 0) {
        return os_error("cannot block signals", errno);
    }
    // Orphans of the app come to us, not init: still our descendants, still served under
    // Yama ptrace_scope=1, and reaped.
    if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
        return os_error("cannot become the app's subreaper", errno);
    }
    struct sigaction default_chld {};
    default_chld.sa_handler = SIG_DFL;
    struct sigaction original_chld {};
    ::sigaction(SIGCHLD, &default_chld, &original_chld);

    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
        return os_error("cannot create a socket pair", errno);
    }
    UniqueFd binder_end(pair[0]);
    UniqueFd app_end(pair[1]);
    const pid_t binder = ::getpid();
    const pid_t app = ::fork();
    if (app < 0) {
        const int err = errno;
        return os_error("cannot start the app's process", err,
                        err == EAGAIN ? "too many processes run as this user (ulimit -u); try "
                                        "again when fewer do"
                                      : "");
    }
    if (app == 0) {
        binder_end.reset();
        become_app(args, mode, plan, std::move(app_end), inherited, original_mask, original_chld,
                   binder);
    }
    app_end.reset();
    auto listener = receive_fd(binder_end.get());
    if (!listener.ok()) {
        int status = 0;
        ::waitpid(app, &status, 0);
        return std::move(listener).take_error();
    }
    binder_end.reset();
    auto service = BindService::create(std::move(config), std::move(listener).value());
    if (!service.ok()) {
        ::kill(app, SIGKILL);
        ::waitpid(app, nullptr, 0);
        return std::move(service).take_error();
    }
    return supervise(app, *service.value());
}

}  // namespace

Result<int> run_launch(const LaunchArgs& args, PrivilegeMode mode,
                       const InheritedState& inherited) {
    if (args.activate && args.specs.empty()) {
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
    choose_socket_source(args, mode, plan);
    if (auto s = resolve_endpoints(args, plan); !s.ok()) {
        return std::move(s).take_error();
    }
    if (auto s = authorize(args, mode, plan); !s.ok()) {
        return std::move(s).take_error();
    }
    if (!args.activate && mode == PrivilegeMode::Unprivileged && !plan.broker) {
        return no_privilege("privileged ports for the command");
    }
    const bool serves_binds = !args.activate && !(mode == PrivilegeMode::Root && !args.user);
    if (serves_binds) {
        // Before anything is bound: the probe forks, and its child must hold no socket.
        if (auto s = check_intercept_support(); !s.ok()) {
            return std::move(s).take_error();
        }
    }
    auto sockets = bind_all(args, plan);
    if (!sockets.ok()) {
        return std::move(sockets).take_error();
    }
    if (args.activate) {
        return hand_over_by_activation(args, mode, plan, std::move(sockets).value(), inherited);
    }
    if (!serves_binds) {
        // Root binds whatever it likes itself: nothing to serve. The reservations only
        // proved the ports free; release them and run the command in place.
        return hand_over_by_activation(args, mode, plan, {}, inherited);
    }
    return hand_over_by_binding(args, mode, plan, std::move(sockets).value(), inherited);
}

}  // namespace portbind
