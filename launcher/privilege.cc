// MUST-list for this file:
//  1. Order of a credential change: supplementary groups, gid, uid, then capabilities.
//  2. Every set*id and capset return value is checked, and the result is read back and
//     compared with what was asked for; a mismatch is an error, never a warning.
//  3. CAP_NET_BIND_SERVICE is effective only inside BindCapability, i.e. around bind().
//  4. The process is non-dumpable from the moment it may hold a capability until exec.
//  5. After drop_all_privileges() nothing privileged remains: empty capability sets, no
//     ambient capabilities, and setuid(0) fails.
#include "launcher/privilege.h"

#include <grp.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

namespace portbind {

namespace {

using CapPtr = std::unique_ptr<std::remove_pointer_t<cap_t>, int (*)(void*)>;

CapPtr make_caps(cap_t c) {
    return CapPtr(c, cap_free);
}

std::string caps_text(cap_t caps) {
    ssize_t len = 0;
    char* text = cap_to_text(caps, &len);
    if (text == nullptr) {
        return "?";
    }
    std::string s(text, static_cast<std::size_t>(len));
    cap_free(text);
    return s;
}

// The capability state a process with only CAP_NET_BIND_SERVICE permitted should have.
CapPtr bind_only_caps(bool effective) {
    CapPtr caps = make_caps(cap_init());
    if (!caps) {
        return caps;
    }
    const cap_value_t bind = CAP_NET_BIND_SERVICE;
    cap_set_flag(caps.get(), CAP_PERMITTED, 1, &bind, CAP_SET);
    if (effective) {
        cap_set_flag(caps.get(), CAP_EFFECTIVE, 1, &bind, CAP_SET);
    }
    return caps;
}

// The two states BindCapability switches between, built once: cap_init() asks the kernel
// for its capability version each time, which a broker would otherwise do twice per grant.
cap_t bind_only_state(bool effective) {
    static const CapPtr raised = bind_only_caps(true);
    static const CapPtr lowered = bind_only_caps(false);
    return effective ? raised.get() : lowered.get();
}

// What switching the ids needs, plus the bind capability kept through it, out of what the
// process holds: permitted within {setuid, setgid, net_bind_service}, effective within
// {setuid, setgid}, nothing inheritable. (A file-capability portbind holds only the bind
// capability, and keeps exactly that.)
CapPtr switch_caps() {
    CapPtr now = make_caps(cap_get_proc());
    CapPtr caps = make_caps(cap_init());
    if (!now || !caps) {
        return make_caps(nullptr);
    }
    for (const cap_value_t c : {CAP_SETUID, CAP_SETGID, CAP_NET_BIND_SERVICE}) {
        cap_flag_value_t held = CAP_CLEAR;
        if (cap_get_flag(now.get(), c, CAP_PERMITTED, &held) == 0 && held == CAP_SET) {
            cap_set_flag(caps.get(), CAP_PERMITTED, 1, &c, CAP_SET);
            if (c != CAP_NET_BIND_SERVICE) {
                cap_set_flag(caps.get(), CAP_EFFECTIVE, 1, &c, CAP_SET);
            }
        }
    }
    return caps;
}

Status verify_caps_equal(cap_t expected, const char* stage) {
    CapPtr now = make_caps(cap_get_proc());
    if (!now) {
        return os_error("cannot read capabilities", errno);
    }
    if (cap_compare(now.get(), expected) != 0) {
        return Error{ErrorKind::System,
                     std::string("capability sets ") + stage + " are '" + caps_text(now.get()) +
                         "', expected '" + caps_text(expected) + "'",
                     "refusing to continue; please report this"};
    }
    for (cap_value_t c = 0; c < static_cast<cap_value_t>(cap_max_bits()); ++c) {
        if (cap_get_ambient(c) > 0) {
            return Error{ErrorKind::System, std::string("ambient capabilities remain ") + stage,
                         "refusing to continue; please report this"};
        }
    }
    if (::prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0) != 0) {
        return Error{ErrorKind::System, std::string("keep-caps is still set ") + stage,
                     "refusing to continue; please report this"};
    }
    return success();
}

Status verify_ids(const Credentials& target, const char* stage) {
    uid_t r = 0, e = 0, s = 0;
    gid_t rg = 0, eg = 0, sg = 0;
    if (::getresuid(&r, &e, &s) != 0 || ::getresgid(&rg, &eg, &sg) != 0) {
        return os_error("cannot read the process ids", errno);
    }
    if (r != target.uid || e != target.uid || s != target.uid || rg != target.gid ||
        eg != target.gid || sg != target.gid) {
        return Error{ErrorKind::System,
                     std::string("ids ") + stage + " are uid " + std::to_string(r) + "/" +
                         std::to_string(e) + "/" + std::to_string(s) + " gid " +
                         std::to_string(rg) + "/" + std::to_string(eg) + "/" + std::to_string(sg) +
                         ", expected uid " + std::to_string(target.uid) + " gid " +
                         std::to_string(target.gid),
                     "refusing to continue; please report this"};
    }
    if (target.groups) {
        const int n = ::getgroups(0, nullptr);
        std::vector<gid_t> now(static_cast<std::size_t>(n < 0 ? 0 : n));
        std::vector<gid_t> wanted = *target.groups;
        const bool read_ok = n >= 0 && (n == 0 || ::getgroups(n, now.data()) == n);
        std::sort(now.begin(), now.end());  // the kernel keeps the list sorted
        std::sort(wanted.begin(), wanted.end());
        if (!read_ok || now != wanted) {
            return Error{ErrorKind::System,
                         std::string("supplementary groups ") + stage + " are not the target's",
                         "refusing to continue; please report this"};
        }
    }
    return success();
}

Status set_non_dumpable() {
    if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
        return os_error("cannot make the process non-dumpable", errno);
    }
    if (::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0) {
        return Error{ErrorKind::System, "the process is still dumpable",
                     "refusing to continue; please report this"};
    }
    return success();
}

}  // namespace

