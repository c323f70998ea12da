#include "policy/parser.h"

#include <algorithm>
#include <string_view>

#include "policy/strict_number.h"

namespace portbind {

std::string Policy::location(const SourceLocation& where) const {
    return files.at(where.file) + ":" + std::to_string(where.line);
}

std::string_view Policy::text_of(const Rule& rule) const {
    return std::string_view(texts.at(rule.where.file)).substr(rule.text_offset, rule.text_length);
}

std::string Policy::describe(const PolicyError& error) const {
    return location(error.where) + ":" + std::to_string(error.column) + ": " + error.message;
}

namespace {

constexpr std::size_t kReservedRules = std::size_t{1} << 20;

struct Token {
    std::string_view text;
    unsigned column = 0;  // 1-based
};

bool is_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

// User and group names as Debian's adduser allows them (plus a trailing '$' for machine
// accounts). Anything else ("../x", "a b", "") is a syntax error, not a silent non-match.
bool is_valid_account_name(std::string_view name) {
    if (name.empty() || name.size() > 256 || name[0] == '-') {
        return false;
    }
    for (std::size_t i = 0; i < name.size(); ++i) {
        if (!is_name_char(name[i]) && !(name[i] == '$' && i + 1 == name.size())) {
            return false;
        }
    }
    return true;
}

// Lines in `text`, the last one counted even without its '\n'. (find() is memchr, which is
// vectorized, unlike a loop over the bytes.)
std::size_t count_lines(std::string_view text) {
    std::size_t lines = 1;
    for (auto at = text.find('\n'); at != text.npos; at = text.find('\n', at + 1)) {
        ++lines;
    }
    return lines;
}

class LineParser {
  public:
    // `tokens` is scratch space reused across lines; `line_offset` is where the line starts in
    // its file's text.
    LineParser(Policy& policy, SourceLocation where, std::vector<Token>& tokens,
               std::size_t line_offset)
        : policy_(policy), where_(where), tokens_(tokens), line_offset_(line_offset) {}

    void parse(std::string_view line) {
        std::vector<Token>& tokens = tokens_;
        tokens.clear();
        if (!tokenize(line, tokens) || tokens.empty()) {
            return;
        }
        // Built in place; a rule with an error is taken back out.
        Rule& rule = policy_.rules.emplace_back();
        if (!parse_rule(line, tokens, rule)) {
            policy_.rules.pop_back();
        }
    }

  private:
    bool parse_rule(std::string_view line, const std::vector<Token>& tokens, Rule& rule) {
        rule.where = where_;
        rule.text_offset = line_offset_ + tokens.front().column - 1;
        rule.text_length = tokens.back().column - tokens.front().column + tokens.back().text.size();
        const Token& verb = tokens[0];
        if (verb.text == "permit") {
            rule.action = Action::Permit;
        } else if (verb.text == "deny") {
            rule.action = Action::Deny;
        } else {
            error(verb.column,
                  "expected 'permit' or 'deny', found '" + std::string(verb.text) + "'");
            return false;
        }
        if (tokens.size() < 2) {
            error(end_column(line), "missing subject (a user name, :group or *)");
            return false;
        }
        if (!parse_subject(tokens[1], rule.subject)) {
            return false;
        }
        bool ok = true;
        for (std::size_t i = 2; i < tokens.size(); i += 2) {
            const Token& key = tokens[i];
            if (i + 1 >= tokens.size()) {
                error(end_column(line), "missing value after '" + std::string(key.text) + "'");
                return false;
            }
            ok = parse_option(key, tokens[i + 1], rule) && ok;
        }
        return ok;
    }

    static unsigned end_column(std::string_view line) {
        return static_cast<unsigned>(line.size() + 1);
    }

    void error(unsigned column, std::string message) {
        policy_.errors.push_back(PolicyError{where_, column, std::move(message)});
    }

    // Splits on spaces and tabs; '#' at the start of a word begins a comment. Refuses control
    // characters and non-ASCII bytes outside comments, so what the admin sees is what is
    // parsed.
    bool tokenize(std::string_view line, std::vector<Token>& out) {
        std::size_t i = 0;
        while (i < line.size()) {
            const char c = line[i];
            if (c == ' ' || c == '\t') {
                ++i;
                continue;
            }
            if (c == '#') {
                break;
            }
            const std::size_t start = i;
            while (i < line.size() && line[i] != ' ' && line[i] != '\t') {
                const auto u = static_cast<unsigned char>(line[i]);
                if (u < 0x20 || u >= 0x7f) {
                    error(static_cast<unsigned>(i + 1),
                          u == '\r' ? "carriage return in rule (convert the file to Unix line "
                                      "endings)"
                                    : "control or non-ASCII character in rule");
                    return false;
                }
                ++i;
            }
            out.push_back(Token{line.substr(start, i - start), static_cast<unsigned>(start + 1)});
        }
        return true;
    }

    bool parse_subject(const Token& token, Subject& subject) {
        if (token.text == "*") {
            subject.kind = Subject::Kind::Anyone;
            return true;
        }
        std::string_view name = token.text;
        subject.kind = Subject::Kind::User;
        if (name[0] == ':') {
            subject.kind = Subject::Kind::Group;
            name.remove_prefix(1);
        }
        if (!is_valid_account_name(name)) {
            error(token.column,
                  "invalid " +
                      std::string(subject.kind == Subject::Kind::Group ? "group" : "user") +
                      " name '" + std::string(name) + "'");
            return false;
        }
        subject.name = std::string(name);
        return true;
    }

