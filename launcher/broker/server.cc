#include "launcher/broker/server.h"

#include <linux/sockios.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "launcher/audit_log.h"
#include "launcher/broker/authorize.h"
#include "launcher/broker/bind_endpoint.h"
#include "launcher/broker/connection_limits.h"
#include "launcher/broker/decision_cache.h"
#include "launcher/broker/message.h"
#include "launcher/broker/name_cache.h"
#include "launcher/broker/peer.h"
#include "launcher/broker/ready_notify.h"
#include "launcher/broker/transport.h"
#include "launcher/policy_access.h"
#include "launcher/sockets.h"

namespace portbind::broker {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kAcceptBatch = 64;  // accepts per wake-up, so peers get their turn
constexpr auto kAcceptPause = std::chrono::milliseconds(100);  // after EMFILE and friends
constexpr auto kAcceptWarningInterval = std::chrono::seconds(10);
constexpr auto kNameTtl = std::chrono::seconds(5);
constexpr std::size_t kNameCacheEntries = 4096;
constexpr std::size_t kDecisionCacheEntries = 4096;
constexpr int kMaxEvents = 256;

enum class Phase {
    AwaitRequest,  // accepted; the request has not arrived yet
    Binding,       // granted; its sockets are bound with the others of this wake-up
    SendingReply,  // the reply did not fit the peer's queue yet (EPOLLOUT)
    AwaitClose,    // the reply with sockets was sent; waiting for the peer to read and close
    Unread,        // the peer let the deadline pass without reading its reply: held (and
                   // counted against its uid) until it closes
};

struct Connection {
    UniqueFd fd;
    PeerCredentials peer;
    Phase phase = Phase::AwaitRequest;
    std::uint64_t deadline_id = 0;  // the live entry in the deadline queue, 0 for none
    Bytes reply;                    // while SendingReply
    std::vector<UniqueFd> reply_sockets;
    std::vector<LogLine> grants;  // logged once the reply is sent
};

// A policy and the decisions made over it, born and replaced together, so no remembered
// decision outlives the rules it names.
struct LoadedPolicy {
    explicit LoadedPolicy(Policy loaded)
        : policy(std::move(loaded)), decisions(policy, kDecisionCacheEntries) {}
    Policy policy;
    DecisionCache decisions;
};

// A granted request whose sockets are bound at the end of the wake-up (bind_endpoints()),
// together with the others granted in it; earlier when the batch is full or before a
// SIGHUP's reload, so no grant is completed under a policy other than its own.
struct PendingGrant {
    int fd = -1;  // the connection, in Phase::Binding until the grant is completed
    std::size_t first_job = 0;
    std::size_t jobs = 0;
    Peer peer;                    // for the log line of a failed bind
    std::vector<LogLine> grants;  // logged once the reply is sent
};

struct Deadline {
    Clock::time_point at;
    int fd = -1;
    std::uint64_t id = 0;
};

bool stderr_is_journal() {
    const char* stream = std::getenv("JOURNAL_STREAM");
    struct stat st {};
    if (stream == nullptr || ::fstat(STDERR_FILENO, &st) != 0) {
        return false;
    }
    const std::string expected = std::to_string(static_cast<unsigned long long>(st.st_dev)) + ":" +
                                 std::to_string(static_cast<unsigned long long>(st.st_ino));
    return expected == stream;
}

// The broker's lines for stderr, written together before it next waits (flush()) rather
// than with one write() each: under load one wake-up answers many peers. A line is never
// held while the broker waits for events.
class StderrLines {
  public:
    void add(const std::string& line) {
        pending_ += "portbind serve: ";
        pending_ += line;
        pending_ += '\n';
    }
    void flush() {
        std::size_t done = 0;
        while (done < pending_.size()) {
            const ssize_t n =
                ::write(STDERR_FILENO, pending_.data() + done, pending_.size() - done);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                break;  // stderr is gone or full: the lines are dropped, the broker serves on
            }
            done += static_cast<std::size_t>(n);
        }
        pending_.clear();
    }

