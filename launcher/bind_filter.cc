#include "launcher/bind_filter.h"

#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/capability.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "launcher/small_file.h"

namespace portbind {

namespace {

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

Error unsupported(const std::string& why) {
    return Error{ErrorKind::System, "cannot serve the command's own bind() calls: " + why,
                 "use --activate and have the command take its sockets from fd 3 "
                 "(LISTEN_FDS), or run a kernel >= 5.9"};
}

Error filter_error(const std::string& what, int err) {
    return Error{ErrorKind::System,
                 "cannot install the bind() filter: " + what + ": " + std::strerror(err),
                 "use --activate instead"};
}

}  // namespace

Status check_intercept_support() {
    const auto actions = read_small_file("/proc/sys/kernel/seccomp/actions_avail", 4096);
    if (!actions || actions->find("user_notif") == std::string::npos) {
        return unsupported("this kernel has no seccomp user notification");
    }
    // What the binding process will do to the app, tried on a child: Yama's ptrace_scope and
    // LSMs decide on pidfd_getfd() and /proc/<pid>/mem between two processes, not on self.
    int ready[2];
    if (::pipe2(ready, O_CLOEXEC) != 0) {
        return unsupported(std::string("pipe2() failed: ") + std::strerror(errno));
    }
    UniqueFd ready_read(ready[0]);
    UniqueFd ready_write(ready[1]);
    const pid_t parent = ::getpid();
    const pid_t child = ::fork();
    if (child < 0) {
        return unsupported(std::string("fork() failed: ") + std::strerror(errno));
    }
    if (child == 0) {
        // Never outlive the prober, whatever kills it.
        if (::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 || ::getppid() != parent) {
            ::_exit(1);
        }
        // Look like the app will after its exec: no capability, dumpable. Then say so.
        cap_t none = cap_init();
        if (none == nullptr || cap_set_proc(none) != 0 ||
            ::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0 || ::write(ready_write.get(), "r", 1) != 1) {
            ::_exit(1);
        }
        ::pause();
        ::_exit(0);
    }
    ready_write.reset();
    char byte = 0;
    ssize_t got = 0;
    do {
        got = ::read(ready_read.get(), &byte, 1);
    } while (got < 0 && errno == EINTR);
    std::string failure;
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, child, 0)));
    if (got != 1) {
        failure = "the probe process could not drop its capabilities";
    } else if (!pidfd.valid()) {
        failure = std::string("pidfd_open() failed: ") + std::strerror(errno);
    } else if (UniqueFd copy(static_cast<int>(::syscall(SYS_pidfd_getfd, pidfd.get(), 0, 0)));
               !copy.valid()) {
        failure = std::string("pidfd_getfd() failed: ") + std::strerror(errno) +
                  (errno == EPERM ? " (kernel.yama.ptrace_scope >= 2?)" : "");
    } else if (UniqueFd mem(::open(("/proc/" + std::to_string(child) + "/mem").c_str(),
                                   O_RDONLY | O_CLOEXEC));
               !mem.valid()) {
        failure = std::string("cannot read a child's memory: ") + std::strerror(errno);
    }
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    if (!failure.empty()) {
        return unsupported(failure);
    }
    return success();
}

Result<UniqueFd> install_bind_filter() {
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        ::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) {
        return filter_error("cannot set no_new_privs", errno);
    }
    std::unique_ptr<void, void (*)(scmp_filter_ctx)> ctx(seccomp_init(SCMP_ACT_ALLOW),
                                                         seccomp_release);
    if (!ctx) {
        return filter_error("seccomp_init", ENOMEM);
    }
    int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ALLOW);
    if (rc == 0) {
        rc = seccomp_rule_add(ctx.get(), SCMP_ACT_NOTIFY, SCMP_SYS(bind), 0);
    }
    if (rc != 0) {
        return filter_error("building the filter", -rc);
    }
    // Export the BPF and load it ourselves, to choose flags libseccomp 2.5 cannot set.
    UniqueFd memfd(::memfd_create("portbind-bpf", MFD_CLOEXEC));
    if (!memfd.valid()) {
        return filter_error("memfd_create", errno);
    }
    rc = seccomp_export_bpf(ctx.get(), memfd.get());
    if (rc != 0) {
        return filter_error("exporting the filter", -rc);
    }
    const off_t bpf_size = ::lseek(memfd.get(), 0, SEEK_END);
    if (bpf_size <= 0 || bpf_size % static_cast<off_t>(sizeof(sock_filter)) != 0 ||
        bpf_size > 65536) {
        return filter_error("exporting the filter", EINVAL);
    }
    std::vector<sock_filter> bpf(static_cast<std::size_t>(bpf_size) / sizeof(sock_filter));
    if (::pread(memfd.get(), bpf.data(), static_cast<std::size_t>(bpf_size), 0) != bpf_size) {
        return filter_error("reading the exported filter", errno);
    }
    sock_fprog prog{};
    prog.len = static_cast<unsigned short>(bpf.size());
    prog.filter = bpf.data();
    long fd =
        ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
                  SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, &prog);
    if (fd < 0 && errno == EINVAL) {  // kernels before 5.19
        fd = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER,
                       &prog);
    }
    if (fd < 0) {
        return filter_error("seccomp(SECCOMP_SET_MODE_FILTER)", errno);
    }
    return UniqueFd(static_cast<int>(fd));
}

}  // namespace portbind
