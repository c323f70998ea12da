// Fuzz target: the default mode's decision on an intercepted bind(): decode_bind_request() on
// the sockaddr bytes the app passed (any length, any family, any content) plus the socket's
// facts, then judge_bind() against --port specs and a policy, and shell_status().
//
// Input: socket facts, then the sockaddr bytes, then the judge's settings (unprivileged port
// start, root or not, specs, caller, program), then the policy text (the rest).
//
// Invariants checked:
//  decoding
//  - decode_bind_request() agrees with a separate byte-offset reference decoder: served only
//    for AF_INET/AF_INET6 sockets of type stream/TCP (or MPTCP) or datagram/UDP, a sockaddr
//    of the socket's own family (or AF_UNSPEC with INADDR_ANY on an AF_INET socket) at least
//    as long as the kernel requires (16 bytes; 24 for IPv6, RFC 2133) and at most
//    sockaddr_storage, a non-zero port, and for IPv6 no scope id and no IPv4-mapped address;
//    then the address and port are the bytes', and every IPv6 wildcard is dual-stack
//    (the app can flip IPV6_V6ONLY until the bind is done);
//  - decoding is deterministic;
//  judging
//  - served only below the unprivileged start;
//  - with specs, served only when one covers the endpoint; the index names the first one
//    that covers it, served or not (its reservation is released for the app's own bind);
//  - a root caller (no policy) is served exactly when the two rules above allow;
//  - otherwise served exactly when decide() permits; a policy with errors serves nothing;
//  - there is always a reason;
//  shell_status: 0..255 for a normal exit, 128+N for a signal.
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "launcher/bind_request.h"
#include "policy/decide.h"
#include "policy/parser.h"
#include "tests/fuzz/fuzz_support.h"

using namespace portbind;

