// Strict decimal parsing for every number a user or admin types (ports, backlogs).
//
// Accepts only canonical decimal: ASCII digits, no sign, no whitespace, no leading zero
// (except "0" itself), no hex or exponent, and no value above `max`. Never truncates: the
// CVE-2019-14287 class ("-1" or 2^32+443 turning into a valid id or port) cannot happen.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace portbind {

std::optional<std::uint64_t> parse_decimal(std::string_view text, std::uint64_t max);

// A TCP/UDP port: 1..65535.
std::optional<std::uint16_t> parse_port(std::string_view text);

}  // namespace portbind
