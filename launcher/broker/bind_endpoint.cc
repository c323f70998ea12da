#include "launcher/broker/bind_endpoint.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "launcher/privilege.h"
#include "launcher/sockets.h"

namespace portbind::broker {

namespace {

void fail(BindJob& job, int err, const std::string& step) {
    if (err == 0) {
        err = EIO;
    }
    job.result =
        BoundSocket{UniqueFd(), err,
                    "cannot " + step + " " + job.endpoint.to_string() + ": " + std::strerror(err)};
}

// bind() alone for each job of the given kind, keeping its errno: nothing else (no message,
// no close) happens here, as the capability may be effective. bind_error() would scan /proc.
void bind_each(std::span<BindJob> jobs, bool privileged) {
    for (BindJob& job : jobs) {
        if (job.privileged == privileged && job.result.fd.valid()) {
            job.result.error = bind_socket(job.result.fd.get(), job.endpoint);
        }
    }
}

}  // namespace

void bind_endpoints(std::span<BindJob> jobs) {
    bool any_privileged = false;
    for (BindJob& job : jobs) {
        auto opened = open_socket(job.endpoint, job.options);
        if (!opened.ok()) {
            // open_socket() returns right after the failing call; closing the half-made
            // socket preserves errno (UniqueFd).
            fail(job, errno, "create a socket for");
            continue;
        }
        job.result = BoundSocket{std::move(opened).value(), 0, {}};
        any_privileged = any_privileged || job.privileged;
    }
    if (any_privileged) {
        auto raised = BindCapability::raise();
        if (raised.ok()) {
            bind_each(jobs, true);
        } else {
            for (BindJob& job : jobs) {
                if (job.privileged && job.result.fd.valid()) {
                    job.result = BoundSocket{UniqueFd(), EPERM, raised.error().message};
                }
            }
        }
    }  // the capability is lowered here, before anything else happens
    bind_each(jobs, false);
    for (BindJob& job : jobs) {
        if (!job.result.fd.valid()) {
            continue;
        }
        if (job.result.error != 0) {
            fail(job, job.result.error, "bind");
        } else if (job.endpoint.proto == Proto::Tcp &&
                   ::listen(job.result.fd.get(), job.options.backlog) != 0) {
            fail(job, errno, "listen on");
        }
    }
}

}  // namespace portbind::broker
