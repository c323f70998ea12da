#include "policy/address.h"

#include <boost/test/unit_test.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>

using namespace portbind;

namespace {

IpAddress v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
    IpAddress address;
    address.family = Family::V4;
    address.bytes[0] = a;
    address.bytes[1] = b;
    address.bytes[2] = c;
    address.bytes[3] = d;
    return address;
}

IpAddress v6(const std::array<std::uint8_t, 16>& bytes) {
    IpAddress address;
    address.family = Family::V6;
    address.bytes = bytes;
    return address;
}

IpAddress must_parse(const std::string& text) {
    const auto address = parse_ip(text);
    BOOST_TEST_REQUIRE(address.has_value(), "test setup: '" << text << "' must parse");
    return *address;
}

IpNetwork must_parse_network(const std::string& text) {
    const auto network = parse_network(text);
    BOOST_TEST_REQUIRE(network.has_value(), "test setup: '" << text << "' must parse");
    return *network;
}

// The text with every byte outside printable ASCII written as \xNN.
std::string printable(const std::string& text) {
    static const char hex[] = "0123456789abcdef";
    std::string out;
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u > 0x7e) {
            out += "\\x";
            out += hex[u >> 4];
            out += hex[u & 0xf];
        } else {
            out += c;
        }
    }
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(address_test)

BOOST_AUTO_TEST_CASE(ipv4_accepted) {
    struct Case {
        const char* text;
        IpAddress expected;
    };
    const Case cases[] = {
        {"127.0.0.1", v4(127, 0, 0, 1)},
        {"0.0.0.0", v4(0, 0, 0, 0)},
        {"255.255.255.255", v4(255, 255, 255, 255)},
        {"10.20.30.40", v4(10, 20, 30, 40)},
        {"192.0.2.100", v4(192, 0, 2, 100)},
    };
    for (const Case& c : cases) {
        BOOST_TEST_CONTEXT("input '" << c.text << "'") {
            const auto address = parse_ipv4(c.text);
            BOOST_TEST_REQUIRE(address.has_value());
            BOOST_TEST((address->family == Family::V4));
            BOOST_TEST(address->size() == 4u);
            BOOST_TEST((*address == c.expected));
            const auto either = parse_ip(c.text);
            BOOST_TEST_REQUIRE(either.has_value());
            BOOST_TEST((*either == c.expected));
        }
    }
}

BOOST_AUTO_TEST_CASE(ipv4_refused) {
    const std::string cases[] = {
        "127.1",
        "0x7f.0.0.1",
        "017.0.0.1",
        "127.0.0.01",
        "00.0.0.0",
        "2130706433",
        "256.0.0.1",
        "1.2.3.256",
        "",
        " 1.2.3.4",
        "1.2.3.4 ",
        "1.2.3.4.5",
        "1.2.3.",
        ".1.2.3",
        "1..2.3",
        "1.2.3.-4",
        "+1.2.3.4",
        "localhost",
        "::1",
        "1.2.3.4/32",
        std::string("1.2.3.4\0", 8),  // embedded NUL
        std::string("1.2.3.4\0garbage", 15),
        std::string("\0"
                    "1.2.3.4",
                    8),
        "1.2.3.4\n",
        "0000000000000001.2.3.4",
    };
    for (const std::string& text : cases) {
        BOOST_TEST_CONTEXT("input '" << printable(text) << "'") {
            BOOST_TEST(!parse_ipv4(text).has_value());
        }
    }
}

BOOST_AUTO_TEST_CASE(ipv6_accepted) {
    struct Case {
        const char* text;
        std::array<std::uint8_t, 16> bytes;
    };
    const Case cases[] = {
        {"::", {}},
        {"::1", {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}},
        {"2001:db8::1", {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}},
        {"2001:DB8:0:0:0:0:0:1", {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}},
        {"fe80::1", {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}},
        {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
         {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
          0xff}},
        {"1:2:3:4:5:6:7:8", {0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8}},
    };
    for (const Case& c : cases) {
        BOOST_TEST_CONTEXT("input '" << c.text << "'") {
            const auto address = parse_ipv6(c.text);
            BOOST_TEST_REQUIRE(address.has_value());
            BOOST_TEST((address->family == Family::V6));
            BOOST_TEST(address->size() == 16u);
            BOOST_TEST((*address == v6(c.bytes)));
            const auto either = parse_ip(c.text);
            BOOST_TEST_REQUIRE(either.has_value());
            BOOST_TEST((*either == v6(c.bytes)));
        }
    }
}

