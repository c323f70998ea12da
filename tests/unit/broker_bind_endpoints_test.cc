// bind_endpoints() on real sockets, unprivileged ports only (so the capability is never
// raised, whoever runs the tests): each request of a batch succeeds or fails whole, and a
// failed request releases its sockets before the next request's binds, so it cannot take a
// port from another request of the same batch.
#include "launcher/broker/bind_endpoint.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <cstdint>
#include <vector>

#include "launcher/unique_fd.h"

using namespace portbind;
using namespace portbind::broker;

namespace {

// A socket on 127.0.0.1, bound to a port the kernel picked (and listening, for TCP): the
// port is held while it lives.
struct Holder {
    UniqueFd fd;
    std::uint16_t port = 0;
};

Holder hold_port(Proto proto = Proto::Tcp) {
    const bool tcp = proto == Proto::Tcp;
    Holder h;
    h.fd.reset(::socket(AF_INET, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0));
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sin;
    if (h.fd.valid() && ::bind(h.fd.get(), reinterpret_cast<sockaddr*>(&sin), sizeof sin) == 0 &&
        (!tcp || ::listen(h.fd.get(), 1) == 0) &&
        ::getsockname(h.fd.get(), reinterpret_cast<sockaddr*>(&sin), &len) == 0) {
        h.port = ntohs(sin.sin_port);
    }
    return h;
}

// A port that was free a moment ago (held, then released).
std::uint16_t free_port(Proto proto = Proto::Tcp) {
    return hold_port(proto).port;
}

BindJob job(std::size_t request, std::uint16_t port, Proto proto = Proto::Tcp) {
    BindJob j;
    j.request = request;
    j.endpoint.proto = proto;
    j.endpoint.address.family = Family::V4;
    j.endpoint.address.bytes = {127, 0, 0, 1};
    j.endpoint.port = port;
    return j;
}

int int_option(int fd, int name) {
    int value = -1;
    socklen_t len = sizeof value;
    return ::getsockopt(fd, SOL_SOCKET, name, &value, &len) == 0 ? value : -1;
}

std::uint16_t bound_port(int fd) {
    sockaddr_in sin{};
    socklen_t len = sizeof sin;
    return ::getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len) == 0 ? ntohs(sin.sin_port)
                                                                           : 0;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(broker_bind_endpoints_test)

BOOST_AUTO_TEST_CASE(every_request_is_bound_and_streams_listen) {
    const std::uint16_t a = free_port(), b = free_port(), c = free_port();
    BOOST_TEST_REQUIRE((a != 0 && b != 0 && c != 0));
    std::vector<BindJob> jobs;
    jobs.push_back(job(0, a));
    jobs.push_back(job(0, b, Proto::Udp));
    jobs.push_back(job(1, c));
    bind_endpoints(jobs);
    for (const BindJob& j : jobs) {
        BOOST_TEST_CONTEXT(j.endpoint.to_string()) {
            BOOST_TEST_REQUIRE(j.result.fd.valid());
            BOOST_TEST(j.result.error == 0);
            BOOST_TEST(j.result.message.empty());
            BOOST_TEST(bound_port(j.result.fd.get()) == j.endpoint.port);
            const bool stream = j.endpoint.proto == Proto::Tcp;
            BOOST_TEST(int_option(j.result.fd.get(), SO_TYPE) ==
                       (stream ? SOCK_STREAM : SOCK_DGRAM));
            BOOST_TEST(int_option(j.result.fd.get(), SO_ACCEPTCONN) == (stream ? 1 : 0));
        }
    }
}

// Request 0 asks for UDP port `shared` and a TCP port someone holds; request 1, in the same
// batch, asks for `shared` too. Request 0 fails whole, naming the held port, and request 1
// gets `shared`: request 0's socket on it was closed before request 1's bind. (UDP, because
// the broker's TCP sockets carry SO_REUSEADDR and so only conflict once listening.)
BOOST_AUTO_TEST_CASE(a_failed_request_releases_its_ports_for_the_rest_of_the_batch) {
    const Holder held = hold_port();
    const std::uint16_t shared = free_port(Proto::Udp);
    BOOST_TEST_REQUIRE((held.port != 0 && shared != 0));
    std::vector<BindJob> jobs;
    jobs.push_back(job(0, shared, Proto::Udp));
    jobs.push_back(job(0, held.port));
    jobs.push_back(job(0, free_port()));
    jobs.push_back(job(1, shared, Proto::Udp));
    bind_endpoints(jobs);

    BOOST_TEST(!jobs[0].result.fd.valid());
    BOOST_TEST(jobs[0].result.error == 0);  // only the socket that failed carries the error
    BOOST_TEST(!jobs[1].result.fd.valid());
    BOOST_TEST(jobs[1].result.error == EADDRINUSE);
    BOOST_TEST(jobs[1].result.message ==
               "cannot bind " + jobs[1].endpoint.to_string() + ": Address already in use");
    BOOST_TEST(!jobs[2].result.fd.valid());  // after the failure: not bound at all
    BOOST_TEST(jobs[2].result.error == 0);

    BOOST_TEST_REQUIRE(jobs[3].result.fd.valid());
    BOOST_TEST(jobs[3].result.error == 0);
    BOOST_TEST(bound_port(jobs[3].result.fd.get()) == shared);
    BOOST_TEST(int_option(jobs[3].result.fd.get(), SO_TYPE) == SOCK_DGRAM);
}

BOOST_AUTO_TEST_CASE(an_empty_batch_does_nothing) {
    std::vector<BindJob> none;
    bind_endpoints(none);
    BOOST_TEST(none.empty());
}

BOOST_AUTO_TEST_SUITE_END()
