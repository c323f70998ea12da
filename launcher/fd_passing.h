// One fd, or one short error text, over a SOCK_SEQPACKET unix socket (SCM_RIGHTS).
#pragma once

#include <string>
#include <variant>

#include "launcher/unique_fd.h"
#include "policy/result.h"

namespace portbind {

Status send_fd(int socket, int fd);
Status send_failure(int socket, const std::string& message);

// The fd (close-on-exec), or the peer's failure text as an Error. Validates the control
// message exactly (level, type, length, no truncation) and closes anything unexpected.
Result<UniqueFd> receive_fd(int socket);

}  // namespace portbind
