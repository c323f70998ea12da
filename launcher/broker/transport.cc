#include "launcher/broker/transport.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace portbind::broker {

int send_message(int socket, std::span<const std::uint8_t> bytes, std::span<const int> fds,
                 int flags) {
    iovec iov{const_cast<std::uint8_t*>(bytes.data()), bytes.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    std::vector<char> control;
    if (!fds.empty()) {
        control.resize(CMSG_SPACE(fds.size() * sizeof(int)));
        msg.msg_control = control.data();
        msg.msg_controllen = control.size();
        cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(fds.size() * sizeof(int));
        std::memcpy(CMSG_DATA(cmsg), fds.data(), fds.size() * sizeof(int));
    }
    ssize_t n = 0;
    do {
        n = ::sendmsg(socket, &msg, MSG_NOSIGNAL | flags);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        return errno;
    }
    return static_cast<std::size_t>(n) == bytes.size() ? 0 : EMSGSIZE;
}

int receive_message(int socket, std::span<std::uint8_t> buffer, std::size_t max_fds, int flags,
                    ReceivedMessage& out) {
    out = ReceivedMessage{};
    iovec iov{buffer.data(), buffer.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    std::vector<char> control;
    if (max_fds > 0) {
        // alignment: vector<char> storage comes from operator new, aligned for cmsghdr
        control.resize(CMSG_SPACE(max_fds * sizeof(int)));
        msg.msg_control = control.data();
        msg.msg_controllen = control.size();
    }
    ssize_t n = 0;
    do {
        n = ::recvmsg(socket, &msg, MSG_CMSG_CLOEXEC | MSG_TRUNC | flags);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        return errno;
    }
    if (max_fds > 0) {
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
                c->cmsg_len < CMSG_LEN(0)) {
                out.foreign_control = true;
                continue;
            }
            const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (std::size_t i = 0; i < count; ++i) {
                int fd = -1;
                std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
                out.fds.emplace_back(fd);
            }
        }
    }
    out.size = static_cast<std::size_t>(n);
    out.flags = msg.msg_flags;
    return 0;
}

}  // namespace portbind::broker
