#include "launcher/broker/message.h"

#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <climits>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

using namespace portbind;
using namespace portbind::broker;

namespace {

SocketSpec spec(const std::string& text) {
    auto parsed = parse_socket_spec(text);
    BOOST_TEST_REQUIRE(parsed.ok(), "test setup: spec '" << text << "' must parse");
    return parsed.value();
}

Bytes encoded(const SocketRequest& request) {
    auto bytes = encode_request(request);
    BOOST_TEST_REQUIRE(bytes.ok(), "test setup: request must encode");
    return bytes.value();
}

// A valid request with one socket of each kind.
SocketRequest sample_request() {
    SocketRequest r;
    r.options.backlog = 128;
    r.options.freebind = true;
    r.specs = {spec("443"), spec("127.0.0.1:53/udp"), spec("[2001:db8::1]:80/tcp")};
    return r;
}

bool same_request(const SocketRequest& a, const SocketRequest& b) {
    if (a.options.backlog != b.options.backlog || a.options.v6only != b.options.v6only ||
        a.options.reuseport != b.options.reuseport || a.options.freebind != b.options.freebind ||
        a.options.nonblock != b.options.nonblock || a.specs.size() != b.specs.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.specs.size(); ++i) {
        if (a.specs[i].address != b.specs[i].address || a.specs[i].port != b.specs[i].port ||
            a.specs[i].proto != b.specs[i].proto) {
            return false;
        }
    }
    return true;
}

void expect_refused(const Bytes& frame, int error, const std::string& what) {
    const DecodedRequest d = decode_request(frame);
    BOOST_TEST(!d.request.has_value(), what << ": must be refused");
    BOOST_TEST(d.error == error, what << ": errno " << d.error << ", expected " << error);
    BOOST_TEST(!d.reason.empty(), what << ": must say why");
}

void put32(Bytes& frame, std::size_t at, std::uint32_t v) {
    for (std::size_t i = 0; i < 4; ++i) {
        frame[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
    }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(broker_message_test)

BOOST_AUTO_TEST_CASE(request_layout_is_the_documented_one) {
    SocketRequest r;
    r.options.backlog = 0x01020304;
    r.options.v6only = true;
    r.options.nonblock = true;
    r.specs = {spec("192.0.2.7:443/udp")};
    const Bytes expected = {'P', 'B', 'R',  'Q',  1, 0, 1, 0,  // magic, version 1, one socket
                            9,   0,   0,    0,                 // flags: v6only | nonblock
                            4,   3,   2,    1,                 // backlog, little-endian
                            17,  4,   0xbb, 0x01,              // UDP, IPv4, port 443 little-endian
                            192, 0,   2,    7,    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    BOOST_TEST(encoded(r) == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(reply_layout_is_the_documented_one) {
    const Bytes failure = encode_reply(SocketReply{EACCES, 5, "no"});
    const Bytes expected = {'P',  'B',  'R',  'P',  1,   0,
                            0,    0,                 // no sockets on failure, whatever was asked
                            0xf3, 0xff, 0xff, 0xff,  // -13, little-endian
                            2,    0,    0,    0,    'n', 'o'};
    BOOST_TEST(failure == expected, boost::test_tools::per_element());
    const Bytes ok = encode_reply(SocketReply{0, 3, {}});
    const Bytes expected_ok = {'P', 'B', 'R', 'P', 1, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    BOOST_TEST(ok == expected_ok, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(requests_round_trip) {
    for (unsigned flags = 0; flags < 16; ++flags) {
        SocketRequest r = sample_request();
        r.options.v6only = (flags & 1) != 0;
        r.options.reuseport = (flags & 2) != 0;
        r.options.freebind = (flags & 4) != 0;
        r.options.nonblock = (flags & 8) != 0;
        r.options.backlog = flags == 0 ? INT_MAX : static_cast<int>(flags);
        const DecodedRequest d = decode_request(encoded(r));
        BOOST_TEST_REQUIRE(d.request.has_value(), "flags " << flags << ": " << d.reason);
        BOOST_TEST(same_request(*d.request, r), "flags " << flags);
    }
    SocketRequest most;
    most.specs.assign(kMaxRequestSockets, spec("[::1]:1/udp"));
    const DecodedRequest d = decode_request(encoded(most));
    BOOST_TEST_REQUIRE(d.request.has_value());
    BOOST_TEST(d.request->specs.size() == kMaxRequestSockets);
    BOOST_TEST(encoded(most).size() <= kMaxMessageSize);
}

BOOST_AUTO_TEST_CASE(decoded_specs_carry_the_default_name_not_the_clients) {
    SocketRequest r;
    r.specs = {spec("80=web")};
    const DecodedRequest d = decode_request(encoded(r));
    BOOST_TEST_REQUIRE(d.request.has_value());
    BOOST_TEST(d.request->specs[0].name == std::string(kDefaultFdName));
    BOOST_TEST(!d.request->specs[0].address.has_value());
}

BOOST_AUTO_TEST_CASE(encoding_refuses_what_the_broker_would_refuse) {
    SocketRequest none;
    BOOST_TEST(!encode_request(none).ok());
    SocketRequest too_many;
    too_many.specs.assign(kMaxRequestSockets + 1, spec("80"));
    BOOST_TEST(!encode_request(too_many).ok());
    SocketRequest port0;
    port0.specs = {SocketSpec{}};
    BOOST_TEST(!encode_request(port0).ok());
    SocketRequest backlog0 = sample_request();
    backlog0.options.backlog = 0;
    BOOST_TEST(!encode_request(backlog0).ok());
}

BOOST_AUTO_TEST_CASE(every_truncation_and_every_extension_is_refused) {
    const Bytes frame = encoded(sample_request());
    for (std::size_t n = 0; n < frame.size(); ++n) {
        expect_refused(Bytes(frame.begin(), frame.begin() + static_cast<long>(n)), EPROTO,
                       "truncated to " + std::to_string(n));
    }
    Bytes longer = frame;
    longer.push_back(0);
    expect_refused(longer, EPROTO, "one trailing byte");
    Bytes pipelined = frame;
    pipelined.insert(pipelined.end(), frame.begin(), frame.end());
    expect_refused(pipelined, EPROTO, "two requests in one frame");
    expect_refused(Bytes(kMaxMessageSize + 1, 0), EPROTO, "oversized frame");
}

BOOST_AUTO_TEST_CASE(header_fields_are_checked) {
    const Bytes good = encoded(sample_request());
    Bytes f = good;
    f[0] = 'X';
    expect_refused(f, EPROTO, "wrong magic");
    f = good;
    f[4] = 2;
    expect_refused(f, EPROTONOSUPPORT, "version 2");
    f = good;
    f[4] = 0;
    expect_refused(f, EPROTONOSUPPORT, "version 0");
    f = good;
    f[6] = 0;
    expect_refused(f, EPROTO, "zero sockets");
    f = good;
    f[6] = 2;
    expect_refused(f, EPROTO, "count smaller than the records");
    f = good;
    f[6] = 4;
    expect_refused(f, EPROTO, "count larger than the records");
    f = good;
    f[6] = static_cast<std::uint8_t>(kMaxRequestSockets + 1);
    expect_refused(f, EPROTO, "count above the maximum");
    for (unsigned bit = 4; bit < 32; ++bit) {
        f = good;
        put32(f, 8, 1u << bit);
        expect_refused(f, EPROTO, "unknown flag bit " + std::to_string(bit));
    }
    f = good;
    put32(f, 12, 0);
    expect_refused(f, EPROTO, "backlog 0");
    f = good;
    put32(f, 12, 0x80000000u);
    expect_refused(f, EPROTO, "negative backlog");
}

BOOST_AUTO_TEST_CASE(socket_records_are_checked) {
    const Bytes good = encoded(sample_request());
    // Record 1 (offset 16) is "443": TCP, all addresses.
    // Record 2 (offset 36) is 127.0.0.1:53/udp. Record 3 (offset 56) is [2001:db8::1]:80.
    Bytes f = good;
    f[16] = 1;
    expect_refused(f, EPROTO, "protocol 1");
    f = good;
    f[16] = 132;
    expect_refused(f, EPROTO, "SCTP");
    f = good;
    f[17] = 10;
    expect_refused(f, EPROTO, "family 10");
    f = good;
    f[18] = 0;
    f[19] = 0;
    expect_refused(f, EPROTO, "port 0");
    f = good;
    f[20] = 1;
    expect_refused(f, EPROTO, "address bytes with family 0");
    f = good;
    f[36 + 4 + 4] = 1;
    expect_refused(f, EPROTO, "bytes after an IPv4 address");
    f = good;
    for (std::size_t i = 0; i < 16; ++i) {
        f[56 + 4 + i] = 0;
    }
    f[56 + 4 + 10] = 0xff;
    f[56 + 4 + 11] = 0xff;
    f[56 + 4 + 12] = 127;
    f[56 + 4 + 15] = 1;
    expect_refused(f, EPROTO, "IPv4-mapped IPv6 address");
}

BOOST_AUTO_TEST_CASE(replies_round_trip_and_are_checked) {
    const DecodedReply ok = decode_reply(encode_reply(SocketReply{0, 2, {}}));
    BOOST_TEST_REQUIRE(ok.reply.has_value(), ok.reason);
    BOOST_TEST(ok.reply->error == 0);
    BOOST_TEST(ok.reply->sockets == 2);
    const DecodedReply no = decode_reply(encode_reply(SocketReply{EACCES, 0, "denied by x:1"}));
    BOOST_TEST_REQUIRE(no.reply.has_value(), no.reason);
    BOOST_TEST(no.reply->error == EACCES);
    BOOST_TEST(no.reply->text == "denied by x:1");

    // The broker's own text is made safe: cut to the maximum, non-printables replaced.
    const DecodedReply cut = decode_reply(
        encode_reply(SocketReply{EPROTO, 0, std::string(kMaxReplyText + 10, 'a') + "\n"}));
    BOOST_TEST_REQUIRE(cut.reply.has_value());
    BOOST_TEST(cut.reply->text.size() == kMaxReplyText);
    const DecodedReply esc = decode_reply(encode_reply(SocketReply{EPROTO, 0, "a\nb\x1b"}));
    BOOST_TEST_REQUIRE(esc.reply.has_value());
    BOOST_TEST(esc.reply->text == "a?b?");

    const Bytes good = encode_reply(SocketReply{EACCES, 0, "abc"});
    for (std::size_t n = 0; n < good.size(); ++n) {
        BOOST_TEST(!decode_reply(Bytes(good.begin(), good.begin() + static_cast<long>(n))).reply,
                   "truncated to " << n);
    }
    Bytes f = good;
    f.push_back('d');
    BOOST_TEST(!decode_reply(f).reply, "trailing byte");
    f = good;
    f[3] = 'Q';
    BOOST_TEST(!decode_reply(f).reply, "request magic");
    f = good;
    f[4] = 2;
    BOOST_TEST(!decode_reply(f).reply, "version 2");
    f = good;
    f[14] = 1;
    BOOST_TEST(!decode_reply(f).reply, "reserved bytes");
    f = good;
    f[6] = 1;
    BOOST_TEST(!decode_reply(f).reply, "sockets with a failure");
    f = good;
    put32(f, 8, 5);
    BOOST_TEST(!decode_reply(f).reply, "positive status");
    f = good;
    put32(f, 8, 0x80000000u);
    BOOST_TEST(!decode_reply(f).reply, "INT_MIN status");
    f = good;
    f[16] = 0;
    BOOST_TEST(!decode_reply(f).reply, "NUL in the text");
    f = encode_reply(SocketReply{0, 1, {}});
    f[6] = 0;
    BOOST_TEST(!decode_reply(f).reply, "success without sockets");
    f[6] = static_cast<std::uint8_t>(kMaxRequestSockets + 1);
    BOOST_TEST(!decode_reply(f).reply, "success with too many sockets");
}

// Random mutations of valid frames: decoding never crashes, and whatever decodes encodes
// back to exactly the same bytes (one encoding per value, so nothing is silently ignored).
BOOST_AUTO_TEST_CASE(random_frames_decode_canonically_or_not_at_all) {
    std::mt19937 rng(20240611);
    const Bytes base = encoded(sample_request());
    const Bytes base_reply = encode_reply(SocketReply{EADDRINUSE, 0, "in use"});
    std::size_t accepted = 0;
    for (int round = 0; round < 200000; ++round) {
        Bytes f = (round % 2 == 0) ? base : base_reply;
        const int edits = 1 + static_cast<int>(rng() % 4);
        for (int e = 0; e < edits; ++e) {
            switch (rng() % 4) {
                case 0:
                    f[rng() % f.size()] = static_cast<std::uint8_t>(rng());
                    break;
                case 1:
                    f[rng() % f.size()] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
                    break;
                case 2:
                    f.resize(rng() % (f.size() + 1));
                    if (f.empty()) {
                        f.push_back(0);
                    }
                    break;
                default:
                    f.push_back(static_cast<std::uint8_t>(rng()));
                    break;
            }
        }
        const DecodedRequest d = decode_request(f);
        if (d.request) {
            ++accepted;
            BOOST_TEST_REQUIRE(d.error == 0);
            BOOST_TEST_REQUIRE((encoded(*d.request) == f), "request round " << round);
        } else {
            BOOST_TEST_REQUIRE((d.error == EPROTO || d.error == EPROTONOSUPPORT));
        }
        const DecodedReply r = decode_reply(f);
        if (r.reply) {
            ++accepted;
            BOOST_TEST_REQUIRE((encode_reply(*r.reply) == f), "reply round " << round);
        }
    }
    BOOST_TEST(accepted > 0u, "some mutations should still be valid frames");
}

BOOST_AUTO_TEST_SUITE_END()
