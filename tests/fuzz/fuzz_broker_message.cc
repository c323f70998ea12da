// Fuzz target: the broker's wire protocol (launcher/broker/message.h), both directions.
//
// Input: the whole input is one frame, decoded both as a request (what a hostile client
// sends the broker) and as a reply (what a hostile broker sends the client library). The
// same bytes then also describe a request and a reply as values, which are encoded and
// decoded again.
//
// Invariants checked:
//  decoding
//  - decode_request() and decode_reply() agree with separate byte-offset reference checks of
//    the documented layout: a frame is accepted exactly when every field is right;
//  - a refusal says why in one printable line; a request refusal is EPROTONOSUPPORT for a
//    well-formed header of another version and EPROTO otherwise, and an acceptance has no
//    error and no reason;
//  - every decoded field is the value at its offset;
//  - an accepted frame is canonical: encoding what was decoded gives back the same bytes;
//  encoding
//  - encode_request() refuses exactly what cannot be encoded (no sockets or too many, port
//    0, backlog below 1); what it encodes decodes to the same request, unless it names an
//    IPv4-mapped IPv6 address, which the decoder refuses;
//  - encode_reply() never fails; its frame decodes to the same status, socket count and
//    text (cut to the maximum, non-printable bytes replaced), or is refused exactly when the
//    values are not a valid reply (a success with no socket or too many, an errno past 4095).
#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "launcher/broker/message.h"
#include "tests/fuzz/fuzz_support.h"

using namespace portbind;
using namespace portbind::broker;

namespace {

std::uint32_t le(std::span<const std::uint8_t> f, std::size_t at, std::size_t bytes) {
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < bytes; ++i) {
        v |= static_cast<std::uint32_t>(f[at + i]) << (8 * i);
    }
    return v;
}

// The first four bytes are "PBR" and `kind` ('Q' for a request, 'P' for a reply). The caller
// has checked there are at least 4.
bool ref_magic(std::span<const std::uint8_t> f, char kind) {
    return f[0] == 'P' && f[1] == 'B' && f[2] == 'R' && f[3] == static_cast<std::uint8_t>(kind);
}

// 16 address bytes of the form ::ffff:a.b.c.d.
bool ref_v4_mapped(const std::uint8_t* a) {
    bool mapped = a[10] == 0xff && a[11] == 0xff;
    for (std::size_t i = 0; i < 10; ++i) {
        mapped = mapped && a[i] == 0;
    }
    return mapped;
}

bool one_printable_line(const std::string& s) {
    if (s.empty()) {
        return false;
    }
    for (const char c : s) {
        if (c < 0x20 || c > 0x7e) {
            return false;
        }
    }
    return true;
}

// --------------------------------------------------------------------------- requests

bool ref_record_ok(std::span<const std::uint8_t> r) {
    if (r[0] != 6 && r[0] != 17) {
        return false;
    }
    if (le(r, 2, 2) == 0) {
        return false;
    }
    std::size_t used = 0;
    if (r[1] == 4) {
        used = 4;
    } else if (r[1] == 6) {
        used = 16;
        if (ref_v4_mapped(r.data() + 4)) {
            return false;
        }
    } else if (r[1] != 0) {
        return false;
    }
    for (std::size_t i = used; i < 16; ++i) {
        if (r[4 + i] != 0) {
            return false;
        }
    }
    return true;
}

bool ref_request_ok(std::span<const std::uint8_t> f) {
    if (f.size() > kMaxMessageSize || f.size() < kHeaderSize || !ref_magic(f, 'Q') ||
        le(f, 4, 2) != 1) {
        return false;
    }
    const std::size_t n = le(f, 6, 2);
    if (n < 1 || n > kMaxRequestSockets || f.size() != kHeaderSize + 20 * n) {
        return false;
    }
    if ((le(f, 8, 4) & ~0xFU) != 0) {
        return false;
    }
    const std::uint32_t backlog = le(f, 12, 4);
    if (backlog < 1 || backlog > static_cast<std::uint32_t>(INT_MAX)) {
        return false;
    }
    for (std::size_t i = 0; i < n; ++i) {
        if (!ref_record_ok(f.subspan(kHeaderSize + 20 * i, 20))) {
            return false;
        }
    }
    return true;
}

