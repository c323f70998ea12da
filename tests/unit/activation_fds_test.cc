#include "launcher/broker/activation_fds.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>

#include "launcher/unique_fd.h"

using namespace portbind;
using namespace portbind::broker;

namespace {

UniqueFd unix_socket(int type, bool listening) {
    UniqueFd fd(::socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
    BOOST_REQUIRE(fd.valid());
    static int counter = 0;
    const std::string name = "portbind-activation-fds-test/" + std::to_string(::getpid()) + "/" +
                             std::to_string(++counter);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path + 1, name.data(), name.size());  // abstract namespace
    const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
    BOOST_REQUIRE_EQUAL(::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), length), 0);
    if (listening) {
        BOOST_REQUIRE_EQUAL(::listen(fd.get(), 4), 0);
    }
    return fd;
}

// Runs `body` in a child process (it may renumber fds and change the environment freely)
// and returns its exit status: 0 when every check in it held, else the failing check's
// number.
int in_child(const std::function<int()>& body) {
    const pid_t pid = ::fork();
    BOOST_REQUIRE(pid >= 0);
    if (pid == 0) {
        ::_exit(body());
    }
    int status = 0;
    BOOST_REQUIRE_EQUAL(::waitpid(pid, &status, 0), pid);
    BOOST_REQUIRE(WIFEXITED(status));
    return WEXITSTATUS(status);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(activation_fds_test)

BOOST_AUTO_TEST_CASE(counts_only_what_is_meant_for_this_process) {
    BOOST_TEST(parse_activation_fd_count("4242", "1", 4242) == 1);
    BOOST_TEST(parse_activation_fd_count("4242", "3", 4242) == 3);
    BOOST_TEST(parse_activation_fd_count("4242", "2147483644", 4242) == 2147483644);
    BOOST_TEST(parse_activation_fd_count(nullptr, "1", 4242) == 0);
    BOOST_TEST(parse_activation_fd_count(nullptr, nullptr, 4242) == 0);
    BOOST_TEST(parse_activation_fd_count("4242", nullptr, 4242) == 0);
    BOOST_TEST(parse_activation_fd_count("4243", "1", 4242) == 0);  // another process's
    BOOST_TEST(parse_activation_fd_count("4243", "junk", 4242) == 0);
}

BOOST_AUTO_TEST_CASE(malformed_variables_are_errors) {
    for (const char* pid : {"", "0", "-4242", "+4242", "04242", " 4242", "4242 ", "0x1092", "4242x",
                            "2147483648", "99999999999999999999"}) {
        BOOST_CHECK_MESSAGE(parse_activation_fd_count(pid, "1", 4242) == -EINVAL,
                            "LISTEN_PID='" << pid << "'");
    }
    for (const char* fds : {"", "0", "-1", "+1", "01", " 1", "1 ", "0x1", "1x", "2147483645",
                            "99999999999999999999"}) {
        BOOST_CHECK_MESSAGE(parse_activation_fd_count("4242", fds, 4242) == -EINVAL,
                            "LISTEN_FDS='" << fds << "'");
    }
}

BOOST_AUTO_TEST_CASE(only_a_listening_unix_socket_of_the_type_passes) {
    BOOST_TEST(is_listening_unix_socket(unix_socket(SOCK_SEQPACKET, true).get(), SOCK_SEQPACKET));
    BOOST_TEST(is_listening_unix_socket(unix_socket(SOCK_STREAM, true).get(), SOCK_STREAM));
    BOOST_TEST(!is_listening_unix_socket(unix_socket(SOCK_STREAM, true).get(), SOCK_SEQPACKET));
    BOOST_TEST(!is_listening_unix_socket(unix_socket(SOCK_SEQPACKET, false).get(), SOCK_SEQPACKET));
    BOOST_TEST(!is_listening_unix_socket(unix_socket(SOCK_DGRAM, false).get(), SOCK_SEQPACKET));

    int pair[2];
    BOOST_REQUIRE_EQUAL(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair), 0);
    const UniqueFd a(pair[0]), b(pair[1]);
    BOOST_TEST(!is_listening_unix_socket(a.get(), SOCK_SEQPACKET));

    int pipe_fds[2];
    BOOST_REQUIRE_EQUAL(::pipe2(pipe_fds, O_CLOEXEC), 0);
    const UniqueFd r(pipe_fds[0]), w(pipe_fds[1]);
    BOOST_TEST(!is_listening_unix_socket(r.get(), SOCK_SEQPACKET));

    // A listening socket of another family (the wildcard address, so no interface is needed).
    const UniqueFd tcp(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    BOOST_REQUIRE(tcp.valid());
    sockaddr_in any{};
    any.sin_family = AF_INET;
    BOOST_REQUIRE_EQUAL(::bind(tcp.get(), reinterpret_cast<const sockaddr*>(&any), sizeof any), 0);
    BOOST_REQUIRE_EQUAL(::listen(tcp.get(), 1), 0);
    BOOST_TEST(!is_listening_unix_socket(tcp.get(), SOCK_STREAM));

    BOOST_TEST(!is_listening_unix_socket(-1, SOCK_SEQPACKET));
}

BOOST_AUTO_TEST_CASE(receiving_marks_close_on_exec_and_unsets_the_variables) {
    UniqueFd listener = unix_socket(SOCK_SEQPACKET, true);
    const int failed = in_child([&]() {
        // As systemd passes it: at fd 3, not close-on-exec.
        if (listener.get() != kFirstActivationFd &&
            ::dup2(listener.get(), kFirstActivationFd) != kFirstActivationFd) {
            return 1;
        }
        if (::fcntl(kFirstActivationFd, F_SETFD, 0) != 0) {
            return 2;
        }
        ::setenv("LISTEN_PID", std::to_string(::getpid()).c_str(), 1);
        ::setenv("LISTEN_FDS", "1", 1);
        ::setenv("LISTEN_FDNAMES", "portbind", 1);
        if (receive_activation_fds(false) != 1 || std::getenv("LISTEN_FDS") == nullptr) {
            return 3;  // counting leaves the environment alone
        }
        if (receive_activation_fds(true) != 1) {
            return 4;
        }
        if ((::fcntl(kFirstActivationFd, F_GETFD) & FD_CLOEXEC) == 0) {
            return 5;
        }
        if (std::getenv("LISTEN_PID") != nullptr || std::getenv("LISTEN_FDS") != nullptr ||
            std::getenv("LISTEN_FDNAMES") != nullptr) {
            return 6;
        }
        if (receive_activation_fds(true) != 0) {
            return 7;  // nothing is passed twice
        }
        return 0;
    });
    BOOST_TEST(failed == 0);
}

BOOST_AUTO_TEST_CASE(variables_for_another_process_pass_nothing_and_are_unset) {
    const int failed = in_child([]() {
        ::setenv("LISTEN_PID", std::to_string(::getppid()).c_str(), 1);
        ::setenv("LISTEN_FDS", "1", 1);
        if (receive_activation_fds(true) != 0) {
            return 1;
        }
        return std::getenv("LISTEN_PID") == nullptr && std::getenv("LISTEN_FDS") == nullptr ? 0 : 2;
    });
    BOOST_TEST(failed == 0);
}

BOOST_AUTO_TEST_CASE(a_named_fd_that_is_not_open_is_an_error) {
    const int failed = in_child([]() {
        ::close(kFirstActivationFd);
        ::close(kFirstActivationFd + 1);
        ::setenv("LISTEN_PID", std::to_string(::getpid()).c_str(), 1);
        ::setenv("LISTEN_FDS", "2", 1);
        return receive_activation_fds(true) == -EBADF ? 0 : 1;
    });
    BOOST_TEST(failed == 0);
}

BOOST_AUTO_TEST_SUITE_END()
