// `portbind systemd-units NAME [--port SPEC]... [socket options] [--user USER] -- COMMAND`:
// prints the systemd units that do natively what `portbind --activate` does. Takes the same
// options as the launcher (parsed by the same code) and needs no privilege.
#include <iostream>

#include "launcher/cli.h"
#include "launcher/command.h"
#include "launcher/commands.h"
#include "launcher/systemd_units.h"

namespace portbind {

Result<int> run_systemd_units(const std::vector<std::string>& args) {
    if (args.empty() || args[0].empty() || args[0][0] == '-') {
        return Error{ErrorKind::Usage, "systemd-units needs a unit NAME first",
                     "e.g. portbind systemd-units web --port 443 -- /usr/bin/node app.js"};
    }
    std::vector<std::string> launch_args = {"--activate"};
    launch_args.insert(launch_args.end(), args.begin() + 1, args.end());
    auto parsed = parse_command_line(launch_args);
    if (!parsed.ok()) {
        return std::move(parsed).take_error();
    }
    auto* launch = std::get_if<LaunchArgs>(&parsed.value());
    if (launch == nullptr || launch->policy_file) {
        return Error{ErrorKind::Usage, "systemd-units takes --port, socket options and --user",
                     "see 'portbind --help'"};
    }
    const char* path = ::getenv("PATH");
    auto resolved =
        resolve_command(launch->command[0], path ? path : "/usr/local/bin:/usr/bin:/bin");
    if (!resolved.ok()) {
        return std::move(resolved).take_error();
    }
    UnitRequest request{args[0], launch->specs, launch->socket, launch->user, launch->command};
    request.command[0] = resolved.value();
    auto units = generate_units(request);
    if (!units.ok()) {
        return std::move(units).take_error();
    }
    for (const UnitFile& unit : units.value()) {
        std::cout << "# /etc/systemd/system/" << unit.file_name << '\n' << unit.text << '\n';
    }
    return 0;
}

}  // namespace portbind
