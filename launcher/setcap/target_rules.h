// The rules `portbind setcap` applies to a file before giving it a capability, the state of
// a recorded grant on disk, and the risks `audit` reports. Pure: the facts are gathered by
// target_open.cc and audit.cc.
//
// Why each rule exists (every one is a refusal; --force overrides none of them):
//  * only a regular, executable file can carry a useful file capability;
//  * the file and every directory on the way to it must be root-owned and not writable by
//    group or others: anyone who can write the file can change the program (a write through
//    a shared mapping keeps the capability), and anyone who can write a directory can swap
//    the file or a symlink on the way to it for another one;
//  * more than one hard link means the same file is reachable under names nobody checked;
//  * a setuid or setgid file already runs with another identity;
//  * on a nosuid mount the kernel ignores file capabilities, on a noexec mount the file
//    cannot run: either way the grant would not do what it says.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "launcher/setcap/cap_sets.h"
#include "launcher/setcap/executable_kind.h"
#include "launcher/setcap/registry.h"
#include "policy/result.h"

namespace portbind {

// The alternative every refusal points to.
inline constexpr std::string_view kPortbindAlternative =
    "or run the service as 'portbind --port PORT -- COMMAND', which needs no capability on "
    "the program";

struct TargetFacts {
    std::uint32_t mode = 0;  // st_mode
    std::uint32_t uid = 0;
    std::uint64_t nlink = 0;
    bool nosuid_mount = false;
    bool noexec_mount = false;
};

// "a directory", "a FIFO", ... for messages.
std::string file_type_name(std::uint32_t mode);

// "0755", "4755", "1777".
std::string octal_mode(std::uint32_t mode);

// A directory traversed on the way to the target (or to a symlink on the way).
Status check_directory(const std::string& dir, std::uint32_t mode, std::uint32_t uid,
                       const std::string& target);

// The target file itself.
Status check_target_facts(const std::string& path, const TargetFacts& facts);

// Content rules: an ELF executable, not a script; an interpreter only with --force.
Status check_executable(const std::string& path, const ExecutableInfo& info, bool force);

// Capability rules: storable on a file; beyond cap_net_bind_service only with --force.
Status check_requested_caps(const std::string& path, const std::string& caps_text,
                            const CapSets& caps, bool force);

// ------------------------------------------------------------ recorded grants

enum class GrantState { Ok, Missing, Lost, Changed };

const char* state_name(GrantState state);

struct OnDisk {
    bool exists = false;
    bool regular = false;
    FileIdentity identity;
    CapSets caps;  // empty: no capability attribute
};

struct StateReport {
    GrantState state = GrantState::Missing;
    std::string detail;
};

StateReport classify_grant(const CapSets& recorded, const FileIdentity& recorded_identity,
                           const OnDisk& disk);

// -------------------------------------------------------------------- audit

struct AuditFacts {
    std::string path;
    std::uint32_t mode = 0;
    std::uint32_t uid = 0;
    std::uint64_t nlink = 0;
    CapSets caps;
    std::optional<ExecutableInfo> executable;  // nullopt: too large or unreadable
    std::optional<std::string> writable_dir;   // an ancestor a non-root user can write
};

// Below /usr/bin, /usr/sbin, /usr/lib, /usr/libexec, /bin, /sbin, /lib, /usr/local/{bin,
// sbin,lib,libexec} (and the lib32/lib64 variants).
bool in_system_directory(std::string_view path);

// Every risk found, one short phrase each; empty when none.
std::vector<std::string> audit_risks(const AuditFacts& facts);

}  // namespace portbind
