#include "launcher/broker/client.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "launcher/broker/message.h"
#include "launcher/broker/socket_path.h"
#include "launcher/broker/transport.h"

namespace portbind::broker {

namespace {

Exchange failed(int err, std::string message) {
    Exchange e;
    e.error = err;
    e.message = std::move(message);
    return e;
}

std::string describe_errno(int err) {
    return std::strerror(err);
}

// Connects to the broker at `path` after the checks in client.h; `conn` is the connection.
Exchange connect_to_trusted_broker(const std::string& path, UniqueFd& conn) {
    const std::string where = "the portbind broker at " + path;
    SocketLocation location;
    std::string why;
    if (const int err = locate_socket(path, location, why); err != 0) {
        return failed(err, (err == EPERM ? "refusing " : "cannot reach ") + where + ": " + why);
    }
    struct stat st {};
    if (::fstatat(location.directory.get(), location.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        const int err = errno;
        return failed(err, "cannot reach " + where + ": " + describe_errno(err) +
                               (err == ENOENT ? " (is the broker running?)" : ""));
    }
    if (!S_ISSOCK(st.st_mode)) {
        return failed(EPERM, "refusing " + where + ": it is not a socket");
    }
    const uid_t socket_owner = st.st_uid;

    conn.reset(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    if (!conn.valid()) {
        const int err = errno;
        return failed(err, "cannot create a socket to reach " + where + ": " + describe_errno(err));
    }
    const timeval timeout{kClientTimeoutSeconds, 0};
    if (::setsockopt(conn.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout) != 0 ||
        ::setsockopt(conn.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) != 0) {
        const int err = errno;
        return failed(err, "cannot set timeouts to reach " + where + ": " + describe_errno(err));
    }
    // The resolved path: a symlink swapped after the check cannot redirect the connection.
    const std::string target = location.path();
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, target.data(), target.size());
    int rc = 0;
    do {
        rc = ::connect(conn.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
        const int err = errno;
        if (err == EAGAIN) {
            return failed(ETIMEDOUT, "cannot reach " + where + ": it accepts no connection");
        }
        return failed(err, "cannot reach " + where + ": " + describe_errno(err) +
                               (err == ECONNREFUSED ? " (is the broker running?)" : ""));
    }
    ucred server{};
    socklen_t len = sizeof server;
    if (::getsockopt(conn.get(), SOL_SOCKET, SO_PEERCRED, &server, &len) != 0 ||
        len != sizeof server) {
        return failed(EPROTO, "cannot identify " + where);
    }
    if (server.uid != 0 && server.uid != socket_owner) {
        return failed(EPERM, "refusing " + where + ": it runs as uid " +
                                 std::to_string(server.uid) +
                                 ", neither root nor the owner of the socket");
    }
    return Exchange{};
}

// The socket `fd` is what `spec` asked for.
bool matches_spec(int fd, const SocketSpec& spec) {
    const auto int_option = [fd](int name, int& value) {
        socklen_t len = sizeof value;
        return ::getsockopt(fd, SOL_SOCKET, name, &value, &len) == 0 && len == sizeof value;
    };
    int type = 0, protocol = 0;
    if (!int_option(SO_TYPE, type) || !int_option(SO_PROTOCOL, protocol)) {
        return false;
    }
    const bool tcp = spec.proto == Proto::Tcp;
    if (type != (tcp ? SOCK_STREAM : SOCK_DGRAM) || protocol != (tcp ? IPPROTO_TCP : IPPROTO_UDP)) {
        return false;
    }
    if (tcp) {
        int listening = 0;
        if (!int_option(SO_ACCEPTCONN, listening) || listening != 1) {
            return false;
        }
    }
    sockaddr_storage bound{};
    socklen_t len = sizeof bound;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len) != 0) {
        return false;
    }
    const int domain = bound.ss_family;  // the socket's own family, as SO_DOMAIN gives it
    IpAddress address;
    std::uint16_t port = 0;
    if (domain == AF_INET && len == sizeof(sockaddr_in)) {
        const auto* sin = reinterpret_cast<const sockaddr_in*>(&bound);
        address.family = Family::V4;
        std::memcpy(address.bytes.data(), &sin->sin_addr, 4);
        port = ntohs(sin->sin_port);
    } else if (domain == AF_INET6 && len == sizeof(sockaddr_in6)) {
        const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&bound);
        address.family = Family::V6;
        std::memcpy(address.bytes.data(), &sin6->sin6_addr, 16);
        port = ntohs(sin6->sin6_port);
    } else {
        return false;
    }
    if (port != spec.port) {
        return false;
    }
    return spec.address ? address == *spec.address : address.is_any();
}

}  // namespace

