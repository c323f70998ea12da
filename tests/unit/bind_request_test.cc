#include "launcher/bind_request.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <boost/test/unit_test.hpp>
#include <cstring>
#include <vector>

#include "policy/decide.h"
#include "policy/parser.h"

using namespace portbind;

namespace {

std::vector<std::uint8_t> v4(const char* address, std::uint16_t port) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    inet_pton(AF_INET, address, &sin.sin_addr);
    std::vector<std::uint8_t> bytes(sizeof sin);
    std::memcpy(bytes.data(), &sin, sizeof sin);
    return bytes;
}

std::vector<std::uint8_t> v6(const char* address, std::uint16_t port, std::uint32_t scope = 0) {
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(port);
    sin6.sin6_scope_id = scope;
    inet_pton(AF_INET6, address, &sin6.sin6_addr);
    std::vector<std::uint8_t> bytes(sizeof sin6);
    std::memcpy(bytes.data(), &sin6, sizeof sin6);
    return bytes;
}

const SocketFacts kTcp4{AF_INET, SOCK_STREAM, IPPROTO_TCP};
const SocketFacts kUdp4{AF_INET, SOCK_DGRAM, IPPROTO_UDP};
const SocketFacts kTcp6{AF_INET6, SOCK_STREAM, IPPROTO_TCP};

}  // namespace

BOOST_AUTO_TEST_SUITE(bind_request_test)

BOOST_AUTO_TEST_CASE(decodes_served_binds) {
    auto ep = decode_bind_request(v4("127.0.0.1", 443), kTcp4);
    BOOST_TEST_REQUIRE(ep.has_value());
    BOOST_TEST(ep->to_string() == "443/tcp on 127.0.0.1");

    ep = decode_bind_request(v4("0.0.0.0", 53), kUdp4);
    BOOST_TEST_REQUIRE(ep.has_value());
    BOOST_TEST(ep->to_string() == "53/udp on 0.0.0.0");

    ep = decode_bind_request(v6("::", 443), kTcp6);
    BOOST_TEST_REQUIRE(ep.has_value());
    BOOST_TEST(ep->dual_stack);
    BOOST_TEST(ep->to_string() == "443/tcp on [::] (dual-stack)");

    // The app can flip IPV6_V6ONLY until the socket is bound, so a wildcard bind is always
    // judged for the wider outcome.
    ep = decode_bind_request(v6("::", 443), kTcp6);
    BOOST_TEST_REQUIRE(ep.has_value());
    BOOST_TEST(ep->dual_stack);

    ep = decode_bind_request(v6("::1", 80), kTcp6);
    BOOST_TEST_REQUIRE(ep.has_value());
    BOOST_TEST(!ep->dual_stack);  // only the wildcard is dual-stack
}

BOOST_AUTO_TEST_CASE(leaves_everything_else_to_the_kernel) {
    const auto good4 = v4("0.0.0.0", 443);
    const auto good6 = v6("::", 443);
    // Family of the sockaddr differs from the socket's.
    BOOST_TEST(!decode_bind_request(good6, kTcp4).has_value());
    BOOST_TEST(!decode_bind_request(good4, kTcp6).has_value());
    // Other families, types and protocols.
    BOOST_TEST(!decode_bind_request(good4, SocketFacts{AF_UNIX, SOCK_STREAM, 0}));
    BOOST_TEST(!decode_bind_request(good4, SocketFacts{AF_INET, SOCK_RAW, IPPROTO_TCP}));
    BOOST_TEST(!decode_bind_request(good4, SocketFacts{AF_INET, SOCK_STREAM, 132}));  // SCTP
    BOOST_TEST(!decode_bind_request(good4, SocketFacts{AF_INET, SOCK_DGRAM, IPPROTO_TCP}));
    BOOST_TEST(!decode_bind_request(good4, SocketFacts{AF_INET, SOCK_SEQPACKET, IPPROTO_TCP}));
    // Port 0, scope ids, IPv4-mapped addresses.
    BOOST_TEST(!decode_bind_request(v4("0.0.0.0", 0), kTcp4).has_value());
    BOOST_TEST(!decode_bind_request(v6("fe80::1", 443, 2), kTcp6).has_value());
    BOOST_TEST(!decode_bind_request(v6("::ffff:127.0.0.1", 443), kTcp6).has_value());
    // Short, empty and oversized sockaddrs.
    for (std::size_t len :
         {std::size_t{0}, std::size_t{1}, std::size_t{2}, sizeof(sockaddr_in) - 1}) {
        BOOST_TEST_CONTEXT("v4 length " << len) {
            BOOST_TEST(!decode_bind_request(std::span(good4.data(), len), kTcp4).has_value());
        }
    }
    BOOST_TEST(!decode_bind_request(std::span(good6.data(), 23), kTcp6).has_value());
    BOOST_TEST(!decode_bind_request(std::span(good4.data(), 2), kTcp4).has_value());
    std::vector<std::uint8_t> huge(sizeof(sockaddr_storage) + 1, 0);
    std::memcpy(huge.data(), good4.data(), good4.size());
    BOOST_TEST(!decode_bind_request(huge, kTcp4).has_value());
}

