// File capability sets as plain bitmasks, and the rules `portbind setcap` applies to them.
//
// Pure: converting to and from libcap's cap_t happens in file_caps.cc. Bit N is capability
// number N (CAP_NET_BIND_SERVICE is 10); the numbering is kernel ABI and never changes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace portbind {

inline constexpr unsigned kCapNetBindService = 10;
inline constexpr unsigned kMaxCapBits = 64;

inline constexpr std::uint64_t cap_bit(unsigned cap) {
    return cap < kMaxCapBits ? std::uint64_t{1} << cap : 0;
}

// What a file's security.capability attribute grants. A file has one effective *flag*:
// when it is set, every permitted and inheritable capability is effective at exec, so a
// valid file set has `effective` either empty or equal to `permitted | inheritable`.
struct CapSets {
    std::uint64_t permitted = 0;
    std::uint64_t inheritable = 0;
    std::uint64_t effective = 0;

    bool empty() const { return (permitted | inheritable | effective) == 0; }
    std::uint64_t any() const { return permitted | inheritable | effective; }
    friend bool operator==(const CapSets&, const CapSets&) = default;
};

// The grant `portbind setcap grant` makes without --caps: cap_net_bind_service=ep.
CapSets default_grant();

// "cap_sys_admin"; "cap_N" for a number this build does not name.
std::string cap_name(unsigned cap);

// Names of the capabilities in `bits`, in numeric order.
std::vector<std::string> cap_names(std::uint64_t bits);

// Why `caps` cannot be stored on a file at all (--force does not help): empty, or an
// effective set that is neither empty nor the whole of permitted|inheritable. nullopt: valid.
std::optional<std::string> invalid_file_caps(const CapSets& caps);

// What in `caps` goes beyond cap_net_bind_service in the permitted and effective sets:
// any other capability, or any inheritable bit. nullopt: nothing, no --force needed.
std::optional<std::string> caps_beyond_bind(const CapSets& caps);

// Capabilities in the permitted or inheritable set that let a process become root or
// take over the system (cap_sys_admin, cap_setuid, cap_dac_override, ...), by name.
std::vector<std::string> dangerous_caps(const CapSets& caps);

// `from` without the capabilities of `removed` (revoking what portbind granted while
// keeping anything else): the effective flag stays set only if something remains.
CapSets caps_without(const CapSets& from, const CapSets& removed);

}  // namespace portbind
