// Command line -> Invocation. Pure: no environment, no files, no privilege decisions (which
// options need a root caller is checked in main, against the real uid).
//
// Option parsing stops at `--` or at the first word that is not an option (the command), so
// the command's own options are never taken for portbind's. Abbreviated long options are not
// accepted, and an option that takes one value may be given once.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "launcher/socket_options.h"
#include "policy/result.h"
#include "policy/socket_spec.h"

namespace portbind {

inline constexpr std::size_t kMaxSockets = 64;

struct LaunchArgs {
    std::vector<SocketSpec> specs;
    bool activate = false;
    SocketOptions socket;
    std::optional<std::string> user;         // root callers only
    std::optional<std::string> policy_file;  // root callers only
    // --broker[=PATH]: ask the broker for the privileged sockets; "" names the default path.
    std::optional<std::string> broker;
    std::vector<std::string> command;  // never empty
};

struct CheckArgs {
    std::vector<SocketSpec> specs;
    bool v6only = false;
    std::optional<std::string> user;         // root callers only
    std::optional<std::string> command;      // path to match cmd rules against
    std::optional<std::string> policy_file;  // root callers only
};

struct WhoArgs {
    std::vector<std::uint16_t> ports;  // empty: every listening socket
};

// Subcommands with their own option parsing, in their own files: everything after the
// subcommand's name, unparsed.
struct SetcapArgs {
    std::vector<std::string> args;  // `portbind setcap ...` (root only)
};

struct ServeArgs {
    std::vector<std::string> args;  // `portbind serve ...` (the broker daemon)
};

struct SystemdUnitsArgs {
    std::vector<std::string> args;  // `portbind systemd-units NAME --port SPEC... -- COMMAND`
};

struct HelpArgs {
    std::string text;
};

struct VersionArgs {};

using Invocation = std::variant<LaunchArgs, CheckArgs, WhoArgs, SetcapArgs, ServeArgs,
                                SystemdUnitsArgs, HelpArgs, VersionArgs>;

Result<Invocation> parse_command_line(const std::vector<std::string>& args);

}  // namespace portbind
