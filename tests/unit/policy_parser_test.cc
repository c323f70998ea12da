#include "policy/parser.h"

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

using namespace portbind;

namespace {

Policy parse_one(const std::string& text, const std::string& name = "test.conf") {
    return parse_policy({PolicySource{name, text}});
}

IpAddress ip(const std::string& text) {
    const auto address = parse_ip(text);
    BOOST_TEST_REQUIRE(address.has_value(), "test setup: '" << text << "' must parse");
    return *address;
}

std::string all_errors(const Policy& policy) {
    std::string out;
    for (const PolicyError& e : policy.errors) {
        out += "\n  " + policy.describe(e);
    }
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(policy_parser_test)

// One line, one error: where it is and what it says.
BOOST_AUTO_TEST_CASE(error_line_and_column) {
    struct Case {
        std::string line;
        unsigned column;
        std::string message;  // a part of the message
    };
    const Case cases[] = {
        // verb
        {"frobnicate alice", 1, "expected 'permit' or 'deny', found 'frobnicate'"},
        {"Permit alice", 1, "found 'Permit'"},
        {"   allow alice port 80", 4, "found 'allow'"},
        {"\tpermitted *", 2, "found 'permitted'"},
        // subject
        {"permit", 7, "missing subject"},
        {"deny   ", 8, "missing subject"},
        {"permit\t", 8, "missing subject"},
        {"permit ../x", 8, "invalid user name '../x'"},
        {"permit a/b", 8, "invalid user name 'a/b'"},
        {"permit -alice", 8, "invalid user name '-alice'"},
        {"permit a$b", 8, "invalid user name 'a$b'"},
        {"permit a#b", 8, "invalid user name 'a#b'"},  // '#' inside a word is no comment
        {"permit ** port 80", 8, "invalid user name '**'"},
        {"deny  :", 7, "invalid group name ''"},
        {"permit :../x", 8, "invalid group name '../x'"},
        {"permit ::web", 8, "invalid group name ':web'"},
        {"permit :-web", 8, "invalid group name '-web'"},
        // option keys and values
        {"permit alice prot 80", 14, "unknown option 'prot'"},
        {"permit alice PORT 80", 14, "unknown option 'PORT'"},
        {"permit alice port 80 user bob", 22, "unknown option 'user'"},
        {"permit alice port", 18, "missing value after 'port'"},
        {"permit alice port 80 proto", 27, "missing value after 'proto'"},
        {"permit alice cmd", 17, "missing value after 'cmd'"},
        {"permit alice port 80 port 443", 22, "option 'port' given twice"},
        {"permit alice proto tcp proto tcp", 24, "option 'proto' given twice"},
        {"permit alice addr * port 1 addr ::1", 28, "option 'addr' given twice"},
        {"permit alice cmd /a cmd /b", 21, "option 'cmd' given twice"},
        // ports
        {"permit alice port 0", 19, "invalid port '0'"},
        {"permit alice port 65536", 19, "invalid port '65536'"},
        {"permit alice port 080", 19, "invalid port '080'"},
        {"permit alice port +80", 19, "invalid port '+80'"},
        {"permit alice port 0x50", 19, "invalid port '0x50'"},
        {"permit alice port 80-", 19, "invalid port '80-'"},
        {"permit alice port -80", 19, "invalid port '-80'"},
        {"permit alice port 1-2-3", 19, "invalid port '1-2-3'"},
        {"permit alice port 1000-80", 19, "reversed port range '1000-80'"},
        {"permit alice port 80,1000-80", 22, "reversed port range '1000-80'"},
        {"permit alice port 80,443,0", 26, "invalid port '0'"},
        {"permit alice port 80,,443", 22, "empty element in list"},
        {"permit alice port ,80", 19, "empty element in list"},
        {"permit alice port 80,", 22, "empty element in list"},
        {"permit alice port 80,#81", 22, "invalid port '#81'"},
        // proto
        {"permit alice proto sctp", 20, "proto must be 'tcp' or 'udp'"},
        {"permit alice proto TCP", 20, "proto must be 'tcp' or 'udp'"},
        {"permit alice proto tcp,udp", 20, "proto must be 'tcp' or 'udp'"},
        // addresses
        {"permit alice addr 10.0.0.1/8", 19, "invalid address '10.0.0.1/8'"},
        {"permit alice addr 1.2.3.4/33", 19, "invalid address '1.2.3.4/33'"},
        {"permit alice addr ::1,1.2.3.4/33", 23, "invalid address '1.2.3.4/33'"},
        {"permit alice addr ::/129", 19, "invalid address '::/129'"},
        {"permit alice addr localhost", 19, "invalid address 'localhost'"},
        {"permit alice addr [::1]", 19, "invalid address '[::1]'"},
        {"permit alice addr 127.1", 19, "invalid address '127.1'"},
        {"permit alice addr ::ffff:127.0.0.1", 19, "invalid address '::ffff:127.0.0.1'"},
        {"permit alice addr fe80::1%eth0", 19, "invalid address 'fe80::1%eth0'"},
        {"permit alice addr *,,::1", 21, "empty element in list"},
        // cmd
        {"permit alice cmd bin/app", 18, "cmd must be an absolute path"},
        {"permit alice cmd ./app", 18, "cmd must be an absolute path"},
        {"permit alice cmd ~/app", 18, "cmd must be an absolute path"},
        // bytes
        {"permit alice\r", 13, "carriage return"},
        {"permit alice port 80\r", 21, "carriage return"},
        {"\r", 1, "carriage return"},
        {"permit al\x01ice", 10, "control or non-ASCII character"},
        {"permit alice\x7f", 13, "control or non-ASCII character"},
        {"permit alice\x0b port 80", 13, "control or non-ASCII character"},
        {"\x1b[1mpermit alice", 1, "control or non-ASCII character"},
        {"permit caf\xc3\xa9", 11, "control or non-ASCII character"},
        {"permit alice cmd /usr/bin/\xff", 27, "control or non-ASCII character"},
        {std::string("permit al\0ice", 13), 10, "NUL byte"},
        {std::string("permit alice # \0", 16), 16, "NUL byte"},
    };
    for (const Case& c : cases) {
        BOOST_TEST_CONTEXT("line '" << c.line << "'") {
            const Policy policy = parse_one(c.line, "x.conf");
            BOOST_TEST(!policy.valid());
            BOOST_TEST(policy.rules.empty());
            BOOST_TEST_REQUIRE(policy.errors.size() == 1u, all_errors(policy));
            const PolicyError& e = policy.errors[0];
            BOOST_TEST(e.where.file == 0u);
            BOOST_TEST(e.where.line == 1u);
            BOOST_TEST(e.column == c.column, policy.describe(e));
            BOOST_TEST(e.message.find(c.message) != std::string::npos, e.message);
            BOOST_TEST(policy.describe(e) ==
                       "x.conf:1:" + std::to_string(c.column) + ": " + e.message);
        }
    }
}

BOOST_AUTO_TEST_CASE(long_lines) {
    BOOST_TEST(kMaxPolicyLine == 4096u);
    const std::string rule = "permit alice port 80 # ";
    const std::string longest = rule + std::string(kMaxPolicyLine - rule.size(), 'x');
    const std::string too_long = longest + "x";
    BOOST_TEST_REQUIRE(longest.size() == kMaxPolicyLine);

    const Policy ok = parse_one(longest);
    BOOST_TEST(ok.valid(), all_errors(ok));
    BOOST_TEST(ok.rules.size() == 1u);

    const Policy bad = parse_one("deny *\n" + too_long + "\npermit bob\n");
    BOOST_TEST_REQUIRE(bad.errors.size() == 1u, all_errors(bad));
    BOOST_TEST(bad.errors[0].where.line == 2u);
    BOOST_TEST(bad.errors[0].column == kMaxPolicyLine + 1);
    BOOST_TEST(bad.errors[0].message.find("longer than 4096 bytes") != std::string::npos,
               bad.errors[0].message);
    BOOST_TEST_REQUIRE(bad.rules.size() == 2u);
    BOOST_TEST(bad.text_of(bad.rules[0]) == "deny *");
    BOOST_TEST(bad.text_of(bad.rules[1]) == "permit bob");

    // A huge rule (not hidden in a comment) is refused the same way.
    const Policy huge = parse_one("permit alice port " + std::string(10000, '8'));
    BOOST_TEST_REQUIRE(huge.errors.size() == 1u, all_errors(huge));
    BOOST_TEST(huge.errors[0].column == kMaxPolicyLine + 1);
}

BOOST_AUTO_TEST_CASE(several_errors_in_one_rule) {
    const Policy policy = parse_one("permit alice port 0 proto xyz addr 10.0.0.1/8 cmd rel");
    BOOST_TEST(policy.rules.empty());
    BOOST_TEST_REQUIRE(policy.errors.size() == 4u, all_errors(policy));
    BOOST_TEST(policy.errors[0].column == 19u);
    BOOST_TEST(policy.errors[1].column == 27u);
    BOOST_TEST(policy.errors[2].column == 36u);
    BOOST_TEST(policy.errors[3].column == 51u);

    const Policy list = parse_one("permit alice port 0,80,99999,5-4");
    BOOST_TEST(list.rules.empty());
    BOOST_TEST_REQUIRE(list.errors.size() == 3u, all_errors(list));
    BOOST_TEST(list.errors[0].column == 19u);
    BOOST_TEST(list.errors[1].column == 24u);
    BOOST_TEST(list.errors[2].column == 30u);
}

BOOST_AUTO_TEST_CASE(errors_in_several_files_are_all_reported) {
    const std::vector<PolicySource> sources = {
        {"/etc/portbind.conf",
         "# main policy\n"
         "permit alice port 80\n"
         "permit bob port 0\n"},
        {"/etc/portbind.d/10-a.conf", ""},
        {"/etc/portbind.d/20-b.conf",
         "\n"
         "deny * proto icmp\n"
         "permit :web port 443\n"
         "frob\n"
         "permit carol\r\n"},
    };
    const Policy policy = parse_policy(sources);
    BOOST_TEST(!policy.valid());
    BOOST_TEST_REQUIRE(policy.files.size() == 3u);
    BOOST_TEST(policy.files[0] == "/etc/portbind.conf");
    BOOST_TEST(policy.files[1] == "/etc/portbind.d/10-a.conf");
    BOOST_TEST(policy.files[2] == "/etc/portbind.d/20-b.conf");

    struct Expected {
        std::size_t file;
        unsigned line;
        unsigned column;
        std::string prefix;
    };
    const Expected expected[] = {
        {0, 3, 17, "/etc/portbind.conf:3:17: invalid port '0'"},
        {2, 2, 14, "/etc/portbind.d/20-b.conf:2:14: proto must be"},
        {2, 4, 1, "/etc/portbind.d/20-b.conf:4:1: expected 'permit' or 'deny', found 'frob'"},
        {2, 5, 13, "/etc/portbind.d/20-b.conf:5:13: carriage return"},
    };
    BOOST_TEST_REQUIRE(policy.errors.size() == std::size(expected), all_errors(policy));
    for (std::size_t i = 0; i < std::size(expected); ++i) {
        BOOST_TEST_CONTEXT("error " << i) {
            const PolicyError& e = policy.errors[i];
            BOOST_TEST(e.where.file == expected[i].file);
            BOOST_TEST(e.where.line == expected[i].line);
            BOOST_TEST(e.column == expected[i].column);
            const std::string described = policy.describe(e);
            BOOST_TEST(described.rfind(expected[i].prefix, 0) == 0u, described);
        }
    }

    // The good rules are still listed (for explanations), in order.
    BOOST_TEST_REQUIRE(policy.rules.size() == 2u);
    BOOST_TEST(policy.text_of(policy.rules[0]) == "permit alice port 80");
    BOOST_TEST(policy.location(policy.rules[0].where) == "/etc/portbind.conf:2");
    BOOST_TEST(policy.text_of(policy.rules[1]) == "permit :web port 443");
    BOOST_TEST(policy.location(policy.rules[1].where) == "/etc/portbind.d/20-b.conf:3");
}

BOOST_AUTO_TEST_CASE(rule_fields) {
    const Policy policy = parse_one(
        "permit :web port 80,443,8000-8080 proto udp addr 127.0.0.0/8,::1,* cmd /usr/bin/app\n"
        "deny *\n"
        "permit alice$\n"
        "deny a.b-c_D9 cmd /opt/a#b proto tcp port 1-65535 addr 0.0.0.0/0\n"
        "permit bob addr ::/0\n");
    BOOST_TEST_REQUIRE(policy.valid(), all_errors(policy));
    BOOST_TEST_REQUIRE(policy.rules.size() == 5u);

    const Rule& web = policy.rules[0];
    BOOST_TEST((web.action == Action::Permit));
    BOOST_TEST((web.subject.kind == Subject::Kind::Group));
    BOOST_TEST(web.subject.name == "web");
    BOOST_TEST_REQUIRE(web.ports.has_value());
    BOOST_TEST_REQUIRE(web.ports->size() == 3u);
    BOOST_TEST((*web.ports)[0].first == 80);
    BOOST_TEST((*web.ports)[0].last == 80);
    BOOST_TEST((*web.ports)[1].first == 443);
    BOOST_TEST((*web.ports)[1].last == 443);
    BOOST_TEST((*web.ports)[2].first == 8000);
    BOOST_TEST((*web.ports)[2].last == 8080);
    BOOST_TEST_REQUIRE(web.proto.has_value());
    BOOST_TEST((*web.proto == Proto::Udp));
    BOOST_TEST_REQUIRE(web.addresses.has_value());
    BOOST_TEST_REQUIRE(web.addresses->size() == 3u);
    BOOST_TEST(!(*web.addresses)[0].any);
    BOOST_TEST(((*web.addresses)[0].network.base == ip("127.0.0.0")));
    BOOST_TEST((*web.addresses)[0].network.prefix == 8u);
    BOOST_TEST(!(*web.addresses)[1].any);
    BOOST_TEST(((*web.addresses)[1].network.base == ip("::1")));
    BOOST_TEST((*web.addresses)[1].network.prefix == 128u);
    BOOST_TEST((*web.addresses)[2].any);
    BOOST_TEST(web.command.value_or("<none>") == "/usr/bin/app");
    BOOST_TEST(web.where.file == 0u);
    BOOST_TEST(web.where.line == 1u);

    const Rule& deny_all = policy.rules[1];
    BOOST_TEST((deny_all.action == Action::Deny));
    BOOST_TEST((deny_all.subject.kind == Subject::Kind::Anyone));
    BOOST_TEST(deny_all.subject.name.empty());
    BOOST_TEST(!deny_all.ports.has_value());
    BOOST_TEST(!deny_all.proto.has_value());
    BOOST_TEST(!deny_all.addresses.has_value());
    BOOST_TEST(!deny_all.command.has_value());
    BOOST_TEST(deny_all.where.line == 2u);

    const Rule& machine = policy.rules[2];
    BOOST_TEST((machine.subject.kind == Subject::Kind::User));
    BOOST_TEST(machine.subject.name == "alice$");

    const Rule& any_order = policy.rules[3];
    BOOST_TEST((any_order.action == Action::Deny));
    BOOST_TEST((any_order.subject.kind == Subject::Kind::User));
    BOOST_TEST(any_order.subject.name == "a.b-c_D9");
    BOOST_TEST(any_order.command.value_or("<none>") == "/opt/a#b");
    BOOST_TEST_REQUIRE(any_order.proto.has_value());
    BOOST_TEST((*any_order.proto == Proto::Tcp));
    BOOST_TEST_REQUIRE(any_order.ports.has_value());
    BOOST_TEST_REQUIRE(any_order.ports->size() == 1u);
    BOOST_TEST((*any_order.ports)[0].first == 1);
    BOOST_TEST((*any_order.ports)[0].last == 65535);
    BOOST_TEST_REQUIRE(any_order.addresses.has_value());
    BOOST_TEST_REQUIRE(any_order.addresses->size() == 1u);
    BOOST_TEST(((*any_order.addresses)[0].network.base == ip("0.0.0.0")));
    BOOST_TEST((*any_order.addresses)[0].network.prefix == 0u);

    const Rule& v6 = policy.rules[4];
    BOOST_TEST_REQUIRE(v6.addresses.has_value());
    BOOST_TEST_REQUIRE(v6.addresses->size() == 1u);
    BOOST_TEST(!(*v6.addresses)[0].any);
    BOOST_TEST(((*v6.addresses)[0].network.base == ip("::")));
    BOOST_TEST((*v6.addresses)[0].network.prefix == 0u);
}

BOOST_AUTO_TEST_CASE(comments_blank_lines_and_tabs) {
    const Policy policy = parse_one(
        "# a comment\n"
        "\n"
        "   \t  \n"
        "   # an indented comment with caf\xc3\xa9 in it\n"
        "permit alice port 80 # web\n"
        "\tdeny\t\tbob\tport\t22\t\n"
        "permit carol #port 0\n"
        "permit dave port 443#not-a-comment-but-a-port\n"
        "permit erin cmd /srv/bin#1\n"
        "#permit mallory\n"
        "permit frank#\n");
    // Only the two lines with '#' inside a word are errors.
    BOOST_TEST_REQUIRE(policy.errors.size() == 2u, all_errors(policy));
    BOOST_TEST(policy.errors[0].where.line == 8u);
    BOOST_TEST(policy.errors[0].column == 18u);
    BOOST_TEST(policy.errors[1].where.line == 11u);
    BOOST_TEST(policy.errors[1].column == 8u);

    BOOST_TEST_REQUIRE(policy.rules.size() == 4u);
    BOOST_TEST(policy.text_of(policy.rules[0]) == "permit alice port 80");
    BOOST_TEST(policy.rules[0].where.line == 5u);
    BOOST_TEST(policy.text_of(policy.rules[1]) == "deny\t\tbob\tport\t22");
    BOOST_TEST(policy.rules[1].where.line == 6u);
    BOOST_TEST((policy.rules[1].action == Action::Deny));
    BOOST_TEST(policy.rules[1].subject.name == "bob");
    BOOST_TEST_REQUIRE(policy.rules[1].ports.has_value());
    BOOST_TEST((*policy.rules[1].ports)[0].first == 22);
    BOOST_TEST(policy.text_of(policy.rules[2]) == "permit carol");
    BOOST_TEST(policy.rules[2].where.line == 7u);
    BOOST_TEST(!policy.rules[2].ports.has_value());
    BOOST_TEST(policy.text_of(policy.rules[3]) == "permit erin cmd /srv/bin#1");
    BOOST_TEST(policy.rules[3].command.value_or("<none>") == "/srv/bin#1");
}

BOOST_AUTO_TEST_CASE(rule_text_is_the_rule_as_written) {
    struct Case {
        std::string line;
        std::string text;
    };
    const Case cases[] = {
        {"permit alice", "permit alice"},
        {"   permit alice   ", "permit alice"},
        {"permit  alice\tport 80   # trailing comment", "permit  alice\tport 80"},
        {"\tdeny * cmd /a#x # y", "deny * cmd /a#x"},
        {"deny\t*\t\t# comment after a tab", "deny\t*"},
    };
    for (const Case& c : cases) {
        BOOST_TEST_CONTEXT("line '" << c.line << "'") {
            const Policy policy = parse_one(c.line);
            BOOST_TEST_REQUIRE(policy.valid(), all_errors(policy));
            BOOST_TEST_REQUIRE(policy.rules.size() == 1u);
            BOOST_TEST(policy.text_of(policy.rules[0]) == c.text);
        }
    }
}

BOOST_AUTO_TEST_CASE(rule_order_across_files) {
    const std::vector<PolicySource> sources = {
        {"main.conf", "permit a\ndeny b\n"},
        {"10.conf", "\n# nothing but a comment\n"},
        {"20.conf", "permit c port 1\n\npermit d port 2"},  // no final newline
        {"30.conf", "deny e\n"},
    };
    const Policy policy = parse_policy(sources);
    BOOST_TEST_REQUIRE(policy.valid(), all_errors(policy));
    BOOST_TEST_REQUIRE(policy.files.size() == 4u);
    struct Expected {
        const char* text;
        std::size_t file;
        unsigned line;
        const char* location;
    };
    const Expected expected[] = {
        {"permit a", 0, 1, "main.conf:1"},      {"deny b", 0, 2, "main.conf:2"},
        {"permit c port 1", 2, 1, "20.conf:1"}, {"permit d port 2", 2, 3, "20.conf:3"},
        {"deny e", 3, 1, "30.conf:1"},
    };
    BOOST_TEST_REQUIRE(policy.rules.size() == std::size(expected));
    for (std::size_t i = 0; i < std::size(expected); ++i) {
        BOOST_TEST_CONTEXT("rule " << i) {
            BOOST_TEST(policy.text_of(policy.rules[i]) == expected[i].text);
            BOOST_TEST(policy.rules[i].where.file == expected[i].file);
            BOOST_TEST(policy.rules[i].where.line == expected[i].line);
            BOOST_TEST(policy.location(policy.rules[i].where) == expected[i].location);
        }
    }
}

BOOST_AUTO_TEST_CASE(error_line_contributes_no_rule) {
    const Policy policy = parse_one(
        "permit alice port 80\n"
        "permit bob port 80 proto xyz\n"
        "permit carol port 80\n");
    BOOST_TEST(!policy.valid());
    BOOST_TEST_REQUIRE(policy.errors.size() == 1u, all_errors(policy));
    BOOST_TEST(policy.errors[0].where.line == 2u);
    BOOST_TEST_REQUIRE(policy.rules.size() == 2u);
    BOOST_TEST(policy.rules[0].subject.name == "alice");
    BOOST_TEST(policy.rules[1].subject.name == "carol");
}

BOOST_AUTO_TEST_CASE(empty_policies_are_valid) {
    const Policy none = parse_policy({});
    BOOST_TEST(none.valid());
    BOOST_TEST(none.files.empty());
    BOOST_TEST(none.rules.empty());

    const char* const texts[] = {"", "\n", "\n\n\n", "# only a comment\n", "  \t \n\t# x\n"};
    for (const char* text : texts) {
        BOOST_TEST_CONTEXT("text '" << text << "'") {
            const Policy policy = parse_one(text, "empty.conf");
            BOOST_TEST(policy.valid());
            BOOST_TEST(policy.errors.empty());
            BOOST_TEST(policy.rules.empty());
            BOOST_TEST_REQUIRE(policy.files.size() == 1u);
            BOOST_TEST(policy.files[0] == "empty.conf");
        }
    }
}

BOOST_AUTO_TEST_CASE(valid_follows_errors) {
    Policy policy = parse_one("permit alice port 80\n");
    BOOST_TEST(policy.valid());
    policy.errors.push_back(PolicyError{{0, 1}, 1, "x"});
    BOOST_TEST(!policy.valid());
    BOOST_TEST(policy.describe(policy.errors[0]) == "test.conf:1:1: x");
}

// parse_policy() from an rvalue takes the texts over instead of copying them; the result is
// the same as from a copy, with short texts (kept inside std::string) as with long ones.
BOOST_AUTO_TEST_CASE(taking_the_sources_over_gives_the_same_policy) {
    std::string long_text;
    for (int i = 0; i < 200; ++i) {
        long_text += "deny user" + std::to_string(i) + " port " + std::to_string(i + 1) + "\n";
    }
    const std::vector<PolicySource> sources = {
        {"a.conf", "deny x"},  // short enough for the small-string buffer
        {"b.conf", long_text},
        {"c.conf", "permit y"},
        {"d.conf", "bogus z\npermit w"},
    };
    const Policy copied = parse_policy(sources);
    std::vector<PolicySource> moved_sources = sources;
    const Policy moved = parse_policy(std::move(moved_sources));
    BOOST_TEST(moved.files == copied.files);
    BOOST_TEST(moved.texts == copied.texts);
    BOOST_TEST_REQUIRE(moved.texts.size() == sources.size());
    for (std::size_t i = 0; i < sources.size(); ++i) {
        BOOST_TEST(moved.texts[i] == sources[i].text);
    }
    BOOST_TEST_REQUIRE(moved.rules.size() == 203u);
    BOOST_TEST_REQUIRE(copied.rules.size() == moved.rules.size());
    for (std::size_t i = 0; i < moved.rules.size(); ++i) {
        BOOST_TEST_CONTEXT("rule " << i) {
            BOOST_TEST(moved.text_of(moved.rules[i]) == copied.text_of(copied.rules[i]));
            BOOST_TEST(moved.location(moved.rules[i].where) ==
                       copied.location(copied.rules[i].where));
        }
    }
    BOOST_TEST(moved.text_of(moved.rules.front()) == "deny x");
    BOOST_TEST(moved.text_of(moved.rules[1]) == "deny user0 port 1");
    BOOST_TEST(moved.text_of(moved.rules[200]) == "deny user199 port 200");
    BOOST_TEST(moved.text_of(moved.rules.back()) == "permit w");
    BOOST_TEST_REQUIRE(moved.errors.size() == 1u);
    BOOST_TEST(moved.describe(moved.errors[0]) == copied.describe(copied.errors[0]));
}

// A rule dropped for an error in a later option leaves nothing behind in the next rule.
BOOST_AUTO_TEST_CASE(a_dropped_rule_leaves_nothing_behind) {
    const Policy policy = parse_one(
        "permit bob port 80,81 proto tcp addr 10.0.0.0/8 cmd /bin/x frob 1\n"
        "permit carol\n"
        "deny dave port 22 addr bogus\n"
        "deny erin port 23\n");
    BOOST_TEST_REQUIRE(policy.errors.size() == 2u, all_errors(policy));
    BOOST_TEST_REQUIRE(policy.rules.size() == 2u);
    const Rule& carol = policy.rules[0];
    BOOST_TEST(carol.subject.name == "carol");
    BOOST_TEST((carol.action == Action::Permit));
    BOOST_TEST(!carol.ports.has_value());
    BOOST_TEST(!carol.proto.has_value());
    BOOST_TEST(!carol.addresses.has_value());
    BOOST_TEST(!carol.command.has_value());
    BOOST_TEST(policy.text_of(carol) == "permit carol");
    BOOST_TEST(carol.where.line == 2u);
    const Rule& erin = policy.rules[1];
    BOOST_TEST(erin.subject.name == "erin");
    BOOST_TEST((erin.action == Action::Deny));
    BOOST_TEST_REQUIRE(erin.ports.has_value());
    BOOST_TEST_REQUIRE(erin.ports->size() == 1u);
    BOOST_TEST(erin.ports->front().first == 23);
    BOOST_TEST(!erin.addresses.has_value());
    BOOST_TEST(erin.where.line == 4u);
}

// Many rules over several files (as a large policy is split into drop-ins): every one is
// kept, in order, with its own text and location.
BOOST_AUTO_TEST_CASE(large_policies_keep_every_rule) {
    constexpr int kFiles = 4;
    constexpr int kRulesPerFile = 5000;
    std::vector<PolicySource> sources;
    for (int f = 0; f < kFiles; ++f) {
        std::string text = "# part " + std::to_string(f) + "\n\n";
        for (int i = 0; i < kRulesPerFile; ++i) {
            text += "deny u" + std::to_string(f * kRulesPerFile + i) + " port " +
                    std::to_string(1 + i % 1023) + "\n";
        }
        sources.push_back({"part" + std::to_string(f) + ".conf", std::move(text)});
    }
    const Policy policy = parse_policy(std::move(sources));
    BOOST_TEST_REQUIRE(policy.valid(), all_errors(policy));
    BOOST_TEST_REQUIRE(policy.rules.size() == std::size_t{kFiles * kRulesPerFile});
    int mismatches = 0;
    for (int n = 0; n < kFiles * kRulesPerFile; ++n) {
        const Rule& rule = policy.rules[static_cast<std::size_t>(n)];
        const int i = n % kRulesPerFile;
        const std::string text =
            "deny u" + std::to_string(n) + " port " + std::to_string(1 + i % 1023);
        if (policy.text_of(rule) != text || rule.subject.name != "u" + std::to_string(n) ||
            rule.where.file != static_cast<std::size_t>(n / kRulesPerFile) ||
            rule.where.line != static_cast<unsigned>(i + 3) || !rule.ports ||
            rule.ports->front().first != 1 + i % 1023) {
            ++mismatches;
        }
    }
    BOOST_TEST(mismatches == 0);
}

BOOST_AUTO_TEST_SUITE_END()
