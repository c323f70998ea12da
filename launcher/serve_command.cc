// `portbind serve [--socket PATH] [--user USER]`: the broker daemon, in the foreground.
//
// MUST-list for the daemon's own privilege (entry state from main: fds 0-2 open, the fds
// systemd passed kept, non-dumpable; in capability and setuid installs already running as
// the caller with only CAP_NET_BIND_SERVICE permitted):
//  1. Without CAP_NET_BIND_SERVICE (PrivilegeMode::Unprivileged) it refuses to start: it
//     could not bind a single privileged port.
//  2. Started as root, it makes its socket while root (creating /run/portbind if needed)
//     and then, before it reads a single request, reduces itself:
//       - the capability bounding set to CAP_NET_BIND_SERVICE, and securebits that lock out
//         root's capability fix-up at exec and any ambient raise;
//       - to --user USER (recommended), or, without --user, to uid 0 with nothing but
//         CAP_NET_BIND_SERVICE permitted.
//     The second form exists so that a broker started by hand works without a service
//     account. It is weaker: uid 0 still owns root's files, so a compromised broker could
//     change them. The shipped systemd unit runs it as a dynamic user instead.
//  3. no_new_privs is set in every mode: nothing it could exec gains a privilege.
//  4. The capability is effective only around bind() (BindCapability), single-threaded.
//
// Sockets the broker makes belong to the broker's uid (the kernel takes a socket's owner
// from its creator), not to the peer; see portbind-serve(8) for what follows from that.
#include <linux/securebits.h>
#include <signal.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "launcher/broker/listener.h"
#include "launcher/broker/message.h"
#include "launcher/broker/server.h"
#include "launcher/client/portbind.h"
#include "launcher/commands.h"
#include "launcher/identity.h"
#include "launcher/policy_access.h"

namespace portbind {

namespace {

struct ServeOptions {
    std::optional<std::string> socket_path;
    std::optional<std::string> user;
    bool help = false;
};

constexpr char kServeUsage[] =
    "Usage: portbind serve [--socket PATH] [--user USER]\n\n"
    "Run the portbind broker in the foreground: local programs connect to its unix socket\n"
    "(default " PORTBIND_DEFAULT_SOCKET
    ") and receive bound sockets the policy permits them.\n\n"
    "  --socket PATH  serve on PATH; its directory must be owned by root and not writable\n"
    "                 by others (not with socket activation, which passes the socket)\n"
    "  --user USER    root only: serve as USER, keeping only CAP_NET_BIND_SERVICE\n"
    "  -h, --help     show this help\n\n"
    "See portbind-serve(8).\n";

Error usage(const std::string& what) {
    return Error{ErrorKind::Usage, "serve: " + what, "see 'portbind serve --help'"};
}

Result<ServeOptions> parse_serve_options(const std::vector<std::string>& args) {
    ServeOptions options;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (arg == "-h" || arg == "--help") {
            options.help = true;
            continue;
        }
        std::optional<std::string>* target = nullptr;
        std::string name;
        for (const char* option : {"--socket", "--user"}) {
            const std::string o(option);
            if (arg == o || arg.rfind(o + "=", 0) == 0) {
                name = o;
                target = o == "--socket" ? &options.socket_path : &options.user;
            }
        }
        if (target == nullptr) {
            return usage("unknown argument '" + arg + "'");
        }
        if (target->has_value()) {
            return usage(name + " given twice");
        }
        std::string value;
        if (arg.size() > name.size()) {
            value = arg.substr(name.size() + 1);
        } else if (i + 1 < args.size()) {
            value = args[++i];
        } else {
            return usage(name + " needs a value");
        }
        if (value.empty()) {
            return usage(name + " needs a non-empty value");
        }
        *target = std::move(value);
    }
    if (options.socket_path && (*options.socket_path)[0] != '/') {
        return usage("--socket needs an absolute path");
    }
    return options;
}

Error privilege_error(const std::string& what) {
    return Error{ErrorKind::System, "serve: " + what + ": " + std::strerror(errno),
                 "refusing to serve; please report this"};
}

// Root only, before becoming the service identity: no capability but CAP_NET_BIND_SERVICE
// can ever come back (bounding set), and, where CAP_SETPCAP allows, securebits lock out
// root's capability fix-up at exec and ambient raises. Without CAP_SETPCAP (e.g. a unit
// with CapabilityBoundingSet=CAP_NET_BIND_SERVICE) the bounding set must already be that
// small, or the broker refuses; no_new_privs is set later in every case.
Status lock_root_down() {
    for (cap_value_t c = 0; c < static_cast<cap_value_t>(cap_max_bits()); ++c) {
        if (c != CAP_NET_BIND_SERVICE && ::prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1 &&
            ::prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0) {
            return privilege_error("cannot reduce the capability bounding set");
        }
    }
    const unsigned long bits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE |
                               SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
    if (::prctl(PR_SET_SECUREBITS, bits, 0, 0, 0) != 0 && errno != EPERM) {
        return privilege_error("cannot set securebits");
    }
    return success();
}

Status verify_locked_down() {
    for (cap_value_t c = 0; c < static_cast<cap_value_t>(cap_max_bits()); ++c) {
        if (c != CAP_NET_BIND_SERVICE && ::prctl(PR_CAPBSET_READ, c, 0, 0, 0) != 0) {
            return Error{
                ErrorKind::System,
                "serve: the capability bounding set still holds capability " + std::to_string(c),
                "refusing to serve; please report this"};
        }
    }
    return success();
}

Status set_no_new_privileges() {
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        ::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) {
        return privilege_error("cannot set no_new_privs");
    }
    return success();
}

