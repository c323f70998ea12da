#include "launcher/bind_service.h"

#include <fcntl.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <seccomp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <optional>

#include "launcher/audit_log.h"
#include "launcher/privilege.h"
#include "launcher/small_file.h"
#include "policy/strict_number.h"

namespace portbind {

namespace {

std::optional<pid_t> thread_group_of(pid_t tid) {
    const auto status = read_small_file("/proc/" + std::to_string(tid) + "/status", 1 << 16);
    if (!status) {
        return std::nullopt;
    }
    const auto pos = status->find("\nTgid:");
    if (pos == std::string::npos) {
        return std::nullopt;
    }
    std::size_t start = pos + 6;
    while (start < status->size() && ((*status)[start] == '\t' || (*status)[start] == ' ')) {
        ++start;
    }
    const auto end = status->find('\n', start);
    const auto tgid = parse_decimal(std::string_view(*status).substr(start, end - start), INT_MAX);
    return tgid ? std::optional<pid_t>(static_cast<pid_t>(*tgid)) : std::nullopt;
}

bool read_int_option(int fd, int level, int name, int& value) {
    socklen_t len = sizeof value;
    return ::getsockopt(fd, level, name, &value, &len) == 0 && len == sizeof value;
}

std::optional<SocketFacts> socket_facts(int fd) {
    SocketFacts f;
    if (!read_int_option(fd, SOL_SOCKET, SO_DOMAIN, f.domain) ||
        !read_int_option(fd, SOL_SOCKET, SO_TYPE, f.type) ||
        !read_int_option(fd, SOL_SOCKET, SO_PROTOCOL, f.protocol)) {
        return std::nullopt;
    }
    if (f.domain == AF_INET6) {
        int v6only = 0;
        if (!read_int_option(fd, IPPROTO_IPV6, IPV6_V6ONLY, v6only)) {
            return std::nullopt;
        }
        f.v6only = v6only != 0;
    }
    return f;
}

std::string executable_of(pid_t tgid) {
    char buf[PATH_MAX] = {};
    const std::string link = "/proc/" + std::to_string(tgid) + "/exe";
    const ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

}  // namespace

BindService::BindService(BindServiceConfig config, UniqueFd listener)
    : config_(std::move(config)), listener_(std::move(listener)) {
    rules_.policy = config_.policy.get();
    rules_.caller = &config_.caller;
    rules_.specs = &config_.specs;
    rules_.unprivileged_start = config_.unprivileged_start;
    if (seccomp_notify_alloc(&request_, &response_) != 0) {
        request_ = nullptr;
        response_ = nullptr;
    }
}

BindService::~BindService() {
    if (request_ != nullptr) {
        seccomp_notify_free(request_, response_);
    }
}

bool BindService::still_valid(std::uint64_t id) const {
    return seccomp_notify_id_valid(listener_.get(), id) == 0;
}

void BindService::serve_one() {
    if (request_ == nullptr) {
        return;
    }
    // The kernel refuses (EINVAL) a request buffer that is not zeroed.
    std::memset(request_, 0, sizeof(*request_));
    if (seccomp_notify_receive(listener_.get(), request_) != 0) {
        return;  // the task died or the notification was interrupted
    }
    const Answer answer = handle(*request_);
    response_->id = request_->id;
    response_->val = 0;
    response_->error = answer.proceed ? 0 : answer.error;
    response_->flags = answer.proceed ? SECCOMP_USER_NOTIF_FLAG_CONTINUE : 0;
    seccomp_notify_respond(listener_.get(), response_);  // ENOENT: the task is gone
}

BindService::Answer BindService::handle(const seccomp_notif& request) {
    const Answer kernel_decides{};
    if (request.data.nr != SCMP_SYS(bind)) {
        return kernel_decides;
    }
    const int app_fd = static_cast<int>(request.data.args[0]);
    const std::uint64_t address = request.data.args[1];
    const auto length = static_cast<std::size_t>(static_cast<socklen_t>(request.data.args[2]));
    if (length < sizeof(sa_family_t) || length > sizeof(sockaddr_storage)) {
        return kernel_decides;
    }

    // 1. Our own copy of the sockaddr; valid only if the bind() is still waiting for us.
    std::uint8_t copy[sizeof(sockaddr_storage)] = {};
    {
        UniqueFd mem(::open(("/proc/" + std::to_string(request.pid) + "/mem").c_str(),
                            O_RDONLY | O_CLOEXEC));
        if (!mem.valid() || ::pread(mem.get(), copy, length, static_cast<off_t>(address)) !=
                                static_cast<ssize_t>(length)) {
            return kernel_decides;
        }
    }
    const auto tgid = thread_group_of(static_cast<pid_t>(request.pid));
    if (!tgid || !still_valid(request.id)) {
        return kernel_decides;
    }

    // 2. The app's socket itself.
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, *tgid, 0)));
    if (!pidfd.valid()) {
        return kernel_decides;
    }
    UniqueFd socket(static_cast<int>(::syscall(SYS_pidfd_getfd, pidfd.get(), app_fd, 0)));
    const std::string exe = executable_of(*tgid);
    if (!socket.valid() || !still_valid(request.id)) {
        return kernel_decides;
    }

    // 3. Decode and judge the copy.
    const auto facts = socket_facts(socket.get());
    if (!facts) {
        return kernel_decides;
    }
    const auto endpoint = decode_bind_request(std::span(copy, length), *facts);
    if (!endpoint) {
        return kernel_decides;
    }
    struct stat st {};
    const bool have_inode = ::fstat(socket.get(), &st) == 0;
    sockaddr_storage bound{};
    socklen_t bound_len = sizeof bound;
    if (have_inode && served_inodes_.count(st.st_ino) != 0 &&
        ::getsockname(socket.get(), reinterpret_cast<sockaddr*>(&bound), &bound_len) == 0 &&
        bound_len == length && std::memcmp(&bound, copy, length) == 0) {
        return Answer{false, 0};  // a bind() restarted after we served it: already done
    }
    const BindVerdict verdict = judge_bind(rules_, *endpoint, exe);
    const std::string line = config_.who + " pid " + std::to_string(*tgid) + " cmd " + exe +
                             " bind " + endpoint->to_string() + ": " + verdict.reason;
    if (!verdict.serve) {
        if (endpoint->port < config_.unprivileged_start) {
            log_decision(false, line);
        }
        return kernel_decides;
    }

    // 4. Bind the app's socket from our copy.
    if (verdict.spec) {
        config_.reservations.at(*verdict.spec).reset();
    }
    int result = 0;
    {
        auto capability = BindCapability::raise();
        if (!capability.ok()) {
            log_decision(false, line + ": " + capability.error().message);
            return Answer{false, -EACCES};
        }
        if (::bind(socket.get(), reinterpret_cast<const sockaddr*>(copy),
                   static_cast<socklen_t>(length)) != 0) {
            result = -errno;
        }
    }
    if (result == 0 && endpoint->proto == Proto::Tcp && ::listen(socket.get(), SOMAXCONN) != 0) {
        result = -errno;
    }
    if (result == 0 && have_inode) {
        served_inodes_.insert(st.st_ino);
    }
    log_decision(
        result == 0,
        line + (result == 0 ? "" : std::string(": bind failed: ") + std::strerror(-result)));
    return Answer{false, result};
}

}  // namespace portbind
