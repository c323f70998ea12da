// Every grant and denial goes to syslog, facility authpriv, like doas and sudo.
#pragma once

#include <string>
#include <string_view>

namespace portbind {

// Makes text safe for a log line: printable ASCII is kept, everything else (newlines, escape
// sequences, invalid UTF-8) becomes \xNN, so a user-chosen name cannot forge log lines.
std::string escape_for_log(std::string_view text);

void log_decision(bool granted, std::string_view what);

// Closes the syslog connection before exec.
void close_log();

}  // namespace portbind
