#include "launcher/setcap/cap_sets.h"

#include <array>
#include <string_view>

namespace portbind {

namespace {

// Indexed by capability number (linux/capability.h).
constexpr std::array<std::string_view, 41> kCapNames = {
    "cap_chown",
    "cap_dac_override",
    "cap_dac_read_search",
    "cap_fowner",
    "cap_fsetid",
    "cap_kill",
    "cap_setgid",
    "cap_setuid",
    "cap_setpcap",
    "cap_linux_immutable",
    "cap_net_bind_service",
    "cap_net_broadcast",
    "cap_net_admin",
    "cap_net_raw",
    "cap_ipc_lock",
    "cap_ipc_owner",
    "cap_sys_module",
    "cap_sys_rawio",
    "cap_sys_chroot",
    "cap_sys_ptrace",
    "cap_sys_pacct",
    "cap_sys_admin",
    "cap_sys_boot",
    "cap_sys_nice",
    "cap_sys_resource",
    "cap_sys_time",
    "cap_sys_tty_config",
    "cap_mknod",
    "cap_lease",
    "cap_audit_write",
    "cap_audit_control",
    "cap_setfcap",
    "cap_mac_override",
    "cap_mac_admin",
    "cap_syslog",
    "cap_wake_alarm",
    "cap_block_suspend",
    "cap_audit_read",
    "cap_perfmon",
    "cap_bpf",
    "cap_checkpoint_restore",
};

// Each of these is a known path to full root (or to the kernel): reading or writing any
// file, changing ids, loading modules or BPF, ptrace of root processes, raw devices,
// mount and namespace control, or granting capabilities to other files.
constexpr std::array<unsigned, 21> kDangerous = {
    0,   // chown
    1,   // dac_override
    2,   // dac_read_search
    3,   // fowner
    4,   // fsetid
    6,   // setgid
    7,   // setuid
    8,   // setpcap
    12,  // net_admin
    16,  // sys_module
    17,  // sys_rawio
    18,  // sys_chroot
    19,  // sys_ptrace
    21,  // sys_admin
    22,  // sys_boot
    27,  // mknod
    30,  // audit_control
    31,  // setfcap
    32,  // mac_override
    33,  // mac_admin
    39,  // bpf
};

std::string join(const std::vector<std::string>& names) {
    std::string out;
    for (const std::string& n : names) {
        out += out.empty() ? n : "," + n;
    }
    return out;
}

}  // namespace

CapSets default_grant() {
    return CapSets{cap_bit(kCapNetBindService), 0, cap_bit(kCapNetBindService)};
}

std::string cap_name(unsigned cap) {
    if (cap < kCapNames.size()) {
        return std::string(kCapNames[cap]);
    }
    return "cap_" + std::to_string(cap);
}

std::vector<std::string> cap_names(std::uint64_t bits) {
    std::vector<std::string> names;
    for (unsigned cap = 0; cap < kMaxCapBits; ++cap) {
        if (bits & cap_bit(cap)) {
            names.push_back(cap_name(cap));
        }
    }
    return names;
}

std::optional<std::string> invalid_file_caps(const CapSets& caps) {
    if (caps.empty()) {
        return "it grants no capability";
    }
    if (caps.effective != 0 && caps.effective != (caps.permitted | caps.inheritable)) {
        return "a file has a single effective flag, so the effective set must be empty or "
               "name every permitted and inheritable capability (e.g. '=ep' for all of them)";
    }
    return std::nullopt;
}

std::optional<std::string> caps_beyond_bind(const CapSets& caps) {
    const std::uint64_t others = caps.any() & ~cap_bit(kCapNetBindService);
    if (others != 0) {
        return "it includes " + join(cap_names(others)) + ", not only cap_net_bind_service";
    }
    if (caps.inheritable != 0) {
        return "it sets inheritable bits, which pass the capability on to programs this one "
               "runs";
    }
    return std::nullopt;
}

std::vector<std::string> dangerous_caps(const CapSets& caps) {
    std::uint64_t bits = 0;
    for (const unsigned cap : kDangerous) {
        bits |= cap_bit(cap);
    }
    return cap_names((caps.permitted | caps.inheritable) & bits);
}

CapSets caps_without(const CapSets& from, const CapSets& removed) {
    CapSets out;
    out.permitted = from.permitted & ~removed.permitted;
    out.inheritable = from.inheritable & ~removed.inheritable;
    out.effective = from.effective != 0 ? (out.permitted | out.inheritable) : 0;
    return out;
}

}  // namespace portbind
