#include "launcher/broker/peer.h"

#include <poll.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "launcher/identity.h"
#include "launcher/small_file.h"
#include "launcher/unique_fd.h"
#include "policy/strict_number.h"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59
#endif
#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77  // Linux 6.5; newer than the C library's headers
#endif

namespace portbind::broker {

namespace {

unsigned read_overflow_id(const char* path) {
    const auto text = read_small_file(path, 32);
    if (!text) {
        return 65534;
    }
    std::string_view v(*text);
    while (!v.empty() && v.back() == '\n') {
        v.remove_suffix(1);
    }
    const auto id = parse_decimal(v, 0xfffffffe);
    return id ? static_cast<unsigned>(*id) : 65534;
}

}  // namespace

Result<PeerCredentials> peer_credentials(int connection) {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(connection, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
        return os_error("SO_PEERCRED", errno);
    }
    if (len != sizeof cred) {
        return os_error("SO_PEERCRED", EPROTO);
    }
    return PeerCredentials{cred.uid, cred.gid, cred.pid};
}

Result<std::vector<gid_t>> peer_groups(int connection) {
    std::vector<gid_t> groups(64);
    for (int attempt = 0; attempt < 2; ++attempt) {
        auto len = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
        if (::getsockopt(connection, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &len) == 0) {
            groups.resize(len / sizeof(gid_t));
            return groups;
        }
        // ERANGE: len now holds the size the list needs (at most NGROUPS_MAX entries).
        if (errno != ERANGE || len / sizeof(gid_t) > 65536 || len / sizeof(gid_t) == 0) {
            return os_error("SO_PEERGROUPS", errno);
        }
        groups.resize(len / sizeof(gid_t));
    }
    return os_error("SO_PEERGROUPS", ERANGE);
}

std::optional<std::string> peer_executable(int connection, pid_t pid) {
    if (pid <= 0) {
        return std::nullopt;
    }
    int raw = -1;
    socklen_t len = sizeof raw;
    if (::getsockopt(connection, SOL_SOCKET, SO_PEERPIDFD, &raw, &len) != 0 || len != sizeof raw) {
        return std::nullopt;  // older kernel: cannot tell the peer from a recycled pid
    }
    const UniqueFd pidfd(raw);  // born close-on-exec
    char buf[PATH_MAX];
    const std::string link = "/proc/" + std::to_string(pid) + "/exe";
    const ssize_t n = ::readlink(link.c_str(), buf, sizeof buf);
    if (n <= 0 || static_cast<std::size_t>(n) >= sizeof buf) {
        return std::nullopt;
    }
    // A pid is reused only after its process exited and was reaped; a pidfd becomes
    // readable when the process exits. Not readable after the readlink means the pid still
    // named the peer while we read its executable.
    pollfd p{pidfd.get(), POLLIN, 0};
    if (::poll(&p, 1, 0) != 0) {
        return std::nullopt;
    }
    std::string exe(buf, static_cast<std::size_t>(n));
    if (exe.empty() || exe[0] != '/' || exe.ends_with(" (deleted)")) {
        return std::nullopt;
    }
    return exe;
}

Caller lookup_peer_names(uid_t uid, gid_t gid, const std::vector<gid_t>& groups,
                         gid_t overflow_gid) {
    Identity id;
    id.uid = uid;
    id.gid = gid;
    for (const gid_t g : groups) {
        if (g != overflow_gid) {
            id.groups.push_back(g);
        }
    }
    struct passwd pw {};
    struct passwd* found = nullptr;
    std::vector<char> buf(16384);
    if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr) {
        id.name = pw.pw_name;
    }
    return policy_names(id);
}

uid_t read_overflow_uid() {
    return read_overflow_id("/proc/sys/kernel/overflowuid");
}

gid_t read_overflow_gid() {
    return read_overflow_id("/proc/sys/kernel/overflowgid");
}

}  // namespace portbind::broker