  private:
    std::string pending_;
};

// Reads and discards whatever the peer sent that was not read (descriptors are discarded
// by the kernel, as no control buffer is given). Closing with data unread would make the
// peer's next receive fail with ECONNRESET before it sees our reply.
void drain(int fd) {
    std::array<std::uint8_t, 64> sink{};
    for (int i = 0; i < 8; ++i) {
        if (::recv(fd, sink.data(), sink.size(), MSG_DONTWAIT | MSG_TRUNC) <= 0) {
            return;
        }
    }
}

class Server {
  public:
    Server(Listener listener, ServerConfig config)
        : listener_(std::move(listener)),
          config_(std::move(config)),
          limits_(kMaxConnections, kMaxConnectionsPerUid),
          names_(
              [this](uid_t uid, gid_t gid, const std::vector<gid_t>& groups) {
                  return lookup_peer_names(uid, gid, groups, state_.overflow_gid);
              },
              kNameTtl, kNameCacheEntries),
          log_to_stderr_(!stderr_is_journal()) {}

    Status run();

  private:
    Status set_up_events();
    void load_policy_at_start();
    void use_policy(Policy policy);
    void reload_policy();
    void refresh_host_facts();
    void handle_signals();

    void accept_ready();
    void set_accepting(bool on);
    void pause_accepting(Clock::time_point now);
    void on_connection_event(int fd, std::uint32_t events);
    void read_request(Connection& c);
    void handle_request(Connection& c, const SocketRequest& request);
    void send_reply(Connection& c);
    void fail(Connection& c, int error, const std::string& text);
    void close_connection(int fd);
    bool admit(uid_t uid);
    void release_answered(std::optional<uid_t> uid);
    void set_deadline(Connection& c, Clock::time_point now);
    void expire_deadlines(Clock::time_point now);
    int next_timeout_ms(Clock::time_point now) const;

    void grant_pending();

    // Status lines are written at once (after any decision lines waiting); decision lines
    // (audit()) wait for the end of the wake-up.
    void say(const std::string& line) {
        stderr_.add(line);
        stderr_.flush();
    }
    // As with sd_notify(), a notification that cannot be sent does not stop the broker.
    void notify(const std::string& message);
    void audit(const LogLine& line);
    std::string peer_prefix(const Connection& c) const;

    Listener listener_;
    ServerConfig config_;
    UniqueFd epoll_;
    UniqueFd signals_;
    ConnectionLimits limits_;
    NameCache names_;
    bool log_to_stderr_;
    StderrLines stderr_;
    uid_t own_uid_ = ::geteuid();

    std::unique_ptr<LoadedPolicy> loaded_;
    PolicyState state_;
    bool host_ipv6_ = true;

    std::unordered_map<int, Connection> connections_;
    std::deque<Deadline> deadlines_;
    std::uint64_t next_deadline_id_ = 0;
    bool accepting_ = true;
    std::optional<Clock::time_point> accept_resume_;
    std::optional<Clock::time_point> last_accept_warning_;
    std::vector<BindJob> jobs_;  // the sockets of pending_, in order
    std::vector<PendingGrant> pending_;
    bool stop_ = false;
    std::array<std::uint8_t, kMaxMessageSize + 1> buffer_{};
};

#ifndef SO_PASSRIGHTS
#define SO_PASSRIGHTS 83  // Linux 6.16
#endif

// No client can put descriptors in flight to the broker: with SO_PASSRIGHTS off on the
// listener (inherited by every connection from its creation, so before the first byte) a
// sender's SCM_RIGHTS fails with EPERM. Otherwise the broker would drop the last reference
// to whatever a client sent, and closing a connected TCP socket with SO_LINGER and unsent
// data blocks for the linger time: one client could stall the broker for everyone. Older
// kernels lack the option; there the kernel discards attached descriptors (no control
// buffer is given), which still closes them in the broker's context.
void refuse_passed_descriptors(int listener) {
    const int off = 0;
    (void)::setsockopt(listener, SOL_SOCKET, SO_PASSRIGHTS, &off, sizeof off);
}

