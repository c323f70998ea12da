// IP addresses and networks as canonical bytes.
//
// Parsing is strict and numeric only (inet_pton; never DNS, /etc/hosts or NSS): IPv4 must be
// a dotted quad without leading zeros ("127.1", "0x7f.0.0.1" and "017.0.0.1" are refused);
// IPv6 must not carry a scope id and must not be IPv4-mapped (::ffff:a.b.c.d), so one endpoint
// has exactly one spelling and policy comparisons are byte comparisons.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace portbind {

enum class Family { V4, V6 };

struct IpAddress {
    Family family = Family::V4;
    std::array<std::uint8_t, 16> bytes{};  // IPv4 uses the first 4

    static IpAddress any(Family family);  // 0.0.0.0 or ::
    bool is_any() const;
    std::size_t size() const { return family == Family::V4 ? 4 : 16; }
    std::string to_string() const;  // "1.2.3.4" or "::1" (no brackets)

    friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

std::optional<IpAddress> parse_ipv4(std::string_view text);
std::optional<IpAddress> parse_ipv6(std::string_view text);  // without brackets
std::optional<IpAddress> parse_ip(std::string_view text);    // either, without brackets

struct IpNetwork {
    IpAddress base;
    unsigned prefix = 0;  // 0..32 or 0..128

    bool contains(const IpAddress& address) const;
};

// "ADDR" (a host network) or "ADDR/PREFIX". Host bits beyond the prefix are an error, not
// silently masked, so "10.0.0.1/8" cannot be mistaken for a single host.
std::optional<IpNetwork> parse_network(std::string_view text);

}  // namespace portbind
