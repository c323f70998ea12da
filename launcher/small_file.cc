#include "launcher/small_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "launcher/unique_fd.h"

namespace portbind {

std::optional<std::string> read_small_file(const std::string& path, std::size_t max_size) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY));
    if (!fd.valid()) {
        return std::nullopt;
    }
    std::string text;
    char buf[65536];
    while (true) {
        // No larger than needed: proc files are generated into a kernel buffer of the size asked.
        const ssize_t n = ::read(fd.get(), buf, std::min(sizeof buf, max_size + 1));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return std::nullopt;
        }
        if (n == 0) {
            return text;
        }
        text.append(buf, static_cast<std::size_t>(n));
        if (text.size() > max_size) {
            return std::nullopt;
        }
    }
}

}  // namespace portbind