Result<PrivilegeMode> detect_privilege_mode() {
    uid_t r = 0, e = 0, s = 0;
    if (::getresuid(&r, &e, &s) != 0) {
        return os_error("cannot read the process ids", errno);
    }
    if (r == 0) {
        return PrivilegeMode::Root;
    }
    gid_t rg = 0, eg = 0, sg = 0;
    if (::getresgid(&rg, &eg, &sg) != 0) {
        return os_error("cannot read the process group ids", errno);
    }
    if (eg != rg || sg != rg) {
        return Error{ErrorKind::Untrusted,
                     "portbind runs with effective gid " + std::to_string(eg) + " and saved gid " +
                         std::to_string(sg) + " but real gid " + std::to_string(rg) +
                         " (installed setgid, or started by a setgid program)",
                     "remove the setgid bit (chmod g-s) and start it with matching group ids"};
    }
    if (e == 0 || s == 0) {
        return PrivilegeMode::Setuid;
    }
    if (e != r || s != r) {
        return Error{ErrorKind::Untrusted,
                     "portbind runs with effective uid " + std::to_string(e) + " and saved uid " +
                         std::to_string(s) + " but real uid " + std::to_string(r) +
                         " (installed setuid to a user other than root, or started by such a "
                         "program)",
                     "install it setuid root or with cap_net_bind_service=p, and start it "
                     "with matching ids"};
    }
    CapPtr caps = make_caps(cap_get_proc());
    if (!caps) {
        return os_error("cannot read capabilities", errno);
    }
    bool bind = false;
    for (cap_value_t c = 0; c < static_cast<cap_value_t>(cap_max_bits()); ++c) {
        cap_flag_value_t permitted = CAP_CLEAR;
        if (cap_get_flag(caps.get(), c, CAP_PERMITTED, &permitted) != 0 || permitted != CAP_SET) {
            continue;
        }
        if (c != CAP_NET_BIND_SERVICE) {
            return Error{ErrorKind::Untrusted,
                         "portbind holds unexpected capabilities '" + caps_text(caps.get()) + "'",
                         "install it with exactly cap_net_bind_service=p (setcap "
                         "cap_net_bind_service=p PATH)"};
        }
        bind = true;
    }
    return bind ? PrivilegeMode::FileCapability : PrivilegeMode::Unprivileged;
}

