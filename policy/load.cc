#include "policy/load.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "launcher/unique_fd.h"

namespace portbind {

namespace {

std::string octal_mode(mode_t mode) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
    return buf;
}

Error untrusted(const std::string& path, const std::string& why, std::string advice) {
    return Error{ErrorKind::Untrusted, "refusing to use policy " + path + ": " + why,
                 std::move(advice)};
}

Error unreadable(const std::string& path, int err) {
    return Error{ErrorKind::System, "cannot read policy " + path + ": " + std::strerror(err),
                 "policy files must be readable by every user (mode 0644), as must their "
                 "directories"};
}

const char* type_name(mode_t mode) {
    if (S_ISLNK(mode)) {
        return "a symbolic link";
    }
    if (S_ISDIR(mode)) {
        return "a directory";
    }
    if (S_ISFIFO(mode)) {
        return "a FIFO";
    }
    if (S_ISSOCK(mode)) {
        return "a socket";
    }
    if (S_ISCHR(mode) || S_ISBLK(mode)) {
        return "a device";
    }
    return "not a regular file";
}

// Ownership and mode rules shared by files and directories.
Status check_owner_and_mode(const std::string& path, const struct stat& st, bool directory) {
    const bool type_ok = directory ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode);
    if (!type_ok) {
        return untrusted(path,
                         std::string("it is ") + type_name(st.st_mode) + ", expected " +
                             (directory ? "a directory" : "a regular file"),
                         "replace it with a root-owned " +
                             std::string(directory ? "directory" : "regular file") +
                             " (symbolic links are not followed)");
    }
    if (st.st_uid != 0) {
        return untrusted(path, "it is owned by uid " + std::to_string(st.st_uid) + ", not root",
                         "run: chown root:root " + path);
    }
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        return untrusted(path,
                         "it is writable by group or others (mode " + octal_mode(st.st_mode) + ")",
                         "run: chmod go-w " + path);
    }
    return success();
}