Status Server::set_up_events() {
    refuse_passed_descriptors(listener_.fd.get());
    epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
    if (!epoll_.valid()) {
        return os_error("epoll_create1", errno);
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if (::sigprocmask(SIG_BLOCK, &set, nullptr) != 0) {
        return os_error("sigprocmask", errno);
    }
    signals_.reset(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!signals_.valid()) {
        return os_error("signalfd", errno);
    }
    for (const int fd : {listener_.fd.get(), signals_.get()}) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = fd;
        if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
            return os_error("epoll_ctl", errno);
        }
    }
    return success();
}

void Server::refresh_host_facts() {
    state_.unprivileged_start = read_unprivileged_port_start();
    state_.overflow_uid = read_overflow_uid();
    state_.overflow_gid = read_overflow_gid();
    host_ipv6_ = host_has_ipv6();
}

void Server::load_policy_at_start() {
    state_.file = config_.policy.file;
    auto loaded = load_policy(config_.policy);
    if (!loaded.ok()) {
        state_.problem = loaded.error().message;
        say("cannot use the policy, so every privileged port is denied until it is "
            "fixed and the broker reloaded (SIGHUP): " +
            loaded.error().message);
        return;
    }
    use_policy(std::move(loaded).value());
    const Policy& policy = loaded_->policy;
    if (!policy.valid()) {
        say("the policy has errors, so every privileged port is denied until it is "
            "fixed and the broker reloaded (SIGHUP): " +
            policy.describe(policy.errors.front()));
    } else {
        say("policy loaded: " + std::to_string(policy.rules.size()) + " rules from " +
            std::to_string(policy.files.size()) + " files");
    }
}

void Server::use_policy(Policy policy) {
    loaded_ = std::make_unique<LoadedPolicy>(std::move(policy));
    state_.policy = &loaded_->policy;
    state_.decisions = &loaded_->decisions;
    state_.problem.clear();
}

void Server::reload_policy() {
    notify("RELOADING=1");
    refresh_host_facts();
    names_.clear();
    auto loaded = load_policy(config_.policy);
    const bool have_valid = loaded_ && loaded_->policy.valid();
    if (!loaded.ok()) {
        say("policy reload failed, " +
            std::string(have_valid ? "keeping the previous policy: "
                                   : "still denying every privileged port: ") +
            loaded.error().message);
    } else if (!loaded.value().valid() && have_valid) {
        say("policy reload failed, keeping the previous policy: " +
            loaded.value().describe(loaded.value().errors.front()));
    } else {
        use_policy(std::move(loaded).value());
        const Policy& policy = loaded_->policy;
        if (policy.valid()) {
            say("policy reloaded: " + std::to_string(policy.rules.size()) + " rules from " +
                std::to_string(policy.files.size()) + " files");
        } else {
            say("the reloaded policy has errors, so every privileged port is still "
                "denied: " +
                policy.describe(policy.errors.front()));
        }
    }
    notify("READY=1");
}

void Server::handle_signals() {
    signalfd_siginfo info{};
    while (::read(signals_.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
        if (info.ssi_signo == SIGHUP) {
            grant_pending();  // decided under the policy being replaced
            reload_policy();
        } else {
            stop_ = true;
        }
    }
}

void Server::set_accepting(bool on) {
    if (on == accepting_) {
        return;
    }
    epoll_event ev{};
    ev.events = on ? static_cast<std::uint32_t>(EPOLLIN) : 0U;
    ev.data.fd = listener_.fd.get();
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, listener_.fd.get(), &ev) == 0) {
        accepting_ = on;
    }
}

void Server::pause_accepting(Clock::time_point now) {
    set_accepting(false);
    accept_resume_ = now + kAcceptPause;
}

