// Reading a small kernel-provided text file (/proc, /proc/sys) in one go, close-on-exec.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace portbind {

// nullopt when the file cannot be opened or read, or is larger than `max_size`.
std::optional<std::string> read_small_file(const std::string& path, std::size_t max_size);

}  // namespace portbind