// Room for kMaxConnections connections plus the sockets being bound (one batch: at most
// kMaxRequestSockets, bind_endpoint.h).
void raise_fd_limit() {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &limit);
    }
}

}  // namespace

Result<int> run_serve(const std::vector<std::string>& args, PrivilegeMode mode) {
    auto parsed = parse_serve_options(args);
    if (!parsed.ok()) {
        return std::move(parsed).take_error();
    }
    const ServeOptions& options = parsed.value();
    if (options.help) {
        std::cout << kServeUsage;
        return 0;
    }
    if (mode == PrivilegeMode::Unprivileged) {
        return Error{
            ErrorKind::Denied,
            "serve: the broker needs CAP_NET_BIND_SERVICE, but " + explain_missing_privilege(),
            "run it as root, from portbind.service, or installed with "
            "cap_net_bind_service=p (see portbind-serve(8))"};
    }
    const bool root = mode == PrivilegeMode::Root;
    if (options.user && !root) {
        return usage("refused --user: only root may use it");
    }
    std::optional<Identity> service;
    if (options.user) {
        auto user = lookup_user(*options.user);
        if (!user.ok()) {
            return std::move(user).take_error();
        }
        service = std::move(user).value();
    }

    const bool activated = broker::count_activation_fds() > 0;
    if (activated && options.socket_path) {
        return usage("--socket cannot be used with socket activation, which passes the socket");
    }
    auto listener = activated ? broker::take_activated_listener()
                              : broker::create_listener(
                                    options.socket_path.value_or(PORTBIND_DEFAULT_SOCKET), root);
    if (!listener.ok()) {
        return std::move(listener).take_error();
    }

    if (root) {
        if (auto s = lock_root_down(); !s.ok()) {
            return std::move(s).take_error();
        }
        // No supplementary groups. When there are none already, setgroups() is not called:
        // a user namespace made with setgroups=deny (a container) refuses it even then.
        std::optional<std::vector<gid_t>> groups = std::vector<gid_t>{};
        if (::getgroups(0, nullptr) == 0) {
            groups.reset();
        }
        const Credentials target =
            service ? Credentials{service->uid, service->gid, groups} : Credentials{0, 0, groups};
        if (auto s = become_keeping_bind_capability(target); !s.ok()) {
            return std::move(s).take_error();
        }
        if (auto s = verify_locked_down(); !s.ok()) {
            return std::move(s).take_error();
        }
        if (!service) {
            std::cerr << "portbind serve: running as uid 0 with only CAP_NET_BIND_SERVICE; "
                         "--user USER (or the portbind.service unit) is safer"
                      << std::endl;
        }
    }
    if (auto s = set_no_new_privileges(); !s.ok()) {
        return std::move(s).take_error();
    }
    raise_fd_limit();
    ::signal(SIGPIPE, SIG_IGN);  // replies use MSG_NOSIGNAL; this covers stderr

    broker::ServerConfig config{policy_location(std::nullopt)};
    if (auto s = broker::serve(std::move(listener).value(), config); !s.ok()) {
        return std::move(s).take_error();
    }
    return 0;
}

}  // namespace portbind
