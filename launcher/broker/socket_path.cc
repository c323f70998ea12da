#include "launcher/broker/socket_path.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>

namespace portbind::broker {

namespace {

// Owned by root and not writable by others: only root (or the directory's group) can
// create or replace entries in it.
bool trusted_directory(const struct stat& st) {
    return S_ISDIR(st.st_mode) && st.st_uid == 0 && (st.st_mode & S_IWOTH) == 0;
}

}  // namespace

bool plain_absolute(const std::string& dir) {
    if (dir.empty() || dir.front() != '/') {
        return false;
    }
    if (dir == "/") {
        return true;
    }
    if (dir.back() == '/') {
        return false;
    }
    std::size_t pos = 1;
    while (pos <= dir.size()) {
        const std::size_t next = std::min(dir.find('/', pos), dir.size());
        const std::string_view component(dir.data() + pos, next - pos);
        if (component.empty() || component == "." || component == "..") {
            return false;
        }
        pos = next + 1;
    }
    return true;
}

namespace {

// Opens `directory_path` (resolved: absolute, no symlink, "." or "..") by walking it from /
// without following anything, checking every directory on the way.
int open_trusted_directory(const std::string& directory_path, UniqueFd& out, std::string& why) {
    UniqueFd current(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    std::string walked = "/";
    std::size_t pos = 1;
    while (true) {
        struct stat st {};
        if (!current.valid() || ::fstat(current.get(), &st) != 0) {
            const int err = errno;
            why = walked + ": " + std::strerror(err);
            return err;
        }
        if (!trusted_directory(st)) {
            why = "directory " + walked +
                  " is not owned by root or is writable by others, so anyone could put a "
                  "socket there";
            return EPERM;
        }
        if (pos >= directory_path.size()) {
            break;
        }
        const std::size_t next = directory_path.find('/', pos);
        const std::string component = directory_path.substr(pos, next - pos);
        pos = next == std::string::npos ? directory_path.size() : next + 1;
        if (component.empty()) {
            continue;
        }
        walked += (walked == "/" ? "" : "/") + component;
        current.reset(::openat(current.get(), component.c_str(),
                               O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    }
    out = std::move(current);
    return 0;
}

}  // namespace

int locate_socket(const std::string& path, SocketLocation& out, std::string& why) {
    if (path.empty() || path[0] != '/' || path.find('\0') != std::string::npos) {
        why = "the socket path must be absolute";
        return EINVAL;
    }
    const std::size_t slash = path.rfind('/');
    const std::string dir = slash == 0 ? "/" : path.substr(0, slash);
    std::string name = path.substr(slash + 1);
    if (name.empty() || name == "." || name == "..") {
        why = "the socket path must end in a file name";
        return EINVAL;
    }
    // Usually the directory is named plainly and has no symlink: then the walk, which follows
    // nothing, succeeds on it as given, and realpath() (a readlink() per component) is not
    // needed. Anything else is resolved first and walked again, which also gives the error.
    std::string ignored;
    if (plain_absolute(dir) && open_trusted_directory(dir, out.directory, ignored) == 0) {
        out.directory_path = dir;
    } else {
        std::unique_ptr<char, void (*)(void*)> resolved(::realpath(dir.c_str(), nullptr),
                                                        std::free);
        if (!resolved) {
            const int err = errno;
            why = dir + ": " + std::strerror(err);
            return err;
        }
        out.directory_path = resolved.get();
        if (const int err = open_trusted_directory(out.directory_path, out.directory, why);
            err != 0) {
            return err;
        }
    }
    out.name = std::move(name);
    if (out.path().size() >= sizeof(sockaddr_un{}.sun_path)) {
        why = "the socket path " + out.path() + " is too long for a unix socket";
        return ENAMETOOLONG;
    }
    return 0;
}

}  // namespace portbind::broker
