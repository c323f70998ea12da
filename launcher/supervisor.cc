#include "launcher/supervisor.h"

#include <poll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "launcher/bind_request.h"
#include "launcher/unique_fd.h"

namespace portbind {

sigset_t forwarded_signals() {
    sigset_t set;
    sigemptyset(&set);
    for (const int sig :
         {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGWINCH, SIGCONT, SIGTSTP,
          SIGTTIN, SIGTTOU, SIGURG, SIGVTALRM, SIGPROF, SIGPWR, SIGPIPE, SIGXCPU, SIGXFSZ}) {
        sigaddset(&set, sig);
    }
    for (int sig = SIGRTMIN; sig <= SIGRTMAX; ++sig) {
        sigaddset(&set, sig);
    }
    return set;
}

namespace {

int wait_for(pid_t app) {
    int status = 0;
    while (::waitpid(app, &status, 0) < 0) {
        if (errno != EINTR) {
            return 125;
        }
    }
    return shell_status(status);
}

}  // namespace

int supervise(pid_t app, BindService& service) {
    const sigset_t forwarded = forwarded_signals();
    UniqueFd signals(::signalfd(-1, &forwarded, SFD_CLOEXEC | SFD_NONBLOCK));
    UniqueFd app_fd(static_cast<int>(::syscall(SYS_pidfd_open, app, 0)));
    if (!app_fd.valid()) {
        return wait_for(app);  // the app is already gone (or pidfds are missing)
    }
    pollfd fds[3] = {
        {service.listener(), POLLIN, 0}, {signals.get(), POLLIN, 0}, {app_fd.get(), POLLIN, 0}};
    while (true) {
        if (::poll(fds, 3, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            return wait_for(app);
        }
        if (fds[0].revents & POLLIN) {
            service.serve_one();
        } else if (fds[0].revents & (POLLHUP | POLLERR | POLLNVAL)) {
            fds[0].fd = -1;  // no process uses the filter any more
        }
        if (fds[1].revents & POLLIN) {
            signalfd_siginfo info{};
            while (::read(signals.get(), &info, sizeof info) == sizeof info) {
                // A terminal's signals (SI_KERNEL) already reached the app, which shares our
                // process group; the app's own signals to us are not echoed back.
                if (info.ssi_code == SI_KERNEL || static_cast<pid_t>(info.ssi_pid) == app) {
                    continue;
                }
                ::syscall(SYS_pidfd_send_signal, app_fd.get(), static_cast<int>(info.ssi_signo),
                          nullptr, 0);
            }
        }
        if (fds[2].revents & POLLIN) {
            return wait_for(app);
        }
    }
}

}  // namespace portbind