BOOST_AUTO_TEST_CASE(ipv6_refused) {
    const std::string cases[] = {
        "fe80::1%eth0",
        "fe80::1%1",
        "::ffff:127.0.0.1",
        "::ffff:7f00:1",  // the same v4-mapped address written in hex
        "::FFFF:10.0.0.1",
        "1:2:3:4:5:6:7:8:9",
        "1:2:3:4:5:6:7",
        "[::1]",
        "",
        " ::1",
        "::1 ",
        ":::1",
        "1::2::3",
        "12345::1",
        "g::1",
        "::1/128",
        std::string("::1\0", 4),  // embedded NUL
        std::string("::1\0zz", 6),
    };
    for (const std::string& text : cases) {
        BOOST_TEST_CONTEXT("input '" << printable(text) << "'") {
            BOOST_TEST(!parse_ipv6(text).has_value());
            BOOST_TEST(!parse_ip(text).has_value());
        }
    }
}

BOOST_AUTO_TEST_CASE(ipv6_parser_refuses_ipv4) {
    BOOST_TEST(!parse_ipv6("127.0.0.1").has_value());
    BOOST_TEST(!parse_ipv6("0.0.0.0").has_value());
}

BOOST_AUTO_TEST_CASE(any_address) {
    const IpAddress any4 = IpAddress::any(Family::V4);
    const IpAddress any6 = IpAddress::any(Family::V6);
    BOOST_TEST((any4.family == Family::V4));
    BOOST_TEST((any6.family == Family::V6));
    BOOST_TEST(any4.is_any());
    BOOST_TEST(any6.is_any());
    BOOST_TEST((any4 == must_parse("0.0.0.0")));
    BOOST_TEST((any6 == must_parse("::")));
    BOOST_TEST((any4 != any6));
    BOOST_TEST(!must_parse("0.0.0.1").is_any());
    BOOST_TEST(!must_parse("::1").is_any());
    BOOST_TEST(!must_parse("8000::").is_any());
}

BOOST_AUTO_TEST_CASE(to_string_round_trip) {
    struct Case {
        const char* text;
        const char* canonical;
    };
    const Case cases[] = {
        {"127.0.0.1", "127.0.0.1"},
        {"0.0.0.0", "0.0.0.0"},
        {"255.255.255.255", "255.255.255.255"},
        {"::", "::"},
        {"::1", "::1"},
        {"2001:db8::1", "2001:db8::1"},
        {"2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"},
        {"fe80:0:0:0:1:0:0:0", "fe80::1:0:0:0"},
        {"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"},
    };
    for (const Case& c : cases) {
        BOOST_TEST_CONTEXT("input '" << c.text << "'") {
            const IpAddress address = must_parse(c.text);
            const std::string text = address.to_string();
            BOOST_TEST(text == c.canonical);
            const auto again = parse_ip(text);
            BOOST_TEST_REQUIRE(again.has_value());
            BOOST_TEST((*again == address));
        }
    }
}

BOOST_AUTO_TEST_CASE(network_accepted) {
    struct Case {
        const char* text;
        const char* base;
        unsigned prefix;
    };
    const Case cases[] = {
        {"0.0.0.0/0", "0.0.0.0", 0},
        {"10.0.0.0/8", "10.0.0.0", 8},
        {"192.168.1.0/24", "192.168.1.0", 24},
        {"192.168.1.128/25", "192.168.1.128", 25},
        {"1.2.3.4/32", "1.2.3.4", 32},
        {"1.2.3.4", "1.2.3.4", 32},
        {"::/0", "::", 0},
        {"2001:db8::/32", "2001:db8::", 32},
        {"fe80::/10", "fe80::", 10},
        {"::1/128", "::1", 128},
        {"::1", "::1", 128},
        {"::", "::", 128},
    };
    for (const Case& c : cases) {
        BOOST_TEST_CONTEXT("input '" << c.text << "'") {
            const auto network = parse_network(c.text);
            BOOST_TEST_REQUIRE(network.has_value());
            BOOST_TEST((network->base == must_parse(c.base)));
            BOOST_TEST(network->prefix == c.prefix);
        }
    }
}

