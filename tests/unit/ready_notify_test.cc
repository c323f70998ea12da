#include "launcher/broker/ready_notify.h"

#include <dirent.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "launcher/unique_fd.h"

using namespace portbind;
using namespace portbind::broker;

namespace {

constexpr std::size_t kPathOffset = offsetof(sockaddr_un, sun_path);

// The service manager's side: an AF_UNIX datagram socket that receives notifications with
// the sender's credentials, as systemd's notify socket does.
struct Receiver {
    UniqueFd fd;
    std::string name;  // what NOTIFY_SOCKET says: a path or "@name"

    static Receiver bind_to(const std::string& name) {
        Receiver r{UniqueFd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)), name};
        BOOST_REQUIRE(r.fd.valid());
        const int one = 1;
        BOOST_REQUIRE_EQUAL(::setsockopt(r.fd.get(), SOL_SOCKET, SO_PASSCRED, &one, sizeof one), 0);
        auto address = parse_notify_address(name);
        BOOST_REQUIRE(address.ok());
        BOOST_REQUIRE_EQUAL(
            ::bind(r.fd.get(), reinterpret_cast<const sockaddr*>(&address.value().address),
                   address.value().length),
            0);
        return r;
    }

    // The next datagram and its sender's pid, or nullopt if none is queued.
    std::optional<std::pair<std::string, pid_t>> receive() const {
        char data[8192];
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred))];
        iovec iov{data, sizeof data};
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        const ssize_t n = ::recvmsg(fd.get(), &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n < 0) {
            return std::nullopt;
        }
        pid_t sender = 0;
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
                ucred cred{};
                std::memcpy(&cred, CMSG_DATA(c), sizeof cred);
                sender = cred.pid;
            }
        }
        return std::make_pair(std::string(data, static_cast<std::size_t>(n)), sender);
    }
};

std::string unique_abstract_name() {
    static int counter = 0;
    return "@portbind-ready-notify-test/" + std::to_string(::getpid()) + "/" +
           std::to_string(++counter);
}

// Sets NOTIFY_SOCKET for one test and removes it afterwards.
struct NotifySocketVariable {
    explicit NotifySocketVariable(const std::string& value) {
        ::setenv("NOTIFY_SOCKET", value.c_str(), 1);
    }
    ~NotifySocketVariable() { ::unsetenv("NOTIFY_SOCKET"); }
};

std::size_t open_fd_count() {
    std::size_t n = 0;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
        (void)entry;
        ++n;
    }
    return n;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(ready_notify_test)

BOOST_AUTO_TEST_CASE(path_address_includes_its_nul) {
    const std::string path = "/run/systemd/notify";
    auto a = parse_notify_address(path);
    BOOST_REQUIRE(a.ok());
    BOOST_TEST(a.value().address.sun_family == AF_UNIX);
    BOOST_TEST(a.value().length == kPathOffset + path.size() + 1);
    BOOST_TEST(std::string(a.value().address.sun_path) == path);
}

BOOST_AUTO_TEST_CASE(abstract_address_starts_with_nul_and_has_no_trailing_nul) {
    const std::string name = "@/org/freedesktop/systemd1/notify";
    auto a = parse_notify_address(name);
    BOOST_REQUIRE(a.ok());
    BOOST_TEST(a.value().address.sun_family == AF_UNIX);
    BOOST_TEST(a.value().length == kPathOffset + name.size());
    BOOST_TEST(a.value().address.sun_path[0] == '\0');
    BOOST_TEST(std::string_view(a.value().address.sun_path + 1, name.size() - 1) ==
               std::string_view(name).substr(1));
}

BOOST_AUTO_TEST_CASE(longest_addresses_fit_and_longer_ones_are_refused) {
    const std::size_t room = sizeof(sockaddr_un{}.sun_path);  // 108 on Linux
    const std::string longest_path = "/" + std::string(room - 2, 'p');
    const std::string longest_name = "@" + std::string(room - 2, 'n');
    BOOST_TEST(parse_notify_address(longest_path).ok());
    BOOST_TEST(parse_notify_address(longest_name).ok());
    BOOST_TEST(parse_notify_address(longest_path).value().length == sizeof(sockaddr_un));
    BOOST_TEST(parse_notify_address(longest_name).value().length == sizeof(sockaddr_un) - 1);
    BOOST_TEST(!parse_notify_address(longest_path + "p").ok());
    BOOST_TEST(!parse_notify_address(longest_name + "n").ok());
}

