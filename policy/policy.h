// The policy as data: what portbind.conf(5) says, after parsing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/address.h"
#include "policy/socket_spec.h"

namespace portbind {

enum class Action { Permit, Deny };

struct Subject {
    enum class Kind { Anyone, User, Group } kind = Kind::Anyone;
    std::string name;  // user or group name; empty for Anyone
};

struct PortRange {
    std::uint16_t first = 0;
    std::uint16_t last = 0;
};

struct AddressPattern {
    bool any = false;  // "*": every address of both families
    IpNetwork network;
};

struct SourceLocation {
    std::size_t file = 0;  // index into Policy::files
    unsigned line = 0;
};

struct Rule {
    Action action = Action::Deny;
    Subject subject;
    std::optional<std::vector<PortRange>> ports;  // nullopt: any port
    std::optional<Proto> proto;                   // nullopt: tcp and udp
    std::optional<std::vector<AddressPattern>> addresses;
    std::optional<std::string> command;  // absolute path
    SourceLocation where;
    // The rule as written (for explanations): a span of Policy::texts[where.file], kept as
    // offsets so parsing a large policy allocates nothing per rule for it.
    std::size_t text_offset = 0;
    std::size_t text_length = 0;
};

struct PolicyError {
    SourceLocation where;
    unsigned column = 0;  // 1-based byte column
    std::string message;
};

struct PolicySource {
    std::string name;  // file path, for messages
    std::string text;
};

struct Policy {
    std::vector<std::string> files;  // every file read, in order
    std::vector<std::string> texts;  // their contents, parallel to files
    std::vector<Rule> rules;         // in file order; the last match decides
    std::vector<PolicyError> errors;

    // A policy with any error denies everything.
    bool valid() const { return errors.empty(); }
    std::string location(const SourceLocation& where) const;  // "file:line"
    std::string describe(const PolicyError& error) const;     // "file:line:col: message"
    std::string_view text_of(const Rule& rule) const;         // the rule as written
};

}  // namespace portbind
