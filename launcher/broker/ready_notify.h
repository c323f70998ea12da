// Telling the service manager how the broker is doing: the sd_notify(3) datagram protocol,
// written out here so that the program does not link libsystemd (which would load six more
// shared libraries at every start of portbind, launcher included).
//
// Protocol facts followed (sd_notify(3); systemd 252 sd-daemon.c and sockaddr_un_set_path):
//  - NOTIFY_SOCKET names an AF_UNIX datagram socket: an absolute path, or '@' and a name in
//    the abstract namespace. At least 2 and at most 107 bytes (sun_path with room for a NUL).
//    A path's address length includes its NUL; an abstract name's '@' becomes the leading
//    NUL byte and its length covers exactly the name. Anything else (relative paths, vsock:,
//    which systemd 252 does not have either) is refused. Unset: no service manager is
//    listening, and nothing is sent.
//  - One datagram carries newline-separated VARIABLE=value assignments: READY=1,
//    RELOADING=1, STOPPING=1, STATUS=free text. It is sent once, with MSG_NOSIGNAL, from a
//    SOCK_CLOEXEC socket that is closed again; the kernel attaches the sender's credentials,
//    which is how NotifyAccess=main knows the message is the main process's.
//  - The variable stays in the environment (sd_notify's unset_environment=0): the broker
//    notifies again on reload and on stop, and it executes nothing.
//
// Threats: NOTIFY_SOCKET comes from whoever started the process. It is read with getenv(),
// as libsystemd reads it, not secure_getenv(): a setuid install started by systemd runs in
// secure-execution mode, where secure_getenv() would hide the variable and the unit would
// never become ready. That is safe because the datagram leaves with the process's own
// credentials (the caller's uid in capability and setuid installs, the service user under
// systemd): sending it to a socket of the caller's choosing gains nothing the caller could
// not send itself. Values are made single-line, so a STATUS= text (which names a socket
// path) cannot smuggle in another assignment such as MAINPID=.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "policy/result.h"

namespace portbind::broker {

struct NotifyAddress {
    sockaddr_un address{};
    socklen_t length = 0;  // bytes of `address` that name the socket
};

// Pure: the address NOTIFY_SOCKET's value names, or a Usage error saying why it names none.
Result<NotifyAddress> parse_notify_address(std::string_view value);

// Pure: "NAME=value" with every control character of `value` (newline, NUL, ...) replaced by
// a space, so it stays one assignment.
std::string notify_assignment(std::string_view name, std::string_view value);

inline constexpr std::size_t kMaxNotifyMessage = 4096;  // systemd's NOTIFY_BUFFER_MAX

// Sends `message` (non-empty, at most kMaxNotifyMessage bytes, assignments separated by
// '\n') to the socket NOTIFY_SOCKET names. Success without sending when NOTIFY_SOCKET is
// unset; an Error (for a warning: the caller keeps serving) when it is malformed or the
// datagram could not be sent whole. Blocks, as sd_notify() does, while the service
// manager's queue is full.
Status notify_service_manager(std::string_view message);

}  // namespace portbind::broker
