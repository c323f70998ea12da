#include "launcher/cli.h"

#include <boost/program_options.hpp>
#include <climits>
#include <sstream>

#include "launcher/client/portbind.h"
#include "policy/strict_number.h"

namespace po = boost::program_options;

namespace portbind {

namespace {

constexpr auto kStyle = po::command_line_style::unix_style ^ po::command_line_style::allow_guessing;

Error usage(std::string message) {
    return Error{ErrorKind::Usage, std::move(message), "see 'portbind --help'"};
}

std::string printable(std::string text) {
    for (char& c : text) {
        if (c < 0x20 || c > 0x7e) {
            c = '?';
        }
    }
    return text;
}

// Never Boost's what(): it expands %placeholders% in a loop that does not end when the
// user's own token contains one ("--x%original_token%"), so bad input would hang portbind.
// The message is built from the parts instead, with the user's bytes made printable.
std::string describe_option_error(const po::error& e) {
    const auto* named = dynamic_cast<const po::error_with_option_name*>(&e);
    if (named == nullptr) {
        return "invalid command line";
    }
    const std::string option = "'" + printable(named->get_option_name()) + "'";
    if (dynamic_cast<const po::unknown_option*>(&e) != nullptr) {
        return "unknown option " + option;
    }
    if (dynamic_cast<const po::multiple_occurrences*>(&e) != nullptr) {
        return "option " + option + " given more than once";
    }
    if (const auto* syntax = dynamic_cast<const po::invalid_command_line_syntax*>(&e)) {
        if (syntax->kind() == po::invalid_syntax::missing_parameter) {
            return "option " + option + " needs a value";
        }
        if (syntax->kind() == po::invalid_syntax::extra_parameter) {
            return "option " + option + " takes no value";
        }
        return "malformed option " + option;
    }
    return "invalid use of option " + option;
}

po::options_description launch_options() {
    po::options_description d("Options");
    d.add_options()("port", po::value<std::vector<std::string>>()->value_name("SPEC"),
                    "socket to bind, [ADDR:]PORT[/tcp|/udp][=NAME]; repeatable")(
        "activate", po::bool_switch(),
        "socket activation: pass the sockets at fd 3.. with LISTEN_FDS, LISTEN_PID, "
        "LISTEN_FDNAMES and exec the command in place")(
        "backlog", po::value<std::string>()->value_name("N"),
        "listen backlog for stream sockets (default 4096)")(
        "reuseport", po::bool_switch(), "set SO_REUSEPORT")("freebind", po::bool_switch(),
                                                            "set IP_FREEBIND / IPV6_FREEBIND")(
        "v6only", po::bool_switch(), "make [::] sockets IPv6-only (default: dual-stack)")(
        "nonblock", po::bool_switch(), "pass the sockets in non-blocking mode")(
        "user", po::value<std::string>()->value_name("USER"),
        "run the command as USER with USER's groups (root only)")(
        "policy", po::value<std::string>()->value_name("FILE"),
        "read this policy file instead of the built-in one (root only)")(
        "broker", po::value<std::string>()->implicit_value("")->value_name("PATH"),
        "get the privileged sockets from the broker (portbind serve) at PATH "
        "(default " PORTBIND_DEFAULT_SOCKET
        ") instead of binding them; automatic when portbind holds no privilege and the "
        "default socket exists")("help,h", po::bool_switch(), "show this help")(
        "version", po::bool_switch(), "show the version");
    return d;
}

po::options_description check_options() {
    po::options_description d("check options");
    d.add_options()("user", po::value<std::string>()->value_name("USER"),
                    "decide for USER (root only)")(
        "cmd", po::value<std::string>()->value_name("PATH"), "command path for cmd rules")(
        "policy", po::value<std::string>()->value_name("FILE"), "policy file (root only)")(
        "v6only", po::bool_switch(), "treat address-less specs as IPv6-only")(
        "spec", po::value<std::vector<std::string>>(), "");
    return d;
}

std::string help_text() {
    std::ostringstream out;
    out << "Usage: portbind [OPTIONS] --activate [--port SPEC]... [--] COMMAND [ARG]...\n"
           "       portbind check [--user USER] [--cmd PATH] [--policy FILE] SPEC...\n"
           "       portbind who [PORT]...\n"
           "       portbind setcap grant|revoke|list|reapply|audit ...   (root only)\n"
           "       portbind serve [--socket PATH] [--user USER]\n"
           "       portbind systemd-units NAME [--port SPEC]... -- COMMAND [ARG]...\n\n"
           "Bind privileged ports allowed by the administrator's policy, drop every privilege\n"
           "and run COMMAND with the sockets (see portbind(1) and portbind.conf(5)).\n\n"
        << launch_options();
    return out.str();
}

// Index of the first word after portbind's own options (the command), and whether a "--"
// ended them. Each option that takes a value consumes the next word unless written --opt=v.
std::size_t find_command_start(const std::vector<std::string>& args,
                               const po::options_description& desc, bool& dashdash) {
    dashdash = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--") {
            dashdash = true;
            return i;
        }
        if (a.size() < 2 || a[0] != '-') {
            return i;
        }
        const bool is_long = a[1] == '-';
        const std::string name = is_long
                                     ? a.substr(2, a.find('=') == a.npos ? a.npos : a.find('=') - 2)
                                     : a.substr(0, 2);
        const po::option_description* opt = desc.find_nothrow(name, false);
        const bool inline_value = is_long ? a.find('=') != a.npos : a.size() > 2;
        // An option with an implicit value (--broker) takes a value only as --opt=VALUE.
        if (opt != nullptr && opt->semantic()->min_tokens() > 0 && !inline_value) {
            ++i;
        }
    }
    return args.size();
}