void Server::accept_ready() {
    for (std::size_t i = 0; i < kAcceptBatch; ++i) {
        if (limits_.full()) {
            release_answered(std::nullopt);
        }
        if (limits_.full()) {
            set_accepting(false);  // resumed when a connection closes
            return;
        }
        const int raw =
            ::accept4(listener_.fd.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (raw < 0) {
            const int err = errno;
            if (err == EAGAIN || err == EWOULDBLOCK) {
                return;
            }
            if (err == EINTR || err == ECONNABORTED) {
                continue;
            }
            // EMFILE, ENFILE, ENOBUFS, ENOMEM, ...: the pending connection stays queued and
            // the listener stays readable, so accepting again at once would spin. Pause.
            const Clock::time_point now = Clock::now();
            if (!last_accept_warning_ || now - *last_accept_warning_ > kAcceptWarningInterval) {
                say(std::string("cannot accept connections for now: ") + std::strerror(err));
                last_accept_warning_ = now;
            }
            pause_accepting(now);
            return;
        }
        UniqueFd fd(raw);
        auto cred = peer_credentials(fd.get());
        if (!cred.ok()) {
            continue;
        }
        const PeerCredentials peer = cred.value();
        if (!admit(peer.uid)) {
            audit(LogLine{false, "uid " + std::to_string(peer.uid) + " pid " +
                                     std::to_string(peer.pid) + ": too many connections (" +
                                     std::to_string(limits_.open_for(peer.uid)) + " open)"});
            const Bytes reply = encode_reply(SocketReply{
                EAGAIN, 0,
                "too many connections to the broker for uid " + std::to_string(peer.uid) +
                    " (at most " + std::to_string(kMaxConnectionsPerUid) + "); try again later"});
            (void)send_message(fd.get(), reply, {}, MSG_DONTWAIT);
            drain(fd.get());
            continue;
        }
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLRDHUP;
        ev.data.fd = fd.get();
        if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd.get(), &ev) != 0) {
            limits_.release(peer.uid);
            continue;
        }
        const int key = fd.get();
        Connection& c = connections_[key];
        c.fd = std::move(fd);
        c.peer = peer;
        read_request(c);  // usually already there: the client sends right after connect()
        if (const auto it = connections_.find(key); it != connections_.end() &&
                                                    it->second.phase == Phase::AwaitRequest &&
                                                    it->second.deadline_id == 0) {
            set_deadline(it->second, Clock::now());
        }
    }
}

void Server::set_deadline(Connection& c, Clock::time_point now) {
    c.deadline_id = ++next_deadline_id_;
    // Every deadline is now + the same duration, so the queue stays in order.
    deadlines_.push_back(Deadline{now + kConnectionDeadline, c.fd.get(), c.deadline_id});
}

// Connections whose peer has read its reply (nothing of ours left in its queue) or has gone
// away are done, even if their close has not been seen yet: under load the broker accepts
// a client's next connection before it gets to the previous one's close.
void Server::release_answered(std::optional<uid_t> uid) {
    std::vector<int> done;
    for (const auto& [fd, c] : connections_) {
        if ((uid && c.peer.uid != *uid) ||
            (c.phase != Phase::AwaitClose && c.phase != Phase::Unread)) {
            continue;
        }
        int unread = 0;
        if (::ioctl(fd, SIOCOUTQ, &unread) != 0 || unread == 0) {
            done.push_back(fd);
        }
    }
    for (const int fd : done) {
        close_connection(fd);
    }
}

bool Server::admit(uid_t uid) {
    if (limits_.admit(uid)) {
        return true;
    }
    release_answered(uid);
    return limits_.admit(uid);
}

void Server::close_connection(int fd) {
    const auto it = connections_.find(fd);
    if (it == connections_.end()) {
        return;
    }
    limits_.release(it->second.peer.uid);
    connections_.erase(it);  // closing the fd also removes it from the epoll set
    if (!accepting_ && !accept_resume_ && !limits_.full()) {
        set_accepting(true);
    }
}

std::string Server::peer_prefix(const Connection& c) const {
    return "uid " + std::to_string(c.peer.uid) + " pid " + std::to_string(c.peer.pid);
}

void Server::notify(const std::string& message) {
    stderr_.flush();  // what was logged before the notification is out before it
    if (auto s = notify_service_manager(message); !s.ok()) {
        say(s.error().message);
    }
}

