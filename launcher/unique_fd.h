// UniqueFd: sole owner of one file descriptor.
//
// Contract: move-only; the destructor closes exactly once, never retries on EINTR (Linux
// releases the descriptor even when close() reports EINTR) and preserves errno, so cleanup
// never clobbers the error being reported. Every fd in portbind is born close-on-exec
// (O_CLOEXEC, SOCK_CLOEXEC, F_DUPFD_CLOEXEC); the only place CLOEXEC is cleared is the
// hand-over to the command (command.cc).
#pragma once

#include <unistd.h>

#include <cerrno>
#include <utility>

namespace portbind {

class UniqueFd {
  public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept {
        if (this != &other) {
            reset(other.release());
        }
        return *this;
    }
    ~UniqueFd() { reset(); }

    bool valid() const { return fd_ >= 0; }
    int get() const { return fd_; }
    explicit operator bool() const = delete;

    int release() { return std::exchange(fd_, -1); }

    void reset(int fd = -1) {
        const int old = std::exchange(fd_, fd);
        if (old >= 0) {
            const int saved = errno;
            ::close(old);
            errno = saved;
        }
    }

  private:
    int fd_ = -1;
};

}  // namespace portbind
