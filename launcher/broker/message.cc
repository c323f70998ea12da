#include "launcher/broker/message.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <iterator>

namespace portbind::broker {

namespace {

constexpr std::uint8_t kRequestMagic[4] = {'P', 'B', 'R', 'Q'};
constexpr std::uint8_t kReplyMagic[4] = {'P', 'B', 'R', 'P'};
constexpr std::uint8_t kProtoTcp = 6;
constexpr std::uint8_t kProtoUdp = 17;
constexpr std::uint8_t kFamilyAll = 0;
constexpr std::uint8_t kFamilyV4 = 4;
constexpr std::uint8_t kFamilyV6 = 6;
constexpr std::uint32_t kKnownFlags = kFlagV6Only | kFlagReusePort | kFlagFreeBind | kFlagNonBlock;

void put16(Bytes& out, std::uint16_t v) {
    out.push_back(static_cast<std::uint8_t>(v & 0xff));
    out.push_back(static_cast<std::uint8_t>(v >> 8));
}

void put32(Bytes& out, std::uint32_t v) {
    for (int shift = 0; shift < 32; shift += 8) {
        out.push_back(static_cast<std::uint8_t>((v >> shift) & 0xff));
    }
}

std::uint16_t get16(std::span<const std::uint8_t> in, std::size_t at) {
    return static_cast<std::uint16_t>(in[at] | (in[at + 1] << 8));
}

std::uint32_t get32(std::span<const std::uint8_t> in, std::size_t at) {
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < 4; ++i) {
        v |= static_cast<std::uint32_t>(in[at + i]) << (8 * i);
    }
    return v;
}

bool has_magic(std::span<const std::uint8_t> in, const std::uint8_t (&magic)[4]) {
    return in[0] == magic[0] && in[1] == magic[1] && in[2] == magic[2] && in[3] == magic[3];
}

bool is_printable(std::uint8_t c) {
    return c >= 0x20 && c <= 0x7e;
}

bool is_v4_mapped(std::span<const std::uint8_t> address) {
    for (std::size_t i = 0; i < 10; ++i) {
        if (address[i] != 0) {
            return false;
        }
    }
    return address[10] == 0xff && address[11] == 0xff;
}

DecodedRequest refuse(int error, std::string reason) {
    return DecodedRequest{std::nullopt, error, std::move(reason)};
}

// One 20-byte socket record, or why it is invalid.
std::optional<SocketSpec> decode_spec(std::span<const std::uint8_t> record, std::string& why) {
    SocketSpec spec;
    switch (record[0]) {
        case kProtoTcp:
            spec.proto = Proto::Tcp;
            break;
        case kProtoUdp:
            spec.proto = Proto::Udp;
            break;
        default:
            why = "unknown protocol " + std::to_string(record[0]);
            return std::nullopt;
    }
    spec.port = get16(record, 2);
    if (spec.port == 0) {
        why = "port 0";
        return std::nullopt;
    }
    const auto address = record.subspan(4, 16);
    std::size_t used = 0;
    switch (record[1]) {
        case kFamilyAll:
            break;
        case kFamilyV4:
            used = 4;
            break;
        case kFamilyV6:
            used = 16;
            if (is_v4_mapped(address)) {
                why = "IPv4-mapped IPv6 address";
                return std::nullopt;
            }
            break;
        default:
            why = "unknown address family " + std::to_string(record[1]);
            return std::nullopt;
    }
    for (std::size_t i = used; i < 16; ++i) {
        if (address[i] != 0) {
            why = "non-zero bytes after the address";
            return std::nullopt;
        }
    }
    if (record[1] != kFamilyAll) {
        IpAddress ip;
        ip.family = record[1] == kFamilyV4 ? Family::V4 : Family::V6;
        for (std::size_t i = 0; i < used; ++i) {
            ip.bytes[i] = address[i];
        }
        spec.address = ip;
    }
    return spec;
}

}  // namespace

Result<Bytes> encode_request(const SocketRequest& request) {
    if (request.specs.empty() || request.specs.size() > kMaxRequestSockets) {
        return Error{ErrorKind::Usage,
                     "a broker request needs 1 to " + std::to_string(kMaxRequestSockets) +
                         " sockets, not " + std::to_string(request.specs.size()),
                     ""};
    }
    if (request.options.backlog < 1) {
        return Error{ErrorKind::Usage, "the listen backlog must be at least 1", ""};
    }
    Bytes out;
    out.reserve(kHeaderSize + kSpecRecordSize * request.specs.size());
    out.insert(out.end(), std::begin(kRequestMagic), std::end(kRequestMagic));
    put16(out, kProtocolVersion);
    put16(out, static_cast<std::uint16_t>(request.specs.size()));
    const SocketOptions& o = request.options;
    put32(out, (o.v6only ? kFlagV6Only : 0) | (o.reuseport ? kFlagReusePort : 0) |
                   (o.freebind ? kFlagFreeBind : 0) | (o.nonblock ? kFlagNonBlock : 0));
    put32(out, static_cast<std::uint32_t>(o.backlog));
    for (const SocketSpec& spec : request.specs) {
        if (spec.port == 0) {
            return Error{ErrorKind::Usage, "port 0 cannot be requested from the broker", ""};
        }
        out.push_back(spec.proto == Proto::Tcp ? kProtoTcp : kProtoUdp);
        std::uint8_t family = kFamilyAll;
        if (spec.address) {
            family = spec.address->family == Family::V4 ? kFamilyV4 : kFamilyV6;
        }
        out.push_back(family);
        put16(out, spec.port);
        for (std::size_t i = 0; i < 16; ++i) {
            out.push_back(spec.address && i < spec.address->size() ? spec.address->bytes[i] : 0);
        }
    }
    return out;
}

