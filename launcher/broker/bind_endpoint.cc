#include "launcher/broker/bind_endpoint.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <vector>

#include "launcher/privilege.h"
#include "launcher/sockets.h"

namespace portbind::broker {

namespace {

// The jobs of one call and which of their requests have failed.
class Batch {
  public:
    explicit Batch(std::span<BindJob> jobs) : jobs_(jobs) {
        std::size_t requests = 0;
        for (const BindJob& job : jobs) {
            requests = std::max(requests, job.request + 1);
        }
        failed_.assign(requests, false);
    }

    std::span<BindJob> jobs() const { return jobs_; }

    bool failed(const BindJob& job) const { return failed_[job.request]; }

    // A job still to be done: its request has not failed and its socket is open.
    bool live(const BindJob& job) const { return !failed(job) && job.result.fd.valid(); }

    // Fails `job` with `err` and so its whole request: every socket of it is closed.
    void fail(BindJob& job, int err, const std::string& step) {
        if (err == 0) {
            err = EIO;
        }
        failed_[job.request] = true;
        for (BindJob& other : jobs_) {
            if (other.request == job.request) {
                other.result.fd.reset();
            }
        }
        job.result = BoundSocket{
            UniqueFd(), err,
            "cannot " + step + " " + job.endpoint.to_string() + ": " + std::strerror(err)};
    }

    // Binds the live privileged jobs with the capability raised and nothing but bind()
    // while it is: one raise for all of them, unless a bind fails. Then the capability is
    // lowered, the failed request closed, and it is raised again for the rest. bind_error()
    // would scan /proc.
    void bind_privileged() {
        std::size_t next = 0;
        while (next < jobs_.size()) {
            std::optional<std::size_t> failed_at;
            {
                if (!std::any_of(
                        jobs_.begin() + static_cast<std::ptrdiff_t>(next), jobs_.end(),
                        [this](const BindJob& job) { return job.privileged && live(job); })) {
                    return;
                }
                auto raised = BindCapability::raise();
                if (!raised.ok()) {
                    refuse_privileged(raised.error().message);
                    return;
                }
                for (; next < jobs_.size() && !failed_at; ++next) {
                    BindJob& job = jobs_[next];
                    if (job.privileged && live(job)) {
                        job.result.error = bind_socket(job.result.fd.get(), job.endpoint);
                        if (job.result.error != 0) {
                            failed_at = next;
                        }
                    }
                }
            }  // the capability is lowered here, before anything else happens
            if (failed_at) {
                BindJob& job = jobs_[*failed_at];
                fail(job, job.result.error, "bind");
            }
        }
    }

    // Binds the live unprivileged jobs, without the capability; a failure closes its
    // request at once.
    void bind_unprivileged() {
        for (BindJob& job : jobs_) {
            if (!job.privileged && live(job)) {
                if (const int err = bind_socket(job.result.fd.get(), job.endpoint); err != 0) {
                    fail(job, err, "bind");
                }
            }
        }
    }

  private:
    void refuse_privileged(const std::string& why) {
        for (BindJob& job : jobs_) {
            if (job.privileged && live(job)) {
                fail(job, EPERM, "bind");
                job.result.message = why;
            }
        }
    }

    std::span<BindJob> jobs_;
    std::vector<bool> failed_;
};

}  // namespace

void bind_endpoints(std::span<BindJob> jobs) {
    Batch batch(jobs);
    for (BindJob& job : batch.jobs()) {
        if (batch.failed(job)) {
            continue;
        }
        auto opened = open_socket(job.endpoint, job.options);
        if (!opened.ok()) {
            // open_socket() returns right after the failing call; closing the half-made
            // socket preserves errno (UniqueFd).
            const int err = errno;
            batch.fail(job, err, "create a socket for");
            continue;
        }
        job.result = BoundSocket{std::move(opened).value(), 0, {}};
    }
    batch.bind_privileged();
    batch.bind_unprivileged();
    for (BindJob& job : batch.jobs()) {
        if (batch.live(job) && job.endpoint.proto == Proto::Tcp &&
            ::listen(job.result.fd.get(), job.options.backlog) != 0) {
            const int err = errno;
            batch.fail(job, err, "listen on");
        }
    }
}

}  // namespace portbind::broker