void Server::audit(const LogLine& line) {
    log_decision(line.granted, line.text);
    if (log_to_stderr_) {
        stderr_.add(std::string(line.granted ? "granted: " : "denied: ") +
                    escape_for_log(line.text));
    }
}

void Server::fail(Connection& c, int error, const std::string& text) {
    const Bytes reply = encode_reply(SocketReply{error, 0, text});
    (void)send_message(c.fd.get(), reply, {}, MSG_DONTWAIT);
    drain(c.fd.get());
    close_connection(c.fd.get());
}

void Server::on_connection_event(int fd, std::uint32_t events) {
    const auto it = connections_.find(fd);
    if (it == connections_.end()) {
        return;
    }
    Connection& c = it->second;
    switch (c.phase) {
        case Phase::AwaitRequest:
            read_request(c);
            return;
        case Phase::Binding:
            return;  // answered at the end of this wake-up; the event, if still true, recurs
        case Phase::SendingReply:
            if ((events & (EPOLLHUP | EPOLLERR | EPOLLRDHUP)) != 0) {
                audit(LogLine{false, peer_prefix(c) + ": left before the reply was sent"});
                close_connection(fd);
            } else if ((events & EPOLLOUT) != 0) {
                send_reply(c);
            }
            return;
        case Phase::AwaitClose:
        case Phase::Unread:
            // The peer closed (or, against the protocol, sent more): either way, done.
            if ((events & EPOLLHUP) == 0) {
                drain(fd);
            }
            close_connection(fd);
            return;
    }
}

void Server::read_request(Connection& c) {
    ReceivedMessage message;
    const int err = receive_message(c.fd.get(), buffer_, 0, MSG_DONTWAIT, message);
    if (err == EAGAIN || err == EWOULDBLOCK) {
        return;
    }
    if (err != 0 || message.size == 0) {
        close_connection(c.fd.get());  // gone, or an empty frame
        return;
    }
    const auto refuse_frame = [&](int error, const std::string& why) {
        audit(LogLine{false, peer_prefix(c) + ": malformed request: " + why});
        fail(c, error, "malformed request: " + why);
    };
    if ((message.flags & MSG_CTRUNC) != 0) {
        // Without a control buffer the kernel has already discarded the descriptors.
        refuse_frame(EPROTO,
                     "ancillary data (file descriptors or credentials) attached; the "
                     "broker accepts none");
        return;
    }
    if ((message.flags & MSG_TRUNC) != 0 || message.size > kMaxMessageSize) {
        refuse_frame(EPROTO, "larger than " + std::to_string(kMaxMessageSize) + " bytes");
        return;
    }
    const DecodedRequest decoded = decode_request(std::span(buffer_).first(message.size));
    if (!decoded.request) {
        refuse_frame(decoded.error, decoded.reason);
        return;
    }
    handle_request(c, *decoded.request);
}

