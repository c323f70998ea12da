#include "launcher/identity.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace portbind {

namespace {

std::vector<char> lookup_buffer() {
    return std::vector<char>(16384);
}

}  // namespace

Result<Identity> current_caller() {
    Identity id;
    id.uid = ::getuid();
    id.gid = ::getgid();
    const int n = ::getgroups(0, nullptr);
    if (n < 0) {
        return Error{ErrorKind::System,
                     std::string("cannot read the caller's groups: ") + std::strerror(errno), ""};
    }
    id.groups.resize(static_cast<std::size_t>(n));
    if (n > 0 && ::getgroups(n, id.groups.data()) != n) {
        return Error{ErrorKind::System,
                     std::string("cannot read the caller's groups: ") + std::strerror(errno), ""};
    }
    struct passwd pw {};
    struct passwd* found = nullptr;
    auto buf = lookup_buffer();
    if (::getpwuid_r(id.uid, &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr) {
        id.name = pw.pw_name;
        id.home = pw.pw_dir;
        id.shell = pw.pw_shell;
    }
    return id;
}

Result<Identity> lookup_user(const std::string& name) {
    struct passwd pw {};
    struct passwd* found = nullptr;
    auto buf = lookup_buffer();
    const int rc = ::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found);
    if (rc != 0 || found == nullptr) {
        return Error{ErrorKind::Usage, "unknown user '" + name + "' for --user",
                     "give an existing login name"};
    }
    Identity id;
    id.uid = pw.pw_uid;
    id.gid = pw.pw_gid;
    id.name = pw.pw_name;
    id.home = pw.pw_dir;
    id.shell = pw.pw_shell;
    int count = 64;
    for (int attempt = 0; attempt < 8; ++attempt) {
        id.groups.resize(static_cast<std::size_t>(count));
        int got = count;
        if (::getgrouplist(pw.pw_name, pw.pw_gid, id.groups.data(), &got) >= 0) {
            id.groups.resize(static_cast<std::size_t>(got));
            return id;
        }
        count = std::max(got, count * 2);
    }
    return Error{ErrorKind::System, "cannot list the groups of user '" + name + "'", ""};
}

Caller policy_names(const Identity& identity) {
    Caller caller;
    caller.user = identity.name;
    std::vector<gid_t> gids = identity.groups;
    gids.push_back(identity.gid);
    std::sort(gids.begin(), gids.end());
    gids.erase(std::unique(gids.begin(), gids.end()), gids.end());
    auto buf = lookup_buffer();
    for (const gid_t gid : gids) {
        struct group gr {};
        struct group* found = nullptr;
        if (::getgrgid_r(gid, &gr, buf.data(), buf.size(), &found) == 0 && found != nullptr) {
            caller.groups.emplace_back(gr.gr_name);
        }
    }
    return caller;
}

}  // namespace portbind
