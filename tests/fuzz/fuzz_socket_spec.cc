// Fuzz target: parse_socket_spec(), the parser of every --port and `check` SPEC a caller types,
// and resolve_endpoint(), which turns a spec into what is bound and decided on.
//
// Invariants checked for every input:
//  - a refusal is a usage error with a message;
//  - an accepted spec has a port in 1..65535 and a valid LISTEN_FDNAMES name;
//  - the input is the spec's canonical spelling, up to the IPv6 address text and the optional
//    parts: the port is exactly its decimal digits (no sign, zeros, hex or trailing bytes),
//    /PROTO is present iff the text had one, =NAME iff the text had one;
//  - rendering the spec canonically and parsing it again gives the same spec;
//  - parsing is deterministic;
//  - the endpoint keeps port and protocol, keeps an explicit address, and is dual-stack only
//    for an address-less spec on an IPv6 host without --v6only.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "policy/address.h"
#include "policy/socket_spec.h"
#include "tests/fuzz/fuzz_support.h"

using namespace portbind;

namespace {

bool same_spec(const SocketSpec& a, const SocketSpec& b) {
    return a.address == b.address && a.port == b.port && a.proto == b.proto && a.name == b.name;
}

std::string address_prefix(const SocketSpec& spec) {
    if (!spec.address) {
        return "";
    }
    if (spec.address->family == Family::V6) {
        return "[" + spec.address->to_string() + "]:";
    }
    return spec.address->to_string() + ":";
}

std::string tail(const SocketSpec& spec, bool with_proto, bool with_name) {
    std::string s = std::to_string(spec.port);
    if (with_proto) {
        s += "/" + std::string(proto_name(spec.proto));
    }
    if (with_name) {
        s += "=" + spec.name;
    }
    return s;
}

void check_endpoint(const SocketSpec& spec, bool host_has_ipv6, bool v6only) {
    const Endpoint ep = resolve_endpoint(spec, host_has_ipv6, v6only);
    FUZZ_CHECK(ep.port == spec.port);
    FUZZ_CHECK(ep.proto == spec.proto);
    if (spec.address) {
        FUZZ_CHECK(ep.address == *spec.address);
        FUZZ_CHECK(!ep.dual_stack);
    } else {
        FUZZ_CHECK(ep.address.is_any());
        FUZZ_CHECK(ep.address.family == (host_has_ipv6 ? Family::V6 : Family::V4));
        FUZZ_CHECK(ep.dual_stack == (host_has_ipv6 && !v6only));
    }
    FUZZ_CHECK(ep.to_string().rfind(std::to_string(spec.port) + "/", 0) == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = fuzz::as_text(data, size);
    const auto parsed = parse_socket_spec(text);
    const auto again = parse_socket_spec(text);
    FUZZ_CHECK(parsed.ok() == again.ok());
    if (!parsed.ok()) {
        FUZZ_CHECK(parsed.error().kind == ErrorKind::Usage);
        FUZZ_CHECK(!parsed.error().message.empty());
        return 0;
    }
    const SocketSpec& spec = parsed.value();
    FUZZ_CHECK(same_spec(spec, again.value()));
    FUZZ_CHECK(spec.port >= 1);
    FUZZ_CHECK(is_valid_fd_name(spec.name));

    // The text is [ADDR:]DIGITS[/PROTO][=NAME] with nothing else in it.
    const auto eq = text.find('=');
    const bool with_name = eq != text.npos;
    const bool with_proto = text.substr(0, eq).find('/') != text.npos;
    if (!with_name) {
        FUZZ_CHECK(spec.name == kDefaultFdName);
    }
    if (!with_proto) {
        FUZZ_CHECK(spec.proto == Proto::Tcp);
    }
    const std::string expected_tail = tail(spec, with_proto, with_name);
    FUZZ_CHECK(text.size() >= expected_tail.size());
    FUZZ_CHECK(text.substr(text.size() - expected_tail.size()) == expected_tail);
    const std::string_view head = text.substr(0, text.size() - expected_tail.size());
    if (!spec.address) {
        FUZZ_CHECK(head.empty());
    } else if (spec.address->family == Family::V4) {
        FUZZ_CHECK(head == address_prefix(spec));  // IPv4 has one spelling
    } else {
        FUZZ_CHECK(head.size() >= 4 && head.front() == '[' && head.substr(head.size() - 2) == "]:");
        FUZZ_CHECK(parse_ipv6(head.substr(1, head.size() - 3)) == spec.address);
    }

    // Canonical round trip.
    const std::string canonical = address_prefix(spec) + tail(spec, true, true);
    const auto reparsed = parse_socket_spec(canonical);
    FUZZ_CHECK(reparsed.ok());
    FUZZ_CHECK(same_spec(reparsed.value(), spec));

    for (const bool host_has_ipv6 : {false, true}) {
        for (const bool v6only : {false, true}) {
            check_endpoint(spec, host_has_ipv6, v6only);
        }
    }
    return 0;
}
