#include "launcher/setcap/registry.h"

#include <algorithm>
#include <cstdio>
#include <limits>

#include "policy/strict_number.h"

namespace portbind {

namespace {

bool needs_escape(unsigned char c) {
    return c <= 0x20 || c >= 0x7f || c == '\\';
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;  // uppercase is not canonical
}

std::vector<std::string_view> split(std::string_view text, char sep) {
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    while (true) {
        const std::size_t end = text.find(sep, start);
        if (end == std::string_view::npos) {
            parts.push_back(text.substr(start));
            return parts;
        }
        parts.push_back(text.substr(start, end - start));
        start = end + 1;
    }
}

bool is_leap(std::int64_t y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

unsigned days_in_month(std::int64_t y, unsigned m) {
    static const unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

// 9 ASCII digits, exactly.
std::optional<std::uint32_t> parse_nanoseconds(std::string_view text) {
    if (text.size() != 9) {
        return std::nullopt;
    }
    std::uint32_t v = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        v = v * 10 + static_cast<std::uint32_t>(c - '0');
    }
    return v;
}

std::optional<std::int64_t> parse_seconds(std::string_view text) {
    const bool negative = !text.empty() && text[0] == '-';
    const std::string_view digits = negative ? text.substr(1) : text;
    const auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    const auto v = parse_decimal(digits, max);
    if (!v || (negative && *v == 0)) {
        return std::nullopt;
    }
    return negative ? -static_cast<std::int64_t>(*v) : static_cast<std::int64_t>(*v);
}

class LineParser {
  public:
    LineParser(const std::string& file, std::size_t line) : file_(file), line_(line) {}

    Error error(const std::string& why) const {
        return Error{ErrorKind::System,
                     "corrupt setcap registry " + file_ + ":" + std::to_string(line_) + ": " + why,
                     "portbind never writes such a line: restore the file from a backup or "
                     "remove the line, then run 'portbind setcap list' (format: "
                     "portbind-setcap(8))"};
    }

    Result<RegistryEntry> entry(std::string_view text) const {
        static constexpr std::string_view kKeys[] = {"path", "caps", "force", "dev",
                                                     "ino",  "size", "mtime", "granted"};
        const auto fields = split(text, ' ');
        if (fields.size() != std::size(kKeys)) {
            return error("expected " + std::to_string(std::size(kKeys)) +
                         " space-separated fields (path= caps= force= dev= ino= size= mtime= "
                         "granted=), found " +
                         std::to_string(fields.size()));
        }
        std::string_view values[std::size(kKeys)];
        for (std::size_t i = 0; i < fields.size(); ++i) {
            const std::string prefix = std::string(kKeys[i]) + "=";
            if (fields[i].substr(0, prefix.size()) != prefix) {
                return error("field " + std::to_string(i + 1) + " must be " + prefix + "...");
            }
            values[i] = fields[i].substr(prefix.size());
        }
        RegistryEntry e;
        e.line = line_;
        auto path = unescape_value(values[0]);
        if (!path || !is_canonical_path(*path)) {
            return error("path= is not an absolute, canonical, correctly escaped path");
        }
        e.path = std::move(*path);
        auto caps = unescape_value(values[1]);
        if (!caps || caps->empty()) {
            return error("caps= is empty or not correctly escaped");
        }
        e.caps = std::move(*caps);
        if (values[2] != "yes" && values[2] != "no") {
            return error("force= must be yes or no");
        }
        e.forced = values[2] == "yes";
        const auto dev = split(values[3], ':');
        const auto major = dev.size() == 2 ? parse_decimal(dev[0], UINT32_MAX) : std::nullopt;
        const auto minor = dev.size() == 2 ? parse_decimal(dev[1], UINT32_MAX) : std::nullopt;
        if (!major || !minor) {
            return error("dev= must be MAJOR:MINOR in decimal");
        }
        e.identity.dev_major = static_cast<std::uint32_t>(*major);
        e.identity.dev_minor = static_cast<std::uint32_t>(*minor);
        const auto ino = parse_decimal(values[4], UINT64_MAX);
        const auto size = parse_decimal(values[5], UINT64_MAX);
        if (!ino || !size) {
            return error("ino= and size= must be decimal numbers");
        }
        e.identity.ino = *ino;
        e.identity.size = *size;
        const auto mtime = split(values[6], '.');
        const auto sec = mtime.size() == 2 ? parse_seconds(mtime[0]) : std::nullopt;
        const auto nsec = mtime.size() == 2 ? parse_nanoseconds(mtime[1]) : std::nullopt;
        if (!sec || !nsec) {
            return error("mtime= must be SECONDS.NANOSECONDS (9 digits)");
        }
        e.identity.mtime_sec = *sec;
        e.identity.mtime_nsec = *nsec;
        if (!valid_utc(values[7])) {
            return error("granted= must be a UTC time YYYY-MM-DDTHH:MM:SSZ");
        }
        e.granted = std::string(values[7]);
        return e;
    }

  private:
    const std::string& file_;
    std::size_t line_;
};

}  // namespace

RegistryEntry* Registry::find(std::string_view path) {
    for (RegistryEntry& e : entries) {
        if (e.path == path) {
            return &e;
        }
    }
    return nullptr;
}

const RegistryEntry* Registry::find(std::string_view path) const {
    return const_cast<Registry*>(this)->find(path);
}

void Registry::put(RegistryEntry entry) {
    if (RegistryEntry* existing = find(entry.path)) {
        *existing = std::move(entry);
    } else {
        entries.push_back(std::move(entry));
    }
}

bool Registry::erase(std::string_view path) {
    const auto it = std::find_if(entries.begin(), entries.end(),
                                 [&](const RegistryEntry& e) { return e.path == path; });
    if (it == entries.end()) {
        return false;
    }
    entries.erase(it);
    return true;
}

std::string escape_value(std::string_view raw) {
    std::string out;
    out.reserve(raw.size());
    for (const char c : raw) {
        const auto u = static_cast<unsigned char>(c);
        if (needs_escape(u)) {
            char buf[5];
            std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(u));
            out += buf;
        } else {
            out += c;
        }
    }
    return out;
}

std::optional<std::string> unescape_value(std::string_view escaped) {
    std::string out;
    for (std::size_t i = 0; i < escaped.size(); ++i) {
        const auto u = static_cast<unsigned char>(escaped[i]);
        if (escaped[i] != '\\') {
            if (needs_escape(u)) {
                return std::nullopt;
            }
            out += escaped[i];
            continue;
        }
        if (escaped.size() - i < 4 || escaped[i + 1] != 'x') {
            return std::nullopt;
        }
        const int hi = hex_digit(escaped[i + 2]);
        const int lo = hex_digit(escaped[i + 3]);
        if (hi < 0 || lo < 0) {
            return std::nullopt;
        }
        const auto byte = static_cast<unsigned char>(hi * 16 + lo);
        if (!needs_escape(byte) || byte == 0) {
            return std::nullopt;  // only canonical escapes; no NUL in a path or caps text
        }
        out += static_cast<char>(byte);
        i += 3;
    }
    return out;
}

std::string format_utc(std::int64_t seconds) {
    // civil_from_days (H. Hinnant), valid for the whole int64 day range used here.
    std::int64_t days = seconds / 86400;
    std::int64_t rem = seconds % 86400;
    if (rem < 0) {
        rem += 86400;
        days -= 1;
    }
    const std::int64_t z = days + 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const std::int64_t doe = z - era * 146097;
    const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const std::int64_t mp = (5 * doy + 2) / 153;
    const std::int64_t d = doy - (153 * mp + 2) / 5 + 1;
    const std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
    const std::int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lldZ",
                  static_cast<long long>(y), static_cast<long long>(m), static_cast<long long>(d),
                  static_cast<long long>(rem / 3600), static_cast<long long>(rem / 60 % 60),
                  static_cast<long long>(rem % 60));
    return buf;
}

