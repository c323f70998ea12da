#include "launcher/audit_log.h"

#include <syslog.h>

#include <cstdio>

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

void log_decision(bool granted, std::string_view what) {
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
