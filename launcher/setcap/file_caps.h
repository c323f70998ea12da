// File capabilities through libcap, always on an open file descriptor (cap_get_fd,
// cap_set_fd), never by path: a path can be swapped between the check and the change, the
// fd cannot.
#pragma once

#include <string>

#include "launcher/setcap/cap_sets.h"
#include "policy/result.h"

namespace portbind {

// cap_from_text(3) text -> sets. A Usage error names the text when libcap rejects it.
Result<CapSets> caps_from_text(const std::string& text);

// Canonical cap_to_text(3) form, e.g. "cap_net_bind_service=ep"; "" for empty sets.
std::string caps_to_text(const CapSets& sets);

// The capabilities `fd` carries (empty when it has none). A filesystem that cannot store
// capabilities is an Error that says so; `path` names the file in messages.
Result<CapSets> read_file_caps(int fd, const std::string& path);

// Sets exactly `sets` on `fd` (empty: removes the attribute), then reads the attribute back
// and fails unless it is exactly `sets`.
Status write_file_caps(int fd, const std::string& path, const CapSets& sets);

}  // namespace portbind
