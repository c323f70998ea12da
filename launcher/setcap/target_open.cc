#include "launcher/setcap/target_open.h"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <deque>

namespace portbind {

namespace {

constexpr int kMaxSymlinks = 40;  // the kernel's own limit (MAXSYMLINKS)

Error walk_error(const std::string& given, const std::string& what, int err) {
    return Error{ErrorKind::System,
                 "cannot open " + escape_value(given) + ": " + escape_value(what) + ": " +
                     std::strerror(err),
                 ""};
}

std::deque<std::string> components(const std::string& path) {
    std::deque<std::string> parts;
    std::size_t pos = 0;
    while (pos < path.size()) {
        const std::size_t next = path.find('/', pos);
        const std::size_t end = next == std::string::npos ? path.size() : next;
        if (end > pos) {
            parts.emplace_back(path.substr(pos, end - pos));
        }
        pos = end + 1;
    }
    return parts;
}

std::string join(const std::string& dir, const std::string& name) {
    return dir == "/" ? "/" + name : dir + "/" + name;
}

// Where the walk stands, as a path: the real directory plus what is left, with "." and ".."
// applied lexically (for display only).
std::string display(const std::string& dir, const std::deque<std::string>& todo) {
    std::vector<std::string> parts;
    for (const std::string& p : components(dir)) {
        parts.push_back(p);
    }
    for (const std::string& p : todo) {
        if (p == ".") {
            continue;
        }
        if (p == "..") {
            if (!parts.empty()) {
                parts.pop_back();
            }
            continue;
        }
        parts.push_back(p);
    }
    std::string out;
    for (const std::string& p : parts) {
        out += "/" + p;
    }
    return out.empty() ? "/" : out;
}

struct Dir {
    std::string path;
    UniqueFd fd;
};

}  // namespace

FileIdentity identity_of(const struct stat& st) {
    FileIdentity id;
    id.dev_major = static_cast<std::uint32_t>(major(st.st_dev));
    id.dev_minor = static_cast<std::uint32_t>(minor(st.st_dev));
    id.ino = static_cast<std::uint64_t>(st.st_ino);
    id.size = static_cast<std::uint64_t>(st.st_size);
    id.mtime_sec = static_cast<std::int64_t>(st.st_mtim.tv_sec);
    id.mtime_nsec = static_cast<std::uint32_t>(st.st_mtim.tv_nsec);
    return id;
}

TargetFacts OpenedTarget::facts() const {
    return TargetFacts{static_cast<std::uint32_t>(st.st_mode),
                       static_cast<std::uint32_t>(st.st_uid),
                       static_cast<std::uint64_t>(st.st_nlink), nosuid_mount, noexec_mount};
}

FileIdentity OpenedTarget::identity() const {
    return identity_of(st);
}

std::string OpenedTarget::chain_text() const {
    std::string out;
    for (const std::string& hop : chain) {
        out += out.empty() ? escape_value(hop) : " -> " + escape_value(hop);
    }
    return out;
}

Result<std::optional<OpenedTarget>> open_target(const std::string& given,
                                                const WalkOptions& options) {
    std::string absolute = given;
    if (given.empty() || given[0] != '/') {
        char cwd[PATH_MAX];
        if (::getcwd(cwd, sizeof cwd) == nullptr) {
            return walk_error(given, "cannot resolve a relative path", errno);
        }
        absolute = join(cwd, given);
    }

    OpenedTarget target;
    target.chain.push_back(given);
    std::vector<Dir> stack;
    {
        UniqueFd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!root.valid()) {
            return walk_error(given, "/", errno);
        }
        struct stat st {};
        if (::fstat(root.get(), &st) != 0) {
            return walk_error(given, "/", errno);
        }
        if (options.check_directories) {
            if (auto s =
                    check_directory("/", static_cast<std::uint32_t>(st.st_mode),
                                    static_cast<std::uint32_t>(st.st_uid), escape_value(given));
                !s.ok()) {
                return std::move(s).take_error();
            }
        }
        stack.push_back({"/", std::move(root)});
    }