bool valid_utc(std::string_view text) {
    // YYYY-MM-DDTHH:MM:SSZ
    static constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:ddZ";
    if (text.size() != kShape.size()) {
        return false;
    }
    for (std::size_t i = 0; i < kShape.size(); ++i) {
        const bool digit = text[i] >= '0' && text[i] <= '9';
        if (kShape[i] == 'd' ? !digit : text[i] != kShape[i]) {
            return false;
        }
    }
    const auto num = [&](std::size_t at, std::size_t len) {
        unsigned v = 0;
        for (std::size_t i = at; i < at + len; ++i) {
            v = v * 10 + static_cast<unsigned>(text[i] - '0');
        }
        return v;
    };
    const unsigned year = num(0, 4);
    const unsigned month = num(5, 2);
    const unsigned day = num(8, 2);
    return month >= 1 && month <= 12 && day >= 1 && day <= days_in_month(year, month) &&
           num(11, 2) < 24 && num(14, 2) < 60 && num(17, 2) < 60;
}

bool is_canonical_path(std::string_view path) {
    if (path.size() < 2 || path[0] != '/' || path.back() == '/') {
        return false;
    }
    for (const std::string_view part : split(path.substr(1), '/')) {
        if (part.empty() || part == "." || part == "..") {
            return false;
        }
    }
    return path.find('\0') == std::string_view::npos;
}

