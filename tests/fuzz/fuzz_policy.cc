// Fuzz target: the whole policy path, text to decision: parse_policy() and then decide() and
// rule_matches() for requests taken from the input (in the style of sudo's fuzz_policy.c).
//
// Input: the policy text. An optional first line
//
//   #request user=NAME groups=G1,G2 spec=SPEC [v4host] [v6only] [cmd=PATH]
//
// (a comment to the parser) adds one request; every rule that parses adds more, aimed at it
// (its subject, first and last port, protocol, first address, command), so decisions are
// exercised on matching requests and not only on random ones.
//
// Invariants checked:
//  parsing
//  - every error names a file that was read, a line that exists and a column within it + 1;
//  - every rule is well formed: ports 1 <= first <= last, non-empty lists, a valid subject
//    name, an absolute command, and its text is a trimmed piece of one line;
//  - each rule rendered canonically parses back to the same rule, with no error;
//  - lines are independent (and parsing deterministic): the same text split into two files
//    gives the same rules and errors (line numbers aside), as drop-in files must;
//  deciding
//  - a policy with any error denies every request, naming no rule;
//  - decide() agrees with a separate reference evaluator, including which rule: last match
//    wins, default deny; a wildcard endpoint (0.0.0.0, ::) is matched by a permit only if it
//    names the whole family (*, /0, the wildcard itself) and by a deny if it names any address
//    of the family; a dual-stack wildcard needs both families for a permit, either for a deny;
//  - the deciding rule matches, its action is the decision, and decide() is deterministic;
//  - the broker's remembered decisions (broker::DecisionCache, here with room for only three,
//    so it also forgets) are decide_for_peer()'s, asked in any order, twice.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "launcher/broker/decision_cache.h"
#include "policy/decide.h"
#include "policy/parser.h"
#include "policy/socket_spec.h"
#include "tests/fuzz/fuzz_support.h"

using namespace portbind;

