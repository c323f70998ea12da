// SPEC = [ADDR:]PORT[/PROTO][=NAME], the command-line description of one socket, and the
// Endpoint it resolves to.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "policy/address.h"
#include "policy/result.h"

namespace portbind {

enum class Proto { Tcp, Udp };

std::string_view proto_name(Proto proto);  // "tcp" / "udp"

// systemd's rule for LISTEN_FDNAMES entries: 1..255 printable ASCII characters, no ':'.
// (systemd also accepts the empty name; portbind asks for a real one or none.)
bool is_valid_fd_name(std::string_view name);

inline constexpr std::string_view kDefaultFdName = "unknown";

struct SocketSpec {
    std::optional<IpAddress> address;  // nullopt: all addresses
    std::uint16_t port = 0;
    Proto proto = Proto::Tcp;
    std::string name{kDefaultFdName};
};

Result<SocketSpec> parse_socket_spec(std::string_view text);

// The concrete address a spec binds. With no ADDR the socket is [::] dual-stack
// (IPV6_V6ONLY=0), as systemd does for ListenStream=PORT; [::] IPv6-only with --v6only;
// 0.0.0.0 when the host has no IPv6.
struct Endpoint {
    Proto proto = Proto::Tcp;
    IpAddress address;
    bool dual_stack = false;  // address is :: and IPv4 is accepted too
    std::uint16_t port = 0;

    std::string to_string() const;  // e.g. "443/tcp on [::] (dual-stack)"

    friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

Endpoint resolve_endpoint(const SocketSpec& spec, bool host_has_ipv6, bool v6only);

}  // namespace portbind
