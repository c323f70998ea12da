#include "launcher/listen_env.h"

#include <algorithm>
#include <set>

namespace portbind {

namespace {

// systemd's protocol variables, plus listenfd/systemfd's LISTEN_FDS_FIRST_FD, which would
// make such receivers look for sockets elsewhere. Other LISTEN_* names (LISTEN_ADDRESS,
// LISTEN_PORT, ...) are apps' own settings and pass through.
constexpr std::string_view kListenVariables[] = {"LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES",
                                                 "LISTEN_PIDFDID", "LISTEN_FDS_FIRST_FD"};

bool is_listen_variable(std::string_view name) {
    return std::find(std::begin(kListenVariables), std::end(kListenVariables), name) !=
           std::end(kListenVariables);
}

}  // namespace

std::vector<std::string> build_child_environment(
    const std::vector<std::string_view>& inherited,
    const std::vector<std::pair<std::string, std::string>>& overrides, const ListenFds& fds) {
    std::vector<std::string> env;
    std::set<std::string_view> seen;
    for (const auto& [name, value] : overrides) {
        seen.insert(name);
    }
    for (const std::string_view entry : inherited) {
        const auto eq = entry.find('=');
        if (eq == entry.npos || eq == 0) {
            continue;
        }
        const std::string_view name = entry.substr(0, eq);
        if (is_listen_variable(name) || !seen.insert(name).second) {
            continue;
        }
        env.emplace_back(entry);
    }
    for (const auto& [name, value] : overrides) {
        env.push_back(name + "=" + value);
    }
    if (!fds.names.empty()) {
        env.push_back("LISTEN_FDS=" + std::to_string(fds.names.size()));
        std::string names;
        for (const std::string& n : fds.names) {
            names += (names.empty() ? "" : ":") + n;
        }
        env.push_back("LISTEN_FDNAMES=" + names);
        if (fds.pidfd_id) {
            env.push_back("LISTEN_PIDFDID=" + std::to_string(*fds.pidfd_id));
        }
        env.push_back("LISTEN_PID=" + std::to_string(fds.pid));
    }
    return env;
}

}  // namespace portbind
