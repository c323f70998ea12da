#include "launcher/bind_service.h"

#include <fcntl.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <optional>

#include "launcher/audit_log.h"
#include "launcher/broker/client.h"
#include "launcher/privilege.h"
#include "launcher/small_file.h"
#include "launcher/sockets.h"
#include "policy/strict_number.h"

namespace portbind {

namespace {

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

constexpr unsigned kPidfdThread = O_EXCL;  // PIDFD_THREAD, Linux 6.9

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
    return f;
}

// The network namespace cookie of a socket (Linux 5.14); nullopt where unsupported.
std::optional<std::uint64_t> netns_cookie(int fd) {
    std::uint64_t cookie = 0;
    socklen_t len = sizeof cookie;
    if (::getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) != 0 || len != sizeof cookie) {
        return std::nullopt;
    }
    return cookie;
}

// The descriptor flags of `fd` in the fd table of thread `tid` (its fdinfo "flags:" field,
// octal: O_CLOEXEC is per descriptor and cannot be read through a duplicate).
std::optional<int> descriptor_flags(pid_t tid, int fd) {
    const auto info =
        read_small_file("/proc/" + std::to_string(tid) + "/fdinfo/" + std::to_string(fd), 1 << 16);
    if (!info) {
        return std::nullopt;
    }
    const auto pos = info->find("flags:");
    if (pos == std::string::npos) {
        return std::nullopt;
    }
    std::size_t start = pos + 6;
    while (start < info->size() && ((*info)[start] == '\t' || (*info)[start] == ' ')) {
        ++start;
    }
    unsigned value = 0;
    std::size_t digits = 0;
    for (std::size_t i = start; i < info->size() && (*info)[i] >= '0' && (*info)[i] <= '7'; ++i) {
        if (++digits > 11) {
            return std::nullopt;
        }
        value = value * 8 + static_cast<unsigned>((*info)[i] - '0');
    }
    return digits == 0 ? std::nullopt : std::optional<int>(static_cast<int>(value));
}

std::string executable_of(pid_t pid) {
    char buf[PATH_MAX] = {};
    const std::string link = "/proc/" + std::to_string(pid) + "/exe";
    const ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

}  // namespace

Result<std::unique_ptr<BindService>> BindService::create(BindServiceConfig config,
                                                         UniqueFd listener) {
    std::unique_ptr<BindService> service(new BindService(std::move(config), std::move(listener)));
    if (service->request_ == nullptr) {
        return Error{ErrorKind::System, "cannot allocate seccomp notification buffers",
                     "use --activate instead"};
    }
    return service;
}

