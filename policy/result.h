// The project's single error model.
//
// Every fallible function returns Result<T>: either a value or an Error. Errors carry a kind
// (which decides portbind's exit status) and one line of text for the user that says what was
// refused, why, and what to do. Library code never prints or exits; main() renders the Error.
//
// This header lives in policy/ because policy/ is the lowest layer (pure, no syscalls) and
// everything else depends on it.
#pragma once

#include <cassert>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <variant>

namespace portbind {

enum class ErrorKind {
    Usage,                 // bad command line
    PolicyInvalid,         // the policy has syntax errors (so it denies everything)
    Untrusted,             // a policy file or directory fails the ownership/mode/type checks
    Denied,                // the policy (or the lack of privilege) refuses the request
    System,                // an OS call failed
    CommandNotFound,       // exit 127
    CommandNotExecutable,  // exit 126
};

struct Error {
    ErrorKind kind;
    std::string message;  // what was refused and why, no trailing punctuation
    std::string advice;   // what to do about it; may be empty
};

inline constexpr int kExitFailure = 125;
inline constexpr int kExitNotExecutable = 126;
inline constexpr int kExitNotFound = 127;

inline int exit_status_for(const Error& e) {
    switch (e.kind) {
        case ErrorKind::CommandNotFound:
            return kExitNotFound;
        case ErrorKind::CommandNotExecutable:
            return kExitNotExecutable;
        case ErrorKind::Usage:
        case ErrorKind::PolicyInvalid:
        case ErrorKind::Untrusted:
        case ErrorKind::Denied:
        case ErrorKind::System:
            return kExitFailure;
    }
    return kExitFailure;
}

// What to tell the user when an OS call failed and nothing they do can fix it.
inline constexpr const char* kReportAdvice =
    "this is a bug or a kernel restriction; please report it";

// An OS call failed with errno `err`: "<what>: <strerror(err)>". Without explicit advice, the
// user is told what to do for the errors a user can fix (the open-file limit, memory) and
// otherwise to report it; a call site whose errors have another cause passes its own advice.
inline Error os_error(const std::string& what, int err, std::string advice = {}) {
    if (advice.empty()) {
        switch (err) {
            case EMFILE:
            case ENFILE:
                advice =
                    "close some files or raise the open-file limit (ulimit -n), then try again";
                break;
            case ENOMEM:
            case ENOBUFS:
                advice = "the system is short of memory; try again when more is free";
                break;
            default:
                advice = kReportAdvice;
                break;
        }
    }
    return Error{ErrorKind::System, what + ": " + std::strerror(err), std::move(advice)};
}

// "portbind: <message>; <advice>" — one line, no newline.
inline std::string render(const Error& e) {
    std::string line = "portbind: " + e.message;
    if (!e.advice.empty()) {
        line += "; " + e.advice;
    }
    return line;
}

template <typename T>
class [[nodiscard]] Result {
  public:
    Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
    Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const = delete;  // force ok(): a Result is not a truth value

    T& value() & {
        assert(ok());
        return std::get<0>(v_);
    }
    const T& value() const& {
        assert(ok());
        return std::get<0>(v_);
    }
    T&& value() && {
        assert(ok());
        return std::get<0>(std::move(v_));
    }
    const Error& error() const {
        assert(!ok());
        return std::get<1>(v_);
    }
    Error&& take_error() && {
        assert(!ok());
        return std::get<1>(std::move(v_));
    }

  private:
    std::variant<T, Error> v_;
};

struct Ok {};

// Result<void> spelled as Status.
using Status = Result<Ok>;

inline Status success() {
    return Ok{};
}

}  // namespace portbind
