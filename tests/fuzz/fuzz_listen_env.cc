// Fuzz target: build_child_environment(), which turns the caller's raw environ (attacker
// controlled: any bytes, stale or forged LISTEN_* variables, duplicates, entries without '=')
// into the command's environment.
//
// Input: a byte-coded list of inherited entries (each optionally prefixed with a LISTEN_* or
// other interesting name, to reach those paths quickly), identity overrides, fd names, pid and
// pidfd id.
//
// Invariants checked:
//  - every entry is NAME=VALUE with a non-empty NAME; no NAME appears twice;
//  - with n >= 1 fds: exactly one each of LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES, whose values
//    are n, the pid and the n names joined by ':' (splitting it gives the names back, so its
//    name count equals LISTEN_FDS); LISTEN_PIDFDID exactly once iff a pidfd id is given;
//  - with no fds: no LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES or LISTEN_PIDFDID at all;
//  - never a LISTEN_FDS_FIRST_FD; other LISTEN_* names (the app's own) pass through;
//  - each override appears once with its value;
//  - the result equals a separate reference model entry for entry (first occurrence of a
//    name wins, order kept, overrides after the inherited entries, LISTEN_* last);
//  - building is deterministic.
//
// Preconditions the launcher guarantees and this target keeps: override names are distinct,
// non-empty, without '=' and not LISTEN_*; fd names satisfy is_valid_fd_name().
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "launcher/cli.h"
#include "launcher/listen_env.h"
#include "policy/socket_spec.h"
#include "tests/fuzz/fuzz_support.h"

using namespace portbind;