Exchange exchange_with_broker(const std::string& socket_path, const std::vector<SocketSpec>& specs,
                              const SocketOptions& options) {
    auto request = encode_request(SocketRequest{options, specs});
    if (!request.ok()) {
        return failed(EINVAL, request.error().message);
    }
    UniqueFd conn;
    if (Exchange e = connect_to_trusted_broker(socket_path, conn); e.error != 0) {
        return e;
    }
    const std::string where = "the portbind broker at " + socket_path;
    Bytes buffer(kMaxMessageSize);
    ReceivedMessage received;
    const int sent = send_message(conn.get(), request.value(), {}, 0);
    // A broker that refuses the connection at once (e.g. too many connections) may have
    // answered and closed before the request went out, and a peer that closes with data
    // unread makes the next receive report ECONNRESET once, ahead of what is queued: in
    // both cases the answer, if any, is already waiting.
    int err = 0;
    if (sent != 0) {
        err = receive_message(conn.get(), buffer, kMaxRequestSockets, MSG_DONTWAIT, received);
        if (err != 0 || received.size == 0) {
            return failed(sent == EAGAIN ? ETIMEDOUT : sent,
                          "cannot send the request to " + where + ": " + describe_errno(sent));
        }
    } else {
        err = receive_message(conn.get(), buffer, kMaxRequestSockets, 0, received);
        if (err == ECONNRESET) {
            err = receive_message(conn.get(), buffer, kMaxRequestSockets, MSG_DONTWAIT, received);
            if (err == EAGAIN || err == EWOULDBLOCK) {
                err = ECONNRESET;
            }
        }
    }
    if (err != 0) {
        return failed(
            err == EAGAIN ? ETIMEDOUT : err,
            "no answer from " + where + ": " + describe_errno(err == EAGAIN ? ETIMEDOUT : err));
    }
    if (received.size == 0) {
        return failed(EPROTO, where + " closed the connection without answering");
    }
    if ((received.flags & MSG_TRUNC) != 0 || received.foreign_control) {
        return failed(EPROTO, where + " sent a malformed reply");
    }
    const auto decoded = decode_reply(std::span(buffer).first(received.size));
    if (!decoded.reply) {
        return failed(EPROTO, where + " sent a malformed reply: " + decoded.reason);
    }
    const SocketReply& reply = *decoded.reply;
    if (reply.error != 0) {
        if (!received.fds.empty()) {
            return failed(EPROTO, where + " sent descriptors with a failure");
        }
        return failed(reply.error,
                      reply.text.empty() ? where + ": " + describe_errno(reply.error) : reply.text);
    }
    if ((received.flags & MSG_CTRUNC) != 0) {
        // The kernel could not install every descriptor: this process has no room for them.
        return failed(EMFILE,
                      "cannot receive the sockets from " + where + ": " + describe_errno(EMFILE));
    }
    if (reply.sockets != specs.size() || received.fds.size() != specs.size()) {
        return failed(EPROTO, where + " sent " + std::to_string(received.fds.size()) +
                                  " sockets for " + std::to_string(specs.size()) + " requested");
    }
    for (std::size_t i = 0; i < specs.size(); ++i) {
        if (!matches_spec(received.fds[i].get(), specs[i])) {
            return failed(EPROTO, where + " sent a socket that is not the one requested");
        }
    }
    Exchange done;
    done.sockets = std::move(received.fds);
    return done;
}

Result<std::vector<UniqueFd>> request_sockets(const std::string& socket_path,
                                              const std::vector<SocketSpec>& specs,
                                              const SocketOptions& options) {
    Exchange e = exchange_with_broker(socket_path, specs, options);
    if (e.error == 0) {
        return std::move(e.sockets);
    }
    const ErrorKind kind = e.error == EACCES   ? ErrorKind::Denied
                           : e.error == EINVAL ? ErrorKind::Usage
                                               : ErrorKind::System;
    return Error{kind, e.message, ""};
}

Result<UniqueFd> request_socket(const std::string& socket_path, const SocketSpec& spec,
                                const SocketOptions& options) {
    auto sockets = request_sockets(socket_path, {spec}, options);
    if (!sockets.ok()) {
        return std::move(sockets).take_error();
    }
    return std::move(sockets.value().front());
}

}  // namespace portbind::broker