// A header of another version: the broker answers EPROTONOSUPPORT, not EPROTO.
bool ref_other_version(std::span<const std::uint8_t> f) {
    return f.size() <= kMaxMessageSize && f.size() >= 8 && ref_magic(f, 'Q') && le(f, 4, 2) != 1;
}

void check_request_fields(std::span<const std::uint8_t> f, const SocketRequest& r) {
    const std::uint32_t flags = le(f, 8, 4);
    FUZZ_CHECK(r.options.v6only == ((flags & 1U) != 0));
    FUZZ_CHECK(r.options.reuseport == ((flags & 2U) != 0));
    FUZZ_CHECK(r.options.freebind == ((flags & 4U) != 0));
    FUZZ_CHECK(r.options.nonblock == ((flags & 8U) != 0));
    FUZZ_CHECK(static_cast<std::uint32_t>(r.options.backlog) == le(f, 12, 4));
    FUZZ_CHECK(r.specs.size() == le(f, 6, 2));
    for (std::size_t i = 0; i < r.specs.size(); ++i) {
        const auto rec = f.subspan(kHeaderSize + 20 * i, 20);
        const SocketSpec& s = r.specs[i];
        FUZZ_CHECK(s.proto == (rec[0] == 6 ? Proto::Tcp : Proto::Udp));
        FUZZ_CHECK(s.port == le(rec, 2, 2));
        FUZZ_CHECK(s.address.has_value() == (rec[1] != 0));
        if (s.address) {
            FUZZ_CHECK(s.address->family == (rec[1] == 4 ? Family::V4 : Family::V6));
            for (std::size_t b = 0; b < 16; ++b) {
                FUZZ_CHECK(s.address->bytes[b] == (b < s.address->size() ? rec[4 + b] : 0));
            }
        }
    }
}

void check_request_frame(std::span<const std::uint8_t> f) {
    const DecodedRequest d = decode_request(f);
    const bool ok = ref_request_ok(f);
    FUZZ_CHECK(d.request.has_value() == ok);
    if (!ok) {
        FUZZ_CHECK(d.error == (ref_other_version(f) ? EPROTONOSUPPORT : EPROTO));
        FUZZ_CHECK(one_printable_line(d.reason));
        return;
    }
    FUZZ_CHECK(d.error == 0 && d.reason.empty());
    check_request_fields(f, *d.request);
    const Result<Bytes> again = encode_request(*d.request);
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(again.value() == Bytes(f.begin(), f.end()));
}

// ---------------------------------------------------------------------------- replies

bool ref_reply_ok(std::span<const std::uint8_t> f) {
    if (f.size() > kMaxMessageSize || f.size() < kHeaderSize || !ref_magic(f, 'P') ||
        le(f, 4, 2) != 1) {
        return false;
    }
    const std::size_t m = le(f, 12, 2);
    if (le(f, 14, 2) != 0 || m > kMaxReplyText || f.size() != kHeaderSize + m) {
        return false;
    }
    const auto status = static_cast<std::int32_t>(le(f, 8, 4));
    const std::size_t sockets = le(f, 6, 2);
    if (status > 0 || status < -4095) {
        return false;
    }
    if (status != 0 ? sockets != 0 : (sockets < 1 || sockets > kMaxRequestSockets)) {
        return false;
    }
    for (std::size_t i = 0; i < m; ++i) {
        if (f[kHeaderSize + i] < 0x20 || f[kHeaderSize + i] > 0x7e) {
            return false;
        }
    }
    return true;
}

void check_reply_frame(std::span<const std::uint8_t> f) {
    const DecodedReply d = decode_reply(f);
    const bool ok = ref_reply_ok(f);
    FUZZ_CHECK(d.reply.has_value() == ok);
    if (!ok) {
        FUZZ_CHECK(one_printable_line(d.reason));
        return;
    }
    FUZZ_CHECK(d.reason.empty());
    FUZZ_CHECK(d.reply->error == -static_cast<std::int32_t>(le(f, 8, 4)));
    FUZZ_CHECK(d.reply->sockets == le(f, 6, 2));
    FUZZ_CHECK(d.reply->text == std::string(f.begin() + kHeaderSize, f.end()));
    FUZZ_CHECK(encode_reply(*d.reply) == Bytes(f.begin(), f.end()));
}

