// Finding and opening the file `portbind setcap` changes, without races.
//
// MUST-list:
//  1. The path is walked one component at a time from "/" with openat(O_PATH|O_NOFOLLOW);
//     symlinks are expanded by hand (readlinkat on the link's own fd), so every directory
//     passed through, including the ones holding symlinks, is seen and, when asked, checked
//     with check_directory() before anything below it is used.
//  2. The final component is fstat()ed through its O_PATH fd first; only a regular file is
//     opened for reading (O_RDONLY|O_NOFOLLOW|O_NONBLOCK|O_NOCTTY), so a FIFO never blocks
//     and a device is never opened. The reopened fd must be the same inode.
//  3. Every later check and the capability change itself use that fd, never the path.
#pragma once

#include <sys/stat.h>

#include <optional>
#include <string>
#include <vector>

#include "launcher/setcap/registry.h"
#include "launcher/setcap/target_rules.h"
#include "launcher/unique_fd.h"
#include "policy/result.h"

namespace portbind {

enum class Symlinks {
    Follow,  // resolve them (grant, revoke: the admin names a path)
    Refuse,  // any symlink on the way is an error; one at the end is reported as found
             // (recorded paths, which were symlink-free when granted)
};

struct WalkOptions {
    Symlinks symlinks = Symlinks::Follow;
    bool check_directories = false;  // apply check_directory() to each directory passed
};

struct OpenedTarget {
    std::string path;                // absolute, symlink-free
    std::vector<std::string> chain;  // the path given, then where each symlink led (only
                                     // the path given when no symlink was followed)
    struct stat st {};               // of the final component (not followed)
    UniqueFd fd;                     // opened for reading; only for a regular file
    bool nosuid_mount = false;
    bool noexec_mount = false;

    TargetFacts facts() const;
    FileIdentity identity() const;
    // "/usr/bin/node -> /etc/alternatives/node -> /usr/lib/nodejs/node", or just the path.
    std::string chain_text() const;
};

// nullopt: some component does not exist.
Result<std::optional<OpenedTarget>> open_target(const std::string& given,
                                                const WalkOptions& options);

// The whole file, read through `fd`; an Error when larger than `max_size`.
Result<std::string> read_whole_file(int fd, const std::string& path, std::size_t max_size);

inline constexpr std::size_t kMaxInspectSize = std::size_t{1} << 30;

FileIdentity identity_of(const struct stat& st);

}  // namespace portbind
