// Fuzz target: parse_command_line(), which reads argv of a privileged program (every word is
// the caller's). Input: the words, separated by NUL bytes (argv strings cannot contain NUL).
//
// Invariants checked:
//  - it returns (Boost.Program_options exceptions are turned into usage errors; anything that
//    escapes aborts, which the fuzzer reports);
//  - a refusal is a usage error, or "command not found" for an empty command name, with a
//    message;
//  - launch: the command is non-empty with a non-empty name and is exactly a suffix of argv,
//    at most kMaxSockets specs, backlog >= 1, --policy absolute;
//  - the command's own options are never portbind's: appending words after a command that
//    parsed gives the same specs and options, and a command extended by exactly those words;
//  - check: at least one spec, --cmd and --policy absolute; who: one valid port per word that
//    is not "--"; setcap, serve and systemd-units receive exactly the remaining words.
#include <climits>
#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "launcher/cli.h"
#include "tests/fuzz/fuzz_support.h"

using namespace portbind;

namespace {

constexpr std::size_t kMaxWords = 128;

bool same_specs(const std::vector<SocketSpec>& a, const std::vector<SocketSpec>& b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (a[i].address != b[i].address || a[i].port != b[i].port || a[i].proto != b[i].proto ||
            a[i].name != b[i].name) {
            return false;
        }
    }
    return true;
}

bool same_options(const LaunchArgs& a, const LaunchArgs& b) {
    return same_specs(a.specs, b.specs) && a.activate == b.activate &&
           a.socket.backlog == b.socket.backlog && a.socket.reuseport == b.socket.reuseport &&
           a.socket.freebind == b.socket.freebind && a.socket.v6only == b.socket.v6only &&
           a.socket.nonblock == b.socket.nonblock && a.user == b.user &&
           a.policy_file == b.policy_file;
}

bool is_suffix(const std::vector<std::string>& part, const std::vector<std::string>& whole) {
    return part.size() <= whole.size() &&
           std::equal(part.begin(), part.end(),
                      whole.end() - static_cast<std::ptrdiff_t>(part.size()));
}

bool is_absolute(const std::optional<std::string>& path) {
    return !path || (!path->empty() && path->front() == '/');
}

void check_launch(const LaunchArgs& launch, const std::vector<std::string>& args) {
    FUZZ_CHECK(!launch.command.empty() && !launch.command.front().empty());
    FUZZ_CHECK(is_suffix(launch.command, args));
    FUZZ_CHECK(launch.specs.size() <= kMaxSockets);
    FUZZ_CHECK(launch.socket.backlog >= 1);
    FUZZ_CHECK(is_absolute(launch.policy_file));
    for (const SocketSpec& spec : launch.specs) {
        FUZZ_CHECK(spec.port >= 1 && is_valid_fd_name(spec.name));
    }
}

void check_invocation(const Invocation& inv, const std::vector<std::string>& args) {
    const std::vector<std::string> rest(args.empty() ? args.begin() : args.begin() + 1, args.end());
    if (const auto* launch = std::get_if<LaunchArgs>(&inv)) {
        check_launch(*launch, args);
    } else if (const auto* check = std::get_if<CheckArgs>(&inv)) {
        FUZZ_CHECK(args.front() == "check");
        FUZZ_CHECK(!check->specs.empty() && check->specs.size() <= kMaxSockets);
        FUZZ_CHECK(is_absolute(check->command) && is_absolute(check->policy_file));
    } else if (const auto* who = std::get_if<WhoArgs>(&inv)) {
        FUZZ_CHECK(args.front() == "who");
        std::size_t words = 0;
        for (const std::string& w : rest) {
            if (w != "--") {
                ++words;
            }
        }
        FUZZ_CHECK(who->ports.size() == words);
        for (const std::uint16_t port : who->ports) {
            FUZZ_CHECK(port >= 1);
        }
    } else if (const auto* setcap = std::get_if<SetcapArgs>(&inv)) {
        FUZZ_CHECK(args.front() == "setcap" && setcap->args == rest);
    } else if (const auto* serve = std::get_if<ServeArgs>(&inv)) {
        FUZZ_CHECK(args.front() == "serve" && serve->args == rest);
    } else if (const auto* units = std::get_if<SystemdUnitsArgs>(&inv)) {
        FUZZ_CHECK(args.front() == "systemd-units" && units->args == rest);
    } else if (const auto* help = std::get_if<HelpArgs>(&inv)) {
        FUZZ_CHECK(!help->text.empty());
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = fuzz::as_text(data, size);
    std::vector<std::string> args;
    if (!text.empty()) {
        args = fuzz::split(text, '\0', kMaxWords);
    }

    const auto result = parse_command_line(args);
    if (!result.ok()) {
        const Error& e = result.error();
        FUZZ_CHECK(e.kind == ErrorKind::Usage || e.kind == ErrorKind::CommandNotFound);
        FUZZ_CHECK(!e.message.empty());
        return 0;
    }
    check_invocation(result.value(), args);

    // Words after the command belong to the command, whatever they look like.
    if (const auto* launch = std::get_if<LaunchArgs>(&result.value())) {
        const std::vector<std::string> extra{"--port", "1",  "--user=root",
                                             "--",     "-h", "--policy=/etc/other.conf"};
        std::vector<std::string> longer = args;
        longer.insert(longer.end(), extra.begin(), extra.end());
        const auto extended = parse_command_line(longer);
        FUZZ_CHECK(extended.ok());
        const auto* launch2 = std::get_if<LaunchArgs>(&extended.value());
        FUZZ_CHECK(launch2 != nullptr);
        FUZZ_CHECK(same_options(*launch, *launch2));
        std::vector<std::string> command = launch->command;
        command.insert(command.end(), extra.begin(), extra.end());
        FUZZ_CHECK(launch2->command == command);
    }
    return 0;
}
