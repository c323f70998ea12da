#include "launcher/broker/ready_notify.h"

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

#include "launcher/unique_fd.h"

namespace portbind::broker {

namespace {

constexpr char kVariable[] = "NOTIFY_SOCKET";

// `text` with every control character replaced by a space.
std::string single_line(std::string_view text) {
    std::string line(text);
    for (char& c : line) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) {
            c = ' ';
        }
    }
    return line;
}

Error malformed(std::string_view value, const std::string& why) {
    return Error{
        ErrorKind::Usage,
        "cannot notify the service manager: NOTIFY_SOCKET '" + single_line(value) + "' " + why,
        "it must be an absolute path, or '@' and a name in the abstract namespace"};
}

}  // namespace

Result<NotifyAddress> parse_notify_address(std::string_view value) {
    if (value.size() < 2 || (value[0] != '/' && value[0] != '@')) {
        return malformed(value, "is not a unix socket address");
    }
    NotifyAddress result;
    if (value.size() + 1 > sizeof result.address.sun_path) {
        return malformed(value, "is longer than a unix socket address can be");
    }
    if (value.find('\0') != value.npos) {
        return malformed(value, "contains a NUL byte");
    }
    result.address.sun_family = AF_UNIX;
    std::memcpy(result.address.sun_path, value.data(), value.size());
    const auto base = offsetof(sockaddr_un, sun_path);
    if (value[0] == '@') {
        result.address.sun_path[0] = '\0';
        result.length = static_cast<socklen_t>(base + value.size());
    } else {
        result.length = static_cast<socklen_t>(base + value.size() + 1);
    }
    return result;
}

std::string notify_assignment(std::string_view name, std::string_view value) {
    return std::string(name) + "=" + single_line(value);
}

Status notify_service_manager(std::string_view message) {
    const char* value = std::getenv(kVariable);  // not secure_getenv(): see the header
    if (value == nullptr) {
        return success();
    }
    if (message.empty() || message.size() > kMaxNotifyMessage) {
        return Error{ErrorKind::Usage,
                     "cannot notify the service manager: a message of " +
                         std::to_string(message.size()) + " bytes",
                     "please report this"};
    }
    auto address = parse_notify_address(value);
    if (!address.ok()) {
        return std::move(address).take_error();
    }
    const std::string where = "cannot notify the service manager at " + single_line(value) + ": ";
    UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd.valid()) {
        return os_error(where + "socket()", errno);
    }
    const auto* sa = reinterpret_cast<const sockaddr*>(&address.value().address);
    ssize_t sent = 0;
    do {
        sent = ::sendto(fd.get(), message.data(), message.size(), MSG_NOSIGNAL, sa,
                        address.value().length);
    } while (sent < 0 && errno == EINTR);
    if (sent < 0) {
        return Error{ErrorKind::System, where + std::strerror(errno),
                     "check that the service manager still listens there"};
    }
    if (static_cast<std::size_t>(sent) != message.size()) {
        return Error{ErrorKind::System, where + "the message was cut short", kReportAdvice};
    }
    return success();
}

}  // namespace portbind::broker
