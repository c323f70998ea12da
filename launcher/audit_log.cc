#include "launcher/audit_log.h"

#include <sys/stat.h>
#include <syslog.h>

#include <chrono>
#include <cstdio>
#include <optional>

namespace portbind {

std::string escape_for_log(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u < 0x7f && c != '\\') {
            out += c;
        } else {
            char buf[5];
            std::snprintf(buf, sizeof buf, "\\x%02x", u);
            out += buf;
        }
    }
    return out;
}

namespace {

// Whether a syslog socket exists at /dev/log. Where none does, glibc's syslog() tries to
// connect again for every message (socket, a failed connect, close) and then drops it, which
// costs a busy broker a tenth of its time for nothing. The answer is kept for a second, so a
// syslog daemon started later is used from then on.
bool syslog_socket_exists() {
    using Clock = std::chrono::steady_clock;
    static std::optional<Clock::time_point> checked;
    static bool exists = false;
    const Clock::time_point now = Clock::now();
    if (!checked || now - *checked >= std::chrono::seconds(1)) {
        struct stat st {};
        exists = ::stat(_PATH_LOG, &st) == 0 && S_ISSOCK(st.st_mode);
        checked = now;
    }
    return exists;
}

}  // namespace

void log_decision(bool granted, std::string_view what) {
    if (!syslog_socket_exists()) {
        return;  // syslog() would drop the line too (no LOG_CONS)
    }
    static bool opened = false;
    if (!opened) {
        ::openlog("portbind", LOG_PID, LOG_AUTHPRIV);  // glibc opens its socket close-on-exec
        opened = true;
    }
    const std::string line = escape_for_log(what);
    ::syslog(LOG_AUTHPRIV | (granted ? LOG_INFO : LOG_NOTICE), "%s: %s",
             granted ? "granted" : "denied", line.c_str());
}

void close_log() {
    ::closelog();
}

}  // namespace portbind
