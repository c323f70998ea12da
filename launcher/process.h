// Process hygiene before anything else runs, and the restore just before exec.
#pragma once

#include <sys/resource.h>

#include "policy/result.h"

namespace portbind {

struct InheritedState {
    rlimit core{};  // the caller's RLIMIT_CORE, given back to the command
};

// 1. Opens /dev/null on any of fds 0-2 that is closed, so no socket or policy file can land
//    there and no diagnostic is ever written into one.
// 2. Closes every other inherited fd from 3 + keep_fds up: nothing of the caller's is
//    mistaken for a socket and nothing leaks to the command but the sockets. The keep_fds
//    fds from 3 (sockets passed by systemd to `portbind serve`) are kept, close-on-exec.
// 3. Makes the process non-dumpable and sets RLIMIT_CORE to 0 while it may be privileged.
Result<InheritedState> sanitize_process(unsigned keep_fds = 0);

// Gives the command the caller's core limit back.
void restore_inherited_state(const InheritedState& state);

}  // namespace portbind