std::string explain_missing_privilege() {
    if (::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1) {
        return "it was started with no_new_privs set (e.g. NoNewPrivileges=yes or setpriv "
               "--nnp), which disables its capability";
    }
    return "it holds no privilege (not installed with cap_net_bind_service=p or setuid root, "
           "on a nosuid mount, or run under a debugger)";
}

Status become_keeping_bind_capability(const Credentials& target) {
    // First shed everything the switch does not need: the caller can stop portbind at any
    // moment, and no moment may show the caller's uid with more than these three.
    CapPtr switching = switch_caps();
    if (!switching || cap_set_proc(switching.get()) != 0) {
        return os_error("cannot reduce capabilities before switching to the caller", errno);
    }
    if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) {
        return os_error("cannot set keep-caps", errno);
    }
    if (target.groups && ::setgroups(target.groups->size(), target.groups->data()) != 0) {
        return os_error("cannot set supplementary groups", errno);
    }
    if (::setresgid(target.gid, target.gid, target.gid) != 0) {
        return os_error("cannot set gid " + std::to_string(target.gid), errno);
    }
    if (::setresuid(target.uid, target.uid, target.uid) != 0) {
        return os_error("cannot set uid " + std::to_string(target.uid), errno);
    }
    CapPtr wanted = bind_only_caps(false);
    if (!wanted || cap_set_proc(wanted.get()) != 0) {
        return os_error("cannot reduce capabilities to cap_net_bind_service", errno);
    }
    if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) {
        return os_error("cannot clear keep-caps", errno);
    }
    if (cap_reset_ambient() != 0) {
        return os_error("cannot clear ambient capabilities", errno);
    }
    if (auto s = set_non_dumpable(); !s.ok()) {
        return s;
    }
    if (auto s = verify_ids(target, "after switching to the caller"); !s.ok()) {
        return s;
    }
    return verify_caps_equal(wanted.get(), "after switching to the caller");
}

Result<BindCapability> BindCapability::raise() {
    cap_t caps = bind_only_state(true);
    if (caps == nullptr || cap_set_proc(caps) != 0) {
        return os_error("cannot raise cap_net_bind_service", errno);
    }
    BindCapability raised;
    raised.active_ = true;
    return raised;
}

BindCapability::~BindCapability() {
    if (!active_) {
        return;
    }
    cap_t caps = bind_only_state(false);
    if (caps == nullptr || cap_set_proc(caps) != 0) {
        std::abort();  // never continue with an effective capability
    }
}

Status drop_all_privileges(const Credentials& target) {
    CapPtr none = make_caps(cap_init());
    if (!none || cap_set_proc(none.get()) != 0) {
        return os_error("cannot drop capabilities", errno);
    }
    if (cap_reset_ambient() != 0 && errno != EINVAL) {
        return os_error("cannot clear ambient capabilities", errno);
    }
    if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) {
        return os_error("cannot clear keep-caps", errno);
    }
    if (auto s = verify_ids(target, "after the drop"); !s.ok()) {
        return s;
    }
    if (auto s = verify_caps_equal(none.get(), "after the drop"); !s.ok()) {
        return s;
    }
    // The drop must be irreversible.
    if (target.uid != 0 && (::setuid(0) == 0 || ::seteuid(0) == 0)) {
        return Error{ErrorKind::System, "the privilege drop is reversible: setuid(0) succeeded",
                     "refusing to run the command; please report this"};
    }
    if (target.gid != 0 && (::setgid(0) == 0 || ::setegid(0) == 0)) {
        return Error{ErrorKind::System, "the privilege drop is reversible: setgid(0) succeeded",
                     "refusing to run the command; please report this"};
    }
    return success();
}

}  // namespace portbind
