// Parsing /proc/net/{tcp,tcp6,udp,udp6} lines. Pure: one line of text in, one entry out.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string_view>

#include "policy/address.h"
#include "policy/socket_spec.h"

namespace portbind {

inline constexpr unsigned kTcpListen = 0x0A;

struct SocketEntry {
    Proto proto = Proto::Tcp;
    IpAddress address;
    std::uint16_t port = 0;
    unsigned state = 0;
    uid_t uid = 0;
    std::uint64_t inode = 0;
};

// nullopt for the header line and for anything malformed.
std::optional<SocketEntry> parse_proc_net_line(std::string_view line, Proto proto, Family family);

}  // namespace portbind
