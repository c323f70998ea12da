// The broker's wire protocol, version 1: one request and one reply, each a single
// SOCK_SEQPACKET message of at most kMaxMessageSize bytes. Pure: bytes in, values out.
//
// The client connects to the broker's unix socket, sends one request, receives one reply
// and closes; one connection carries exactly one request. Every integer is little-endian.
//
// Request (client to broker), exactly 16 + 20 * n bytes, no ancillary data:
//
//   offset size
//        0    4  magic "PBRQ"
//        4    2  version, 1
//        6    2  n, the number of sockets, 1..kMaxRequestSockets
//        8    4  flags: 1 IPV6_V6ONLY, 2 SO_REUSEPORT, 4 IP_FREEBIND, 8 O_NONBLOCK;
//                every other bit must be 0
//       12    4  listen backlog, 1..2^31-1 (ignored for datagram sockets)
//       16 20*n  one record per socket:
//                  +0  1  protocol: 6 TCP, 17 UDP
//                  +1  1  address family: 0 all addresses, 4 IPv4, 6 IPv6
//                  +2  2  port, 1..65535
//                  +4 16  address: IPv4 in the first 4 bytes; every unused byte 0;
//                         all 16 bytes 0 for family 0; IPv4-mapped IPv6 is refused
//
// Reply (broker to client), exactly 16 + m bytes, with n file descriptors (SCM_RIGHTS):
//
//        0    4  magic "PBRP"
//        4    2  version, 1
//        6    2  n, the number of file descriptors attached: the request's n on
//                success, 0 on failure
//        8    4  status: 0 on success, otherwise a negative errno
//       12    2  m, the length of the text, 0..kMaxReplyText
//       14    2  reserved, 0
//       16    m  text: printable ASCII (0x20-0x7e) saying why, for a person to read
//
// The descriptors come in request order: bound sockets, stream sockets already listening.
// The first 16 bytes of a reply keep this layout in every version, so a client can always
// read the status: a broker answers a request of another version with -EPROTONOSUPPORT, and
// anything malformed with -EPROTO, then closes the connection.
//
// Decoding is strict: exact lengths, known magic and version, reserved bytes and unused
// flags zero, every field in range. A frame that is not exactly right is refused whole.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "launcher/socket_options.h"
#include "policy/result.h"
#include "policy/socket_spec.h"

namespace portbind::broker {

inline constexpr std::uint16_t kProtocolVersion = 1;
inline constexpr std::size_t kMaxMessageSize = 4096;
inline constexpr std::size_t kMaxRequestSockets = 64;  // below the kernel's 253 fds per message
inline constexpr std::size_t kMaxReplyText = 1024;
inline constexpr std::size_t kHeaderSize = 16;
inline constexpr std::size_t kSpecRecordSize = 20;

inline constexpr std::uint32_t kFlagV6Only = 1;
inline constexpr std::uint32_t kFlagReusePort = 2;
inline constexpr std::uint32_t kFlagFreeBind = 4;
inline constexpr std::uint32_t kFlagNonBlock = 8;

using Bytes = std::vector<std::uint8_t>;

struct SocketRequest {
    SocketOptions options;
    std::vector<SocketSpec> specs;  // names are not sent: decoded specs carry the default
};

struct SocketReply {
    int error = 0;              // 0 on success, otherwise a positive errno
    std::uint16_t sockets = 0;  // descriptors attached
    std::string text;
};

// Refuses what cannot be encoded: no specs or more than kMaxRequestSockets, port 0, a
// backlog below 1.
Result<Bytes> encode_request(const SocketRequest& request);

// Replies are built by the broker from its own values; text that is too long or not
// printable ASCII is cut or replaced by '?', so encoding cannot fail.
Bytes encode_reply(const SocketReply& reply);

struct DecodedRequest {
    std::optional<SocketRequest> request;  // set when the frame is valid
    int error = 0;                         // otherwise EPROTO or EPROTONOSUPPORT
    std::string reason;                    // what was wrong, for the reply and the log
};

DecodedRequest decode_request(std::span<const std::uint8_t> frame);

struct DecodedReply {
    std::optional<SocketReply> reply;  // set when the frame is valid
    std::string reason;                // otherwise what was wrong
};

DecodedReply decode_reply(std::span<const std::uint8_t> frame);

}  // namespace portbind::broker
