#include "policy/socket_spec.h"

#include "policy/strict_number.h"

namespace portbind {

std::string_view proto_name(Proto proto) {
    return proto == Proto::Tcp ? "tcp" : "udp";
}

bool is_valid_fd_name(std::string_view name) {
    if (name.empty() || name.size() > 255) {
        return false;
    }
    for (const char c : name) {
        if (c < 0x20 || c > 0x7e || c == ':') {
            return false;
        }
    }
    return true;
}

namespace {

Error bad_spec(std::string_view text, std::string_view why) {
    return Error{ErrorKind::Usage,
                 "invalid socket spec '" + std::string(text) + "': " + std::string(why),
                 "write [ADDR:]PORT[/tcp|/udp][=NAME], e.g. 443, 127.0.0.1:80/tcp, "
                 "[::1]:53/udp=dns (see portbind(1))"};
}

}  // namespace

Result<SocketSpec> parse_socket_spec(std::string_view text) {
    SocketSpec spec;
    std::string_view rest = text;

    if (const auto eq = rest.find('='); eq != rest.npos) {
        const std::string_view name = rest.substr(eq + 1);
        if (!is_valid_fd_name(name)) {
            return bad_spec(text, "NAME must be 1-255 printable ASCII characters without ':'");
        }
        spec.name = std::string(name);
        rest = rest.substr(0, eq);
    }

    if (!rest.empty() && rest[0] == '[') {
        const auto close = rest.find(']');
        if (close == rest.npos) {
            return bad_spec(text, "missing ']' after the IPv6 address");
        }
        const auto address = parse_ipv6(rest.substr(1, close - 1));
        if (!address) {
            return bad_spec(text,
                            "not a numeric IPv6 address (scope ids and IPv4-mapped "
                            "addresses are not accepted)");
        }
        if (close + 1 >= rest.size() || rest[close + 1] != ':') {
            return bad_spec(text, "expected ':PORT' after ']'");
        }
        spec.address = address;
        rest = rest.substr(close + 2);
    } else if (const auto colon = rest.find(':'); colon != rest.npos) {
        if (rest.find(':', colon + 1) != rest.npos) {
            return bad_spec(text, "IPv6 addresses must be written in brackets, e.g. [::1]:443");
        }
        const auto address = parse_ipv4(rest.substr(0, colon));
        if (!address) {
            return bad_spec(text,
                            "not a numeric IPv4 address (dotted quad, no leading zeros; "
                            "host names are not accepted)");
        }
        spec.address = address;
        rest = rest.substr(colon + 1);
    }

    if (const auto slash = rest.find('/'); slash != rest.npos) {
        const std::string_view proto = rest.substr(slash + 1);
        if (proto == "tcp") {
            spec.proto = Proto::Tcp;
        } else if (proto == "udp") {
            spec.proto = Proto::Udp;
        } else {
            return bad_spec(text, "PROTO must be tcp or udp");
        }
        rest = rest.substr(0, slash);
    }

    const auto port = parse_port(rest);
    if (!port) {
        return bad_spec(text, "PORT must be a decimal number from 1 to 65535");
    }
    spec.port = *port;
    return spec;
}

std::string Endpoint::to_string() const {
    std::string s = std::to_string(port) + "/" + std::string(proto_name(proto)) + " on ";
    if (address.family == Family::V6) {
        s += "[" + address.to_string() + "]";
    } else {
        s += address.to_string();
    }
    if (dual_stack) {
        s += " (dual-stack)";
    }
    return s;
}

Endpoint resolve_endpoint(const SocketSpec& spec, bool host_has_ipv6, bool v6only) {
    Endpoint ep;
    ep.proto = spec.proto;
    ep.port = spec.port;
    if (spec.address) {
        ep.address = *spec.address;
    } else if (host_has_ipv6) {
        ep.address = IpAddress::any(Family::V6);
        ep.dual_stack = !v6only;
    } else {
        ep.address = IpAddress::any(Family::V4);
    }
    return ep;
}

}  // namespace portbind