namespace {

constexpr int kDomains[] = {AF_INET, AF_INET6, AF_UNIX, AF_PACKET, AF_NETLINK};
constexpr int kTypes[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, SOCK_SEQPACKET};
constexpr int kProtocols[] = {IPPROTO_TCP, IPPROTO_UDP,  kIpprotoMptcp,
                              0,           IPPROTO_SCTP, IPPROTO_UDPLITE};
const char* const kSpecs[] = {"443",          "80/udp",     "127.0.0.1:443", "[::]:443",
                              "[::1]:53/udp", "0.0.0.0:80", "1023",          "22"};
const char* const kPrograms[] = {"/usr/bin/node", "/usr/bin/python3", ""};

template <typename T, std::size_t N>
T pick_or_any(fuzz::Input& in, const T (&table)[N]) {
    const std::uint8_t selector = in.byte();
    return selector < N ? table[selector] : in.integral<T>();
}

std::uint16_t u16_host(const std::vector<std::uint8_t>& b, std::size_t at) {
    std::uint16_t v = 0;
    std::memcpy(&v, b.data() + at, sizeof v);
    return v;
}

std::uint32_t u32_host(const std::vector<std::uint8_t>& b, std::size_t at) {
    std::uint32_t v = 0;
    std::memcpy(&v, b.data() + at, sizeof v);
    return v;
}

// The served cases, from the byte layout of sockaddr_in / sockaddr_in6 (Linux; host order for
// the family and scope id, network order for the port).
std::optional<Endpoint> reference_decode(const std::vector<std::uint8_t>& b,
                                         const SocketFacts& facts) {
    Endpoint ep;
    if (facts.type == SOCK_STREAM &&
        (facts.protocol == IPPROTO_TCP || facts.protocol == kIpprotoMptcp)) {
        ep.proto = Proto::Tcp;
    } else if (facts.type == SOCK_DGRAM && facts.protocol == IPPROTO_UDP) {
        ep.proto = Proto::Udp;
    } else {
        return std::nullopt;
    }
    if (b.size() < 2 || b.size() > 128) {
        return std::nullopt;
    }
    const std::uint16_t family = u16_host(b, 0);
    if (facts.domain == AF_INET && b.size() >= 16 && (family == AF_INET || family == AF_UNSPEC)) {
        ep.port = static_cast<std::uint16_t>((b[2] << 8) | b[3]);
        ep.address.family = Family::V4;
        std::copy(b.begin() + 4, b.begin() + 8, ep.address.bytes.begin());
        if (family == AF_UNSPEC && !ep.address.is_any()) {
            return std::nullopt;
        }
    } else if (facts.domain == AF_INET6 && family == AF_INET6 && b.size() >= 24) {
        ep.port = static_cast<std::uint16_t>((b[2] << 8) | b[3]);
        ep.address.family = Family::V6;
        std::copy(b.begin() + 8, b.begin() + 24, ep.address.bytes.begin());
        bool mapped = b[18] == 0xff && b[19] == 0xff;
        for (std::size_t i = 8; i < 18; ++i) {
            mapped = mapped && b[i] == 0;
        }
        const std::uint32_t scope_id = b.size() >= 28 ? u32_host(b, 24) : 0;
        if (scope_id != 0 || mapped) {
            return std::nullopt;
        }
        ep.dual_stack = ep.address.is_any();
    } else {
        return std::nullopt;
    }
    if (ep.port == 0) {
        return std::nullopt;
    }
    return ep;
}

void check_shell_status(int status) {
    const int s = shell_status(status);
    if (WIFSIGNALED(status)) {
        FUZZ_CHECK(s == 128 + WTERMSIG(status));
    } else if (WIFEXITED(status)) {
        FUZZ_CHECK(s == WEXITSTATUS(status) && s >= 0 && s <= 255);
    } else {
        FUZZ_CHECK(s == kExitFailure);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Input in(data, size);

    SocketFacts facts;
    facts.domain = pick_or_any(in, kDomains);
    facts.type = pick_or_any(in, kTypes);
    facts.protocol = pick_or_any(in, kProtocols);
    // 0: the family bytes as given; 1: the socket's own family; 2: AF_UNSPEC.
    const int family_choice = in.byte() % 3;
    std::vector<std::uint8_t> sockaddr(in.byte() % 160);
    for (std::uint8_t& b : sockaddr) {
        b = in.byte();
    }
    if (family_choice != 0 && sockaddr.size() >= sizeof(sa_family_t)) {
        const auto family = static_cast<sa_family_t>(family_choice == 1 ? facts.domain : AF_UNSPEC);
        std::memcpy(sockaddr.data(), &family, sizeof family);
    }

    const auto decoded =
        decode_bind_request(std::span<const std::uint8_t>(sockaddr.data(), sockaddr.size()), facts);
    const auto expected = reference_decode(sockaddr, facts);
    FUZZ_CHECK(decoded.has_value() == expected.has_value());
    FUZZ_CHECK(decoded == decode_bind_request(std::span<const std::uint8_t>(sockaddr), facts));
    check_shell_status(in.integral<int>());
    if (!decoded) {
        return 0;
    }
    FUZZ_CHECK(*decoded == *expected);
    FUZZ_CHECK(decoded->port != 0);
    FUZZ_CHECK(!decoded->dual_stack || decoded->address.family == Family::V6);

    BindRules rules;
    const unsigned start_choices[] = {1024, 0, 1, 443, 444, 65535, 65536};
    rules.unprivileged_start = start_choices[in.below(std::size(start_choices))];
    const bool root = in.flag();
    std::vector<SocketSpec> specs;
    const std::size_t n_specs = in.below(4);
    for (std::size_t i = 0; i < n_specs; ++i) {
        specs.push_back(parse_socket_spec(kSpecs[in.below(std::size(kSpecs))]).value());
    }
    rules.specs = &specs;
    Caller caller{in.flag() ? "alice" : "bob", {"alice", "web"}};
    rules.caller = &caller;
    const std::string exe = kPrograms[in.below(std::size(kPrograms))];
    const Policy policy = parse_policy({PolicySource{"portbind.conf", std::string(in.rest())}});
    rules.policy = root ? nullptr : &policy;

    const BindVerdict verdict = judge_bind(rules, *decoded, exe);
    FUZZ_CHECK(!verdict.reason.empty());

    std::optional<std::size_t> covering;
    for (std::size_t i = 0; i < specs.size() && !covering; ++i) {
        if (spec_covers(specs[i], *decoded)) {
            covering = i;
        }
    }
    const bool privileged = decoded->port < rules.unprivileged_start;
    const bool covered = specs.empty() || covering.has_value();
    const bool permitted = root || decide(policy, caller, Request{*decoded, exe}).permitted;
    FUZZ_CHECK(verdict.serve == (privileged && covered && permitted));
    FUZZ_CHECK(verdict.spec == covering);
    if (verdict.serve && !root) {
        FUZZ_CHECK(policy.valid());
    }
    for (const SocketSpec& spec : specs) {
        if (spec_covers(spec, *decoded)) {
            FUZZ_CHECK(spec.port == decoded->port && spec.proto == decoded->proto);
            FUZZ_CHECK(!spec.address ||
                       (*spec.address == decoded->address && !decoded->dual_stack));
        }
    }
    return 0;
}
