#include "launcher/process.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace portbind {

Result<InheritedState> sanitize_process(unsigned keep_fds) {
    for (int fd = 0; fd <= 2; ++fd) {
        if (::fcntl(fd, F_GETFD) == -1 && errno == EBADF) {
            // Lands on `fd` because it is the lowest free descriptor; not close-on-exec on
            // purpose: it stands in for the caller's closed stdio.
            const int null = ::open("/dev/null", O_RDWR | O_NOFOLLOW);
            if (null != fd) {
                // Cannot write a message safely without fd 2; exit quietly with failure.
                ::_exit(125);
            }
        }
    }
    const unsigned first_closed = 3 + keep_fds;
    for (unsigned fd = 3; fd < first_closed; ++fd) {
        // A kept fd that is not open is the broker's to report; any other failure is not.
        if (::fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC) == -1 && errno != EBADF) {
            return os_error("cannot mark fd " + std::to_string(fd) + " close-on-exec", errno);
        }
    }
    if (::syscall(SYS_close_range, first_closed, ~0U, 0) != 0) {
        for (unsigned fd = first_closed; fd < 65536; ++fd) {
            ::close(static_cast<int>(fd));
        }
    }
    if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
        return Error{ErrorKind::System,
                     std::string("cannot make the process non-dumpable: ") + std::strerror(errno),
                     ""};
    }
    InheritedState state;
    ::getrlimit(RLIMIT_CORE, &state.core);
    rlimit none{0, state.core.rlim_max};
    ::setrlimit(RLIMIT_CORE, &none);
    return state;
}

void restore_inherited_state(const InheritedState& state) {
    ::setrlimit(RLIMIT_CORE, &state.core);
}

}  // namespace portbind
