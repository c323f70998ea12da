#include "launcher/supervisor.h"

#include <poll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "launcher/bind_request.h"
#include "launcher/unique_fd.h"

namespace portbind {

sigset_t forwarded_signals() {
    sigset_t set;
    sigemptyset(&set);
    for (const int sig : {SIGHUP,   SIGINT,  SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM,
                          SIGWINCH, SIGCONT, SIGTSTP, SIGTTIN, SIGTTOU, SIGURG,  SIGVTALRM,
                          SIGPROF,  SIGPWR,  SIGPIPE, SIGXCPU, SIGXFSZ, SIGIO,   SIGSTKFLT}) {
        sigaddset(&set, sig);
    }
    for (int sig = SIGRTMIN; sig <= SIGRTMAX; ++sig) {
        sigaddset(&set, sig);
    }
    return set;
}

sigset_t supervisor_blocked_signals() {
    sigset_t set = forwarded_signals();
    sigaddset(&set, SIGCHLD);
    return set;
}

namespace {

Error supervision_failed(pid_t app, const char* what) {
    const int err = errno;
    ::kill(app, SIGKILL);
    ::waitpid(app, nullptr, 0);
    return Error{ErrorKind::System,
                 std::string("cannot supervise the command: ") + what + ": " + std::strerror(err),
                 "use --activate instead"};
}

// Dies of `sig` as the app did, so our caller sees the same; returns only if `sig` does not
// kill (then the caller falls back to 128+N).
void die_like(int sig) {
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    ::sigaction(sig, &dfl, nullptr);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    ::kill(::getpid(), sig);
    ::sigprocmask(SIG_UNBLOCK, &one, nullptr);
}

}  // namespace

Result<int> supervise(pid_t app, BindService& service) {
    const sigset_t blocked = supervisor_blocked_signals();
    UniqueFd signals(::signalfd(-1, &blocked, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!signals.valid()) {
        return supervision_failed(app, "signalfd");
    }
    UniqueFd app_fd(static_cast<int>(::syscall(SYS_pidfd_open, app, 0)));
    if (!app_fd.valid()) {
        return supervision_failed(app, "pidfd_open");
    }
    pollfd fds[2] = {{service.listener(), POLLIN, 0}, {signals.get(), POLLIN, 0}};
    while (true) {
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            return supervision_failed(app, "poll");
        }
        if (fds[0].revents & POLLIN) {
            service.serve_one();
        } else if (fds[0].revents & (POLLHUP | POLLERR | POLLNVAL)) {
            fds[0].fd = -1;  // no process uses the filter any more
        }
        if ((fds[1].revents & POLLIN) == 0) {
            continue;
        }
        signalfd_siginfo info{};
        while (::read(signals.get(), &info, sizeof info) == sizeof info) {
            const int sig = static_cast<int>(info.ssi_signo);
            if (sig != SIGCHLD) {
                // A terminal's signals (SI_KERNEL) already reached the app if it is still in
                // our process group; the app's own signals to us are not echoed back.
                const bool same_group = ::getpgid(app) == ::getpgid(0);
                if ((info.ssi_code == SI_KERNEL && same_group) ||
                    static_cast<pid_t>(info.ssi_pid) == app) {
                    continue;
                }
                ::syscall(SYS_pidfd_send_signal, app_fd.get(), sig, nullptr, 0);
                continue;
            }
            int status = 0;
            pid_t child = 0;
            while ((child = ::waitpid(-1, &status, WNOHANG | WUNTRACED | WCONTINUED)) > 0) {
                if (child != app) {
                    continue;  // an orphan reparented to us (we are the subreaper)
                }
                if (WIFSTOPPED(status)) {
                    ::kill(::getpid(), SIGSTOP);  // stop with the app; SIGCONT resumes both
                    ::syscall(SYS_pidfd_send_signal, app_fd.get(), SIGCONT, nullptr, 0);
                } else if (WIFSIGNALED(status)) {
                    die_like(WTERMSIG(status));
                    return shell_status(status);
                } else if (WIFEXITED(status)) {
                    return shell_status(status);
                }
            }
        }
    }
}

}  // namespace portbind