BOOST_AUTO_TEST_CASE(forms_the_kernel_accepts) {
    // 24..27 bytes: the kernel reads no scope id, so the bytes after the address are ignored.
    for (std::size_t len = 24; len < sizeof(sockaddr_in6); ++len) {
        BOOST_TEST_CONTEXT("v6 length " << len) {
            const auto trailing = v6("::1", 443, 0xffffffff);
            const auto short_ep = decode_bind_request(std::span(trailing.data(), len), kTcp6);
            BOOST_TEST_REQUIRE(short_ep.has_value());
            BOOST_TEST(short_ep->to_string() == "443/tcp on [::1]");
        }
    }
    // AF_UNSPEC with INADDR_ANY on an AF_INET socket.
    auto unspec = v4("0.0.0.0", 443);
    unspec[0] = AF_UNSPEC;
    unspec[1] = 0;
    auto ep = decode_bind_request(unspec, kTcp4);
    BOOST_TEST_REQUIRE(ep.has_value());
    BOOST_TEST(ep->to_string() == "443/tcp on 0.0.0.0");
    auto unspec_addr = v4("127.0.0.1", 443);
    unspec_addr[0] = AF_UNSPEC;
    unspec_addr[1] = 0;
    BOOST_TEST(!decode_bind_request(unspec_addr, kTcp4).has_value());  // the kernel refuses it
    BOOST_TEST(!decode_bind_request(unspec, kTcp6).has_value());
    // The 24-byte RFC 2133 sockaddr_in6 (no scope id field).
    const auto short6 = v6("::1", 80);
    ep = decode_bind_request(std::span(short6.data(), 24), kTcp6);
    BOOST_TEST_REQUIRE(ep.has_value());
    BOOST_TEST(ep->to_string() == "80/tcp on [::1]");
    // MPTCP stream sockets are TCP to the policy.
    ep = decode_bind_request(v4("0.0.0.0", 443), SocketFacts{AF_INET, SOCK_STREAM, kIpprotoMptcp});
    BOOST_TEST_REQUIRE(ep.has_value());
    BOOST_TEST((ep->proto == Proto::Tcp));
}

BOOST_AUTO_TEST_CASE(longer_sockaddr_is_accepted_as_the_kernel_does) {
    auto bytes = v4("10.0.0.1", 80);
    bytes.resize(sizeof(sockaddr_storage), 0xff);
    const auto ep = decode_bind_request(bytes, kTcp4);
    BOOST_TEST_REQUIRE(ep.has_value());
    BOOST_TEST(ep->to_string() == "80/tcp on 10.0.0.1");
}

BOOST_AUTO_TEST_CASE(spec_coverage) {
    const auto any443 = parse_socket_spec("443").value();
    const auto lo443 = parse_socket_spec("127.0.0.1:443").value();
    const auto udp53 = parse_socket_spec("53/udp").value();
    const Endpoint wildcard = *decode_bind_request(v6("::", 443), kTcp6);
    const Endpoint loopback = *decode_bind_request(v4("127.0.0.1", 443), kTcp4);
    const Endpoint other = *decode_bind_request(v4("10.0.0.1", 443), kTcp4);
    BOOST_TEST(spec_covers(any443, wildcard));
    BOOST_TEST(spec_covers(any443, loopback));
    BOOST_TEST(spec_covers(lo443, loopback));
    BOOST_TEST(!spec_covers(lo443, other));
    BOOST_TEST(!spec_covers(lo443, wildcard));
    BOOST_TEST(!spec_covers(udp53, *decode_bind_request(v4("0.0.0.0", 53), kTcp4)));
    BOOST_TEST(spec_covers(udp53, *decode_bind_request(v4("0.0.0.0", 53), kUdp4)));
    BOOST_TEST(!spec_covers(any443, *decode_bind_request(v4("0.0.0.0", 444), kTcp4)));
}