    std::deque<std::string> todo = components(absolute);
    int links = 0;
    std::optional<std::string> final_name;
    UniqueFd final_fd;
    while (!todo.empty()) {
        const std::string name = todo.front();
        todo.pop_front();
        if (name == ".") {
            continue;
        }
        if (name == "..") {
            if (stack.size() > 1) {
                stack.pop_back();
            }
            continue;
        }
        const std::string child = join(stack.back().path, name);
        UniqueFd fd(::openat(stack.back().fd.get(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
        if (!fd.valid()) {
            if (errno == ENOENT) {
                return std::optional<OpenedTarget>{};
            }
            return walk_error(given, child, errno);
        }
        struct stat st {};
        if (::fstat(fd.get(), &st) != 0) {
            return walk_error(given, child, errno);
        }
        if (S_ISLNK(st.st_mode)) {
            if (options.symlinks == Symlinks::Refuse) {
                if (todo.empty()) {  // reported to the caller as "not a regular file"
                    target.st = st;
                    final_name = name;
                    break;
                }
                return Error{ErrorKind::Denied,
                             "refused " + escape_value(given) + ": " + escape_value(child) +
                                 " is now a symbolic link",
                             "grant the file again by its current path"};
            }
            if (++links > kMaxSymlinks) {
                return walk_error(given, "too many symbolic links", ELOOP);
            }
            char buf[PATH_MAX];
            const ssize_t n = ::readlinkat(fd.get(), "", buf, sizeof buf);
            if (n <= 0 || static_cast<std::size_t>(n) >= sizeof buf) {
                return walk_error(given, "cannot read symbolic link " + child,
                                  n < 0 ? errno : ENAMETOOLONG);
            }
            const std::string link(buf, static_cast<std::size_t>(n));
            if (link[0] == '/') {
                stack.resize(1);
            }
            std::deque<std::string> expanded = components(link);
            expanded.insert(expanded.end(), todo.begin(), todo.end());
            todo = std::move(expanded);
            target.chain.push_back(display(stack.back().path, todo));
            continue;
        }
        if (todo.empty()) {
            target.st = st;
            final_name = name;
            final_fd = std::move(fd);
            break;
        }
        if (!S_ISDIR(st.st_mode)) {
            return walk_error(given, child, ENOTDIR);
        }
        if (options.check_directories) {
            if (auto s =
                    check_directory(escape_value(child), static_cast<std::uint32_t>(st.st_mode),
                                    static_cast<std::uint32_t>(st.st_uid), escape_value(given));
                !s.ok()) {
                return std::move(s).take_error();
            }
        }
        stack.push_back({child, std::move(fd)});
    }

    if (!final_name) {  // the path names a directory ("/", "x/..")
        target.path = stack.back().path;
        if (::fstat(stack.back().fd.get(), &target.st) != 0) {
            return walk_error(given, target.path, errno);
        }
    } else {
        target.path = join(stack.back().path, *final_name);
    }
    if (links > 0 && target.chain.back() != target.path) {
        target.chain.push_back(target.path);
    }
    if (!final_name || !S_ISREG(target.st.st_mode)) {
        return std::optional<OpenedTarget>{std::move(target)};
    }

    UniqueFd file(::openat(stack.back().fd.get(), final_name->c_str(),
                           O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    if (!file.valid()) {
        return walk_error(given, target.path, errno);
    }
    struct stat st {};
    if (::fstat(file.get(), &st) != 0) {
        return walk_error(given, target.path, errno);
    }
    if (st.st_dev != target.st.st_dev || st.st_ino != target.st.st_ino) {
        return Error{ErrorKind::System,
                     escape_value(target.path) + " was replaced while it was being opened",
                     "run the command again"};
    }
    target.st = st;
    struct statvfs vfs {};
    if (::fstatvfs(file.get(), &vfs) != 0) {
        return walk_error(given, target.path, errno);
    }
    target.nosuid_mount = (vfs.f_flag & ST_NOSUID) != 0;
    target.noexec_mount = (vfs.f_flag & ST_NOEXEC) != 0;
    target.fd = std::move(file);
    return std::optional<OpenedTarget>{std::move(target)};
}

Result<std::string> read_whole_file(int fd, const std::string& path, std::size_t max_size) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        return walk_error(path, "stat", errno);
    }
    if (st.st_size < 0 || static_cast<std::uint64_t>(st.st_size) > max_size) {
        return Error{ErrorKind::Denied,
                     "refused " + escape_value(path) + ": it is larger than " +
                         std::to_string(max_size >> 20) + " MiB, too large to inspect",
                     ""};
    }
    std::string content(static_cast<std::size_t>(st.st_size), '\0');
    std::size_t used = 0;
    while (used < content.size()) {
        const ssize_t n =
            ::pread(fd, content.data() + used, content.size() - used, static_cast<off_t>(used));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return walk_error(path, "read", errno);
        }
        if (n == 0) {
            break;  // shrank while being read: inspect what is there
        }
        used += static_cast<std::size_t>(n);
    }
    content.resize(used);
    return content;
}

}  // namespace portbind
