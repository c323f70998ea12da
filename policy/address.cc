#include "policy/address.h"

#include <arpa/inet.h>

#include <cstring>

#include "policy/strict_number.h"

namespace portbind {

IpAddress IpAddress::any(Family family) {
    IpAddress a;
    a.family = family;
    return a;
}

bool IpAddress::is_any() const {
    for (std::size_t i = 0; i < size(); ++i) {
        if (bytes[i] != 0) {
            return false;
        }
    }
    return true;
}

std::string IpAddress::to_string() const {
    char buf[INET6_ADDRSTRLEN] = {};
    ::inet_ntop(family == Family::V4 ? AF_INET : AF_INET6, bytes.data(), buf, sizeof buf);
    return buf;
}

namespace {

bool is_v4_mapped(const std::array<std::uint8_t, 16>& b) {
    for (std::size_t i = 0; i < 10; ++i) {
        if (b[i] != 0) {
            return false;
        }
    }
    return b[10] == 0xff && b[11] == 0xff;
}

// inet_pton() reads a C string: an embedded NUL would hide whatever follows it.
bool has_nul(std::string_view text) {
    return text.find('\0') != std::string_view::npos;
}

}  // namespace

std::optional<IpAddress> parse_ipv4(std::string_view text) {
    if (text.empty() || text.size() > 15 || has_nul(text)) {
        return std::nullopt;
    }
    const std::string s(text);  // inet_pton needs a NUL-terminated string
    IpAddress a;
    a.family = Family::V4;
    if (::inet_pton(AF_INET, s.c_str(), a.bytes.data()) != 1) {
        return std::nullopt;
    }
    return a;
}

std::optional<IpAddress> parse_ipv6(std::string_view text) {
    if (text.empty() || text.size() >= INET6_ADDRSTRLEN || text.find('%') != text.npos ||
        has_nul(text)) {
        return std::nullopt;
    }
    const std::string s(text);
    IpAddress a;
    a.family = Family::V6;
    if (::inet_pton(AF_INET6, s.c_str(), a.bytes.data()) != 1 || is_v4_mapped(a.bytes)) {
        return std::nullopt;
    }
    return a;
}

std::optional<IpAddress> parse_ip(std::string_view text) {
    if (text.find(':') != text.npos) {
        return parse_ipv6(text);
    }
    return parse_ipv4(text);
}

bool IpNetwork::contains(const IpAddress& address) const {
    if (address.family != base.family) {
        return false;
    }
    const unsigned full = prefix / 8;
    const unsigned rest = prefix % 8;
    if (std::memcmp(address.bytes.data(), base.bytes.data(), full) != 0) {
        return false;
    }
    if (rest == 0) {
        return true;
    }
    const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
    return (address.bytes[full] & mask) == (base.bytes[full] & mask);
}

std::optional<IpNetwork> parse_network(std::string_view text) {
    const auto slash = text.find('/');
    const auto address = parse_ip(text.substr(0, slash));
    if (!address) {
        return std::nullopt;
    }
    const unsigned bits = address->family == Family::V4 ? 32 : 128;
    IpNetwork net{*address, bits};
    if (slash != text.npos) {
        const auto prefix = parse_decimal(text.substr(slash + 1), bits);
        if (!prefix) {
            return std::nullopt;
        }
        net.prefix = static_cast<unsigned>(*prefix);
    }
    // Refuse host bits set beyond the prefix.
    for (unsigned bit = net.prefix; bit < bits; ++bit) {
        if (net.base.bytes[bit / 8] & (0x80 >> (bit % 8))) {
            return std::nullopt;
        }
    }
    return net;
}

}  // namespace portbind
