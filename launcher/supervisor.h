// The binding process's main loop, while the app runs as its child.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include "launcher/bind_service.h"

namespace portbind {

// Signals passed on to the app: every catchable asynchronous signal except SIGCHLD.
sigset_t forwarded_signals();

// Serves the app's binds, forwards signals sent to portbind to the app, and returns when the
// app exits, with its status as a shell reports it (128+N for death by signal N).
// Precondition: the forwarded signals are blocked in this process, and SIGCHLD is not ignored.
int supervise(pid_t app, BindService& service);

}  // namespace portbind
