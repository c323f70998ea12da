#include "launcher/sockets.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "launcher/port_holders.h"
#include "launcher/small_file.h"
#include "policy/strict_number.h"

namespace portbind {

namespace {

Error socket_error(const Endpoint& endpoint, const std::string& step, int err,
                   std::string advice = {}) {
    return Error{ErrorKind::System,
                 "cannot " + step + " " + endpoint.to_string() + ": " + std::strerror(err),
                 std::move(advice)};
}

Status set_int_option(int fd, int level, int name, int value, const Endpoint& endpoint,
                      const char* option) {
    if (::setsockopt(fd, level, name, &value, sizeof value) != 0) {
        return socket_error(endpoint, std::string("set ") + option + " on", errno);
    }
    return success();
}

}  // namespace

bool host_has_ipv6() {
    UniqueFd probe(::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    return probe.valid() || errno != EAFNOSUPPORT;
}

unsigned read_unprivileged_port_start() {
    constexpr unsigned kDefault = 1024;
    const auto file = read_small_file("/proc/sys/net/ipv4/ip_unprivileged_port_start", 64);
    if (!file) {
        return kDefault;
    }
    std::string_view text(*file);
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
        text.remove_suffix(1);
    }
    const auto value = parse_decimal(text, 65536);
    return value ? static_cast<unsigned>(*value) : kDefault;
}

Result<UniqueFd> open_socket(const Endpoint& endpoint, const SocketOptions& options) {
    const bool v6 = endpoint.address.family == Family::V6;
    const int type = (endpoint.proto == Proto::Tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC |
                     (options.nonblock ? SOCK_NONBLOCK : 0);
    const int protocol = endpoint.proto == Proto::Tcp ? IPPROTO_TCP : IPPROTO_UDP;
    UniqueFd fd(::socket(v6 ? AF_INET6 : AF_INET, type, protocol));
    if (!fd.valid()) {
        return socket_error(endpoint, "create a socket for", errno);
    }
    const int s = fd.get();
    // SO_REUSEADDR as systemd sets it, but on stream sockets only: on a UDP socket it would let
    // another user's socket bind the same address and port and receive its datagrams.
    if (endpoint.proto == Proto::Tcp) {
        if (auto st = set_int_option(s, SOL_SOCKET, SO_REUSEADDR, 1, endpoint, "SO_REUSEADDR");
            !st.ok()) {
            return std::move(st).take_error();
        }
    }
    if (options.reuseport) {
        if (auto st = set_int_option(s, SOL_SOCKET, SO_REUSEPORT, 1, endpoint, "SO_REUSEPORT");
            !st.ok()) {
            return std::move(st).take_error();
        }
    }
    if (v6 && (endpoint.address.is_any() || options.v6only)) {
        // Explicit either way, so net.ipv6.bindv6only cannot change what the policy decided.
        const int v6only = endpoint.dual_stack ? 0 : 1;
        if (auto st = set_int_option(s, IPPROTO_IPV6, IPV6_V6ONLY, v6only, endpoint, "IPV6_V6ONLY");
            !st.ok()) {
            return std::move(st).take_error();
        }
    }
    if (options.freebind) {
        auto st = v6 ? set_int_option(s, IPPROTO_IPV6, IPV6_FREEBIND, 1, endpoint, "IPV6_FREEBIND")
                     : set_int_option(s, IPPROTO_IP, IP_FREEBIND, 1, endpoint, "IP_FREEBIND");
        if (!st.ok()) {
            return std::move(st).take_error();
        }
    }
    return fd;
}

int bind_socket(int fd, const Endpoint& endpoint) {
    sockaddr_storage storage{};
    socklen_t len = 0;
    if (endpoint.address.family == Family::V4) {
        auto* sin = reinterpret_cast<sockaddr_in*>(&storage);
        sin->sin_family = AF_INET;
        sin->sin_port = htons(endpoint.port);
        std::memcpy(&sin->sin_addr, endpoint.address.bytes.data(), 4);
        len = sizeof(sockaddr_in);
    } else {
        auto* sin6 = reinterpret_cast<sockaddr_in6*>(&storage);
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(endpoint.port);
        std::memcpy(&sin6->sin6_addr, endpoint.address.bytes.data(), 16);
        len = sizeof(sockaddr_in6);
    }
    return ::bind(fd, reinterpret_cast<const sockaddr*>(&storage), len) == 0 ? 0 : errno;
}

Error bind_error(const Endpoint& endpoint, int err) {
    switch (err) {
        case EADDRINUSE: {
            const std::string holder = describe_port_holders(endpoint.port, endpoint.proto);
            return Error{ErrorKind::System,
                         "cannot bind " + endpoint.to_string() + ": address already in use" +
                             (holder.empty() ? "" : " (held by " + holder + ")"),
                         "stop whatever holds it (see 'portbind who " +
                             std::to_string(endpoint.port) + "') or choose another port"};
        }
        case EADDRNOTAVAIL:
            return socket_error(endpoint, "bind", err,
                                "the address is not configured on this host; use --freebind "
                                "to bind it before it appears");
        case EACCES:
            return socket_error(endpoint, "bind", err,
                                "the kernel refused the privileged port; check that portbind "
                                "is installed with cap_net_bind_service=p or setuid root");
        default:
            return socket_error(endpoint, "bind", err);
    }
}

Status start_listening(int fd, const Endpoint& endpoint, int backlog) {
    if (endpoint.proto != Proto::Tcp) {
        return success();
    }
    if (::listen(fd, backlog) != 0) {
        return socket_error(endpoint, "listen on", errno);
    }
    return success();
}

}  // namespace portbind