    bool parse_option(const Token& key, const Token& value, Rule& rule) {
        if (key.text == "port") {
            return !rule.ports ? parse_ports(value, rule.ports.emplace()) : duplicate(key);
        }
        if (key.text == "proto") {
            if (rule.proto) {
                return duplicate(key);
            }
            if (value.text == "tcp") {
                rule.proto = Proto::Tcp;
            } else if (value.text == "udp") {
                rule.proto = Proto::Udp;
            } else {
                error(value.column, "proto must be 'tcp' or 'udp'");
                return false;
            }
            return true;
        }
        if (key.text == "addr") {
            return !rule.addresses ? parse_addresses(value, rule.addresses.emplace())
                                   : duplicate(key);
        }
        if (key.text == "cmd") {
            if (rule.command) {
                return duplicate(key);
            }
            if (value.text[0] != '/') {
                error(value.column, "cmd must be an absolute path");
                return false;
            }
            rule.command = std::string(value.text);
            return true;
        }
        error(key.column,
              "unknown option '" + std::string(key.text) + "' (expected port, proto, addr or cmd)");
        return false;
    }

    bool duplicate(const Token& key) {
        error(key.column, "option '" + std::string(key.text) + "' given twice in one rule");
        return false;
    }

    // Calls item(text, column) for each comma-separated element; empty elements are errors.
    template <typename F>
    bool for_each_item(const Token& value, F item) {
        std::size_t start = 0;
        bool ok = true;
        while (true) {
            const auto comma = value.text.find(',', start);
            const std::string_view part = value.text.substr(start, comma - start);
            const auto column = static_cast<unsigned>(value.column + start);
            if (part.empty()) {
                error(column, "empty element in list");
                return false;
            }
            ok = item(part, column) && ok;
            if (comma == value.text.npos) {
                return ok;
            }
            start = comma + 1;
        }
    }

    bool parse_ports(const Token& value, std::vector<PortRange>& ports) {
        return for_each_item(value, [&](std::string_view part, unsigned column) {
            const auto dash = part.find('-');
            const auto first = parse_port(part.substr(0, dash));
            const auto last = dash == part.npos ? first : parse_port(part.substr(dash + 1));
            if (!first || !last) {
                error(column, "invalid port '" + std::string(part) +
                                  "' (decimal 1-65535, or a range like 8000-8080)");
                return false;
            }
            if (*first > *last) {
                error(column, "reversed port range '" + std::string(part) + "'");
                return false;
            }
            ports.push_back(PortRange{*first, *last});
            return true;
        });
    }

    bool parse_addresses(const Token& value, std::vector<AddressPattern>& addresses) {
        return for_each_item(value, [&](std::string_view part, unsigned column) {
            if (part == "*") {
                addresses.push_back(AddressPattern{true, {}});
                return true;
            }
            const auto network = parse_network(part);
            if (!network) {
                error(column, "invalid address '" + std::string(part) +
                                  "' (numeric IPv4 or IPv6, optional /PREFIX with no host "
                                  "bits set, or *)");
                return false;
            }
            addresses.push_back(AddressPattern{false, *network});
            return true;
        });
    }

    Policy& policy_;
    SourceLocation where_;
    std::vector<Token>& tokens_;
    std::size_t line_offset_;
};

}  // namespace

Policy parse_policy(std::vector<PolicySource>&& sources) {
    Policy policy;
    policy.files.reserve(sources.size());
    policy.texts.reserve(sources.size());
    // At most one rule per line: room for all of them at once, so that adding rules never
    // moves the ones before (up to kReservedRules: address space taken, not yet memory).
    std::size_t lines = 0;
    for (const PolicySource& source : sources) {
        lines += count_lines(source.text);
    }
    policy.rules.reserve(std::min(lines, kReservedRules));
    std::vector<Token> tokens;
    for (PolicySource& source : sources) {
        const std::size_t file = policy.files.size();
        policy.files.push_back(std::move(source.name));
        // Parsed where it is kept (rules refer to it by offset); `texts` has room for every
        // file, so nothing moves it while `whole` is in use.
        const std::string_view whole = policy.texts.emplace_back(std::move(source.text));
        std::size_t offset = 0;
        unsigned line_number = 0;
        while (offset < whole.size()) {
            ++line_number;
            const auto newline = whole.find('\n', offset);
            const std::string_view line = whole.substr(offset, newline - offset);
            const std::size_t line_offset = offset;
            offset = newline == std::string_view::npos ? whole.size() : newline + 1;
            const SourceLocation where{file, line_number};
            if (line.find('\0') != line.npos) {
                policy.errors.push_back(PolicyError{
                    where, static_cast<unsigned>(line.find('\0') + 1), "NUL byte in policy"});
                continue;
            }
            if (line.size() > kMaxPolicyLine) {
                policy.errors.push_back(
                    PolicyError{where, static_cast<unsigned>(kMaxPolicyLine + 1),
                                "line longer than " + std::to_string(kMaxPolicyLine) + " bytes"});
                continue;
            }
            LineParser(policy, where, tokens, line_offset).parse(line);
        }
    }
    return policy;
}

Policy parse_policy(const std::vector<PolicySource>& sources) {
    return parse_policy(std::vector<PolicySource>(sources));
}

}  // namespace portbind
