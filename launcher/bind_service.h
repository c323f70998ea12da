// The binding process's work: answer the app's intercepted bind() calls.
//
// Runs as the caller with only CAP_NET_BIND_SERVICE permitted, non-dumpable, and is the
// app's ancestor (so Yama ptrace_scope=1 still lets it use pidfd_getfd() on the app and its
// workers, while the app, holding no capability, can neither ptrace it nor read its memory).
//
// For each notification, in this order (seccomp_unotify(2)):
//   1. copy the sockaddr out of the app's memory, then check the notification is still
//      valid, so the copy belongs to this very bind();
//   2. take a duplicate of the app's socket with pidfd_getfd(), check validity again;
//   3. decode and judge the copy (bind_request.h); a bind not served is CONTINUEd and the
//      kernel decides it with the app's own rights;
//   4. a served bind is performed on the app's own socket from the copy, with the capability
//      effective only for that bind(); a TCP socket is then put in the listening state, so
//      it can never originate a connection from a privileged port; the app gets bind()'s
//      result. A served bind is never CONTINUEd.
#pragma once

#include <sys/types.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "launcher/bind_request.h"
#include "launcher/unique_fd.h"
#include "policy/decide.h"
#include "policy/policy.h"

struct seccomp_notif;
struct seccomp_notif_resp;

namespace portbind {

struct BindServiceConfig {
    std::unique_ptr<Policy> policy;  // nullptr: the caller is root, not subject to the policy
    Caller caller;
    std::string who;  // "user alice (uid 1000)", for the log
    std::vector<SocketSpec> specs;
    std::vector<UniqueFd> reservations;  // parallel to specs; released by the first covered bind
    unsigned unprivileged_start = 1024;
};

class BindService {
  public:
    BindService(BindServiceConfig config, UniqueFd listener);
    ~BindService();
    BindService(const BindService&) = delete;
    BindService& operator=(const BindService&) = delete;

    int listener() const { return listener_.get(); }

    // Receives one notification and answers it. Never throws; problems are logged.
    void serve_one();

  private:
    struct Answer {
        bool proceed = true;  // CONTINUE: let the kernel decide with the app's rights
        int error = 0;        // otherwise bind()'s result: 0 or -errno
    };
    Answer handle(const seccomp_notif& request);
    bool still_valid(std::uint64_t id) const;

    BindServiceConfig config_;
    BindRules rules_;
    UniqueFd listener_;
    seccomp_notif* request_ = nullptr;
    seccomp_notif_resp* response_ = nullptr;
    std::set<std::uint64_t> served_inodes_;  // sockets this service bound (restarted binds)
};

}  // namespace portbind
