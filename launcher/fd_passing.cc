#include "launcher/fd_passing.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace portbind {

namespace {

constexpr char kFdTag = 'F';
constexpr char kFailureTag = 'E';
constexpr std::size_t kMaxMessage = 1024;

Error channel_error(const std::string& what) {
    return Error{ErrorKind::System, "internal channel: " + what, "please report this"};
}

}  // namespace

Status send_fd(int socket, int fd) {
    char tag = kFdTag;
    iovec iov{&tag, 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(cmsg), &fd, sizeof fd);
    if (::sendmsg(socket, &msg, MSG_NOSIGNAL) != 1) {
        return channel_error(std::string("sendmsg: ") + std::strerror(errno));
    }
    return success();
}

Status send_failure(int socket, const std::string& message) {
    const std::string payload = kFailureTag + message.substr(0, kMaxMessage - 1);
    if (::send(socket, payload.data(), payload.size(), MSG_NOSIGNAL) < 0) {
        return channel_error(std::string("send: ") + std::strerror(errno));
    }
    return success();
}

Result<UniqueFd> receive_fd(int socket) {
    char buf[kMaxMessage];
    iovec iov{buf, sizeof buf};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = 0;
    do {
        n = ::recvmsg(socket, &msg, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        return channel_error(std::string("recvmsg: ") + std::strerror(errno));
    }
    UniqueFd received;
    bool unexpected = false;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
            unexpected = true;
            continue;
        }
        const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (std::size_t i = 0; i < count; ++i) {
            int fd = -1;
            std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            UniqueFd owned(fd);  // every received fd is owned at once, extras are closed
            if (!received.valid() && i == 0) {
                received = std::move(owned);
            } else {
                unexpected = true;
            }
        }
    }
    if (n == 0) {
        return channel_error("the peer exited before answering");
    }
    if (buf[0] == kFailureTag) {
        return Error{ErrorKind::System, std::string(buf + 1, static_cast<std::size_t>(n - 1)), ""};
    }
    if ((msg.msg_flags & (MSG_CTRUNC | MSG_TRUNC)) || unexpected || n != 1 || buf[0] != kFdTag ||
        !received.valid()) {
        return channel_error("malformed message");
    }
    return received;
}

}  // namespace portbind