Result<std::vector<SocketSpec>> parse_specs(const std::vector<std::string>& texts) {
    if (texts.size() > kMaxSockets) {
        return usage("too many sockets (" + std::to_string(texts.size()) + "); at most " +
                     std::to_string(kMaxSockets));
    }
    std::vector<SocketSpec> specs;
    for (const std::string& text : texts) {
        auto spec = parse_socket_spec(text);
        if (!spec.ok()) {
            return std::move(spec).take_error();
        }
        specs.push_back(std::move(spec).value());
    }
    return specs;
}

template <typename T>
std::optional<T> get_optional(const po::variables_map& vm, const char* name) {
    if (vm.count(name) == 0) {
        return std::nullopt;
    }
    return vm[name].as<T>();
}

Result<Invocation> parse_launch(const std::vector<std::string>& args) {
    const po::options_description desc = launch_options();
    bool dashdash = false;
    const std::size_t start = find_command_start(args, desc, dashdash);
    // Boost's parser is quadratic in the number of words (it erases from the front); no
    // valid command line needs more than this many option words.
    constexpr std::size_t kMaxOptionWords = 2 * kMaxSockets + 32;
    if (start > kMaxOptionWords) {
        return usage("too many sockets or options: " + std::to_string(start) +
                     " words before the command (at most " + std::to_string(kMaxSockets) +
                     " sockets)");
    }
    const std::vector<std::string> options(args.begin(),
                                           args.begin() + static_cast<std::ptrdiff_t>(start));
    po::variables_map vm;
    po::store(po::command_line_parser(options).options(desc).style(kStyle).run(), vm);
    po::notify(vm);

    if (vm["help"].as<bool>()) {
        return Invocation{HelpArgs{help_text()}};
    }
    if (vm["version"].as<bool>()) {
        return Invocation{VersionArgs{}};
    }

    LaunchArgs launch;
    launch.command.assign(args.begin() + static_cast<std::ptrdiff_t>(start + (dashdash ? 1 : 0)),
                          args.end());
    if (launch.command.empty()) {
        return usage("no command given");
    }
    if (launch.command[0].empty()) {
        return Error{ErrorKind::CommandNotFound, "cannot run '': empty command name",
                     "give the command to run after --"};
    }
    auto specs = parse_specs(
        get_optional<std::vector<std::string>>(vm, "port").value_or(std::vector<std::string>{}));
    if (!specs.ok()) {
        return std::move(specs).take_error();
    }
    launch.specs = std::move(specs).value();
    launch.activate = vm["activate"].as<bool>();
    if (const auto broker = get_optional<std::string>(vm, "broker")) {
        if (!broker->empty() && broker->front() != '/') {
            return usage("invalid --broker '" + *broker +
                         "': the broker's socket is an absolute path");
        }
        launch.broker = *broker;
    }
    launch.socket.reuseport = vm["reuseport"].as<bool>();
    launch.socket.freebind = vm["freebind"].as<bool>();
    launch.socket.v6only = vm["v6only"].as<bool>();
    launch.socket.nonblock = vm["nonblock"].as<bool>();
    if (const auto backlog = get_optional<std::string>(vm, "backlog")) {
        const auto n = parse_decimal(*backlog, INT_MAX);
        if (!n || *n == 0) {
            return usage("invalid --backlog '" + *backlog +
                         "': expected a decimal number from 1 to " + std::to_string(INT_MAX));
        }
        launch.socket.backlog = static_cast<int>(*n);
    }
    launch.user = get_optional<std::string>(vm, "user");
    launch.policy_file = get_optional<std::string>(vm, "policy");
    if (launch.policy_file && (launch.policy_file->empty() || (*launch.policy_file)[0] != '/')) {
        return usage("--policy needs an absolute path");
    }
    return Invocation{std::move(launch)};
}

