#include "policy/socket_spec.h"

#include <boost/test/unit_test.hpp>

#include <optional>
#include <string>

using namespace portbind;

namespace {

IpAddress ip(const std::string& text) {
    const auto address = parse_ip(text);
    BOOST_TEST_REQUIRE(address.has_value(), "test setup: '" << text << "' must parse");
    return *address;
}

SocketSpec must_parse(const std::string& text) {
    auto spec = parse_socket_spec(text);
    BOOST_TEST_REQUIRE(spec.ok(), "test setup: '" << text << "' must parse");
    return std::move(spec).value();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(socket_spec_test)

BOOST_AUTO_TEST_CASE(proto_names) {
    BOOST_TEST(proto_name(Proto::Tcp) == "tcp");
    BOOST_TEST(proto_name(Proto::Udp) == "udp");
}

BOOST_AUTO_TEST_CASE(accepted_specs) {
    struct Case {
        std::string text;
        const char* address;  // nullptr: no address
        std::uint16_t port;
        Proto proto;
        std::string name;
    };
    const Case cases[] = {
        {"443", nullptr, 443, Proto::Tcp, "unknown"},
        {"1", nullptr, 1, Proto::Tcp, "unknown"},
        {"65535", nullptr, 65535, Proto::Tcp, "unknown"},
        {"443/tcp", nullptr, 443, Proto::Tcp, "unknown"},
        {"443/udp", nullptr, 443, Proto::Udp, "unknown"},
        {"80=http", nullptr, 80, Proto::Tcp, "http"},
        {"127.0.0.1:80", "127.0.0.1", 80, Proto::Tcp, "unknown"},
        {"0.0.0.0:80", "0.0.0.0", 80, Proto::Tcp, "unknown"},
        {"127.0.0.1:53/udp=dns", "127.0.0.1", 53, Proto::Udp, "dns"},
        {"[::1]:53/udp=dns", "::1", 53, Proto::Udp, "dns"},
        {"[::]:443=web", "::", 443, Proto::Tcp, "web"},
        {"[2001:db8::1]:443/tcp=https", "2001:db8::1", 443, Proto::Tcp, "https"},
        {"80=a b c", nullptr, 80, Proto::Tcp, "a b c"},
        {"80= ", nullptr, 80, Proto::Tcp, " "},
        {"80=~!@#$%^&*()[]{}/=", nullptr, 80, Proto::Tcp, "~!@#$%^&*()[]{}/="},
        {"80=" + std::string(255, 'n'), nullptr, 80, Proto::Tcp, std::string(255, 'n')},
        {"80/udp=" + std::string(255, 'x'), nullptr, 80, Proto::Udp, std::string(255, 'x')},
    };
    for (const Case& c : cases) {
        BOOST_TEST_CONTEXT("input '" << c.text << "'") {
            const auto spec = parse_socket_spec(c.text);
            BOOST_TEST_REQUIRE(spec.ok());
            const SocketSpec& s = spec.value();
            if (c.address == nullptr) {
                BOOST_TEST(!s.address.has_value());
            } else {
                BOOST_TEST_REQUIRE(s.address.has_value());
                const IpAddress expected = ip(c.address);
                BOOST_TEST((s.address->family == expected.family));
                BOOST_TEST((s.address->bytes == expected.bytes));
            }
            BOOST_TEST(s.port == c.port);
            BOOST_TEST((s.proto == c.proto));
            BOOST_TEST(s.name == c.name);
        }
    }
}

BOOST_AUTO_TEST_CASE(default_name_is_unknown) {
    BOOST_TEST(kDefaultFdName == "unknown");
    BOOST_TEST(SocketSpec{}.name == "unknown");
    BOOST_TEST(must_parse("[::1]:443/udp").name == "unknown");
}

BOOST_AUTO_TEST_CASE(refused_specs) {
    const std::string cases[] = {
        "80=" + std::string(256, 'n'),  // name too long
        "80=a:b",                       // ':' in a name
        "80=:",
        "80=a\tb",  // control characters in a name
        "80=a\nb",
        "80=a\x7f",
        "80=caf\xc3\xa9",  // non-ASCII name
        "443=",            // empty name
        "[::1]443",
        "[::1",
        "[::1]:",
        "[::1]",
        "[]:80",
        "[127.0.0.1]:80",
        "::1:443",  // unbracketed IPv6
        "::1",
        "localhost:80",
        "1.2.3.4:",
        ":80",
        "127.1:80",
        "017.0.0.1:80",
        "1.2.3.4:5:80",
        "80/sctp",
        "80/TCP",
        "80/Udp",
        "80/",
        "80/tcp/udp",
        "/tcp",
        "0",
        "65536",
        "-1",
        "+80",
        "0x50",
        "080",
        " 80",
        "80 ",
        "",
        "=name",
        "http",
        "[fe80::1%eth0]:80",
        "[::ffff:1.2.3.4]:80",
        "[::ffff:1.2.3.4]:80/tcp=web",
        std::string("80\0", 3),
    };
    for (const std::string& text : cases) {
        BOOST_TEST_CONTEXT("input '" << text << "'") {
            const auto spec = parse_socket_spec(text);
            BOOST_TEST_REQUIRE(!spec.ok());
            BOOST_TEST((spec.error().kind == ErrorKind::Usage));
            BOOST_TEST(spec.error().message.find("'" + text + "'") != std::string::npos,
                       "message does not name the input: " << spec.error().message);
        }
    }
}

BOOST_AUTO_TEST_CASE(refusals_say_why) {
    struct Case {
        const char* text;
        const char* reason;  // a part of the message
    };
    const Case cases[] = {
        {"::1:443", "brackets"},
        {"[::1", "]"},
        {"[fe80::1%eth0]:80", "IPv6"},
        {"localhost:80", "IPv4"},
        {"80/sctp", "tcp or udp"},
        {"65536", "1 to 65535"},
        {"80=a:b", "NAME"},
    };
    for (const Case& c : cases) {
        BOOST_TEST_CONTEXT("input '" << c.text << "'") {
            const auto spec = parse_socket_spec(c.text);
            BOOST_TEST_REQUIRE(!spec.ok());
            BOOST_TEST(spec.error().message.find(c.reason) != std::string::npos,
                       spec.error().message);
            BOOST_TEST(!spec.error().advice.empty());
        }
    }
}

BOOST_AUTO_TEST_CASE(valid_fd_names) {
    struct Case {
        std::string name;
        bool valid;
    };
    const Case cases[] = {
        {"http", true},
        {"a", true},
        {" ", true},
        {"a b", true},
        {"~", true},
        {"!", true},
        {"with=equals", true},
        {"slash/ok", true},
        {std::string(255, 'a'), true},
        {std::string(256, 'a'), false},
        {"", false},
        {":", false},
        {"a:b", false},
        {"a\tb", false},
        {"\n", false},
        {"\x1f", false},
        {"\x7f", false},
        {"\x80", false},
        {"caf\xc3\xa9", false},
        {std::string("a\0b", 3), false},
    };
    for (const Case& c : cases) {
        BOOST_TEST_CONTEXT("name '" << c.name << "' (" << c.name.size() << " bytes)") {
            BOOST_TEST(is_valid_fd_name(c.name) == c.valid);
        }
    }
}

BOOST_AUTO_TEST_CASE(resolve_without_address) {
    const SocketSpec spec = must_parse("443");

    const Endpoint dual = resolve_endpoint(spec, /*host_has_ipv6=*/true, /*v6only=*/false);
    BOOST_TEST((dual.address == IpAddress::any(Family::V6)));
    BOOST_TEST(dual.dual_stack);
    BOOST_TEST(dual.port == 443);
    BOOST_TEST((dual.proto == Proto::Tcp));

    const Endpoint v6only = resolve_endpoint(spec, /*host_has_ipv6=*/true, /*v6only=*/true);
    BOOST_TEST((v6only.address == IpAddress::any(Family::V6)));
    BOOST_TEST(!v6only.dual_stack);
    BOOST_TEST(v6only.port == 443);

    for (const bool flag : {false, true}) {
        BOOST_TEST_CONTEXT("v6only " << flag) {
            const Endpoint v4 = resolve_endpoint(spec, /*host_has_ipv6=*/false, flag);
            BOOST_TEST((v4.address == IpAddress::any(Family::V4)));
            BOOST_TEST(!v4.dual_stack);
            BOOST_TEST(v4.port == 443);
        }
    }
}

BOOST_AUTO_TEST_CASE(resolve_keeps_explicit_address) {
    struct Case {
        const char* spec;
        const char* address;
        Proto proto;
        std::uint16_t port;
    };
    const Case cases[] = {
        {"127.0.0.1:80", "127.0.0.1", Proto::Tcp, 80},
        {"0.0.0.0:80", "0.0.0.0", Proto::Tcp, 80},
        {"[::]:53/udp", "::", Proto::Udp, 53},
        {"[::1]:853=dot", "::1", Proto::Tcp, 853},
    };
    for (const Case& c : cases) {
        for (const bool has_ipv6 : {false, true}) {
            for (const bool v6only : {false, true}) {
                BOOST_TEST_CONTEXT("spec '" << c.spec << "' host_has_ipv6 " << has_ipv6
                                            << " v6only " << v6only) {
                    const Endpoint ep = resolve_endpoint(must_parse(c.spec), has_ipv6, v6only);
                    BOOST_TEST((ep.address == ip(c.address)));
                    BOOST_TEST(!ep.dual_stack);
                    BOOST_TEST((ep.proto == c.proto));
                    BOOST_TEST(ep.port == c.port);
                }
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(endpoint_to_string) {
    struct Case {
        const char* spec;
        bool has_ipv6;
        bool v6only;
        const char* expected;
    };
    const Case cases[] = {
        {"443", true, false, "443/tcp on [::] (dual-stack)"},
        {"443", true, true, "443/tcp on [::]"},
        {"443", false, false, "443/tcp on 0.0.0.0"},
        {"53/udp", true, false, "53/udp on [::] (dual-stack)"},
        {"127.0.0.1:53/udp", true, false, "53/udp on 127.0.0.1"},
        {"[::1]:53/udp=dns", true, false, "53/udp on [::1]"},
        {"[2001:db8::1]:8443", false, false, "8443/tcp on [2001:db8::1]"},
    };
    for (const Case& c : cases) {
        BOOST_TEST_CONTEXT("spec '" << c.spec << "'") {
            const Endpoint ep = resolve_endpoint(must_parse(c.spec), c.has_ipv6, c.v6only);
            BOOST_TEST(ep.to_string() == c.expected);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