namespace {

constexpr std::size_t kMaxAimedRules = 16;

struct Probe {
    Caller caller;
    Request request;
};

// ---------------------------------------------------------------- reference evaluator

bool ref_prefix_equal(const IpAddress& a, const IpAddress& b, unsigned prefix) {
    for (unsigned bit = 0; bit < prefix; ++bit) {
        const unsigned mask = 0x80U >> (bit % 8);
        if ((a.bytes[bit / 8] & mask) != (b.bytes[bit / 8] & mask)) {
            return false;
        }
    }
    return true;
}

bool ref_covers(const std::vector<AddressPattern>& patterns, const IpAddress& address) {
    for (const AddressPattern& p : patterns) {
        if (p.any || (p.network.base.family == address.family &&
                      ref_prefix_equal(p.network.base, address, p.network.prefix))) {
            return true;
        }
    }
    return false;
}

// A wildcard bind serves the whole family: a permit must name all of it (*, a /0, or the
// wildcard address itself); a deny applies if it names any address of the family.
bool ref_reaches_wildcard(const std::vector<AddressPattern>& patterns, Family family,
                          Action action) {
    const IpAddress wildcard = IpAddress::any(family);
    const unsigned full = family == Family::V4 ? 32U : 128U;
    for (const AddressPattern& p : patterns) {
        if (p.any) {
            return true;
        }
        if (p.network.base.family != family) {
            continue;
        }
        if (action == Action::Deny || p.network.prefix == 0 ||
            (p.network.prefix == full && p.network.base == wildcard)) {
            return true;
        }
    }
    return false;
}

bool ref_matches(const Rule& rule, const Caller& caller, const Request& request) {
    switch (rule.subject.kind) {
        case Subject::Kind::Anyone:
            break;
        case Subject::Kind::User:
            if (caller.user.empty() || caller.user != rule.subject.name) {
                return false;
            }
            break;
        case Subject::Kind::Group: {
            bool member = false;
            for (const std::string& g : caller.groups) {
                member = member || g == rule.subject.name;
            }
            if (!member) {
                return false;
            }
            break;
        }
    }
    const Endpoint& ep = request.endpoint;
    if (rule.ports) {
        bool in = false;
        for (const PortRange& r : *rule.ports) {
            in = in || (r.first <= ep.port && ep.port <= r.last);
        }
        if (!in) {
            return false;
        }
    }
    if (rule.proto && *rule.proto != ep.proto) {
        return false;
    }
    if (rule.addresses) {
        const auto& patterns = *rule.addresses;
        if (ep.dual_stack) {
            const bool v4 = ref_reaches_wildcard(patterns, Family::V4, rule.action);
            const bool v6 = ref_reaches_wildcard(patterns, Family::V6, rule.action);
            if (rule.action == Action::Permit ? !(v4 && v6) : !(v4 || v6)) {
                return false;
            }
        } else if (ep.address == IpAddress::any(ep.address.family)) {
            if (!ref_reaches_wildcard(patterns, ep.address.family, rule.action)) {
                return false;
            }
        } else if (!ref_covers(patterns, ep.address)) {
            return false;
        }
    }
    if (rule.command && (!request.command || *request.command != *rule.command)) {
        return false;
    }
    return true;
}

// Index of the deciding rule (the last match), or nullopt.
std::optional<std::size_t> ref_decide(const Policy& policy, const Caller& caller,
                                      const Request& request) {
    std::optional<std::size_t> last;
    for (std::size_t i = 0; i < policy.rules.size(); ++i) {
        if (ref_matches(policy.rules[i], caller, request)) {
            last = i;
        }
    }
    return last;
}

// ------------------------------------------------------------------ canonical rendering

std::string render_rule(const Rule& rule) {
    std::string s = rule.action == Action::Permit ? "permit " : "deny ";
    switch (rule.subject.kind) {
        case Subject::Kind::Anyone:
            s += "*";
            break;
        case Subject::Kind::User:
            s += rule.subject.name;
            break;
        case Subject::Kind::Group:
            s += ":" + rule.subject.name;
            break;
    }
    if (rule.ports) {
        s += " port ";
        for (std::size_t i = 0; i < rule.ports->size(); ++i) {
            const PortRange& r = (*rule.ports)[i];
            s += (i == 0 ? "" : ",") + std::to_string(r.first);
            if (r.last != r.first) {
                s += "-" + std::to_string(r.last);
            }
        }
    }
    if (rule.proto) {
        s += " proto " + std::string(proto_name(*rule.proto));
    }
    if (rule.addresses) {
        s += " addr ";
        for (std::size_t i = 0; i < rule.addresses->size(); ++i) {
            const AddressPattern& p = (*rule.addresses)[i];
            s += i == 0 ? "" : ",";
            s += p.any ? "*" : p.network.base.to_string() + "/" + std::to_string(p.network.prefix);
        }
    }
    if (rule.command) {
        s += " cmd " + *rule.command;
    }
    return s;
}

bool same_rule(const Rule& a, const Rule& b) {
    auto same_ports = [](const auto& x, const auto& y) {
        if (x.has_value() != y.has_value()) {
            return false;
        }
        if (!x) {
            return true;
        }
        if (x->size() != y->size()) {
            return false;
        }
        for (std::size_t i = 0; i < x->size(); ++i) {
            if ((*x)[i].first != (*y)[i].first || (*x)[i].last != (*y)[i].last) {
                return false;
            }
        }
        return true;
    };
    auto same_addresses = [](const auto& x, const auto& y) {
        if (x.has_value() != y.has_value()) {
            return false;
        }
        if (!x) {
            return true;
        }
        if (x->size() != y->size()) {
            return false;
        }
        for (std::size_t i = 0; i < x->size(); ++i) {
            const AddressPattern& p = (*x)[i];
            const AddressPattern& q = (*y)[i];
            if (p.any != q.any || (!p.any && (p.network.base != q.network.base ||
                                              p.network.prefix != q.network.prefix))) {
                return false;
            }
        }
        return true;
    };
    return a.action == b.action && a.subject.kind == b.subject.kind &&
           a.subject.name == b.subject.name && same_ports(a.ports, b.ports) && a.proto == b.proto &&
           same_addresses(a.addresses, b.addresses) && a.command == b.command;
}

// ------------------------------------------------------------------------ checks

std::vector<std::string_view> lines_of(std::string_view text) {
    std::vector<std::string_view> lines;
    while (!text.empty()) {
        const auto nl = text.find('\n');
        lines.push_back(text.substr(0, nl));
        text = nl == text.npos ? std::string_view{} : text.substr(nl + 1);
    }
    return lines;
}

bool is_blank(char c) {
    return c == ' ' || c == '\t';
}

void check_well_formed(const Policy& policy, const std::vector<PolicySource>& sources) {
    FUZZ_CHECK(policy.files.size() == sources.size());
    FUZZ_CHECK(policy.texts.size() == sources.size());
    FUZZ_CHECK(policy.valid() == policy.errors.empty());
    std::vector<std::vector<std::string_view>> lines_by_file;
    for (const PolicySource& source : sources) {
        lines_by_file.push_back(lines_of(source.text));
    }
    for (const PolicyError& e : policy.errors) {
        FUZZ_CHECK(e.where.file < sources.size());
        const auto& lines = lines_by_file[e.where.file];
        FUZZ_CHECK(e.where.line >= 1 && e.where.line <= lines.size());
        FUZZ_CHECK(e.column >= 1 && e.column <= lines[e.where.line - 1].size() + 1);
        FUZZ_CHECK(!e.message.empty());
        FUZZ_CHECK(!policy.describe(e).empty());
    }
    for (const Rule& rule : policy.rules) {
        FUZZ_CHECK(rule.where.file < sources.size());
        const auto& lines = lines_by_file[rule.where.file];
        FUZZ_CHECK(rule.where.line >= 1 && rule.where.line <= lines.size());
        const std::string_view line = lines[rule.where.line - 1];
        // The rule's text is a span of its own line.
        const auto line_start =
            static_cast<std::size_t>(line.data() - sources[rule.where.file].text.data());
        FUZZ_CHECK(rule.text_offset >= line_start &&
                   rule.text_offset + rule.text_length <= line_start + line.size());
        const std::string_view text = policy.text_of(rule);
        FUZZ_CHECK(!text.empty() &&
                   text == line.substr(rule.text_offset - line_start, rule.text_length));
        FUZZ_CHECK(!is_blank(text.front()) && !is_blank(text.back()));
        FUZZ_CHECK((rule.subject.kind == Subject::Kind::Anyone) == rule.subject.name.empty());
        if (rule.ports) {
            FUZZ_CHECK(!rule.ports->empty());
            for (const PortRange& r : *rule.ports) {
                FUZZ_CHECK(r.first >= 1 && r.first <= r.last);
            }
        }
        if (rule.addresses) {
            FUZZ_CHECK(!rule.addresses->empty());
            for (const AddressPattern& p : *rule.addresses) {
                FUZZ_CHECK(p.any ||
                           p.network.prefix <= (p.network.base.family == Family::V4 ? 32U : 128U));
            }
        }
        if (rule.command) {
            FUZZ_CHECK(!rule.command->empty() && rule.command->front() == '/');
        }
    }
}

void check_round_trip(const Policy& policy) {
    for (const Rule& rule : policy.rules) {
        const Policy again = parse_policy({PolicySource{"canonical.conf", render_rule(rule)}});
        FUZZ_CHECK(again.valid());
        FUZZ_CHECK(again.rules.size() == 1);
        FUZZ_CHECK(same_rule(again.rules[0], rule));
    }
}

// The same text as two files, split after the middle line: the same rules and errors.
void check_split(const Policy& whole, std::string_view text) {
    const auto cut = text.find('\n', text.size() / 2);
    if (cut == text.npos) {
        return;
    }
    const std::vector<PolicySource> two{
        PolicySource{"a.conf", std::string(text.substr(0, cut + 1))},
        PolicySource{"b.conf", std::string(text.substr(cut + 1))}};
    const Policy split = parse_policy(two);
    FUZZ_CHECK(split.rules.size() == whole.rules.size());
    FUZZ_CHECK(split.errors.size() == whole.errors.size());
    for (std::size_t i = 0; i < whole.rules.size(); ++i) {
        FUZZ_CHECK(same_rule(split.rules[i], whole.rules[i]));
        FUZZ_CHECK(split.text_of(split.rules[i]) == whole.text_of(whole.rules[i]));
    }
    for (std::size_t i = 0; i < whole.errors.size(); ++i) {
        FUZZ_CHECK(split.errors[i].message == whole.errors[i].message);
        FUZZ_CHECK(split.errors[i].column == whole.errors[i].column);
    }
}

void check_decision(const Policy& policy, const Probe& probe) {
    const Decision d = decide(policy, probe.caller, probe.request);
    const Decision d2 = decide(policy, probe.caller, probe.request);
    FUZZ_CHECK(d.permitted == d2.permitted && d.rule == d2.rule);
    if (!policy.valid()) {
        FUZZ_CHECK(!d.permitted && d.rule == nullptr);
        return;
    }
    const auto expected = ref_decide(policy, probe.caller, probe.request);
    if (!expected) {
        FUZZ_CHECK(!d.permitted && d.rule == nullptr);
        return;
    }
    FUZZ_CHECK(d.rule == &policy.rules[*expected]);
    FUZZ_CHECK(d.permitted == (d.rule->action == Action::Permit));
    FUZZ_CHECK(rule_matches(*d.rule, probe.caller, probe.request));
}

void check_remembered(broker::DecisionCache& cache, const Policy& policy, const Probe& probe) {
    const Endpoint& ep = probe.request.endpoint;
    const Decision want = broker::decide_for_peer(policy, probe.caller, ep, probe.request.command);
    const Decision got = cache.decide(probe.caller, ep, probe.request.command);
    FUZZ_CHECK(got.permitted == want.permitted && got.rule == want.rule);
}

// ------------------------------------------------------------------------ requests

std::optional<Probe> probe_from_header(std::string_view text) {
    constexpr std::string_view kTag = "#request ";
    if (text.substr(0, kTag.size()) != kTag) {
        return std::nullopt;
    }
    const std::string_view line = text.substr(kTag.size(), text.find('\n') - kTag.size());
    Probe probe;
    std::optional<SocketSpec> spec;
    bool host_has_ipv6 = true;
    bool v6only = false;
    for (const std::string& word : fuzz::split(line, ' ', 16)) {
        const std::string_view w = word;
        if (w.substr(0, 5) == "user=") {
            probe.caller.user = std::string(w.substr(5));
        } else if (w.substr(0, 7) == "groups=") {
            probe.caller.groups = fuzz::split(w.substr(7), ',', 16);
        } else if (w.substr(0, 5) == "spec=") {
            auto parsed = parse_socket_spec(w.substr(5));
            if (parsed.ok()) {
                spec = std::move(parsed).value();
            }
        } else if (w.substr(0, 4) == "cmd=") {
            probe.request.command = std::string(w.substr(4));
        } else if (w == "v4host") {
            host_has_ipv6 = false;
        } else if (w == "v6only") {
            v6only = true;
        }
    }
    if (!spec) {
        return std::nullopt;
    }
    probe.request.endpoint = resolve_endpoint(*spec, host_has_ipv6, v6only);
    return probe;
}

// Requests aimed at `rule`: its own subject, ports, protocol, address and command.
std::vector<Probe> probes_for(const Rule& rule, const Caller& base) {
    Caller caller = base;
    if (rule.subject.kind == Subject::Kind::User) {
        caller.user = rule.subject.name;
    } else if (rule.subject.kind == Subject::Kind::Group) {
        caller.groups.push_back(rule.subject.name);
    }
    Endpoint ep;
    ep.proto = rule.proto.value_or(Proto::Tcp);
    ep.address = IpAddress::any(Family::V6);
    ep.dual_stack = true;
    if (rule.addresses && !rule.addresses->front().any) {
        ep.address = rule.addresses->front().network.base;
        ep.dual_stack = false;
    }
    std::vector<Probe> probes;
    const std::uint16_t first = rule.ports ? rule.ports->front().first : 80;
    const std::uint16_t last = rule.ports ? rule.ports->back().last : 443;
    for (const std::uint16_t port : {first, last}) {
        ep.port = port;
        probes.push_back(Probe{caller, Request{ep, rule.command}});
    }
    // The same request from someone else, and without the command.
    probes.push_back(Probe{Caller{"nobody-else", {}}, Request{ep, rule.command}});
    probes.push_back(Probe{caller, Request{ep, std::nullopt}});
    // The same port over the other protocol, on both families' wildcards.
    ep.proto = ep.proto == Proto::Tcp ? Proto::Udp : Proto::Tcp;
    ep.address = IpAddress::any(Family::V4);
    ep.dual_stack = false;
    probes.push_back(Probe{caller, Request{ep, rule.command}});
    return probes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = fuzz::as_text(data, size);
    const std::vector<PolicySource> sources{PolicySource{"portbind.conf", std::string(text)}};
    const Policy policy = parse_policy(sources);

    check_well_formed(policy, sources);
    check_round_trip(policy);
    check_split(policy, text);  // also shows parsing is deterministic, line by line

    std::vector<Probe> probes;
    Caller base{"alice", {"alice"}};
    if (auto header = probe_from_header(text)) {
        base = header->caller;
        probes.push_back(std::move(*header));
    }
    for (std::size_t i = 0; i < policy.rules.size() && i < kMaxAimedRules; ++i) {
        for (Probe& p : probes_for(policy.rules[i], base)) {
            probes.push_back(std::move(p));
        }
    }
    for (const Probe& probe : probes) {
        check_decision(policy, probe);
    }
    broker::DecisionCache cache(policy, 3);
    for (int round = 0; round < 2; ++round) {
        for (const Probe& probe : probes) {
            check_remembered(cache, policy, probe);
        }
    }
    return 0;
}