BindService::BindService(BindServiceConfig config, UniqueFd listener)
    : config_(std::move(config)), listener_(std::move(listener)) {
    rules_.policy = config_.policy.get();
    rules_.caller = &config_.caller;
    rules_.specs = &config_.specs;
    rules_.unprivileged_start = config_.unprivileged_start;
    if (config_.broker) {
        rules_.unpoliced = "granted by the broker";
    }
    UniqueFd probe(::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!probe.valid()) {
        probe.reset(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    }
    if (probe.valid()) {
        netns_cookie_ = netns_cookie(probe.get());
    }
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

void BindService::release_reservation(std::optional<std::size_t> spec) {
    if (spec && *spec < config_.reservations.size()) {
        config_.reservations[*spec].socket.reset();
    }
}

// After a served bind failed: take the port again, so it stays reserved for a retry.
void BindService::restore_reservation(std::optional<std::size_t> spec) {
    if (!spec || *spec >= config_.reservations.size() ||
        config_.reservations[*spec].socket.valid()) {
        return;
    }
    Reservation& r = config_.reservations[*spec];
    if (config_.broker) {
        if (!r.privileged) {
            return;  // the app binds unprivileged ports itself
        }
        auto again = broker::request_socket(*config_.broker, config_.specs[*spec], config_.options);
        if (again.ok()) {
            r.socket = std::move(again).value();
        }
        return;
    }
    auto fd = open_socket(r.endpoint, config_.options);
    if (!fd.ok()) {
        return;
    }
    std::optional<BindCapability> capability;
    if (r.privileged) {
        auto raised = BindCapability::raise();
        if (!raised.ok()) {
            return;
        }
        capability.emplace(std::move(raised).value());
    }
    if (bind_socket(fd.value().get(), r.endpoint) == 0) {
        r.socket = std::move(fd).value();
    }
}

void BindService::serve_one() {
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
    const auto pid = static_cast<pid_t>(request.pid);
    if (request.data.nr != SCMP_SYS(bind)) {
        return kernel_decides;
    }
    const int app_fd = static_cast<int>(request.data.args[0]);
    const std::uint64_t address = request.data.args[1];
    const auto length = static_cast<std::size_t>(static_cast<socklen_t>(request.data.args[2]));
    if (length < sizeof(sa_family_t) || length > sizeof(sockaddr_storage)) {
        return kernel_decides;
    }
    const std::string prefix = config_.who + " pid " + std::to_string(pid) + ": ";
    auto cannot_inspect = [&](const char* what) {
        log_decision(false, prefix + "bind() left to the kernel: cannot " + what + ": " +
                                std::strerror(errno));
        return kernel_decides;
    };

    // 1. Our own copy of the sockaddr; valid only if the bind() is still waiting for us.
    std::uint8_t copy[sizeof(sockaddr_storage)] = {};
    {
        UniqueFd mem(
            ::open(("/proc/" + std::to_string(pid) + "/mem").c_str(), O_RDONLY | O_CLOEXEC));
        if (!mem.valid()) {
            return cannot_inspect("open the app's memory");
        }
        if (::pread(mem.get(), copy, length, static_cast<off_t>(address)) !=
            static_cast<ssize_t>(length)) {
            return kernel_decides;  // an invalid pointer: the kernel answers EFAULT
        }
    }
    const auto tgid = thread_group_of(pid);
    if (!tgid || !still_valid(request.id)) {
        return kernel_decides;
    }

    // 2. The socket itself, from the calling thread's own fd table (a thread cloned without
    //    CLONE_FILES has its own); before Linux 6.9 pidfds name whole processes, and the
    //    thread group's table is used.
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, kPidfdThread)));
    if (!pidfd.valid() && errno == EINVAL) {
        pidfd.reset(static_cast<int>(::syscall(SYS_pidfd_open, *tgid, 0)));
    }
    if (!pidfd.valid()) {
        return cannot_inspect("open a pidfd for the app");
    }
    UniqueFd socket(static_cast<int>(::syscall(SYS_pidfd_getfd, pidfd.get(), app_fd, 0)));
    if (!socket.valid() && errno != EBADF) {
        return cannot_inspect("get the app's socket");
    }
    const std::string exe = executable_of(pid);
    if (!socket.valid() || !still_valid(request.id)) {
        return kernel_decides;
    }

    // 3. Only the caller's own sockets, of this network namespace; decode and judge the copy.
    const auto facts = socket_facts(socket.get());
    if (!facts) {
        return kernel_decides;  // not a socket: the kernel answers ENOTSOCK
    }
    const auto endpoint = decode_bind_request(std::span(copy, length), *facts);
    if (!endpoint) {
        return kernel_decides;
    }
    const BindVerdict verdict = judge_bind(rules_, *endpoint, exe);
    const std::string line = prefix + "cmd " + exe + " bind " + endpoint->to_string() + ": ";
    if (!verdict.serve) {
        if (endpoint->port < config_.unprivileged_start) {
            log_decision(false, line + verdict.reason);
        }
        release_reservation(verdict.spec);  // an unprivileged port: the app binds it itself
        return kernel_decides;
    }
    struct stat st {};
    if (::fstat(socket.get(), &st) != 0) {
        return kernel_decides;
    }
    sockaddr_storage bound{};
    socklen_t bound_len = sizeof bound;
    if (served_inodes_.count(st.st_ino) != 0 &&
        ::getsockname(socket.get(), reinterpret_cast<sockaddr*>(&bound), &bound_len) == 0 &&
        bound_len == length && std::memcmp(&bound, copy, length) == 0) {
        return Answer{false, 0};  // a bind() restarted after we served it: already done
    }
    if (st.st_uid != config_.uid) {
        log_decision(false, line + "the socket belongs to uid " + std::to_string(st.st_uid) +
                                ", not the caller");
        return kernel_decides;
    }
    const auto cookie = netns_cookie(socket.get());
    if (netns_cookie_ && cookie != netns_cookie_) {
        log_decision(false, line + "the socket belongs to another network namespace");
        return kernel_decides;
    }
    if (config_.broker) {
        return hand_over_from_broker(request, pid, app_fd, socket.get(), *endpoint, verdict.spec,
                                     line);
    }

    // 4. Bind the app's socket from our copy, with the capability effective for that alone.
    release_reservation(verdict.spec);
    int result = 0;
    {
        auto capability = BindCapability::raise();
        if (!capability.ok()) {
            log_decision(false, line + capability.error().message);
            restore_reservation(verdict.spec);
            return Answer{false, -EACCES};
        }
        if (::bind(socket.get(), reinterpret_cast<const sockaddr*>(copy),
                   static_cast<socklen_t>(length)) != 0) {
            result = -errno;
        }
    }
    if (result == 0) {
        served_inodes_.insert(st.st_ino);
        log_decision(true, line + verdict.reason);
    } else {
        restore_reservation(verdict.spec);
        log_decision(false,
                     line + verdict.reason + ", but bind() failed: " + std::strerror(-result));
    }
    return Answer{false, result};
}