Bytes encode_reply(const SocketReply& reply) {
    Bytes out;
    const std::size_t m = std::min(reply.text.size(), kMaxReplyText);
    out.reserve(kHeaderSize + m);
    out.insert(out.end(), std::begin(kReplyMagic), std::end(kReplyMagic));
    put16(out, kProtocolVersion);
    put16(out, reply.error == 0 ? reply.sockets : 0);
    const int status = reply.error > 0 ? -reply.error : 0;
    put32(out, static_cast<std::uint32_t>(status));
    put16(out, static_cast<std::uint16_t>(m));
    put16(out, 0);
    for (std::size_t i = 0; i < m; ++i) {
        const auto c = static_cast<std::uint8_t>(reply.text[i]);
        out.push_back(is_printable(c) ? c : '?');
    }
    return out;
}

DecodedRequest decode_request(std::span<const std::uint8_t> frame) {
    if (frame.size() > kMaxMessageSize) {
        return refuse(EPROTO, "request larger than " + std::to_string(kMaxMessageSize) + " bytes");
    }
    if (frame.size() < 8) {
        return refuse(EPROTO, "truncated request header");
    }
    if (!has_magic(frame, kRequestMagic)) {
        return refuse(EPROTO, "not a portbind request");
    }
    const std::uint16_t version = get16(frame, 4);
    if (version != kProtocolVersion) {
        return refuse(EPROTONOSUPPORT, "protocol version " + std::to_string(version) +
                                           " is not supported (this broker speaks version " +
                                           std::to_string(kProtocolVersion) + ")");
    }
    if (frame.size() < kHeaderSize) {
        return refuse(EPROTO, "truncated request header");
    }
    const std::size_t count = get16(frame, 6);
    if (count == 0 || count > kMaxRequestSockets) {
        return refuse(EPROTO, "request for " + std::to_string(count) + " sockets (1 to " +
                                  std::to_string(kMaxRequestSockets) + " allowed)");
    }
    if (frame.size() != kHeaderSize + kSpecRecordSize * count) {
        return refuse(EPROTO, "request of " + std::to_string(frame.size()) + " bytes for " +
                                  std::to_string(count) + " sockets, expected " +
                                  std::to_string(kHeaderSize + kSpecRecordSize * count));
    }
    const std::uint32_t flags = get32(frame, 8);
    if ((flags & ~kKnownFlags) != 0) {
        return refuse(EPROTO, "unknown request flags");
    }
    const std::uint32_t backlog = get32(frame, 12);
    if (backlog == 0 || backlog > static_cast<std::uint32_t>(INT_MAX)) {
        return refuse(EPROTO, "listen backlog out of range");
    }
    SocketRequest request;
    request.options.v6only = (flags & kFlagV6Only) != 0;
    request.options.reuseport = (flags & kFlagReusePort) != 0;
    request.options.freebind = (flags & kFlagFreeBind) != 0;
    request.options.nonblock = (flags & kFlagNonBlock) != 0;
    request.options.backlog = static_cast<int>(backlog);
    request.specs.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        std::string why;
        auto spec =
            decode_spec(frame.subspan(kHeaderSize + i * kSpecRecordSize, kSpecRecordSize), why);
        if (!spec) {
            return refuse(EPROTO, "socket " + std::to_string(i + 1) + ": " + why);
        }
        request.specs.push_back(std::move(*spec));
    }
    return DecodedRequest{std::move(request), 0, {}};
}

DecodedReply decode_reply(std::span<const std::uint8_t> frame) {
    const auto bad = [](std::string reason) {
        return DecodedReply{std::nullopt, std::move(reason)};
    };
    if (frame.size() > kMaxMessageSize) {
        return bad("reply larger than " + std::to_string(kMaxMessageSize) + " bytes");
    }
    if (frame.size() < kHeaderSize) {
        return bad("truncated reply");
    }
    if (!has_magic(frame, kReplyMagic)) {
        return bad("not a portbind reply");
    }
    if (get16(frame, 4) != kProtocolVersion) {
        return bad("reply of protocol version " + std::to_string(get16(frame, 4)));
    }
    SocketReply reply;
    reply.sockets = get16(frame, 6);
    const auto status = static_cast<std::int32_t>(get32(frame, 8));
    const std::size_t m = get16(frame, 12);
    if (get16(frame, 14) != 0) {
        return bad("reserved reply bytes are not zero");
    }
    if (m > kMaxReplyText || frame.size() != kHeaderSize + m) {
        return bad("reply text length does not match the reply size");
    }
    // errno values are small positive numbers; anything else is not a status.
    if (status > 0 || status < -4095) {
        return bad("reply status out of range");
    }
    reply.error = -status;
    if (reply.error != 0 && reply.sockets != 0) {
        return bad("failure reply announces sockets");
    }
    if (reply.error == 0 && (reply.sockets == 0 || reply.sockets > kMaxRequestSockets)) {
        return bad("success reply with " + std::to_string(reply.sockets) + " sockets");
    }
    reply.text.reserve(m);
    for (std::size_t i = 0; i < m; ++i) {
        const std::uint8_t c = frame[kHeaderSize + i];
        if (!is_printable(c)) {
            return bad("reply text is not printable ASCII");
        }
        reply.text.push_back(static_cast<char>(c));
    }
    return DecodedReply{std::move(reply), {}};
}

}  // namespace portbind::broker