Result<Invocation> parse_check(const std::vector<std::string>& args) {
    const po::options_description desc = check_options();
    po::positional_options_description positional;
    positional.add("spec", -1);
    po::variables_map vm;
    po::store(
        po::command_line_parser(args).options(desc).positional(positional).style(kStyle).run(), vm);
    po::notify(vm);
    CheckArgs check;
    auto specs = parse_specs(
        get_optional<std::vector<std::string>>(vm, "spec").value_or(std::vector<std::string>{}));
    if (!specs.ok()) {
        return std::move(specs).take_error();
    }
    check.specs = std::move(specs).value();
    if (check.specs.empty()) {
        return usage("check needs at least one SPEC");
    }
    check.v6only = vm["v6only"].as<bool>();
    check.user = get_optional<std::string>(vm, "user");
    check.command = get_optional<std::string>(vm, "cmd");
    check.policy_file = get_optional<std::string>(vm, "policy");
    if (check.policy_file && (check.policy_file->empty() || (*check.policy_file)[0] != '/')) {
        return usage("--policy needs an absolute path");
    }
    if (check.command && (check.command->empty() || (*check.command)[0] != '/')) {
        return usage("--cmd needs an absolute path");
    }
    return Invocation{std::move(check)};
}

Result<Invocation> parse_who(const std::vector<std::string>& args) {
    WhoArgs who;
    for (const std::string& a : args) {
        if (a == "--") {
            continue;
        }
        const auto port = parse_port(a);
        if (!port) {
            return usage("invalid port '" + a + "': expected a decimal number from 1 to 65535");
        }
        who.ports.push_back(*port);
    }
    return Invocation{std::move(who)};
}

}  // namespace

Result<Invocation> parse_command_line(const std::vector<std::string>& args) {
    try {
        if (!args.empty() && args[0] == "check") {
            return parse_check({args.begin() + 1, args.end()});
        }
        if (!args.empty() && args[0] == "who") {
            return parse_who({args.begin() + 1, args.end()});
        }
        if (!args.empty() && args[0] == "setcap") {
            return Invocation{SetcapArgs{{args.begin() + 1, args.end()}}};
        }
        if (!args.empty() && args[0] == "serve") {
            return Invocation{ServeArgs{{args.begin() + 1, args.end()}}};
        }
        if (!args.empty() && args[0] == "systemd-units") {
            return Invocation{SystemdUnitsArgs{{args.begin() + 1, args.end()}}};
        }
        return parse_launch(args);
    } catch (const po::error& e) {
        return usage(describe_option_error(e));
    }
}

}  // namespace portbind
