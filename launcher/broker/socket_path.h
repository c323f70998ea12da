// Where a broker socket may live, checked the same way by the daemon (before it serves) and
// by clients (before they connect): an absolute path, never the abstract namespace, whose
// directory and every directory above it, after resolving symlinks, is owned by root and
// not writable by others. Then only root, or a group root chose for the socket's directory
// (e.g. root:portbind 0775 for a broker running as a dedicated user), can put a socket there.
#pragma once

#include <string>

#include "launcher/unique_fd.h"

namespace portbind::broker {

struct SocketLocation {
    UniqueFd directory;          // O_PATH descriptor of the checked directory
    std::string directory_path;  // resolved, without symlinks
    std::string name;            // the socket's name in it

    std::string path() const {
        return directory_path == "/" ? "/" + name : directory_path + "/" + name;
    }
};

// Returns 0 and fills `out`, or an errno with `why` set: EINVAL (not an absolute path to a
// name), ENAMETOOLONG (too long for a unix socket address), EPERM (a directory fails the
// check), or the errno of a missing or unreadable directory.
int locate_socket(const std::string& path, SocketLocation& out, std::string& why);

// Whether `dir`, an absolute directory path, is already in the form realpath() gives: no
// empty, "." or ".." component and no trailing slash. Then, if it has no symlink either, it
// is its own resolved path, and locate_socket() walks it without calling realpath().
bool plain_absolute(const std::string& dir);

}  // namespace portbind::broker
