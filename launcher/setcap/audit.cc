#include "launcher/setcap/audit.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <optional>
#include <set>
#include <utility>

#include "launcher/setcap/file_caps.h"
#include "launcher/setcap/registry_store.h"
#include "launcher/setcap/target_open.h"
#include "launcher/setcap/target_rules.h"
#include "launcher/unique_fd.h"

namespace portbind {

namespace {

constexpr int kMaxDepth = 64;

const char* const kDefaultDirs[] = {
    "/bin",     "/sbin",          "/usr/bin",        "/usr/sbin",          "/usr/libexec",
    "/usr/lib", "/usr/local/bin", "/usr/local/sbin", "/usr/local/libexec", "/usr/local/lib",
    "/opt",
};

bool unsafe_dir(const struct stat& st) {
    return st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0;
}

std::string join(const std::string& dir, const std::string& name) {
    return dir == "/" ? "/" + name : dir + "/" + name;
}

class Auditor {
  public:
    explicit Auditor(const Registry& registry) : registry_(registry) {}

    void walk(const std::string& path, int dirfd, dev_t dev,
              const std::optional<std::string>& writable, int depth) {
        std::vector<std::string> names;
        {
            const int dup = ::fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
            DIR* d = dup >= 0 ? ::fdopendir(dup) : nullptr;
            if (d == nullptr) {
                if (dup >= 0) {
                    ::close(dup);
                }
                note_unreadable(path, errno);
                return;
            }
            while (const dirent* e = ::readdir(d)) {
                if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) {
                    names.emplace_back(e->d_name);
                }
            }
            ::closedir(d);
        }
        std::sort(names.begin(), names.end());
        for (const std::string& name : names) {
            const std::string child = join(path, name);
            struct stat st {};
            if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
                continue;  // vanished
            }
            if (S_ISDIR(st.st_mode)) {
                if (st.st_dev != dev || depth >= kMaxDepth || !first_visit(st)) {
                    continue;
                }
                UniqueFd sub(
                    ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
                if (!sub.valid()) {
                    note_unreadable(child, errno);
                    continue;
                }
                std::optional<std::string> w = writable;
                if (!w && unsafe_dir(st)) {
                    w = child;
                }
                walk(child, sub.get(), dev, w, depth + 1);
            } else if (S_ISREG(st.st_mode)) {
                inspect_file(child, dirfd, name, writable);
            }
        }
    }

    bool first_visit(const struct stat& st) { return seen_.insert({st.st_dev, st.st_ino}).second; }

    int files() const { return files_; }
    int risky() const { return risky_; }

  private:
    void note_unreadable(const std::string& path, int err) {
        std::cerr << "portbind: setcap audit: skipping " << escape_value(path) << ": "
                  << std::strerror(err) << '\n';
    }

    void inspect_file(const std::string& path, int dirfd, const std::string& name,
                      const std::optional<std::string>& writable) {
        // Cheap probe by path first; the file is opened only when it has the attribute.
        if (::lgetxattr(path.c_str(), "security.capability", nullptr, 0) <= 0) {
            return;
        }
        UniqueFd fd(::openat(dirfd, name.c_str(),
                             O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
        struct stat st {};
        if (!fd.valid() || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
            return;
        }
        auto caps = read_file_caps(fd.get(), path);
        if (!caps.ok() || caps.value().empty()) {
            return;
        }
        AuditFacts facts;
        facts.path = path;
        facts.mode = static_cast<std::uint32_t>(st.st_mode);
        facts.uid = static_cast<std::uint32_t>(st.st_uid);
        facts.nlink = static_cast<std::uint64_t>(st.st_nlink);
        facts.caps = caps.value();
        facts.writable_dir = writable;
        if (auto content = read_whole_file(fd.get(), path, kMaxInspectSize); content.ok()) {
            facts.executable = inspect_executable(content.value(), name);
        }
        const std::vector<std::string> risks = audit_risks(facts);
        const std::string text = caps_to_text(facts.caps);
        std::string registered = "not in the registry";
        if (const RegistryEntry* e = registry_.find(path)) {
            registered = e->caps == text ? "in the registry"
                                         : "in the registry as '" + escape_value(e->caps) + "'";
        }
        ++files_;
        std::cout << (risks.empty() ? "ok    " : "risky ") << ' ' << escape_value(path) << ' '
                  << text << "  " << registered;
        if (!risks.empty()) {
            ++risky_;
            std::cout << ": ";
            for (std::size_t i = 0; i < risks.size(); ++i) {
                std::cout << (i ? "; " : "") << risks[i];
            }
        }
        std::cout << '\n';
    }

    const Registry& registry_;
    std::set<std::pair<dev_t, ino_t>> seen_;
    int files_ = 0;
    int risky_ = 0;
};

// The first directory from / down to `dir` (inclusive) that a non-root user could write.
std::optional<std::string> writable_ancestor(const std::string& dir) {
    std::string current = "/";
    std::size_t pos = 0;
    while (true) {
        struct stat st {};
        if (::lstat(current.c_str(), &st) == 0 && unsafe_dir(st)) {
            return current;
        }
        while (pos < dir.size() && dir[pos] == '/') {
            ++pos;
        }
        if (pos >= dir.size()) {
            return std::nullopt;
        }
        const auto next = std::min(dir.find('/', pos), dir.size());
        current = join(current, dir.substr(pos, next - pos));
        pos = next;
    }
}

}  // namespace

Result<int> run_setcap_audit(const std::vector<std::string>& dirs) {
    auto store = RegistryStore::open(RegistryStore::Access::Read);
    if (!store.ok()) {
        return std::move(store).take_error();
    }
    auto registry = store.value().load();
    if (!registry.ok()) {
        return std::move(registry).take_error();
    }

    struct Root {
        std::string path;
        UniqueFd fd;
        struct stat st;
    };
    std::vector<Root> roots;
    const bool defaults = dirs.empty();
    std::vector<std::string> wanted = dirs;
    if (defaults) {
        wanted.assign(std::begin(kDefaultDirs), std::end(kDefaultDirs));
    }
    for (const std::string& dir : wanted) {
        auto found = open_target(dir, WalkOptions{Symlinks::Follow, false});
        if (!found.ok() || !found.value() || !S_ISDIR(found.value()->st.st_mode)) {
            if (defaults) {
                continue;
            }
            return Error{ErrorKind::Usage,
                         "setcap audit: " + escape_value(dir) + " is not a directory",
                         "give directories to search, or none for the system directories"};
        }
        Root root{found.value()->path,
                  UniqueFd(::open(found.value()->path.c_str(),
                                  O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)),
                  {}};
        if (!root.fd.valid() || ::fstat(root.fd.get(), &root.st) != 0) {
            return Error{ErrorKind::System,
                         "setcap audit: cannot open " + escape_value(root.path) + ": " +
                             std::strerror(errno),
                         ""};
        }
        roots.push_back(std::move(root));
    }

    Auditor auditor(registry.value());
    for (Root& root : roots) {
        if (!auditor.first_visit(root.st)) {
            continue;  // e.g. /bin when it is a link to /usr/bin
        }
        auditor.walk(root.path, root.fd.get(), root.st.st_dev, writable_ancestor(root.path), 0);
    }
    std::cout << auditor.files() << " file(s) with capabilities, " << auditor.risky()
              << " with risks\n";
    return auditor.risky() == 0 ? 0 : 1;
}

}  // namespace portbind