BOOST_AUTO_TEST_CASE(network_refused) {
    const std::string cases[] = {
        "10.0.0.1/8",        // host bits set
        "10.0.0.0/6",        // host bits set (bit 6 of the first byte)
        "192.168.1.128/24",  // host bits set
        "0.0.0.1/0",         // host bits set
        "::1/127",           // host bits set
        "2001:db8::1/32",    // host bits set
        "fe80::/8",          // host bits set
        "1.2.3.4/33",
        "0.0.0.0/33",
        "::/129",
        "::1/200",
        "10.0.0.0/-1",
        "10.0.0.0/+8",
        "10.0.0.0/08",
        "10.0.0.0/00",
        "10.0.0.0/",
        "::/",
        "/8",
        "/",
        "",
        "10.0.0.0/8/8",
        "10.0.0.0/ 8",
        "10.0.0.0/8 ",
        "10.0.0.0/0x8",
        "10.0/8",
        "localhost/8",
        "fe80::%eth0/64",
        "::ffff:0.0.0.0/96",
        "[::]/0",
        "*",
        std::string("10.0.0.0\0/8", 11),  // embedded NUL
        std::string("10.0.0.0/8\0", 11),
    };
    for (const std::string& text : cases) {
        BOOST_TEST_CONTEXT("input '" << printable(text) << "'") {
            BOOST_TEST(!parse_network(text).has_value());
        }
    }
}

BOOST_AUTO_TEST_CASE(network_contains) {
    struct Case {
        const char* network;
        const char* address;
        bool contained;
    };
    const Case cases[] = {
        {"10.0.0.0/8", "10.0.0.0", true},
        {"10.0.0.0/8", "10.255.255.255", true},
        {"10.0.0.0/8", "11.0.0.0", false},
        {"10.0.0.0/8", "9.255.255.255", false},
        {"10.0.0.0/8", "::", false},
        {"10.0.0.0/8", "a00::", false},  // same leading bytes, other family
        {"192.168.1.128/25", "192.168.1.128", true},
        {"192.168.1.128/25", "192.168.1.255", true},
        {"192.168.1.128/25", "192.168.1.127", false},
        {"172.16.0.0/12", "172.31.255.255", true},
        {"172.16.0.0/12", "172.32.0.0", false},
        {"0.0.0.0/0", "0.0.0.0", true},
        {"0.0.0.0/0", "255.255.255.255", true},
        {"0.0.0.0/0", "127.0.0.1", true},
        {"0.0.0.0/0", "::", false},
        {"0.0.0.0/0", "::1", false},
        {"1.2.3.4/32", "1.2.3.4", true},
        {"1.2.3.4/32", "1.2.3.5", false},
        {"1.2.3.4", "1.2.3.4", true},
        {"1.2.3.4", "1.2.3.3", false},
        {"::/0", "::", true},
        {"::/0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
        {"::/0", "0.0.0.0", false},
        {"::/0", "127.0.0.1", false},
        {"::1/128", "::1", true},
        {"::1/128", "::", false},
        {"::1/128", "::2", false},
        {"::", "::", true},
        {"::", "::1", false},
        {"::", "0.0.0.0", false},
        {"fe80::/10", "fe80::1", true},
        {"fe80::/10", "febf:ffff::1", true},
        {"fe80::/10", "fec0::", false},
        {"fe80::/10", "fe7f:ffff::", false},
        {"2001:db8::/32", "2001:db8:ffff::1", true},
        {"2001:db8::/32", "2001:db9::", false},
        {"2001:db8::/127", "2001:db8::1", true},
        {"2001:db8::/127", "2001:db8::2", false},
    };
    for (const Case& c : cases) {
        BOOST_TEST_CONTEXT(c.network << " contains " << c.address) {
            const IpNetwork network = must_parse_network(c.network);
            BOOST_TEST(network.contains(must_parse(c.address)) == c.contained);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
