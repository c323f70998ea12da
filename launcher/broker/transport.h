// One SOCK_SEQPACKET message with or without file descriptors (SCM_RIGHTS), for both ends
// of the broker protocol. launcher/fd_passing.h is the launcher's internal single-fd
// channel; this is the general form the broker needs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "launcher/unique_fd.h"

namespace portbind::broker {

// Sends `bytes` with `fds` attached, always with MSG_NOSIGNAL plus `flags` (e.g.
// MSG_DONTWAIT). Returns 0 or the errno; a partial send cannot happen on SOCK_SEQPACKET.
int send_message(int socket, std::span<const std::uint8_t> bytes, std::span<const int> fds,
                 int flags);

struct ReceivedMessage {
    std::size_t size = 0;          // bytes of the message (may exceed the buffer: see flags)
    int flags = 0;                 // msg_flags: MSG_TRUNC, MSG_CTRUNC
    std::vector<UniqueFd> fds;     // every descriptor received, owned, close-on-exec
    bool foreign_control = false;  // a control message other than SCM_RIGHTS arrived
};

// Receives one message into `buffer`, with MSG_TRUNC so `size` is the real length, plus
// `flags`. With max_fds 0 there is no control buffer: the kernel then discards whatever
// descriptors were attached and sets MSG_CTRUNC, so none ever enters this process.
// Otherwise descriptors arrive close-on-exec (MSG_CMSG_CLOEXEC) and are owned at once.
// Returns 0 or the errno; size 0 without error is the peer's end of file.
int receive_message(int socket, std::span<std::uint8_t> buffer, std::size_t max_fds, int flags,
                    ReceivedMessage& out);

}  // namespace portbind::broker
