// Fuzz target: parse_proc_net_line(), which reads /proc/net/{tcp,tcp6,udp,udp6} to say who
// holds a port ("address in use" messages and `portbind who`). Input: one line, parsed as
// each of the four files.
//
// Invariants checked:
//  - an accepted line has at least 10 whitespace-separated fields, and the entry agrees with a
//    separate reference reading of them: local address as 8 (IPv4) or 32 (IPv6) hex digits in
//    32-bit host-order words, then ':' and at most 8 hex digits of port <= 0xffff; state at
//    most 8 hex digits; uid canonical decimal <= 0xffffffff; inode canonical decimal;
//  - protocol and family are the ones asked for;
//  - rendering the entry in the kernel's format and parsing it again gives the same entry;
//  - parsing is deterministic.
#include <charconv>
#include <cinttypes>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "launcher/proc_net.h"
#include "policy/strict_number.h"
#include "tests/fuzz/fuzz_support.h"

using namespace portbind;

namespace {

bool same_entry(const SocketEntry& a, const SocketEntry& b) {
    return a.proto == b.proto && a.address == b.address && a.port == b.port && a.state == b.state &&
           a.uid == b.uid && a.inode == b.inode;
}

std::vector<std::string_view> fields_of(std::string_view line) {
    std::vector<std::string_view> fields;
    std::size_t i = 0;
    while (i < line.size()) {
        if (line[i] == ' ' || line[i] == '\t') {
            ++i;
            continue;
        }
        const std::size_t start = i;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t') {
            ++i;
        }
        fields.push_back(line.substr(start, i - start));
    }
    return fields;
}

std::optional<std::uint32_t> hex_word(std::string_view text) {
    if (text.empty() || text.size() > 8) {
        return std::nullopt;
    }
    std::uint32_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 16);
    if (ec != std::errc{} || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return value;
}

std::optional<SocketEntry> reference(std::string_view line, Proto proto, Family family) {
    const auto fields = fields_of(line);
    if (fields.size() < 10) {
        return std::nullopt;
    }
    const std::size_t words = family == Family::V4 ? 1 : 4;
    const std::string_view local = fields[1];
    if (local.size() <= words * 8 || local[words * 8] != ':') {
        return std::nullopt;
    }
    SocketEntry e;
    e.proto = proto;
    e.address.family = family;
    for (std::size_t w = 0; w < words; ++w) {
        const auto word = hex_word(local.substr(w * 8, 8));
        if (!word || local.substr(w * 8, 8).size() != 8) {
            return std::nullopt;
        }
        std::memcpy(e.address.bytes.data() + w * 4, &*word, 4);
    }
    const auto port = hex_word(local.substr(words * 8 + 1));
    const auto state = hex_word(fields[3]);
    const auto uid = parse_decimal(fields[7], 0xffffffffU);
    const auto inode = parse_decimal(fields[9], UINT64_MAX);
    if (!port || *port > 0xffff || !state || !uid || !inode) {
        return std::nullopt;
    }
    e.port = static_cast<std::uint16_t>(*port);
    e.state = *state;
    e.uid = static_cast<uid_t>(*uid);
    e.inode = *inode;
    return e;
}

// One line as the kernel prints it (net/ipv4/tcp_ipv4.c get_tcp4_sock, tcp_ipv6.c).
std::string render(const SocketEntry& e) {
    std::string local;
    char word[16];
    for (std::size_t w = 0; w < (e.address.family == Family::V4 ? 1U : 4U); ++w) {
        std::uint32_t value = 0;
        std::memcpy(&value, e.address.bytes.data() + w * 4, 4);
        std::snprintf(word, sizeof word, "%08X", value);
        local += word;
    }
    const std::string zeros(local.size(), '0');
    char rest[160];
    std::snprintf(rest, sizeof rest,
                  ":%04X %s:0000 %02X 00000000:00000000 00:00000000 00000000 %5u        0 %" PRIu64
                  " 1 0000000000000000 100 0 0 10 0",
                  e.port, zeros.c_str(), e.state, static_cast<unsigned>(e.uid), e.inode);
    return "   0: " + local + rest;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view line = fuzz::as_text(data, size);
    for (const Proto proto : {Proto::Tcp, Proto::Udp}) {
        for (const Family family : {Family::V4, Family::V6}) {
            const auto entry = parse_proc_net_line(line, proto, family);
            const auto again = parse_proc_net_line(line, proto, family);
            const auto expected = reference(line, proto, family);
            FUZZ_CHECK(entry.has_value() == again.has_value());
            FUZZ_CHECK(entry.has_value() == expected.has_value());
            if (!entry) {
                continue;
            }
            FUZZ_CHECK(same_entry(*entry, *again));
            FUZZ_CHECK(same_entry(*entry, *expected));
            FUZZ_CHECK(entry->proto == proto && entry->address.family == family);
            const auto reparsed = parse_proc_net_line(render(*entry), proto, family);
            FUZZ_CHECK(reparsed.has_value());
            FUZZ_CHECK(same_entry(*reparsed, *entry));
        }
    }
    return 0;
}
