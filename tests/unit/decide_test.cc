#include "policy/decide.h"

#include <arpa/inet.h>

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "policy/parser.h"

using namespace portbind;

namespace {

Policy policy_from(const std::string& text) {
    Policy policy = parse_policy({PolicySource{"test.conf", text}});
    std::string errors;
    for (const PolicyError& e : policy.errors) {
        errors += "\n  " + policy.describe(e);
    }
    BOOST_TEST_REQUIRE(policy.valid(), "test setup: policy must be valid:" << errors);
    return policy;
}

struct Options {
    bool host_has_ipv6 = true;
    bool v6only = false;
    std::optional<std::string> command;
};

Request request(const std::string& spec_text, const Options& options = {}) {
    auto spec = parse_socket_spec(spec_text);
    BOOST_TEST_REQUIRE(spec.ok(), "test setup: spec '" << spec_text << "' must parse");
    return Request{resolve_endpoint(spec.value(), options.host_has_ipv6, options.v6only),
                   options.command};
}

const Caller kAlice{"alice", {"alice", "web"}};
const Caller kBob{"bob", {"bob"}};
const Caller kCarol{"carol", {"staff", "ops", "web"}};  // web as a supplementary group
const Caller kNameless{"", {"web"}};                    // a uid without a passwd entry
const Caller kNobody{"", {}};

// The line number of the deciding rule, 0 when none decided.
unsigned deciding_line(const Policy& policy, const Decision& decision) {
    if (decision.rule == nullptr) {
        return 0;
    }
    const Rule* first = policy.rules.data();
    BOOST_TEST_REQUIRE((decision.rule >= first && decision.rule < first + policy.rules.size()),
                       "Decision::rule does not point into Policy::rules");
    return decision.rule->where.line;
}

struct Case {
    std::string policy;
    Caller caller;
    std::string spec;
    Options options;
    bool permitted;
    unsigned line;  // the deciding rule's line, 0: no rule
};

void check_cases(const std::vector<Case>& cases) {
    for (const Case& c : cases) {
        BOOST_TEST_CONTEXT("policy:\n"
                           << c.policy << "\ncaller '" << c.caller.user << "', spec '" << c.spec
                           << "', host_has_ipv6 " << c.options.host_has_ipv6 << ", v6only "
                           << c.options.v6only << ", command '"
                           << c.options.command.value_or("<none>") << "'") {
            const Policy policy = policy_from(c.policy);
            const Request req = request(c.spec, c.options);
            const Decision decision = decide(policy, c.caller, req);
            BOOST_TEST(decision.permitted == c.permitted);
            BOOST_TEST(deciding_line(policy, decision) == c.line);
            if (decision.rule != nullptr) {
                BOOST_TEST(rule_matches(*decision.rule, c.caller, req));
                BOOST_TEST(decision.permitted == (decision.rule->action == Action::Permit));
            }
        }
    }
}

const Options kDual{};
Options v6only() {
    Options o;
    o.v6only = true;
    return o;
}

Options no_ipv6() {
    Options o;
    o.host_has_ipv6 = false;
    return o;
}

Options with_command(std::optional<std::string> command) {
    Options o;
    o.command = std::move(command);
    return o;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(decide_test)

BOOST_AUTO_TEST_CASE(last_match_wins) {
    check_cases({
        {"permit alice port 80\ndeny alice port 80", kAlice, "80", kDual, false, 2},
        {"deny alice port 80\npermit alice port 80", kAlice, "80", kDual, true, 2},
        {"permit *\ndeny * port 22,25\ndeny mallory", kAlice, "80", kDual, true, 1},
        {"permit *\ndeny * port 22,25\ndeny mallory", kAlice, "25", kDual, false, 2},
        {"permit *\ndeny * port 22,25\ndeny mallory", Caller{"mallory", {"web"}}, "80", kDual,
         false, 3},
        // The man page's example: the later rule overrides the earlier ones.
        {"deny * port 22,25\ndeny mallory\npermit :web port 1-1023", Caller{"mallory", {"web"}},
         "22", kDual, true, 3},
        // A later rule that does not match does not decide.
        {"permit alice port 80\ndeny bob port 80", kAlice, "80", kDual, true, 1},
        {"permit alice port 80\ndeny alice port 81", kAlice, "80", kDual, true, 1},
        {"permit alice\npermit alice\npermit alice", kAlice, "80", kDual, true, 3},
        {"deny alice\npermit alice port 80\ndeny alice port 80 proto udp", kAlice, "80", kDual,
         true, 2},
    });
}

BOOST_AUTO_TEST_CASE(rule_points_into_the_policy) {
    const Policy policy = policy_from(
        "permit alice port 80\n"
        "# comment\n"
        "deny alice port 80 proto udp\n");
    const Decision tcp = decide(policy, kAlice, request("80"));
    BOOST_TEST(tcp.permitted);
    BOOST_TEST((tcp.rule == &policy.rules[0]));
    const Decision udp = decide(policy, kAlice, request("80/udp"));
    BOOST_TEST(!udp.permitted);
    BOOST_TEST((udp.rule == &policy.rules[1]));
    BOOST_REQUIRE(udp.rule != nullptr);
    BOOST_TEST(policy.text_of(*udp.rule) == "deny alice port 80 proto udp");
}

BOOST_AUTO_TEST_CASE(no_match_denies) {
    check_cases({
        {"", kAlice, "80", kDual, false, 0},
        {"# nothing\n", kAlice, "80", kDual, false, 0},
        {"permit bob port 80", kAlice, "80", kDual, false, 0},
        {"permit alice port 443", kAlice, "80", kDual, false, 0},
        {"deny alice port 443", kAlice, "80", kDual, false, 0},
    });
}

BOOST_AUTO_TEST_CASE(invalid_policy_denies_everything) {
    const std::vector<std::string> texts = {
        "permit *\nbogus line",
        "bogus line\npermit *",
        "permit *\npermit alice port 0",
        "permit * # fine\npermit alice\r",
    };
    for (const std::string& text : texts) {
        BOOST_TEST_CONTEXT("policy:\n" << text) {
            const Policy policy = parse_policy({PolicySource{"test.conf", text}});
            BOOST_TEST_REQUIRE(!policy.valid());
            BOOST_TEST_REQUIRE(!policy.rules.empty());  // "permit *" is there and would match
            BOOST_TEST(rule_matches(policy.rules[0], kAlice, request("80")));
            const Decision decision = decide(policy, kAlice, request("80"));
            BOOST_TEST(!decision.permitted);
            BOOST_TEST((decision.rule == nullptr));
        }
    }
}

BOOST_AUTO_TEST_CASE(subjects) {
    check_cases({
        {"permit alice", kAlice, "80", kDual, true, 1},
        {"permit alice", kBob, "80", kDual, false, 0},
        {"permit Alice", kAlice, "80", kDual, false, 0},
        {"permit alic", kAlice, "80", kDual, false, 0},
        {"permit *", kAlice, "80", kDual, true, 1},
        {"permit *", kNameless, "80", kDual, true, 1},
        {"permit *", kNobody, "80", kDual, true, 1},
        // groups: primary or supplementary, by name
        {"permit :web", kAlice, "80", kDual, true, 1},
        {"permit :web", kCarol, "80", kDual, true, 1},
        {"permit :ops", kCarol, "80", kDual, true, 1},
        {"permit :web", kBob, "80", kDual, false, 0},
        {"permit :alice", kAlice, "80", kDual, true, 1},  // alice's primary group
        {"permit :bob", kAlice, "80", kDual, false, 0},
        {"permit :web", kNameless, "80", kDual, true, 1},
        {"permit :web", kNobody, "80", kDual, false, 0},
        // a user rule never matches a group of the same name, nor the reverse
        {"permit web", kAlice, "80", kDual, false, 0},
        {"permit :carol", kCarol, "80", kDual, false, 0},
        // a caller without a user name never matches a user rule
        {"permit alice\npermit bob\npermit web", kNameless, "80", kDual, false, 0},
        {"permit *\ndeny alice", kNameless, "80", kDual, true, 1},
    });
}

BOOST_AUTO_TEST_CASE(empty_user_name_never_matches_a_user_rule) {
    // The parser refuses an empty user name, so build the rule by hand: even a rule naming ""
    // must not match a caller whose uid has no name.
    Rule rule;
    rule.action = Action::Permit;
    rule.subject = Subject{Subject::Kind::User, ""};
    const Request req = request("80");
    BOOST_TEST(!rule_matches(rule, kNameless, req));
    BOOST_TEST(!rule_matches(rule, kNobody, req));
    Policy policy;
    policy.files = {"by-hand"};
    policy.rules = {rule};
    BOOST_TEST(!decide(policy, kNameless, req).permitted);
    BOOST_TEST((decide(policy, kNameless, req).rule == nullptr));

    rule.subject = Subject{Subject::Kind::User, "alice"};
    BOOST_TEST(rule_matches(rule, kAlice, req));
}

BOOST_AUTO_TEST_CASE(ports) {
    const std::string p = "permit * port 80,443,8000-8080,1-1,65535";
    check_cases({
        {p, kAlice, "80", kDual, true, 1},
        {p, kAlice, "79", kDual, false, 0},
        {p, kAlice, "81", kDual, false, 0},
        {p, kAlice, "443", kDual, true, 1},
        {p, kAlice, "7999", kDual, false, 0},
        {p, kAlice, "8000", kDual, true, 1},
        {p, kAlice, "8042", kDual, true, 1},
        {p, kAlice, "8080", kDual, true, 1},
        {p, kAlice, "8081", kDual, false, 0},
        {p, kAlice, "1", kDual, true, 1},
        {p, kAlice, "2", kDual, false, 0},
        {p, kAlice, "65535", kDual, true, 1},
        {p, kAlice, "65534", kDual, false, 0},
    });
    const std::string r = "permit * port 1-1023";
    check_cases({
        {r, kAlice, "1", kDual, true, 1},
        {r, kAlice, "1023", kDual, true, 1},
        {r, kAlice, "1024", kDual, false, 0},
        {"permit * port 1-65535", kAlice, "65535", kDual, true, 1},
        {"permit *", kAlice, "65535", kDual, true, 1},
    });
}

BOOST_AUTO_TEST_CASE(protocols) {
    check_cases({
        {"permit * proto udp", kAlice, "53/udp", kDual, true, 1},
        {"permit * proto udp", kAlice, "53", kDual, false, 0},
        {"permit * proto udp", kAlice, "53/tcp", kDual, false, 0},
        {"permit * proto tcp", kAlice, "53", kDual, true, 1},
        {"permit * proto tcp", kAlice, "53/udp", kDual, false, 0},
        {"permit *", kAlice, "53/udp", kDual, true, 1},
        {"permit *", kAlice, "53/tcp", kDual, true, 1},
    });
}

BOOST_AUTO_TEST_CASE(addresses) {
    check_cases({
        {"permit * addr 127.0.0.0/8", kAlice, "127.0.0.1:80", kDual, true, 1},
        {"permit * addr 127.0.0.0/8", kAlice, "127.255.255.255:80", kDual, true, 1},
        {"permit * addr 127.0.0.0/8", kAlice, "128.0.0.1:80", kDual, false, 0},
        {"permit * addr 127.0.0.0/8", kAlice, "126.255.255.255:80", kDual, false, 0},
        {"permit * addr 127.0.0.0/8", kAlice, "[::1]:80", kDual, false, 0},
        {"permit * addr 127.0.0.0/8", kAlice, "80", kDual, false, 0},
        {"permit * addr 127.0.0.1", kAlice, "127.0.0.1:80", kDual, true, 1},
        {"permit * addr 127.0.0.1", kAlice, "127.0.0.2:80", kDual, false, 0},
        {"permit * addr ::1", kAlice, "[::1]:80", kDual, true, 1},
        {"permit * addr ::1", kAlice, "127.0.0.1:80", kDual, false, 0},
        {"permit * addr ::1", kAlice, "[::]:80", kDual, false, 0},
        {"permit * addr 2001:db8::/32", kAlice, "[2001:db8:1::5]:443", kDual, true, 1},
        {"permit * addr 2001:db8::/32", kAlice, "[2001:db9::]:443", kDual, false, 0},
        {"permit * addr 10.0.0.0/8,::1", kAlice, "10.9.8.7:80", kDual, true, 1},
        {"permit * addr 10.0.0.0/8,::1", kAlice, "[::1]:80", kDual, true, 1},
        {"permit * addr 10.0.0.0/8,::1", kAlice, "192.0.2.1:80", kDual, false, 0},
        {"permit * addr *", kAlice, "192.0.2.1:80", kDual, true, 1},
        {"permit * addr *", kAlice, "[2001:db8::1]:80", kDual, true, 1},
        {"permit * addr *", kAlice, "0.0.0.0:80", kDual, true, 1},
        {"permit * addr 0.0.0.0", kAlice, "0.0.0.0:80", kDual, true, 1},
        {"permit * addr 0.0.0.0", kAlice, "127.0.0.1:80", kDual, false, 0},
        {"permit * addr 0.0.0.0/0", kAlice, "127.0.0.1:80", kDual, true, 1},
        {"permit * addr ::/0", kAlice, "127.0.0.1:80", kDual, false, 0},
        {"permit * addr ::/0", kAlice, "[::1]:80", kDual, true, 1},
    });
}

BOOST_AUTO_TEST_CASE(dual_stack) {
    check_cases({
        // A permit must cover both 0.0.0.0 and ::.
        {"permit * addr 0.0.0.0/0", kAlice, "80", kDual, false, 0},
        {"permit * addr 0.0.0.0", kAlice, "80", kDual, false, 0},
        {"permit * addr ::/0", kAlice, "80", kDual, false, 0},
        {"permit * addr ::", kAlice, "80", kDual, false, 0},
        {"permit * addr 0.0.0.0/0,::/0", kAlice, "80", kDual, true, 1},
        {"permit * addr ::/0,0.0.0.0/0", kAlice, "80", kDual, true, 1},
        {"permit * addr 0.0.0.0,::", kAlice, "80", kDual, true, 1},
        {"permit * addr *", kAlice, "80", kDual, true, 1},
        {"permit * addr 127.0.0.1,*", kAlice, "80", kDual, true, 1},
        {"permit *", kAlice, "80", kDual, true, 1},
        {"permit * addr 127.0.0.1,::1", kAlice, "80", kDual, false, 0},
        // Without dual-stack only the one wildcard counts.
        {"permit * addr 0.0.0.0/0", kAlice, "80", no_ipv6(), true, 1},
        {"permit * addr 0.0.0.0/0", kAlice, "80", v6only(), false, 0},
        {"permit * addr ::/0", kAlice, "80", v6only(), true, 1},
        {"permit * addr ::", kAlice, "80", v6only(), true, 1},
        {"permit * addr ::/0", kAlice, "80", no_ipv6(), false, 0},
        {"permit * addr 0.0.0.0/0", kAlice, "0.0.0.0:80", kDual, true, 1},
        {"permit * addr ::/0", kAlice, "[::]:80", kDual, true, 1},
        // A deny matches when it covers either one.
        {"permit *\ndeny * addr ::", kAlice, "80", kDual, false, 2},
        {"permit *\ndeny * addr ::/0", kAlice, "80", kDual, false, 2},
        {"permit *\ndeny * addr 0.0.0.0", kAlice, "80", kDual, false, 2},
        {"permit *\ndeny * addr 0.0.0.0/0,::/0", kAlice, "80", kDual, false, 2},
        {"permit *\ndeny * addr *", kAlice, "80", kDual, false, 2},
        // A wildcard socket also serves 127.0.0.1 and ::1: a deny naming them refuses it.
        {"permit *\ndeny * addr 127.0.0.1,::1", kAlice, "80", kDual, false, 2},
        {"permit *\ndeny * addr 10.0.0.0/8", kAlice, "80", kDual, false, 2},
        {"permit *\ndeny * addr 10.0.0.0/8", kAlice, "80", v6only(), true, 1},
        {"permit *\ndeny * addr 10.0.0.0/8", kAlice, "0.0.0.0:80", kDual, false, 2},
        {"permit *\ndeny * addr 10.0.0.0/8", kAlice, "127.0.0.1:80", kDual, true, 1},
        // A permit must name the whole family: networks that merely contain the wildcard
        // address do not grant it.
        {"permit * addr 0.0.0.0/8", kAlice, "0.0.0.0:80", kDual, false, 0},
        {"permit * addr ::/1", kAlice, "[::]:80", kDual, false, 0},
        {"permit * addr 0.0.0.0/8,::/3", kAlice, "80", kDual, false, 0},
        {"permit * addr 0.0.0.0/32,::/128", kAlice, "80", kDual, true, 1},
        {"permit *\ndeny * addr ::", kAlice, "80", no_ipv6(), true, 1},
        {"permit *\ndeny * addr 0.0.0.0", kAlice, "80", v6only(), true, 1},
        {"permit *\ndeny * addr ::", kAlice, "80", v6only(), false, 2},
        // The man page's example.
        {"permit alice port 80 addr 0.0.0.0", kAlice, "80", kDual, false, 0},
        {"permit alice port 80 addr 0.0.0.0", kAlice, "0.0.0.0:80", kDual, true, 1},
    });
}

BOOST_AUTO_TEST_CASE(commands) {
    const std::string p = "permit * cmd /usr/bin/app";
    check_cases({
        {p, kAlice, "443", with_command("/usr/bin/app"), true, 1},
        {p, kAlice, "443", with_command("/usr/bin/app2"), false, 0},
        {p, kAlice, "443", with_command("/usr/bin/ap"), false, 0},
        {p, kAlice, "443", with_command("/usr/bin//app"), false, 0},
        {p, kAlice, "443", with_command("/usr/bin/./app"), false, 0},
        {p, kAlice, "443", with_command("/USR/BIN/APP"), false, 0},
        {p, kAlice, "443", with_command("app"), false, 0},
        {p, kAlice, "443", with_command(""), false, 0},
        {p, kAlice, "443", with_command(std::nullopt), false, 0},
        {"permit *", kAlice, "443", with_command(std::nullopt), true, 1},
        {"permit *", kAlice, "443", with_command("/bin/anything"), true, 1},
        // A cmd deny does not match when the command is unknown.
        {"permit *\ndeny * cmd /usr/bin/evil", kAlice, "443", with_command(std::nullopt), true, 1},
        {"permit *\ndeny * cmd /usr/bin/evil", kAlice, "443", with_command("/usr/bin/evil"), false,
         2},
        {"permit *\ndeny * cmd /usr/bin/evil", kAlice, "443", with_command("/usr/bin/good"), true,
         1},
    });
}

BOOST_AUTO_TEST_CASE(all_conditions_must_hold) {
    const std::string p = "permit :web port 443 proto tcp addr 127.0.0.1 cmd /usr/bin/app";
    const Options app = with_command("/usr/bin/app");
    check_cases({
        {p, kAlice, "127.0.0.1:443", app, true, 1},
        {p, kBob, "127.0.0.1:443", app, false, 0},
        {p, kAlice, "127.0.0.1:444", app, false, 0},
        {p, kAlice, "127.0.0.1:443/udp", app, false, 0},
        {p, kAlice, "127.0.0.2:443", app, false, 0},
        {p, kAlice, "127.0.0.1:443", with_command("/usr/bin/other"), false, 0},
    });
}

// decide() against an independent reference: generated policies, generated requests, a forward
// scan that remembers the last matching rule.
namespace {

struct GenRule {
    bool permit = false;
    std::string subject;                                    // "*", "name" or ":group"
    std::optional<std::vector<std::pair<int, int>>> ports;  // inclusive ranges
    std::optional<bool> udp;
    std::optional<std::vector<std::string>> addrs;
    std::optional<std::string> cmd;
};

struct GenAddress {
    bool v6 = false;
    unsigned char bytes[16] = {};
};

GenAddress gen_address(const std::string& text) {
    GenAddress a;
    a.v6 = text.find(':') != std::string::npos;
    const int rc = ::inet_pton(a.v6 ? AF_INET6 : AF_INET, text.c_str(), a.bytes);
    BOOST_TEST_REQUIRE(rc == 1, "test setup: bad address " << text);
    return a;
}

bool ref_pattern_covers(const std::string& pattern, const GenAddress& address) {
    if (pattern == "*") {
        return true;
    }
    const auto slash = pattern.find('/');
    const GenAddress base = gen_address(pattern.substr(0, slash));
    if (base.v6 != address.v6) {
        return false;
    }
    const int bits = base.v6 ? 128 : 32;
    const int prefix = slash == std::string::npos ? bits : std::stoi(pattern.substr(slash + 1));
    for (int bit = 0; bit < prefix; ++bit) {
        const int byte = bit / 8;
        const int mask = 0x80 >> (bit % 8);
        if ((base.bytes[byte] & mask) != (address.bytes[byte] & mask)) {
            return false;
        }
    }
    return true;
}

struct GenRequest {
    std::string user;
    std::vector<std::string> groups;
    int port = 0;
    bool udp = false;
    std::string address;  // the endpoint's address
    bool dual = false;
    std::optional<std::string> command;
};

bool ref_matches(const GenRule& r, const GenRequest& q) {
    if (r.subject != "*") {
        if (r.subject[0] == ':') {
            const std::string group = r.subject.substr(1);
            if (std::find(q.groups.begin(), q.groups.end(), group) == q.groups.end()) {
                return false;
            }
        } else if (q.user.empty() || q.user != r.subject) {
            return false;
        }
    }
    if (r.ports) {
        bool in = false;
        for (const auto& [lo, hi] : *r.ports) {
            in = in || (lo <= q.port && q.port <= hi);
        }
        if (!in) {
            return false;
        }
    }
    if (r.udp && *r.udp != q.udp) {
        return false;
    }
    if (r.addrs) {
        auto covered = [&](const std::string& address) {
            const GenAddress a = gen_address(address);
            for (const std::string& p : *r.addrs) {
                if (ref_pattern_covers(p, a)) {
                    return true;
                }
            }
            return false;
        };
        // Reference semantics: a wildcard serves its whole family, so a permit needs `*`, a
        // /0 or the wildcard itself, and a deny applies if it names any address of it.
        auto reaches_wildcard = [&](bool v6) {
            for (const std::string& p : *r.addrs) {
                if (p == "*") {
                    return true;
                }
                const auto slash = p.find('/');
                const GenAddress base = gen_address(p.substr(0, slash));
                if (base.v6 != v6) {
                    continue;
                }
                const int bits = v6 ? 128 : 32;
                const int prefix =
                    slash == std::string::npos ? bits : std::stoi(p.substr(slash + 1));
                bool zero = true;
                for (int i = 0; i < bits / 8; ++i) {
                    zero = zero && base.bytes[i] == 0;
                }
                if (!r.permit || prefix == 0 || (prefix == bits && zero)) {
                    return true;
                }
            }
            return false;
        };
        const bool wildcard = q.address == "0.0.0.0" || q.address == "::";
        if (q.dual) {
            const bool v4 = reaches_wildcard(false);
            const bool v6 = reaches_wildcard(true);
            if (r.permit ? !(v4 && v6) : !(v4 || v6)) {
                return false;
            }
        } else if (wildcard) {
            if (!reaches_wildcard(q.address == "::")) {
                return false;
            }
        } else if (!covered(q.address)) {
            return false;
        }
    }
    if (r.cmd && (!q.command || *q.command != *r.cmd)) {
        return false;
    }
    return true;
}

// Index of the deciding rule, or -1.
int ref_decide(const std::vector<GenRule>& rules, const GenRequest& q) {
    int last = -1;
    for (std::size_t i = 0; i < rules.size(); ++i) {
        if (ref_matches(rules[i], q)) {
            last = static_cast<int>(i);
        }
    }
    return last;
}

std::string render_rule(const GenRule& r, std::mt19937& rng) {
    std::vector<std::string> options;
    if (r.ports) {
        std::string s = "port ";
        for (std::size_t i = 0; i < r.ports->size(); ++i) {
            const auto [lo, hi] = (*r.ports)[i];
            s += (i ? "," : "") + std::to_string(lo);
            if (hi != lo || rng() % 4 == 0) {
                s += "-" + std::to_string(hi);
            }
        }
        options.push_back(s);
    }
    if (r.udp) {
        options.push_back(std::string("proto ") + (*r.udp ? "udp" : "tcp"));
    }
    if (r.addrs) {
        std::string s = "addr ";
        for (std::size_t i = 0; i < r.addrs->size(); ++i) {
            s += (i ? "," : "") + (*r.addrs)[i];
        }
        options.push_back(s);
    }
    if (r.cmd) {
        options.push_back("cmd " + *r.cmd);
    }
    std::shuffle(options.begin(), options.end(), rng);
    std::string line = std::string(r.permit ? "permit" : "deny") + " " + r.subject;
    for (const std::string& o : options) {
        line += (rng() % 2 ? "\t" : " ") + o;
    }
    return line;
}

template <typename T, std::size_t N>
const T& pick(const T (&items)[N], std::mt19937& rng) {
    return items[rng() % N];
}

}  // namespace

BOOST_AUTO_TEST_CASE(randomized_against_reference) {
    const char* const subjects[] = {"*",    "alice", "bob",    "carol",   ":web",
                                    ":ops", ":bob",  ":alice", ":nobody", "dave"};
    const int port_pool[] = {1, 22, 53, 79, 80, 81, 443, 444, 1023, 1024, 8080, 65535};
    const char* const addr_pool[] = {
        "*",           "0.0.0.0",    "0.0.0.0/0", "::",   "::/0",          "127.0.0.0/8",
        "127.0.0.1",   "10.0.0.0/8", "::1",       "::/1", "2001:db8::/32", "fe80::/10",
        "128.0.0.0/1", "10.1.2.3"};
    const char* const cmd_pool[] = {"/usr/bin/app", "/usr/bin/other"};
    const char* const request_addresses[] = {"127.0.0.1",   "10.1.2.3", "192.0.2.1",
                                             "0.0.0.0",     "::",       "::1",
                                             "2001:db8::5", "fe80::1",  "8000::1"};
    const char* const request_commands[] = {"/usr/bin/app", "/usr/bin/other", "/usr/bin/app2"};
    struct Who {
        const char* user;
        std::vector<std::string> groups;
    };
    const Who callers[] = {
        {"alice", {"alice", "web"}},
        {"bob", {"bob"}},
        {"carol", {"staff", "ops", "web"}},
        {"", {"web"}},
        {"", {}},
        {"dave", {"bob"}},
    };

    std::mt19937 rng(20240611);
    int permitted = 0, denied_by_rule = 0, no_match = 0, invalid = 0, mismatches = 0;
    for (int iteration = 0; iteration < 2000; ++iteration) {
        // The policy.
        std::vector<GenRule> rules(rng() % 7);
        std::ostringstream text;
        std::vector<unsigned> lines;
        unsigned line = 0;
        const bool make_invalid = rng() % 20 == 0;
        const std::size_t bad_at = rules.empty() ? 0 : rng() % (rules.size() + 1);
        for (std::size_t i = 0; i <= rules.size(); ++i) {
            if (make_invalid && i == bad_at) {
                text << "permit alice port 0\n";
                ++line;
            }
            if (rng() % 4 == 0) {
                text << (rng() % 2 ? "# comment\n" : "\n");
                ++line;
            }
            if (i == rules.size()) {
                break;
            }
            GenRule& r = rules[i];
            r.permit = rng() % 2 == 0;
            r.subject = pick(subjects, rng);
            if (rng() % 2) {
                r.ports.emplace();
                const std::size_t n = 1 + rng() % 3;
                for (std::size_t k = 0; k < n; ++k) {
                    int a = pick(port_pool, rng);
                    int b = rng() % 2 ? a : pick(port_pool, rng);
                    if (a > b) {
                        std::swap(a, b);
                    }
                    r.ports->emplace_back(a, b);
                }
            }
            if (rng() % 3 == 0) {
                r.udp = rng() % 2 == 0;
            }
            if (rng() % 2) {
                r.addrs.emplace();
                const std::size_t n = 1 + rng() % 3;
                for (std::size_t k = 0; k < n; ++k) {
                    r.addrs->push_back(pick(addr_pool, rng));
                }
            }
            if (rng() % 4 == 0) {
                r.cmd = pick(cmd_pool, rng);
            }
            text << render_rule(r, rng);
            if (rng() % 5 == 0) {
                text << " # why";
            }
            text << "\n";
            lines.push_back(++line);
        }
        const Policy policy = parse_policy({PolicySource{"random.conf", text.str()}});
        if (make_invalid != !policy.valid() || policy.rules.size() != rules.size()) {
            ++mismatches;
            BOOST_TEST_MESSAGE("generated policy parsed unexpectedly:\n" << text.str());
            continue;
        }

        // Requests against it.
        for (int k = 0; k < 10; ++k) {
            const Who& who = pick(callers, rng);
            GenRequest q;
            q.user = who.user;
            q.groups = who.groups;
            q.port = pick(port_pool, rng);
            q.udp = rng() % 2 == 0;
            if (rng() % 3 == 0) {
                q.address = "::";
                q.dual = true;
            } else {
                q.address = pick(request_addresses, rng);
            }
            if (rng() % 2) {
                q.command = pick(request_commands, rng);
            }

            Request req;
            req.endpoint.proto = q.udp ? Proto::Udp : Proto::Tcp;
            req.endpoint.port = static_cast<std::uint16_t>(q.port);
            const GenAddress ga = gen_address(q.address);
            req.endpoint.address.family = ga.v6 ? Family::V6 : Family::V4;
            std::memcpy(req.endpoint.address.bytes.data(), ga.bytes, ga.v6 ? 16u : 4u);
            req.endpoint.dual_stack = q.dual;
            req.command = q.command;
            const Caller caller{q.user, q.groups};

            const Decision got = decide(policy, caller, req);
            const int want = make_invalid ? -1 : ref_decide(rules, q);
            const bool want_permitted = want >= 0 && rules[static_cast<std::size_t>(want)].permit;
            const Rule* want_rule =
                want >= 0 ? &policy.rules[static_cast<std::size_t>(want)] : nullptr;
            if (got.permitted != want_permitted || got.rule != want_rule) {
                if (++mismatches <= 5) {
                    BOOST_TEST_MESSAGE(
                        "mismatch for caller '"
                        << q.user << "' endpoint " << req.endpoint.to_string() << " command '"
                        << q.command.value_or("<none>") << "': got permitted=" << got.permitted
                        << " rule "
                        << (got.rule ? policy.text_of(*got.rule) : std::string_view("<none>"))
                        << ", want permitted=" << want_permitted << " rule "
                        << (want_rule ? policy.text_of(*want_rule) : std::string_view("<none>"))
                        << "\npolicy:\n"
                        << text.str());
                }
            }
            if (make_invalid) {
                ++invalid;
            } else if (want < 0) {
                ++no_match;
            } else if (want_permitted) {
                ++permitted;
            } else {
                ++denied_by_rule;
            }
            if (want >= 0 && got.rule != nullptr) {
                BOOST_TEST_REQUIRE(got.rule->where.line == lines[static_cast<std::size_t>(want)]);
            }
        }
    }
    BOOST_TEST(mismatches == 0);
    // The generator must exercise every outcome.
    BOOST_TEST(permitted > 1000);
    BOOST_TEST(denied_by_rule > 1000);
    BOOST_TEST(no_match > 1000);
    BOOST_TEST(invalid > 100);
}

BOOST_AUTO_TEST_SUITE_END()