namespace {

// Dropped from the inherited environment whatever their value (LISTEN_FDS_FIRST_FD is
// listenfd/systemfd's); other LISTEN_* names are the app's own and pass through.
constexpr std::string_view kListenNames[] = {"LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES",
                                             "LISTEN_PIDFDID", "LISTEN_FDS_FIRST_FD"};

// Prefixes that steer entries into the interesting cases.
constexpr std::string_view kPrefixes[] = {"",
                                          "LISTEN_FDS=",
                                          "LISTEN_PID=",
                                          "LISTEN_FDNAMES=",
                                          "LISTEN_PIDFDID=",
                                          "LISTEN_FDS",
                                          "LISTEN_FDS_X=",
                                          "=",
                                          "HOME=",
                                          "USER=",
                                          "PATH=",
                                          "LISTEN_fds=",
                                          "LISTEN_PID ",
                                          "SHELL=",
                                          "LOGNAME=",
                                          "LISTEN_FDS_FIRST_FD=",
                                          "LISTEN_ADDRESS="};

constexpr std::string_view kOverrideNames[] = {"HOME", "USER", "LOGNAME", "SHELL", "PATH"};

bool is_listen_name(std::string_view name) {
    return std::find(std::begin(kListenNames), std::end(kListenNames), name) !=
           std::end(kListenNames);
}

std::string_view name_of(std::string_view entry) {
    return entry.substr(0, entry.find('='));
}

std::vector<std::string> reference(
    const std::vector<std::string>& inherited,
    const std::vector<std::pair<std::string, std::string>>& overrides, const ListenFds& fds) {
    std::vector<std::string> out;
    std::vector<std::string> taken;
    for (const auto& o : overrides) {
        taken.push_back(o.first);
    }
    for (const std::string& e : inherited) {
        const auto eq = e.find('=');
        if (eq == std::string::npos || eq == 0) {
            continue;
        }
        const std::string name = e.substr(0, eq);
        if (is_listen_name(name) || std::find(taken.begin(), taken.end(), name) != taken.end()) {
            continue;
        }
        taken.push_back(name);
        out.push_back(e);
    }
    for (const auto& o : overrides) {
        out.push_back(o.first + "=" + o.second);
    }
    if (!fds.names.empty()) {
        out.push_back("LISTEN_FDS=" + std::to_string(fds.names.size()));
        std::string joined;
        for (std::size_t i = 0; i < fds.names.size(); ++i) {
            joined += (i == 0 ? "" : ":") + fds.names[i];
        }
        out.push_back("LISTEN_FDNAMES=" + joined);
        if (fds.pidfd_id) {
            out.push_back("LISTEN_PIDFDID=" + std::to_string(*fds.pidfd_id));
        }
        out.push_back("LISTEN_PID=" + std::to_string(fds.pid));
    }
    return out;
}

// The values of every entry named `name`.
std::vector<std::string> values_of(const std::vector<std::string>& env, std::string_view name) {
    std::vector<std::string> values;
    for (const std::string& e : env) {
        if (name_of(e) == name) {
            values.push_back(e.substr(name.size() + 1));
        }
    }
    return values;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Input in(data, size);

    std::vector<std::pair<std::string, std::string>> overrides;
    const std::size_t n_overrides = in.below(std::size(kOverrideNames) + 1);
    for (std::size_t i = 0; i < n_overrides; ++i) {
        overrides.emplace_back(std::string(kOverrideNames[i]), in.string(32));
    }

    ListenFds fds;
    const std::size_t n_fds = in.below(kMaxSockets + 1);
    for (std::size_t i = 0; i < n_fds; ++i) {
        std::string name = in.string(255);
        fds.names.push_back(is_valid_fd_name(name) ? name : std::string(kDefaultFdName));
    }
    fds.pid = static_cast<pid_t>(in.integral<std::uint32_t>() & 0x7fffffffU);
    if (in.flag()) {
        fds.pidfd_id = in.integral<std::uint64_t>();
    }

    std::vector<std::string> inherited;
    while (!in.empty() && inherited.size() < 256) {
        const std::string_view prefix = kPrefixes[in.below(std::size(kPrefixes))];
        inherited.push_back(std::string(prefix) + in.string(255));
    }
    const std::vector<std::string_view> views(inherited.begin(), inherited.end());

    const std::vector<std::string> env = build_child_environment(views, overrides, fds);
    FUZZ_CHECK(env == build_child_environment(views, overrides, fds));

    std::set<std::string_view> names;
    for (const std::string& e : env) {
        const auto eq = e.find('=');
        FUZZ_CHECK(eq != std::string::npos && eq > 0);
        FUZZ_CHECK(names.insert(name_of(e)).second);
    }

    const auto listen_fds = values_of(env, "LISTEN_FDS");
    const auto listen_pid = values_of(env, "LISTEN_PID");
    const auto listen_names = values_of(env, "LISTEN_FDNAMES");
    const auto listen_pidfdid = values_of(env, "LISTEN_PIDFDID");
    FUZZ_CHECK(values_of(env, "LISTEN_FDS_FIRST_FD").empty());
    if (fds.names.empty()) {
        FUZZ_CHECK(listen_fds.empty() && listen_pid.empty() && listen_names.empty() &&
                   listen_pidfdid.empty());
    } else {
        FUZZ_CHECK(listen_fds.size() == 1 && listen_pid.size() == 1 && listen_names.size() == 1);
        FUZZ_CHECK(listen_fds[0] == std::to_string(fds.names.size()));
        FUZZ_CHECK(listen_pid[0] == std::to_string(fds.pid));
        FUZZ_CHECK(fuzz::split(listen_names[0], ':', kMaxSockets + 1) == fds.names);
        FUZZ_CHECK(listen_pidfdid.size() == (fds.pidfd_id ? 1U : 0U));
        if (fds.pidfd_id) {
            FUZZ_CHECK(listen_pidfdid[0] == std::to_string(*fds.pidfd_id));
        }
    }
    for (const auto& [name, value] : overrides) {
        const auto values = values_of(env, name);
        FUZZ_CHECK(values.size() == 1 && values[0] == value);
    }
    FUZZ_CHECK(env == reference(inherited, overrides, fds));
    return 0;
}
