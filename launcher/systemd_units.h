// `portbind systemd-units`: the .socket/.service pair that makes systemd do what
// `portbind --activate` does, for admins moving to systemd-managed sockets. Pure.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "launcher/socket_options.h"
#include "policy/result.h"
#include "policy/socket_spec.h"

namespace portbind {

struct UnitRequest {
    std::string name;  // unit name without suffix
    std::vector<SocketSpec> specs;
    SocketOptions options;
    std::optional<std::string> user;   // User= of the service
    std::vector<std::string> command;  // command[0] is an absolute path
};

struct UnitFile {
    std::string file_name;  // e.g. "web.socket"
    std::string text;
};

// One .socket unit per distinct fd name (systemd names every fd of a socket unit alike;
// the default name "unknown" maps to the unit's own name, systemd's default), then the
// .service. systemd passes the fds unit by unit, so with several names the fd order groups
// the sockets by name; apps that use several sockets should find them by name. Refuses unit
// names and arguments systemd could misread.
Result<std::vector<UnitFile>> generate_units(const UnitRequest& request);

// One ExecStart= word: quoted when needed, with '\', '"', '$' and '%' escaped so systemd
// passes it through unchanged.
std::string quote_exec_word(const std::string& word);

bool is_valid_unit_prefix(const std::string& name);

}  // namespace portbind