// 4, with a broker: a broker socket for exactly this endpoint replaces the app's socket.
BindService::Answer BindService::hand_over_from_broker(const seccomp_notif& request, pid_t pid,
                                                       int app_fd, int app_socket,
                                                       const Endpoint& endpoint,
                                                       std::optional<std::size_t> spec,
                                                       const std::string& line) {
    const auto flags = descriptor_flags(pid, app_fd);
    const int status_flags = ::fcntl(app_socket, F_GETFL);
    int v6only = 0;
    socklen_t v6only_len = sizeof v6only;
    if (!flags || status_flags < 0 ||
        (endpoint.address.family == Family::V6 &&
         ::getsockopt(app_socket, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &v6only_len) != 0)) {
        log_decision(false, line + "cannot read the app's socket flags");
        return Answer{false, -EACCES};
    }
    int freebind = 0;
    socklen_t freebind_len = sizeof freebind;
    (void)::getsockopt(app_socket, IPPROTO_IP, IP_FREEBIND, &freebind, &freebind_len);

    // What the app's socket would have bound: an IPv6 wildcard is dual-stack unless the app
    // made it IPv6-only (the broker's socket is its own, so no later flip can widen it).
    Endpoint wanted = endpoint;
    wanted.dual_stack =
        endpoint.address.family == Family::V6 && endpoint.address.is_any() && v6only == 0;
    UniqueFd granted;
    if (spec && *spec < config_.reservations.size() && config_.reservations[*spec].socket.valid() &&
        config_.reservations[*spec].endpoint == wanted) {
        granted = std::move(config_.reservations[*spec].socket);
    } else {
        release_reservation(spec);  // frees the port for the socket the broker binds now
        // A dual-stack wildcard is asked for as "all addresses" (the broker's [::] with
        // IPV6_V6ONLY=0); an explicit address, [::] included, is bound as given.
        SocketSpec exact{endpoint.address, endpoint.port, endpoint.proto, {}};
        if (wanted.dual_stack) {
            exact.address.reset();
        }
        SocketOptions options = config_.options;
        options.v6only = v6only != 0;
        options.freebind = freebind != 0;
        options.reuseport = false;
        broker::Exchange asked = broker::exchange_with_broker(*config_.broker, {exact}, options);
        if (asked.error != 0) {
            log_decision(false, line + asked.message);
            restore_reservation(spec);
            // Errors bind() can have pass through; not reaching the broker (ENOENT, EPERM,
            // ETIMEDOUT, EPROTO, ...) is a refusal for the app, with the reason in the log.
            const int e = asked.error;
            const bool bind_errno =
                e == EACCES || e == EADDRINUSE || e == EADDRNOTAVAIL || e == ENOMEM || e == ENOBUFS;
            return Answer{false, -(bind_errno ? e : EACCES)};
        }
        granted = std::move(asked.sockets.front());
    }
    // The app's blocking mode, on the socket it gets (status flags belong to the socket).
    const int granted_flags = ::fcntl(granted.get(), F_GETFL);
    if (granted_flags < 0 ||
        ::fcntl(granted.get(), F_SETFL,
                (granted_flags & ~O_NONBLOCK) | (status_flags & O_NONBLOCK)) != 0) {
        log_decision(false, line + "cannot set the socket's flags: " + std::strerror(errno));
        return Answer{false, -EACCES};
    }
    struct stat st {};
    if (::fstat(granted.get(), &st) != 0) {
        return Answer{false, -EACCES};
    }
    seccomp_notif_addfd addfd{};
    addfd.id = request.id;
    addfd.flags = SECCOMP_ADDFD_FLAG_SETFD;
    addfd.srcfd = static_cast<std::uint32_t>(granted.get());
    addfd.newfd = static_cast<std::uint32_t>(app_fd);
    addfd.newfd_flags = (*flags & O_CLOEXEC) != 0 ? O_CLOEXEC : 0;
    if (::ioctl(listener_.get(), SECCOMP_IOCTL_NOTIF_ADDFD, &addfd) < 0) {
        log_decision(false,
                     line + "cannot give the app the broker's socket: " + std::strerror(errno));
        return Answer{false, -EACCES};  // ENOENT: the bind() is gone, and nobody reads this
    }
    served_inodes_.insert(st.st_ino);
    log_decision(true, line + "granted by the broker");
    return Answer{false, 0};
}

}  // namespace portbind
