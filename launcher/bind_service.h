// The binding process's work: answer the app's intercepted bind() calls.
//
// Runs as the caller with only CAP_NET_BIND_SERVICE permitted, non-dumpable, and is the
// app's ancestor (so Yama ptrace_scope=1 still lets it use pidfd_getfd() on the app and its
// workers, while the app, holding no capability, can neither ptrace it nor read its memory).
//
// For each notification, in this order (seccomp_unotify(2)):
//   1. copy the sockaddr out of the calling thread's memory, then check the notification is
//      still valid, so the copy belongs to this very bind();
//   2. take a duplicate of the socket from the calling thread's fd table with
//      pidfd_getfd(), check validity again;
//   3. require the socket to belong to the caller's uid and to this network namespace, decode
//      and judge the copy (bind_request.h); a bind not served is CONTINUEd and the kernel
//      decides it with the app's own rights;
//   4. a served bind is performed on the app's own socket from the copy, with the capability
//      effective only for that bind(), and the app gets bind()'s result. A served bind is
//      never CONTINUEd.
// A --port reservation covering the bind is released just before it (and restored if a
// served bind fails), so the app's own socket can take the port.
//
// With a broker (portbind --broker, or no privilege and a running broker) step 4 differs:
// the binding process holds no privilege and the app's socket is not bound. A socket the
// broker bound takes its place at the same fd number (SECCOMP_IOCTL_NOTIF_ADDFD with
// SETFD), with the app's O_NONBLOCK and close-on-exec flags, and bind() returns 0. That
// socket is the --port reservation for exactly this endpoint when there is one, otherwise
// the broker is asked for it and decides by this process's credentials (the caller's). The
// app then holds a broker socket: bound and, for TCP, already listening (its own listen()
// only sets the backlog); options it set before bind() other than IPV6_V6ONLY, O_NONBLOCK
// and IP_FREEBIND are not carried over, and SO_REUSEPORT is not available.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "launcher/bind_request.h"
#include "launcher/socket_options.h"
#include "launcher/unique_fd.h"
#include "policy/decide.h"
#include "policy/policy.h"
#include "policy/result.h"

struct seccomp_notif;
struct seccomp_notif_resp;

namespace portbind {

struct Reservation {
    Endpoint endpoint;
    bool privileged = false;
    UniqueFd socket;  // invalid once released
};

struct BindServiceConfig {
    std::unique_ptr<Policy> policy;  // nullptr: the caller is root, not subject to the policy
    Caller caller;
    uid_t uid = 0;    // the caller's uid: only its own sockets are served
    std::string who;  // "user alice (uid 1000)", for the log
    std::vector<SocketSpec> specs;
    std::vector<Reservation> reservations;  // parallel to specs
    SocketOptions options;                  // to restore a reservation
    unsigned unprivileged_start = 1024;
    std::optional<std::string> broker;  // the broker's socket, when sockets come from it
};

class BindService {
  public:
    static Result<std::unique_ptr<BindService>> create(BindServiceConfig config, UniqueFd listener);
    ~BindService();
    BindService(const BindService&) = delete;
    BindService& operator=(const BindService&) = delete;

    int listener() const { return listener_.get(); }

    // Receives one notification and answers it. Never throws; problems are logged.
    void serve_one();

  private:
    BindService(BindServiceConfig config, UniqueFd listener);

    struct Answer {
        bool proceed = true;  // CONTINUE: let the kernel decide with the app's rights
        int error = 0;        // otherwise bind()'s result: 0 or -errno
    };
    Answer handle(const seccomp_notif& request);
    bool still_valid(std::uint64_t id) const;
    Answer hand_over_from_broker(const seccomp_notif& request, pid_t pid, int app_fd,
                                 int app_socket, const Endpoint& endpoint,
                                 std::optional<std::size_t> spec, const std::string& line);
    void release_reservation(std::optional<std::size_t> spec);
    void restore_reservation(std::optional<std::size_t> spec);

    BindServiceConfig config_;
    BindRules rules_;
    UniqueFd listener_;
    std::optional<std::uint64_t> netns_cookie_;  // nullopt: the kernel cannot tell
    seccomp_notif* request_ = nullptr;
    seccomp_notif_resp* response_ = nullptr;
    std::set<std::uint64_t> served_inodes_;  // sockets this service bound (restarted binds)
};

}  // namespace portbind