void Server::handle_request(Connection& c, const SocketRequest& request) {
    if (request.options.reuseport) {
        audit(LogLine{false, peer_prefix(c) + ": SO_REUSEPORT requested"});
        fail(c, EPERM,
             "SO_REUSEPORT is not available through the broker: all its sockets belong to the "
             "broker's uid, so they could join each other's reuseport groups");
        return;
    }
    std::vector<Endpoint> endpoints;
    endpoints.reserve(request.specs.size());
    for (const SocketSpec& spec : request.specs) {
        const Endpoint ep = resolve_endpoint(spec, host_ipv6_, request.options.v6only);
        for (const Endpoint& other : endpoints) {
            if (other == ep) {
                fail(c, EINVAL, "socket " + ep.to_string() + " requested twice");
                return;
            }
        }
        endpoints.push_back(ep);
    }

    Peer peer;
    peer.uid = c.peer.uid;
    peer.gid = c.peer.gid;
    peer.pid = c.peer.pid;
    // Names also serve the log lines, and are cached, so they are looked up for every peer
    // except an unmapped one (refused whatever its names).
    const bool unmapped = peer.uid == state_.overflow_uid || peer.uid == kOverflowId ||
                          peer.gid == state_.overflow_gid || peer.gid == kOverflowId;
    if (!unmapped) {
        auto groups = peer_groups(c.fd.get());
        if (!groups.ok()) {
            audit(LogLine{false, peer_prefix(c) + ": " + groups.error().message});
            fail(c, EPROTO, "cannot read the peer's groups");
            return;
        }
        peer.names = names_.names_for(peer.uid, peer.gid, std::move(groups).value(), Clock::now());
    }
    // The kernel shows a process's executable only to its own uid (with no fewer
    // capabilities) or to CAP_SYS_PTRACE, which the broker never holds: other peers'
    // executables stay unknown, so the lookup is skipped for them.
    if (peer.uid == own_uid_) {
        peer.exe = peer_executable(c.fd.get(), peer.pid);
    }

    Verdict verdict = authorize(state_, peer, endpoints);
    if (!verdict.granted) {
        for (const LogLine& line : verdict.log) {
            audit(line);
        }
        fail(c, verdict.error, verdict.reason);
        return;
    }
    // A batch holds at most kMaxRequestSockets sockets (or one larger request), so the
    // descriptors open at once stay within what serve_command.cc's limit allows for.
    if (!jobs_.empty() && jobs_.size() + endpoints.size() > kMaxRequestSockets) {
        grant_pending();  // other connections only: `c` is not pending yet
    }
    const std::size_t index = pending_.size();
    PendingGrant grant{c.fd.get(), jobs_.size(), endpoints.size(), std::move(peer),
                       std::move(verdict.log)};
    for (std::size_t i = 0; i < endpoints.size(); ++i) {
        jobs_.push_back(BindJob{index, endpoints[i], request.options, verdict.privileged[i], {}});
    }
    pending_.push_back(std::move(grant));
    c.phase = Phase::Binding;
}

// Binds the sockets of every request granted since the last call, then answers each.
void Server::grant_pending() {
    if (pending_.empty()) {
        return;
    }
    bind_endpoints(jobs_);
    for (PendingGrant& grant : pending_) {
        const auto it = connections_.find(grant.fd);
        if (it == connections_.end() || it->second.phase != Phase::Binding) {
            continue;  // cannot happen: only this function ends Phase::Binding
        }
        Connection& c = it->second;
        const std::span<BindJob> jobs = std::span(jobs_).subspan(grant.first_job, grant.jobs);
        const auto failed = std::find_if(jobs.begin(), jobs.end(),
                                         [](const BindJob& job) { return job.result.error != 0; });
        if (failed != jobs.end()) {
            audit(LogLine{false, describe_peer(grant.peer) + " socket " +
                                     failed->endpoint.to_string() + ": " + failed->result.message});
            fail(c, failed->result.error, failed->result.message);
            continue;
        }
        c.reply_sockets.clear();
        for (BindJob& job : jobs) {
            c.reply_sockets.push_back(std::move(job.result.fd));
        }
        c.reply = encode_reply(SocketReply{0, static_cast<std::uint16_t>(jobs.size()), {}});
        c.grants = std::move(grant.grants);
        send_reply(c);
    }
    pending_.clear();
    jobs_.clear();  // closes the sockets of refused requests
}

void Server::send_reply(Connection& c) {
    std::vector<int> fds;
    fds.reserve(c.reply_sockets.size());
    for (const UniqueFd& s : c.reply_sockets) {
        fds.push_back(s.get());
    }
    const int err = send_message(c.fd.get(), c.reply, fds, MSG_DONTWAIT);
    const Clock::time_point now = Clock::now();
    if (err == EAGAIN || err == EWOULDBLOCK) {
        if (c.phase != Phase::SendingReply) {
            c.phase = Phase::SendingReply;
            epoll_event ev{};
            ev.events = EPOLLOUT | EPOLLRDHUP;
            ev.data.fd = c.fd.get();
            ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, c.fd.get(), &ev);
            set_deadline(c, now);
        }
        return;
    }
    if (err != 0) {
        audit(LogLine{false,
                      peer_prefix(c) + ": the reply could not be sent: " + std::strerror(err)});
        close_connection(c.fd.get());
        return;
    }
    for (const LogLine& line : c.grants) {
        audit(line);
    }
    // The peer holds the sockets now; the broker keeps no copy.
    c.reply_sockets.clear();
    c.reply.clear();
    c.grants.clear();
    if (c.phase == Phase::SendingReply) {
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLRDHUP;
        ev.data.fd = c.fd.get();
        ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, c.fd.get(), &ev);
    }
    c.phase = Phase::AwaitClose;
    set_deadline(c, now);
}

