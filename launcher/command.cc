#include "launcher/command.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

namespace portbind {

namespace {

#ifndef PID_FS_MAGIC
constexpr long kPidFsMagic = 0x50494446;
#else
constexpr long kPidFsMagic = PID_FS_MAGIC;
#endif

Error not_found(const std::string& name) {
    return Error{ErrorKind::CommandNotFound, "cannot run '" + name + "': command not found",
                 "check the name and PATH, or give an absolute path"};
}

Error not_executable(const std::string& name, int err) {
    return Error{ErrorKind::CommandNotExecutable,
                 "cannot run '" + name + "': " + std::strerror(err),
                 "make sure it is an executable file you may run"};
}

Result<std::string> canonical(const std::string& name, const std::string& path) {
    char resolved[PATH_MAX];
    if (::realpath(path.c_str(), resolved) == nullptr) {
        return errno == ENOENT || errno == ENOTDIR ? not_found(name) : not_executable(name, errno);
    }
    struct stat st {};
    if (::stat(resolved, &st) != 0) {
        return not_found(name);
    }
    if (!S_ISREG(st.st_mode)) {
        return not_executable(name, EACCES);
    }
    if (::access(resolved, X_OK) != 0) {
        return not_executable(name, errno);
    }
    return std::string(resolved);
}

}  // namespace

Result<std::string> resolve_command(const std::string& name, const std::string& search_path) {
    if (name.find('/') != std::string::npos) {
        return canonical(name, name);
    }
    std::optional<Error> first_failure;
    std::size_t start = 0;
    while (start <= search_path.size()) {
        const auto colon = search_path.find(':', start);
        std::string dir = search_path.substr(start, colon - start);
        start = colon == std::string::npos ? search_path.size() + 1 : colon + 1;
        if (dir.empty()) {
            dir = ".";  // POSIX: an empty PATH entry is the current directory
        }
        auto found = canonical(name, dir + "/" + name);
        if (found.ok()) {
            return found;
        }
        if (found.error().kind == ErrorKind::CommandNotExecutable && !first_failure) {
            first_failure = found.error();  // as execvp: EACCES if nothing better is found
        }
    }
    return first_failure ? *first_failure : not_found(name);
}

std::optional<std::uint64_t> own_pidfd_id() {
#ifdef SYS_pidfd_open
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, ::getpid(), 0)));  // CLOEXEC
    if (!pidfd.valid()) {
        return std::nullopt;
    }
    struct statfs fs {};
    struct stat st {};
    if (::fstatfs(pidfd.get(), &fs) != 0 || static_cast<long>(fs.f_type) != kPidFsMagic ||
        ::fstat(pidfd.get(), &st) != 0) {
        return std::nullopt;
    }
    return static_cast<std::uint64_t>(st.st_ino);
#else
    return std::nullopt;
#endif
}

Status place_listen_fds(std::vector<UniqueFd> sockets) {
    const int count = static_cast<int>(sockets.size());
    const int first_free = kFirstListenFd + count;
    // First move every socket above the target range, so no source sits on a target.
    std::vector<UniqueFd> staged;
    for (UniqueFd& s : sockets) {
        const int high = ::fcntl(s.get(), F_DUPFD_CLOEXEC, first_free);
        if (high < 0) {
            return Error{ErrorKind::System,
                         std::string("cannot move a socket: ") + std::strerror(errno), ""};
        }
        staged.emplace_back(high);
        s.reset();
    }
    for (int i = 0; i < count; ++i) {
        const int target = kFirstListenFd + i;
        // dup2 onto the target; the new fd has close-on-exec clear, as the protocol needs.
        if (::dup2(staged[static_cast<std::size_t>(i)].get(), target) != target) {
            return Error{ErrorKind::System,
                         std::string("cannot place a socket at fd ") + std::to_string(target) +
                             ": " + std::strerror(errno),
                         ""};
        }
    }
    staged.clear();
    if (::syscall(SYS_close_range, first_free, ~0U, 0) != 0) {
        for (int fd = first_free; fd < 65536; ++fd) {
            ::close(fd);
        }
    }
    return success();
}

Error exec_command(const std::string& path, const std::vector<std::string>& argv,
                   const std::vector<std::string>& env) {
    std::vector<char*> args;
    for (const std::string& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    std::vector<char*> envp;
    for (const std::string& e : env) {
        envp.push_back(const_cast<char*>(e.c_str()));
    }
    envp.push_back(nullptr);
    ::execve(path.c_str(), args.data(), envp.data());
    const int err = errno;
    return err == ENOENT ? not_found(argv[0]) : not_executable(argv[0], err);
}

}  // namespace portbind