// Walks from / to `dir`, verifying every component (invariant 1). Returns an O_PATH fd, or
// an invalid UniqueFd when a component does not exist.
Result<UniqueFd> open_trusted_directory(const std::string& dir) {
    if (dir.empty() || dir[0] != '/') {
        return untrusted(dir, "not an absolute path", "give an absolute path");
    }
    UniqueFd current(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!current.valid()) {
        return unreadable("/", errno);
    }
    std::string walked;
    std::size_t pos = 0;
    while (true) {
        struct stat st {};
        if (::fstat(current.get(), &st) != 0) {
            return unreadable(walked.empty() ? "/" : walked, errno);
        }
        if (auto s = check_owner_and_mode(walked.empty() ? "/" : walked, st, true); !s.ok()) {
            return std::move(s).take_error();
        }
        while (pos < dir.size() && dir[pos] == '/') {
            ++pos;
        }
        if (pos >= dir.size()) {
            return current;
        }
        const auto next = dir.find('/', pos);
        const std::string name = dir.substr(pos, next - pos);
        pos = next == dir.npos ? dir.size() : next;
        walked += "/" + name;
        if (name == "." || name == "..") {
            return untrusted(dir, "path contains '.' or '..'", "give a canonical path");
        }
        UniqueFd child(::openat(current.get(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
        if (!child.valid()) {
            if (errno == ENOENT) {
                return UniqueFd{};
            }
            return unreadable(walked, errno);
        }
        current = std::move(child);
    }
}

std::pair<std::string, std::string> split_path(const std::string& path) {
    const auto slash = path.rfind('/');
    return {path.substr(0, slash == 0 ? 1 : slash), path.substr(slash + 1)};
}

// Reads one file below a verified directory (invariant 2). nullopt: the file does not exist.
Result<std::optional<PolicySource>> read_trusted_file(int dirfd, const std::string& name,
                                                      const std::string& path) {
    UniqueFd fd(
        ::openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    if (!fd.valid()) {
        if (errno == ENOENT) {
            return std::optional<PolicySource>{};
        }
        if (errno == ELOOP) {
            return untrusted(path, "it is a symbolic link",
                             "replace the link with a root-owned regular file");
        }
        if (errno == ENXIO) {
            return untrusted(path, "it is a socket or a device", "replace it with a regular file");
        }
        return unreadable(path, errno);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        return unreadable(path, errno);
    }
    if (auto s = check_owner_and_mode(path, st, false); !s.ok()) {
        return std::move(s).take_error();
    }
    if (static_cast<std::size_t>(st.st_size) > kMaxPolicyFileSize) {
        return untrusted(path, "it is larger than " + std::to_string(kMaxPolicyFileSize) + " bytes",
                         "split it into files under portbind.d/");
    }
    // Sized by fstat, plus one byte that shows whether the file grew since; a file that
    // grows is read on up to one byte past the cap, never further.
    PolicySource source{path, {}};
    source.text.resize(static_cast<std::size_t>(st.st_size) + 1);
    std::size_t used = 0;
    while (true) {
        if (used == source.text.size()) {
            if (used > kMaxPolicyFileSize) {
                break;
            }
            source.text.resize(std::min(2 * used, kMaxPolicyFileSize + 1));
        }
        const ssize_t n = ::read(fd.get(), source.text.data() + used, source.text.size() - used);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return unreadable(path, errno);
        }
        if (n == 0) {
            break;
        }
        used += static_cast<std::size_t>(n);
    }
    if (used > kMaxPolicyFileSize) {
        return untrusted(
            path,
            "it grew beyond " + std::to_string(kMaxPolicyFileSize) + " bytes while being read",
            "split it into files under portbind.d/");
    }
    source.text.resize(used);
    return std::optional<PolicySource>{std::move(source)};
}

bool is_dropin_name(const char* name) {
    const std::size_t len = std::strlen(name);
    return name[0] != '.' && len > 5 && std::strcmp(name + len - 5, ".conf") == 0;
}

// `verified_fd` is the directory `verified_path`, already walked: when it is portbind.d's
// parent (the usual layout), it is used instead of walking the same path again.
Status read_dropins(const std::string& dir, const std::string& verified_path, int verified_fd,
                    std::vector<PolicySource>& out) {
    const auto [parent_path, base] = split_path(dir);
    UniqueFd walked;
    if (parent_path != verified_path) {
        auto parent = open_trusted_directory(parent_path);
        if (!parent.ok()) {
            return std::move(parent).take_error();
        }
        if (!parent.value().valid()) {
            return success();
        }
        walked = std::move(parent).value();
    }
    const int parent_fd = walked.valid() ? walked.get() : verified_fd;
    UniqueFd dirfd(
        ::openat(parent_fd, base.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dirfd.valid()) {
        if (errno == ENOENT) {
            return success();
        }
        if (errno == ELOOP || errno == ENOTDIR) {
            return untrusted(dir, "it is not a directory (symbolic links are not followed)",
                             "make it a root-owned directory");
        }
        return unreadable(dir, errno);
    }
    struct stat st {};
    if (::fstat(dirfd.get(), &st) != 0) {
        return unreadable(dir, errno);
    }
    if (auto s = check_owner_and_mode(dir, st, true); !s.ok()) {
        return s;
    }
    const int listing_fd = ::fcntl(dirfd.get(), F_DUPFD_CLOEXEC, 3);
    if (listing_fd < 0) {
        return unreadable(dir, errno);
    }
    std::unique_ptr<DIR, int (*)(DIR*)> listing(::fdopendir(listing_fd), ::closedir);
    if (!listing) {
        const int err = errno;
        ::close(listing_fd);
        return unreadable(dir, err);
    }
    std::vector<std::string> names;
    errno = 0;
    while (const dirent* entry = ::readdir(listing.get())) {
        if (is_dropin_name(entry->d_name)) {
            names.emplace_back(entry->d_name);
            if (names.size() > kMaxDropIns) {
                return untrusted(
                    dir, "it holds more than " + std::to_string(kMaxDropIns) + " .conf files",
                    "merge some of them");
            }
        }
    }
    if (errno != 0) {
        return unreadable(dir, errno);
    }
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
        auto file = read_trusted_file(dirfd.get(), name, dir + "/" + name);
        if (!file.ok()) {
            return std::move(file).take_error();
        }
        if (file.value()) {  // vanished between listing and open: nothing to read
            out.push_back(std::move(*file.value()));
        }
    }
    return success();
}

}  // namespace

Result<std::vector<PolicySource>> read_policy_sources(const PolicyLocation& location) {
    std::vector<PolicySource> sources;
    const auto [dir, name] = split_path(location.file);
    auto dirfd = open_trusted_directory(dir);
    if (!dirfd.ok()) {
        return std::move(dirfd).take_error();
    }
    if (!dirfd.value().valid()) {
        return sources;  // no configuration directory at all: empty policy
    }
    auto main_file = read_trusted_file(dirfd.value().get(), name, location.file);
    if (!main_file.ok()) {
        return std::move(main_file).take_error();
    }
    if (main_file.value()) {
        sources.push_back(std::move(*main_file.value()));
    }
    if (location.dropin_dir) {
        if (auto s = read_dropins(*location.dropin_dir, dir, dirfd.value().get(), sources);
            !s.ok()) {
            return std::move(s).take_error();
        }
    }
    return sources;
}

}  // namespace portbind