BOOST_AUTO_TEST_CASE(verdicts) {
    const Policy policy = parse_policy({{"p.conf",
                                         "permit alice port 443\n"
                                         "permit alice port 80 cmd /usr/sbin/nginx\n"
                                         "deny alice port 443 addr 10.0.0.0/8\n"}});
    const Caller alice{"alice", {"alice"}};
    const Caller bob{"bob", {"bob"}};
    const std::vector<SocketSpec> none;
    BindRules rules{&policy, &alice, &none, 1024};
    const Endpoint https = *decode_bind_request(v4("0.0.0.0", 443), kTcp4);
    const Endpoint http = *decode_bind_request(v4("0.0.0.0", 80), kTcp4);
    const Endpoint high = *decode_bind_request(v4("0.0.0.0", 8080), kTcp4);
    const Endpoint internal = *decode_bind_request(v4("10.1.2.3", 443), kTcp4);

    const Endpoint public_https = *decode_bind_request(v4("192.0.2.1", 443), kTcp4);
    BOOST_TEST(judge_bind(rules, public_https, "/usr/bin/node").serve);
    BOOST_TEST(judge_bind(rules, public_https, "/usr/bin/node").reason == "permitted by p.conf:1");
    // The wildcard would also serve 10.0.0.0/8, which line 3 denies.
    BOOST_TEST(!judge_bind(rules, https, "/usr/bin/node").serve);
    BOOST_TEST(judge_bind(rules, https, "/usr/bin/node").reason == "denied by p.conf:3");
    BOOST_TEST(!judge_bind(rules, internal, "/usr/bin/node").serve);
    BOOST_TEST(judge_bind(rules, internal, "/usr/bin/node").reason == "denied by p.conf:3");
    BOOST_TEST(!judge_bind(rules, high, "/usr/bin/node").serve);  // the kernel allows it anyway
    BOOST_TEST(judge_bind(rules, high, "/usr/bin/node").reason == "unprivileged port");
    BOOST_TEST(judge_bind(rules, http, "/usr/sbin/nginx").serve);
    BOOST_TEST(!judge_bind(rules, http, "/usr/bin/node").serve);  // cmd rule: the binding program

    rules.caller = &bob;
    BOOST_TEST(!judge_bind(rules, public_https, "/usr/bin/node").serve);
    BOOST_TEST(judge_bind(rules, public_https, "/usr/bin/node").reason == "no rule permits it");

    // With --port specs, only covered binds are served, even if the policy permits more.
    rules.caller = &alice;
    const std::vector<SocketSpec> only80 = {parse_socket_spec("80").value()};
    rules.specs = &only80;
    BOOST_TEST(!judge_bind(rules, https, "/usr/bin/node").serve);
    BOOST_TEST(judge_bind(rules, https, "/usr/bin/node").reason == "no --port given covers it");
    const auto v = judge_bind(rules, http, "/usr/sbin/nginx");
    BOOST_TEST(v.serve);
    BOOST_TEST_REQUIRE(v.spec.has_value());
    BOOST_TEST(*v.spec == 0u);
    // An unprivileged port is the app's own business, but its reservation must be released.
    const std::vector<SocketSpec> with_high = {parse_socket_spec("80").value(),
                                               parse_socket_spec("8080").value()};
    rules.specs = &with_high;
    const auto h = judge_bind(rules, high, "/usr/bin/node");
    BOOST_TEST(!h.serve);
    BOOST_TEST_REQUIRE(h.spec.has_value());
    BOOST_TEST(*h.spec == 1u);

    // Root callers are not subject to the policy; an invalid policy denies.
    BindRules root{nullptr, nullptr, &none, 1024};
    BOOST_TEST(judge_bind(root, https, "/x").serve);
    const Policy broken = parse_policy({{"b.conf", "permit alice port 443\nbogus\n"}});
    BindRules invalid{&broken, &alice, &none, 1024};
    BOOST_TEST(!judge_bind(invalid, https, "/x").serve);
    BOOST_TEST(judge_bind(invalid, https, "/x").reason == "policy has errors");
    // The threshold is the sysctl's value, not a constant.
    BindRules low{&policy, &alice, &none, 80};
    BOOST_TEST(!judge_bind(low, http, "/usr/bin/node").serve);
    BOOST_TEST(judge_bind(low, http, "/usr/bin/node").reason == "unprivileged port");
}

BOOST_AUTO_TEST_CASE(exit_status_as_a_shell_reports_it) {
    BOOST_TEST(shell_status(0) == 0);
    BOOST_TEST(shell_status(3 << 8) == 3);
    BOOST_TEST(shell_status(SIGTERM) == 128 + SIGTERM);
    BOOST_TEST(shell_status(SIGKILL | 0x80) == 128 + SIGKILL);  // with a core dump flag
}

BOOST_AUTO_TEST_SUITE_END()
