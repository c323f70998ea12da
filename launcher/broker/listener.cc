#include "launcher/broker/listener.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "launcher/broker/activation_fds.h"
#include "launcher/broker/socket_path.h"

namespace portbind::broker {

namespace {

// Backlog of connections the kernel queues before the broker accepts them.
constexpr int kListenBacklog = 4096;

Error refuse(const std::string& path, const std::string& why, std::string advice = {}) {
    return Error{ErrorKind::Untrusted, "refusing to serve on " + path + ": " + why,
                 std::move(advice)};
}

// The broker's socket cannot be set up: without permission, the fix is to run the broker
// with it or to choose another path; other causes are os_error()'s.
Error system_error(const std::string& what, int err) {
    return os_error(what, err,
                    err == EACCES || err == EPERM
                        ? "run 'portbind serve' as root, or give --socket a path in a directory "
                          "it may write"
                        : "");
}

Result<SocketLocation> checked_location(const std::string& path) {
    SocketLocation location;
    std::string why;
    if (const int err = locate_socket(path, location, why); err != 0) {
        return refuse(path, why,
                      "use a directory owned by root and not writable by others, such as "
                      "/run/portbind");
    }
    return location;
}

}  // namespace

std::size_t count_activation_fds() {
    const int n = receive_activation_fds(false);
    return n > 0 ? static_cast<std::size_t>(n) : 0;
}

Result<Listener> take_activated_listener() {
    const int n = receive_activation_fds(true);  // sets close-on-exec on them, unsets LISTEN_*
    if (n != 1) {
        return Error{ErrorKind::Usage,
                     "socket activation passed " + std::to_string(n < 0 ? 0 : n) +
                         " sockets; portbind serve needs exactly one",
                     "give the .socket unit a single ListenSequentialPacket= line"};
    }
    UniqueFd fd(kFirstActivationFd);
    if (!is_listening_unix_socket(fd.get(), SOCK_SEQPACKET)) {
        return Error{ErrorKind::Usage,
                     "the socket passed by socket activation is not a listening unix "
                     "SOCK_SEQPACKET socket",
                     "use ListenSequentialPacket=/run/portbind/portbind.sock"};
    }
    // The event loop accepts until EAGAIN.
    const int flags = ::fcntl(fd.get(), F_GETFL);
    if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK) != 0) {
        return system_error("cannot make the activated socket non-blocking", errno);
    }
    sockaddr_un addr{};
    socklen_t len = sizeof addr;
    if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        return system_error("cannot read the address of the activated socket", errno);
    }
    const std::size_t path_len =
        len > offsetof(sockaddr_un, sun_path) ? len - offsetof(sockaddr_un, sun_path) : 0;
    if (path_len == 0 || addr.sun_path[0] == '\0') {
        return refuse("the activated socket",
                      "it is unnamed or in the abstract namespace, where anyone can take the "
                      "name first",
                      "use a path, e.g. ListenSequentialPacket=/run/portbind/portbind.sock");
    }
    const std::string path(addr.sun_path, ::strnlen(addr.sun_path, path_len));
    auto location = checked_location(path);
    if (!location.ok()) {
        return std::move(location).take_error();
    }
    return Listener{std::move(fd), path};
}

Result<Listener> create_listener(const std::string& path, bool create_directory) {
    if (create_directory && !path.empty() && path[0] == '/') {
        const std::string dir = path.substr(0, path.rfind('/'));
        if (!dir.empty() && ::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
            return system_error("cannot create " + dir, errno);
        }
    }
    auto checked = checked_location(path);
    if (!checked.ok()) {
        return std::move(checked).take_error();
    }
    const SocketLocation& location = checked.value();
    const std::string target = location.path();

    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, target.data(), target.size());
    const auto* sa = reinterpret_cast<const sockaddr*>(&addr);

    struct stat st {};
    if (::fstatat(location.directory.get(), location.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            return refuse(path, "it exists and is not a socket",
                          "remove it or choose another path");
        }
        UniqueFd probe(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
        // EAGAIN: a live broker whose queue is full.
        if (probe.valid() && (::connect(probe.get(), sa, sizeof addr) == 0 || errno == EAGAIN)) {
            return Error{ErrorKind::System, "another broker is already serving on " + path,
                         "stop it first, or give this one another --socket"};
        }
        if (errno != ECONNREFUSED) {
            return system_error("cannot tell whether " + path + " is in use", errno);
        }
        // Nothing listens: a stale socket of a broker that is gone.
        if (::unlinkat(location.directory.get(), location.name.c_str(), 0) != 0) {
            return system_error("cannot remove the stale socket " + path, errno);
        }
    } else if (errno != ENOENT) {
        return system_error("cannot examine " + path, errno);
    }

    UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd.valid()) {
        return system_error("cannot create the broker socket", errno);
    }
    // Created 0666 (umask 0111 for the bind only): access is decided per request.
    const mode_t old_umask = ::umask(0111);
    const int bound = ::bind(fd.get(), sa, sizeof addr);
    const int bind_errno = errno;
    ::umask(old_umask);
    if (bound != 0) {
        return system_error("cannot bind " + path, bind_errno);
    }
    if (::listen(fd.get(), kListenBacklog) != 0) {
        return system_error("cannot listen on " + path, errno);
    }
    return Listener{std::move(fd), path};
}

}  // namespace portbind::broker
