// The binding process's main loop, while the app runs as its child.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include "launcher/bind_service.h"
#include "policy/result.h"

namespace portbind {

// Signals passed on to the app: every catchable asynchronous signal except SIGCHLD.
sigset_t forwarded_signals();

// What the binding process blocks before it forks: the forwarded signals and SIGCHLD (read
// through a signalfd). The app restores the caller's mask before exec.
sigset_t supervisor_blocked_signals();

// Serves the app's binds, forwards signals sent to portbind to the app, follows it through
// job control (when the app stops, portbind stops with the same signal, so the shell sees
// the job stop; when portbind is continued, so is the app), reaps orphans handed to it as
// the subreaper, and returns when the app exits, with its exit status. When the app was
// killed by a signal, portbind kills itself with the same signal, so its caller sees what
// it would have seen without portbind (a shell reports 128+N).
// Precondition: supervisor_blocked_signals() are blocked; this process is the app's parent.
Result<int> supervise(pid_t app, BindService& service);

}  // namespace portbind
