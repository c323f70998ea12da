#include "launcher/setcap/registry_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "launcher/config.h"
#include "launcher/setcap/target_rules.h"

namespace portbind {

namespace {

constexpr const char* kFileName = "setcap.registry";
constexpr const char* kTempName = ".setcap.registry.new";

Error untrusted(const std::string& what, const std::string& why, std::string advice) {
    return Error{ErrorKind::Untrusted, "refusing to use the setcap registry: " + what + " " + why,
                 std::move(advice)};
}

Error failed(const std::string& what, const std::string& path, int err) {
    return Error{ErrorKind::System, what + " " + path + ": " + std::strerror(err), ""};
}

Status check_trusted(const std::string& path, const struct stat& st, bool directory) {
    if (directory ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) {
        return untrusted(path,
                         "is " + file_type_name(static_cast<std::uint32_t>(st.st_mode)) +
                             (directory ? ", not a directory" : ", not a regular file"),
                         "replace it with a root-owned " +
                             std::string(directory ? "directory" : "file") +
                             " (symbolic links are not followed)");
    }
    if (st.st_uid != 0) {
        return untrusted(path, "is owned by uid " + std::to_string(st.st_uid) + ", not root",
                         "run: chown root: " + path);
    }
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        return untrusted(path,
                         "is writable by group or others (mode " +
                             octal_mode(static_cast<std::uint32_t>(st.st_mode)) + ")",
                         "run: chmod go-w " + path);
    }
    return success();
}

// Walks / -> PORTBIND_STATE_DIR checking every directory; creates missing ones if `create`.
// Returns the state directory opened O_RDONLY (for flock and fsync), or an invalid fd when
// it does not exist and `create` is false.
Result<UniqueFd> open_state_dir(bool create) {
    const std::string dir = PORTBIND_STATE_DIR;
    UniqueFd current(::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!current.valid()) {
        return failed("cannot open", "/", errno);
    }
    std::string walked;
    std::size_t pos = 0;
    while (true) {
        struct stat st {};
        if (::fstat(current.get(), &st) != 0) {
            return failed("cannot stat", walked.empty() ? "/" : walked, errno);
        }
        if (auto s = check_trusted(walked.empty() ? "/" : walked, st, true); !s.ok()) {
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
        pos = next == std::string::npos ? dir.size() : next;
        walked += "/" + name;
        UniqueFd child(
            ::openat(current.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!child.valid() && errno == ENOENT && create) {
            const bool created = ::mkdirat(current.get(), name.c_str(), 0755) == 0;
            if (!created && errno != EEXIST) {
                return failed("cannot create", walked, errno);
            }
            child.reset(::openat(current.get(), name.c_str(),
                                 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            // The umask may have narrowed it; admins (and `portbind setcap list` run by
            // them through sudo) read the registry, so the directory is 0755.
            if (created && child.valid() && ::fchmod(child.get(), 0755) != 0) {
                return failed("cannot chmod", walked, errno);
            }
        }
        if (!child.valid()) {
            if (errno == ENOENT) {
                return UniqueFd{};
            }
            if (errno == ELOOP || errno == ENOTDIR) {
                return untrusted(walked, "is not a directory (symbolic links are not followed)",
                                 "make it a root-owned directory");
            }
            return failed("cannot open", walked, errno);
        }
        current = std::move(child);
    }
}

Status write_all(int fd, const std::string& text, const std::string& path) {
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return failed("cannot write", path, errno);
        }
        done += static_cast<std::size_t>(n);
    }
    return success();
}

}  // namespace

std::string RegistryStore::file_path() {
    return std::string(PORTBIND_STATE_DIR) + "/" + kFileName;
}

Result<RegistryStore> RegistryStore::open(Access access) {
    auto dir = open_state_dir(access == Access::Create);
    if (!dir.ok()) {
        return std::move(dir).take_error();
    }
    UniqueFd fd = std::move(dir).value();
    if (fd.valid()) {
        const int op = access == Access::Read ? LOCK_SH : LOCK_EX;
        int rc;
        do {
            rc = ::flock(fd.get(), op);
        } while (rc != 0 && errno == EINTR);
        if (rc != 0) {
            return failed("cannot lock", PORTBIND_STATE_DIR, errno);
        }
    }
    return RegistryStore(std::move(fd));
}

Result<Registry> RegistryStore::load() const {
    if (!dir_.valid()) {
        return Registry{};
    }
    const std::string path = file_path();
    UniqueFd fd(
        ::openat(dir_.get(), kFileName, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    if (!fd.valid()) {
        if (errno == ENOENT) {
            return Registry{};
        }
        if (errno == ELOOP) {
            return untrusted(path, "is a symbolic link", "replace it with a root-owned file");
        }
        return failed("cannot open", path, errno);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        return failed("cannot stat", path, errno);
    }
    if (auto s = check_trusted(path, st, false); !s.ok()) {
        return std::move(s).take_error();
    }
    if (static_cast<std::uint64_t>(st.st_size) > kMaxRegistrySize) {
        return untrusted(path, "is larger than " + std::to_string(kMaxRegistrySize) + " bytes",
                         "portbind never writes a registry that large; restore it from a backup");
    }
    std::string text(kMaxRegistrySize + 1, '\0');
    std::size_t used = 0;
    while (used < text.size()) {
        const ssize_t n = ::read(fd.get(), text.data() + used, text.size() - used);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return failed("cannot read", path, errno);
        }
        if (n == 0) {
            break;
        }
        used += static_cast<std::size_t>(n);
    }
    if (used > kMaxRegistrySize) {
        return untrusted(path, "grew beyond " + std::to_string(kMaxRegistrySize) + " bytes",
                         "restore it from a backup");
    }
    text.resize(used);
    return parse_registry(text, path);
}

Status RegistryStore::save(const Registry& registry) const {
    const std::string path = file_path();
    if (!dir_.valid()) {
        return failed("cannot write", path, ENOENT);
    }
    const std::string temp = std::string(PORTBIND_STATE_DIR) + "/" + kTempName;
    if (::unlinkat(dir_.get(), kTempName, 0) != 0 && errno != ENOENT) {
        return failed("cannot remove", temp, errno);
    }
    UniqueFd fd(::openat(dir_.get(), kTempName,
                         O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd.valid()) {
        return failed("cannot create", temp, errno);
    }
    const std::string text = format_registry(registry);
    if (text.size() > kMaxRegistrySize) {
        ::unlinkat(dir_.get(), kTempName, 0);
        return Error{
            ErrorKind::System,
            "the setcap registry would exceed " + std::to_string(kMaxRegistrySize) + " bytes",
            "revoke grants that are no longer needed"};
    }
    Status written = write_all(fd.get(), text, temp);
    if (written.ok() && (::fchown(fd.get(), 0, 0) != 0 || ::fchmod(fd.get(), 0644) != 0)) {
        written = failed("cannot set owner and mode of", temp, errno);
    }
    if (written.ok() && ::fsync(fd.get()) != 0) {
        written = failed("cannot sync", temp, errno);
    }
    if (written.ok() && ::close(fd.release()) != 0) {
        written = failed("cannot close", temp, errno);
    }
    if (written.ok() && ::renameat(dir_.get(), kTempName, dir_.get(), kFileName) != 0) {
        written = failed("cannot rename into place", path, errno);
    }
    if (!written.ok()) {
        ::unlinkat(dir_.get(), kTempName, 0);
        return written;
    }
    if (::fsync(dir_.get()) != 0) {
        return failed("cannot sync", PORTBIND_STATE_DIR, errno);
    }
    return success();
}

}  // namespace portbind