void Server::expire_deadlines(Clock::time_point now) {
    while (!deadlines_.empty() && deadlines_.front().at <= now) {
        const Deadline d = deadlines_.front();
        deadlines_.pop_front();
        const auto it = connections_.find(d.fd);
        if (it == connections_.end() || it->second.deadline_id != d.id) {
            continue;  // closed, or given a later deadline
        }
        Connection& c = it->second;
        c.deadline_id = 0;
        switch (c.phase) {
            case Phase::AwaitRequest:
                fail(c, ETIMEDOUT,
                     "no request within " + std::to_string(kConnectionDeadline.count()) + " s");
                break;
            case Phase::SendingReply:
                audit(
                    LogLine{false, peer_prefix(c) + ": the reply could not be delivered in time"});
                close_connection(d.fd);
                break;
            case Phase::AwaitClose: {
                // Until the peer reads the reply its sockets are in flight, charged to the
                // broker; a peer that never reads keeps its connection counted, so it cannot
                // pile up more than its share.
                int unread = 0;
                if (::ioctl(c.fd.get(), SIOCOUTQ, &unread) == 0 && unread > 0) {
                    c.phase = Phase::Unread;
                } else {
                    close_connection(d.fd);
                }
                break;
            }
            case Phase::Binding:  // answered before deadlines are looked at
            case Phase::Unread:
                break;
        }
    }
}

int Server::next_timeout_ms(Clock::time_point now) const {
    std::optional<Clock::time_point> next;
    if (!deadlines_.empty()) {
        next = deadlines_.front().at;
    }
    if (accept_resume_ && (!next || *accept_resume_ < *next)) {
        next = accept_resume_;
    }
    if (!next) {
        return -1;
    }
    if (*next <= now) {
        return 0;
    }
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(*next - now).count();
    return static_cast<int>(std::min<long long>(ms, 60'000));
}

Status Server::run() {
    if (auto s = set_up_events(); !s.ok()) {
        return s;
    }
    refresh_host_facts();
    load_policy_at_start();
    say("serving on " + listener_.path + " as uid " + std::to_string(::getuid()));
    notify("READY=1\n" + notify_assignment("STATUS", "serving on " + listener_.path));

    std::array<epoll_event, kMaxEvents> events{};
    while (!stop_) {
        stderr_.flush();
        const int n =
            ::epoll_wait(epoll_.get(), events.data(), kMaxEvents, next_timeout_ms(Clock::now()));
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return os_error("epoll_wait", errno);
        }
        for (int i = 0; i < n; ++i) {
            const int fd = events[static_cast<std::size_t>(i)].data.fd;
            if (fd == listener_.fd.get()) {
                accept_ready();
            } else if (fd == signals_.get()) {
                handle_signals();
            } else {
                on_connection_event(fd, events[static_cast<std::size_t>(i)].events);
            }
        }
        grant_pending();
        const Clock::time_point now = Clock::now();
        expire_deadlines(now);
        if (accept_resume_ && *accept_resume_ <= now) {
            accept_resume_.reset();
            if (!limits_.full()) {
                set_accepting(true);
            }
        }
    }
    notify("STOPPING=1");
    say("stopping");
    return success();
}

}  // namespace

Status serve(Listener listener, const ServerConfig& config) {
    auto server = std::make_unique<Server>(std::move(listener), config);
    return server->run();
}

}  // namespace portbind::broker