BOOST_AUTO_TEST_CASE(other_forms_are_refused) {
    for (const std::string_view bad :
         {std::string_view(""), std::string_view("/"), std::string_view("@"),
          std::string_view("run/notify"), std::string_view("./notify"),
          std::string_view("vsock:2:1234"), std::string_view(" /run/notify"),
          std::string_view("/run/\0notify", 12)}) {
        auto a = parse_notify_address(bad);
        BOOST_CHECK_MESSAGE(!a.ok(), "accepted '" << bad << "'");
        if (!a.ok()) {
            BOOST_TEST(a.error().message.find("NOTIFY_SOCKET") != std::string::npos);
            BOOST_TEST(a.error().message.find('\0') == std::string::npos);
        }
    }
}

BOOST_AUTO_TEST_CASE(assignments_stay_on_one_line) {
    BOOST_TEST(notify_assignment("STATUS", "serving on /run/portbind/portbind.sock") ==
               "STATUS=serving on /run/portbind/portbind.sock");
    BOOST_TEST(notify_assignment("STATUS", "serving on /x\nMAINPID=1") ==
               "STATUS=serving on /x MAINPID=1");
    BOOST_TEST(notify_assignment("STATUS", std::string_view("a\0b\rc\td\x7f", 8)) ==
               "STATUS=a b c d ");
    BOOST_TEST(notify_assignment("READY", "1") == "READY=1");
}

BOOST_AUTO_TEST_CASE(without_notify_socket_nothing_is_sent) {
    ::unsetenv("NOTIFY_SOCKET");
    const Receiver r = Receiver::bind_to(unique_abstract_name());
    BOOST_TEST(notify_service_manager("READY=1").ok());
    BOOST_TEST(!r.receive().has_value());
}

BOOST_AUTO_TEST_CASE(ready_reaches_an_abstract_socket_with_our_credentials) {
    const Receiver r = Receiver::bind_to(unique_abstract_name());
    const NotifySocketVariable variable(r.name);
    const std::string message = "READY=1\n" + notify_assignment("STATUS", "serving on /x");
    auto sent = notify_service_manager(message);
    BOOST_REQUIRE_MESSAGE(sent.ok(), (sent.ok() ? std::string() : sent.error().message));
    const auto got = r.receive();
    BOOST_REQUIRE(got.has_value());
    BOOST_TEST(got->first == "READY=1\nSTATUS=serving on /x");
    BOOST_TEST(got->second == ::getpid());  // what NotifyAccess=main checks
    BOOST_TEST(!r.receive().has_value());   // one datagram
}

BOOST_AUTO_TEST_CASE(every_state_reaches_a_path_socket_and_the_variable_stays) {
    const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                      ("portbind-ready-notify-test-" + std::to_string(::getpid()));
    std::filesystem::create_directory(dir);
    const std::string path = (dir / "notify").string();
    {
        const Receiver r = Receiver::bind_to(path);
        const NotifySocketVariable variable(path);
        for (const std::string message : {"READY=1", "RELOADING=1", "STOPPING=1"}) {
            auto sent = notify_service_manager(message);
            BOOST_CHECK_MESSAGE(sent.ok(), (sent.ok() ? std::string() : sent.error().message));
            const auto got = r.receive();
            BOOST_CHECK_MESSAGE(got.has_value() && got->first == message, message);
            BOOST_TEST(std::getenv("NOTIFY_SOCKET") != nullptr);  // unset_environment=0
        }
    }
    std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(the_sending_socket_does_not_stay_open) {
    const Receiver r = Receiver::bind_to(unique_abstract_name());
    const NotifySocketVariable variable(r.name);
    const std::size_t before = open_fd_count();
    BOOST_TEST(notify_service_manager("READY=1").ok());
    BOOST_TEST(open_fd_count() == before);
}

BOOST_AUTO_TEST_CASE(failures_are_errors_not_silence) {
    {
        const NotifySocketVariable variable("relative/notify");
        auto s = notify_service_manager("READY=1");
        BOOST_TEST(!s.ok());
    }
    {
        const NotifySocketVariable variable(unique_abstract_name());  // nobody listens
        auto s = notify_service_manager("READY=1");
        BOOST_REQUIRE(!s.ok());
        BOOST_TEST(s.error().message.find("cannot notify the service manager") !=
                   std::string::npos);
    }
    {
        const Receiver r = Receiver::bind_to(unique_abstract_name());
        const NotifySocketVariable variable(r.name);
        BOOST_TEST(!notify_service_manager("").ok());
        BOOST_TEST(!notify_service_manager(std::string(kMaxNotifyMessage + 1, 'x')).ok());
        BOOST_TEST(!r.receive().has_value());
    }
}

BOOST_AUTO_TEST_SUITE_END()
