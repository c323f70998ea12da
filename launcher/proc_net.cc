#include "launcher/proc_net.h"

#include <cstring>
#include <vector>

#include "policy/strict_number.h"

namespace portbind {

namespace {

std::optional<std::uint32_t> parse_hex32(std::string_view text) {
    if (text.empty() || text.size() > 8) {
        return std::nullopt;
    }
    std::uint32_t value = 0;
    for (const char c : text) {
        unsigned digit = 0;
        if (c >= '0' && c <= '9') {
            digit = static_cast<unsigned>(c - '0');
        } else if (c >= 'A' && c <= 'F') {
            digit = static_cast<unsigned>(c - 'A' + 10);
        } else if (c >= 'a' && c <= 'f') {
            digit = static_cast<unsigned>(c - 'a' + 10);
        } else {
            return std::nullopt;
        }
        value = (value << 4) | digit;
    }
    return value;
}

std::vector<std::string_view> split_fields(std::string_view line) {
    std::vector<std::string_view> fields;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) {
            ++i;
        }
        const std::size_t start = i;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t') {
            ++i;
        }
        if (i > start) {
            fields.push_back(line.substr(start, i - start));
        }
    }
    return fields;
}

}  // namespace

std::optional<SocketEntry> parse_proc_net_line(std::string_view line, Proto proto, Family family) {
    const auto fields = split_fields(line);
    if (fields.size() < 10) {
        return std::nullopt;
    }
    const std::string_view local = fields[1];
    const auto colon = local.find(':');
    const std::size_t hex_len = family == Family::V4 ? 8 : 32;
    if (colon != hex_len) {
        return std::nullopt;
    }
    SocketEntry entry;
    entry.proto = proto;
    entry.address.family = family;
    // The kernel prints each 32-bit word of the address in host byte order.
    for (std::size_t word = 0; word < hex_len / 8; ++word) {
        const auto value = parse_hex32(local.substr(word * 8, 8));
        if (!value) {
            return std::nullopt;
        }
        std::memcpy(entry.address.bytes.data() + word * 4, &*value, 4);
    }
    const auto port = parse_hex32(local.substr(colon + 1));
    const auto state = parse_hex32(fields[3]);
    const auto uid = parse_decimal(fields[7], 0xffffffffu);
    const auto inode = parse_decimal(fields[9], UINT64_MAX);
    if (!port || *port > 0xffff || !state || !uid || !inode) {
        return std::nullopt;
    }
    entry.port = static_cast<std::uint16_t>(*port);
    entry.state = *state;
    entry.uid = static_cast<uid_t>(*uid);
    entry.inode = *inode;
    return entry;
}

}  // namespace portbind
