#include "launcher/broker/bind_endpoint.h"

#include <cerrno>
#include <cstring>
#include <optional>

#include "launcher/privilege.h"
#include "launcher/sockets.h"

namespace portbind::broker {

namespace {

BoundSocket failure(int err, const Endpoint& endpoint, const std::string& step) {
    if (err == 0) {
        err = EIO;
    }
    return BoundSocket{UniqueFd(), err,
                       "cannot " + step + " " + endpoint.to_string() + ": " + std::strerror(err)};
}

}  // namespace

BoundSocket bind_endpoint(const Endpoint& endpoint, const SocketOptions& options, bool privileged) {
    auto opened = open_socket(endpoint, options);
    if (!opened.ok()) {
        // open_socket() returns right after the failing call; closing the half-made socket
        // preserves errno (UniqueFd).
        return failure(errno, endpoint, "create a socket for");
    }
    UniqueFd fd = std::move(opened).value();
    int err = 0;
    {
        std::optional<BindCapability> capability;
        if (privileged) {
            auto raised = BindCapability::raise();
            if (!raised.ok()) {
                return BoundSocket{UniqueFd(), EPERM, raised.error().message};
            }
            capability.emplace(std::move(raised).value());
        }
        err = bind_socket(fd.get(), endpoint);  // bind() alone; bind_error() would scan /proc
    }  // the capability is lowered here, before anything else happens
    if (err != 0) {
        return failure(err, endpoint, "bind");
    }
    if (auto s = start_listening(fd.get(), endpoint, options.backlog); !s.ok()) {
        return failure(errno, endpoint, "listen on");
    }
    return BoundSocket{std::move(fd), 0, {}};
}

}  // namespace portbind::broker
