// The setcap registry: what `portbind setcap grant` gave to which file. Pure codec; the
// file itself is read and written by registry_store.cc.
//
// Format (documented in portbind-setcap(8)). Line 1 is exactly
//     portbind-setcap-registry 1
// then one line per grant, or a comment line starting with '#', or an empty line:
//     path=P caps=C force=yes|no dev=MAJ:MIN ino=N size=N mtime=S.NNNNNNNNN granted=T
// with the fields in exactly this order, separated by one space:
//   path     the absolute, symlink-free path of the file that was changed
//   caps     the capabilities granted, in cap_to_text(3) form
//   force    whether --force accepted risks for it (reapply honours this)
//   dev, ino, size, mtime
//            the identity of the file when the capability was (re)applied: a package
//            upgrade replaces the file, which changes them and drops the capability
//   granted  when the grant was made, UTC, YYYY-MM-DDTHH:MM:SSZ
// In values, every byte that is not printable ASCII, and space and backslash, is written as
// \xNN (two lowercase hex digits); nothing else may be escaped. Parsing is strict: any
// other line, unknown or missing field, non-canonical number or escape, or a path listed
// twice is an error naming file:line, never skipped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/result.h"

namespace portbind {

inline constexpr std::string_view kRegistryHeader = "portbind-setcap-registry 1";
inline constexpr std::size_t kMaxRegistrySize = 1 << 20;

struct FileIdentity {
    std::uint32_t dev_major = 0;
    std::uint32_t dev_minor = 0;
    std::uint64_t ino = 0;
    std::uint64_t size = 0;
    std::int64_t mtime_sec = 0;
    std::uint32_t mtime_nsec = 0;  // 0..999999999

    friend bool operator==(const FileIdentity&, const FileIdentity&) = default;
};

struct RegistryEntry {
    std::string path;
    std::string caps;
    bool forced = false;
    FileIdentity identity;
    std::string granted;
    std::size_t line = 0;  // where it was read from (0: not read from a file)
};

struct Registry {
    std::vector<RegistryEntry> entries;

    RegistryEntry* find(std::string_view path);
    const RegistryEntry* find(std::string_view path) const;
    // Replaces the entry for entry.path, or appends it.
    void put(RegistryEntry entry);
    // false if there was no entry for `path`.
    bool erase(std::string_view path);
};

// `file` names the registry in error messages ("FILE:LINE: ...").
Result<Registry> parse_registry(std::string_view text, const std::string& file);

// The whole file: header, a comment describing the format, one line per entry.
std::string format_registry(const Registry& registry);

// One entry's line, without the newline.
std::string format_entry(const RegistryEntry& entry);

// \xNN escaping as described above; also used to print paths safely.
std::string escape_value(std::string_view raw);
std::optional<std::string> unescape_value(std::string_view escaped);

// Seconds since the epoch -> "YYYY-MM-DDTHH:MM:SSZ" (proleptic Gregorian, UTC).
std::string format_utc(std::int64_t seconds);
bool valid_utc(std::string_view text);

// An absolute path with no empty, "." or ".." component and no trailing slash.
bool is_canonical_path(std::string_view path);

}  // namespace portbind