Result<Registry> parse_registry(std::string_view text, const std::string& file) {
    Registry registry;
    if (text.find('\0') != std::string_view::npos) {
        const auto line = 1 + std::count(text.begin(), text.begin() + text.find('\0'), '\n');
        return LineParser(file, static_cast<std::size_t>(line)).error("it contains a NUL byte");
    }
    if (text.empty() || text.back() != '\n') {
        const auto lines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
        return LineParser(file, lines + 1)
            .error("the last line does not end with a newline (the file is truncated)");
    }
    const auto lines = split(text.substr(0, text.size() - 1), '\n');
    if (lines[0] != kRegistryHeader) {
        return LineParser(file, 1).error("the first line must be '" + std::string(kRegistryHeader) +
                                         "'");
    }
    for (std::size_t i = 1; i < lines.size(); ++i) {
        const LineParser parser(file, i + 1);
        if (lines[i].empty() || lines[i][0] == '#') {
            continue;
        }
        auto entry = parser.entry(lines[i]);
        if (!entry.ok()) {
            return std::move(entry).take_error();
        }
        if (const RegistryEntry* earlier = registry.find(entry.value().path)) {
            return parser.error("path " + escape_value(earlier->path) +
                                " is already listed on line " + std::to_string(earlier->line));
        }
        registry.entries.push_back(std::move(entry).value());
    }
    return registry;
}

std::string format_entry(const RegistryEntry& e) {
    char mtime[48];
    std::snprintf(mtime, sizeof mtime, "%lld.%09u", static_cast<long long>(e.identity.mtime_sec),
                  static_cast<unsigned>(e.identity.mtime_nsec));
    return "path=" + escape_value(e.path) + " caps=" + escape_value(e.caps) +
           " force=" + (e.forced ? "yes" : "no") + " dev=" + std::to_string(e.identity.dev_major) +
           ":" + std::to_string(e.identity.dev_minor) + " ino=" + std::to_string(e.identity.ino) +
           " size=" + std::to_string(e.identity.size) + " mtime=" + mtime + " granted=" + e.granted;
}

std::string format_registry(const Registry& registry) {
    std::string out(kRegistryHeader);
    out +=
        "\n"
        "# Capabilities granted by 'portbind setcap grant'; written by portbind, see "
        "portbind-setcap(8).\n"
        "# path=FILE caps=CAPS force=yes|no dev=MAJ:MIN ino=N size=N mtime=SEC.NSEC "
        "granted=UTC\n";
    for (const RegistryEntry& e : registry.entries) {
        out += format_entry(e);
        out += '\n';
    }
    return out;
}

}  // namespace portbind
