#include "launcher/proc_net.h"

#include <boost/test/unit_test.hpp>

#include <bit>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

using namespace portbind;

namespace {

constexpr bool kLittleEndian = std::endian::native == std::endian::little;

IpAddress ip(const std::string& text) {
    const auto address = parse_ip(text);
    BOOST_TEST_REQUIRE(address.has_value(), "test setup: '" << text << "' must parse");
    return *address;
}

// The address as the kernel prints it: each 32-bit word in host byte order, "%08X".
std::string kernel_hex(const IpAddress& address) {
    std::string out;
    for (std::size_t word = 0; word < address.size() / 4; ++word) {
        std::uint32_t value = 0;
        std::memcpy(&value, address.bytes.data() + word * 4, 4);
        char buf[9];
        std::snprintf(buf, sizeof buf, "%08X", value);
        out += buf;
    }
    return out;
}

// A line in the format of /proc/net/tcp (and udp, tcp6, udp6).
std::string line(const std::string& local, const std::string& state, const std::string& uid,
                 const std::string& inode) {
    const std::string remote_zero = local.size() > 13 ? std::string(32, '0') : std::string(8, '0');
    return "   0: " + local + " " + remote_zero + ":0000 " + state +
           " 00000000:00000000 00:00000000 00000000  " + uid + "        0 " + inode +
           " 1 0000000000000000 100 0 0 10 0";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(proc_net_test)

BOOST_AUTO_TEST_CASE(header_lines) {
    const char* const headers[] = {
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
        "timeout inode",
        "  sl  local_address                         remote_address                        st "
        "tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
        "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
        "timeout inode ref pointer drops",
    };
    for (const char* header : headers) {
        for (const Family family : {Family::V4, Family::V6}) {
            BOOST_TEST_CONTEXT(header) {
                BOOST_TEST(!parse_proc_net_line(header, Proto::Tcp, family).has_value());
                BOOST_TEST(!parse_proc_net_line(header, Proto::Udp, family).has_value());
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(literal_little_endian_lines) {
    if constexpr (!kLittleEndian) {
        BOOST_TEST_MESSAGE("big-endian host: the literal lines are little-endian");
        return;
    }
    {
        const auto e = parse_proc_net_line(
            "   0: 0100007F:01BB 00000000:0000 0A 00000000:00000000 00:00000000 00000000  "
            "1000        0 12345 1 0000000000000000 100 0 0 10 0",
            Proto::Tcp, Family::V4);
        BOOST_TEST_REQUIRE(e.has_value());
        BOOST_TEST((e->proto == Proto::Tcp));
        BOOST_TEST((e->address == ip("127.0.0.1")));
        BOOST_TEST(e->port == 443);
        BOOST_TEST(e->state == kTcpListen);
        BOOST_TEST(e->uid == 1000u);
        BOOST_TEST(e->inode == 12345u);
    }
    {
        const auto e = parse_proc_net_line(
            "   1: 00000000000000000000000001000000:01BB 00000000000000000000000000000000:0000 "
            "0A 00000000:00000000 00:00000000 00000000     0        0 98765 1 0000000000000000 "
            "100 0 0 10 0",
            Proto::Tcp, Family::V6);
        BOOST_TEST_REQUIRE(e.has_value());
        BOOST_TEST((e->address == ip("::1")));
        BOOST_TEST(e->port == 443);
        BOOST_TEST(e->state == kTcpListen);
        BOOST_TEST(e->uid == 0u);
        BOOST_TEST(e->inode == 98765u);
    }
    {
        // 2001:db8::1 on a little-endian host; lower-case hex is accepted too.
        const auto e = parse_proc_net_line(
            "   2: b80d0120000000000000000001000000:0035 00000000000000000000000000000000:0000 "
            "07 00000000:00000000 00:00000000 00000000   101        0 4242 2 0000000000000000 "
            "0",
            Proto::Udp, Family::V6);
        BOOST_TEST_REQUIRE(e.has_value());
        BOOST_TEST((e->proto == Proto::Udp));
        BOOST_TEST((e->address == ip("2001:db8::1")));
        BOOST_TEST(e->port == 53);
        BOOST_TEST(e->state == 7u);
        BOOST_TEST(e->uid == 101u);
        BOOST_TEST(e->inode == 4242u);
    }
    {
        // udp: 0.0.0.0:53, state 07 (TCP_CLOSE is how an unconnected UDP socket shows).
        const auto e = parse_proc_net_line(
            "  123: 00000000:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000   "
            "108        0 22334 2 0000000000000000 0",
            Proto::Udp, Family::V4);
        BOOST_TEST_REQUIRE(e.has_value());
        BOOST_TEST((e->proto == Proto::Udp));
        BOOST_TEST((e->address == IpAddress::any(Family::V4)));
        BOOST_TEST(e->port == 53);
        BOOST_TEST(e->state == 7u);
        BOOST_TEST(e->uid == 108u);
        BOOST_TEST(e->inode == 22334u);
    }
}

BOOST_AUTO_TEST_CASE(host_order_lines) {
    struct Case {
        const char* address;
        std::uint16_t port;
        const char* port_hex;
        Proto proto;
        const char* uid;
        uid_t uid_value;
    };
    const Case cases[] = {
        {"127.0.0.1", 443, "01BB", Proto::Tcp, "1000", 1000},
        {"0.0.0.0", 80, "0050", Proto::Tcp, "0", 0},
        {"192.0.2.77", 65535, "FFFF", Proto::Udp, "4294967294", 4294967294u},
        {"10.1.2.3", 1, "0001", Proto::Tcp, "65534", 65534},
        {"::", 53, "0035", Proto::Udp, "33", 33},
        {"::1", 443, "01BB", Proto::Tcp, "1000", 1000},
        {"2001:db8::1", 8443, "20FB", Proto::Tcp, "1", 1},
        {"fe80::1234:5678:9abc:def0", 22, "0016", Proto::Tcp, "2", 2},
    };
    for (const Case& c : cases) {
        const IpAddress address = ip(c.address);
        const std::string text = line(kernel_hex(address) + ":" + c.port_hex, "0A", c.uid, "777");
        BOOST_TEST_CONTEXT(text) {
            const auto e = parse_proc_net_line(text, c.proto, address.family);
            BOOST_TEST_REQUIRE(e.has_value());
            BOOST_TEST((e->proto == c.proto));
            BOOST_TEST((e->address == address));
            BOOST_TEST(e->port == c.port);
            BOOST_TEST(e->state == kTcpListen);
            BOOST_TEST(e->uid == c.uid_value);
            BOOST_TEST(e->inode == 777u);
        }
    }
}

BOOST_AUTO_TEST_CASE(big_inode) {
    const std::string text = line("0100007F:01BB", "0A", "1000", "18446744073709551615");
    const auto e = parse_proc_net_line(text, Proto::Tcp, Family::V4);
    BOOST_TEST_REQUIRE(e.has_value());
    BOOST_TEST(e->inode == UINT64_MAX);
}

BOOST_AUTO_TEST_CASE(malformed_lines) {
    const std::string v4_ok = "0100007F:01BB";
    const std::string v6_ok = "00000000000000000000000001000000:01BB";
    BOOST_TEST_REQUIRE(
        parse_proc_net_line(line(v4_ok, "0A", "1", "2"), Proto::Tcp, Family::V4).has_value());
    BOOST_TEST_REQUIRE(
        parse_proc_net_line(line(v6_ok, "0A", "1", "2"), Proto::Tcp, Family::V6).has_value());

    struct Case {
        std::string text;
        Family family;
    };
    const Case cases[] = {
        {"", Family::V4},
        {"   ", Family::V4},
        {"   0: 0100007F:01BB", Family::V4},
        {"   0: 0100007F:01BB 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000",
         Family::V4},
        {"   0: 0100007F:01BB 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000 0",
         Family::V4},
        // address length does not fit the family
        {line(v4_ok, "0A", "1", "2"), Family::V6},
        {line(v6_ok, "0A", "1", "2"), Family::V4},
        {line("100007F:01BB", "0A", "1", "2"), Family::V4},
        {line("00100007F:01BB", "0A", "1", "2"), Family::V4},
        {line("0000000000000000000000000100000:01BB", "0A", "1", "2"), Family::V6},
        {line("0100007F01BB", "0A", "1", "2"), Family::V4},
        {line(":01BB", "0A", "1", "2"), Family::V4},
        // bad hex
        {line("0100007G:01BB", "0A", "1", "2"), Family::V4},
        {line("0100 07F:01BB", "0A", "1", "2"), Family::V4},
        {line("-100007F:01BB", "0A", "1", "2"), Family::V4},
        {line("0000000000000000000000000100000X:01BB", "0A", "1", "2"), Family::V6},
        {line("0100007F:01BG", "0A", "1", "2"), Family::V4},
        {line("0100007F:", "0A", "1", "2"), Family::V4},
        {line("0100007F:1BBBB", "0A", "1", "2"), Family::V4},  // port above 65535
        {line("0100007F:01BB:00", "0A", "1", "2"), Family::V4},
        {line(v4_ok, "ZZ", "1", "2"), Family::V4},
        // uid and inode are decimal
        {line(v4_ok, "0A", "-1", "2"), Family::V4},
        {line(v4_ok, "0A", "1x", "2"), Family::V4},
        {line(v4_ok, "0A", "4294967296", "2"), Family::V4},
        {line(v4_ok, "0A", "1", "0x10"), Family::V4},
        {line(v4_ok, "0A", "1", "18446744073709551616"), Family::V4},
    };
    for (const Case& c : cases) {
        BOOST_TEST_CONTEXT("line '" << c.text << "'") {
            BOOST_TEST(!parse_proc_net_line(c.text, Proto::Tcp, c.family).has_value());
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
