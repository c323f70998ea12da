#include "launcher/broker/activation_fds.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdlib>

#include "policy/strict_number.h"

namespace portbind::broker {

int parse_activation_fd_count(const char* listen_pid, const char* listen_fds, pid_t self) {
    if (listen_pid == nullptr) {
        return 0;
    }
    const auto pid = parse_decimal(listen_pid, INT_MAX);
    if (!pid || *pid == 0) {
        return -EINVAL;
    }
    if (static_cast<pid_t>(*pid) != self) {
        return 0;  // meant for another process
    }
    if (listen_fds == nullptr) {
        return 0;
    }
    const auto count = parse_decimal(listen_fds, INT_MAX - kFirstActivationFd);
    if (!count || *count == 0) {
        return -EINVAL;
    }
    return static_cast<int>(*count);
}

int receive_activation_fds(bool unset_environment) {
    // getenv(), as libsystemd: the variables are the service manager's even in
    // secure-execution mode (a setuid install started by systemd).
    int n =
        parse_activation_fd_count(std::getenv("LISTEN_PID"), std::getenv("LISTEN_FDS"), ::getpid());
    for (int fd = kFirstActivationFd; n > 0 && fd < kFirstActivationFd + n; ++fd) {
        const int flags = ::fcntl(fd, F_GETFD);
        if (flags < 0 ||
            ((flags & FD_CLOEXEC) == 0 && ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0)) {
            n = -errno;
        }
    }
    if (unset_environment) {
        ::unsetenv("LISTEN_PID");
        ::unsetenv("LISTEN_FDS");
        ::unsetenv("LISTEN_FDNAMES");
    }
    return n;
}

bool is_listening_unix_socket(int fd, int type) {
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) {
        return false;
    }
    int value = 0;
    socklen_t length = sizeof value;
    if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &value, &length) != 0 || length != sizeof value ||
        value != type) {
        return false;
    }
    length = sizeof value;
    if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &value, &length) != 0 ||
        length != sizeof value || value == 0) {
        return false;
    }
    sockaddr_un address{};
    length = sizeof address;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        return false;
    }
    return length >= offsetof(sockaddr_un, sun_family) + sizeof address.sun_family &&
           address.sun_family == AF_UNIX;
}

}  // namespace portbind::broker
