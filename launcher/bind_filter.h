// The seccomp filter that sends the app's bind() calls to the binding process.
//
// Threat notes (seccomp_unotify(2), prior art in bypass4netns):
//  - The filter only stops bind(); every other syscall runs untouched.
//  - SECCOMP_USER_NOTIF_FLAG_CONTINUE has an inherent TOCTOU on the sockaddr pointer. It is
//    used only for binds portbind does not serve, which the kernel then checks with the
//    app's own credentials, so rewriting the sockaddr after the check gains nothing. A
//    privileged bind is never continued: the binding process binds its own copy.
//  - Binds from another syscall ABI (32-bit compat, x32) are not stopped; the kernel refuses
//    them a privileged port as it would without portbind.
#pragma once

#include "launcher/unique_fd.h"
#include "policy/result.h"

namespace portbind {

// Whether this kernel can do the default mode: seccomp user notification and pidfd_getfd().
// The refusal suggests --activate.
Status check_intercept_support();

// In the process that will exec the app, after every privilege is dropped: sets
// no_new_privs (verified) and installs the filter. Returns the notification listener fd
// (close-on-exec). Where the kernel has it, the filter is installed with
// SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, so a bind the binding process has started serving
// cannot be interrupted and restarted by a non-fatal signal (Go's SIGURG preemption).
Result<UniqueFd> install_bind_filter();

}  // namespace portbind