// ----------------------------------------------------------------------- encode first

void check_encode_request(fuzz::Input& in) {
    SocketRequest r;
    const std::uint8_t flags = in.byte();
    r.options.v6only = (flags & 1U) != 0;
    r.options.reuseport = (flags & 2U) != 0;
    r.options.freebind = (flags & 4U) != 0;
    r.options.nonblock = (flags & 8U) != 0;
    r.options.backlog = in.integral<int>();
    const std::size_t n = in.below(kMaxRequestSockets + 2);
    bool encodable = n >= 1 && n <= kMaxRequestSockets && r.options.backlog >= 1;
    bool mapped = false;
    for (std::size_t i = 0; i < n; ++i) {
        SocketSpec s;
        s.proto = in.flag() ? Proto::Udp : Proto::Tcp;
        s.port = in.integral<std::uint16_t>();
        const std::uint8_t family = in.byte() % 3;
        if (family != 0) {
            IpAddress a;
            a.family = family == 1 ? Family::V4 : Family::V6;
            for (std::size_t b = 0; b < a.size(); ++b) {
                a.bytes[b] = in.byte();
            }
            mapped = mapped || (family == 2 && ref_v4_mapped(a.bytes.data()));
            s.address = a;
        }
        encodable = encodable && s.port != 0;
        r.specs.push_back(s);
    }
    const Result<Bytes> frame = encode_request(r);
    FUZZ_CHECK(frame.ok() == encodable);
    if (!frame.ok()) {
        return;
    }
    FUZZ_CHECK(frame.value().size() == kHeaderSize + kSpecRecordSize * n);
    const DecodedRequest d = decode_request(frame.value());
    FUZZ_CHECK(d.request.has_value() == !mapped);
    if (!d.request) {
        FUZZ_CHECK(d.error == EPROTO);
        return;
    }
    FUZZ_CHECK(d.request->options.v6only == r.options.v6only);
    FUZZ_CHECK(d.request->options.reuseport == r.options.reuseport);
    FUZZ_CHECK(d.request->options.freebind == r.options.freebind);
    FUZZ_CHECK(d.request->options.nonblock == r.options.nonblock);
    FUZZ_CHECK(d.request->options.backlog == r.options.backlog);
    FUZZ_CHECK(d.request->specs.size() == n);
    for (std::size_t i = 0; i < n; ++i) {
        FUZZ_CHECK(d.request->specs[i].proto == r.specs[i].proto);
        FUZZ_CHECK(d.request->specs[i].port == r.specs[i].port);
        FUZZ_CHECK(d.request->specs[i].address == r.specs[i].address);
    }
}

void check_encode_reply(fuzz::Input& in) {
    SocketReply r;
    r.error = in.integral<int>();
    r.sockets = in.integral<std::uint16_t>();
    r.text = in.string(255);
    // Long texts too, beyond what one length byte can say.
    r.text += std::string(in.byte() % 4 == 0 ? kMaxReplyText : 0, 'x');
    const Bytes frame = encode_reply(r);
    const int error = r.error > 0 ? r.error : 0;
    const std::size_t sockets = r.error == 0 ? r.sockets : 0;
    const bool valid =
        error <= 4095 && (error != 0 || (sockets >= 1 && sockets <= kMaxRequestSockets));
    const DecodedReply d = decode_reply(frame);
    FUZZ_CHECK(d.reply.has_value() == valid);
    if (!d.reply) {
        return;
    }
    FUZZ_CHECK(d.reply->error == error);
    FUZZ_CHECK(d.reply->sockets == sockets);
    std::string expected = r.text.substr(0, kMaxReplyText);
    for (char& c : expected) {
        if (c < 0x20 || c > 0x7e) {
            c = '?';
        }
    }
    FUZZ_CHECK(d.reply->text == expected);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> frame(data, size);
    check_request_frame(frame);
    check_reply_frame(frame);
    fuzz::Input in(data, size);
    check_encode_request(in);
    check_encode_reply(in);
    return 0;
}
