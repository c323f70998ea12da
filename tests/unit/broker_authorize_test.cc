#include "launcher/broker/authorize.h"

#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <optional>
#include <string>
#include <vector>

#include "policy/parser.h"

using namespace portbind;
using namespace portbind::broker;

namespace {

Policy policy_from(const std::string& text) {
    return parse_policy({PolicySource{"/etc/portbind.conf", text}});
}

Endpoint endpoint(const std::string& text) {
    auto spec = parse_socket_spec(text);
    BOOST_TEST_REQUIRE(spec.ok(), "test setup: spec '" << text << "' must parse");
    return resolve_endpoint(spec.value(), true, false);
}

Peer alice(std::optional<std::string> exe = std::nullopt) {
    Peer p;
    p.uid = 1001;
    p.gid = 1001;
    p.pid = 4242;
    p.names = Caller{"alice", {"alice", "web"}};
    p.exe = std::move(exe);
    return p;
}

PolicyState state_for(const Policy* policy) {
    PolicyState s;
    s.policy = policy;
    s.file = "/etc/portbind.conf";
    s.unprivileged_start = 1024;
    return s;
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(broker_authorize_test)

BOOST_AUTO_TEST_CASE(the_policy_decides_privileged_ports) {
    const Policy p = policy_from("permit alice port 80\n");
    const PolicyState s = state_for(&p);
    const Verdict yes = authorize(s, alice(), {endpoint("80")});
    BOOST_TEST(yes.granted);
    BOOST_TEST(yes.error == 0);
    BOOST_TEST_REQUIRE(yes.privileged.size() == 1u);
    BOOST_TEST(yes.privileged[0]);
    BOOST_TEST_REQUIRE(yes.log.size() == 1u);
    BOOST_TEST(yes.log[0].granted);
    BOOST_TEST(contains(yes.log[0].text, "permitted by /etc/portbind.conf:1"));
    BOOST_TEST(contains(yes.log[0].text, "uid 1001"));
    BOOST_TEST(contains(yes.log[0].text, "pid 4242"));
    BOOST_TEST(contains(yes.log[0].text, "exe unknown"));
    BOOST_TEST(contains(yes.log[0].text, "80/tcp on [::] (dual-stack)"));

    const Verdict no = authorize(s, alice(), {endpoint("443")});
    BOOST_TEST(!no.granted);
    BOOST_TEST(no.error == EACCES);
    BOOST_TEST(contains(no.reason, "refused 443/tcp"));
    BOOST_TEST(contains(no.reason, "no rule permits it"));
    BOOST_TEST_REQUIRE(no.log.size() == 1u);
    BOOST_TEST(!no.log[0].granted);
}

BOOST_AUTO_TEST_CASE(all_or_nothing) {
    const Policy p = policy_from("permit alice port 80\n");
    const Verdict v =
        authorize(state_for(&p), alice(), {endpoint("80"), endpoint("81"), endpoint("82")});
    BOOST_TEST(!v.granted);
    BOOST_TEST(contains(v.reason, "81/tcp"));
    for (const LogLine& line : v.log) {
        BOOST_TEST(!line.granted, "a refused request logs no grant: " << line.text);
    }
}

BOOST_AUTO_TEST_CASE(unprivileged_ports_need_no_rule) {
    const Verdict v = authorize(state_for(nullptr), alice(), {endpoint("8080"), endpoint("1024")});
    BOOST_TEST(v.granted);
    BOOST_TEST_REQUIRE(v.privileged.size() == 2u);
    BOOST_TEST(!v.privileged[0]);
    BOOST_TEST(!v.privileged[1]);
    PolicyState low = state_for(nullptr);
    low.unprivileged_start = 80;
    BOOST_TEST(authorize(low, alice(), {endpoint("80")}).granted);
    BOOST_TEST(!authorize(low, alice(), {endpoint("79")}).granted);
}

BOOST_AUTO_TEST_CASE(root_is_not_subject_to_the_policy) {
    Peer root;
    root.uid = 0;
    root.gid = 0;
    const Policy p = policy_from("deny * \n");
    const Verdict v = authorize(state_for(&p), root, {endpoint("80")});
    BOOST_TEST(v.granted);
    BOOST_TEST_REQUIRE(v.log.size() == 1u);
    BOOST_TEST(contains(v.log[0].text, "root caller"));
}

BOOST_AUTO_TEST_CASE(the_overflow_ids_are_never_granted) {
    const Policy p = policy_from("permit * \n");
    PolicyState s = state_for(&p);
    Peer unmapped = alice();
    unmapped.uid = kOverflowId;
    unmapped.names = Caller{"nobody", {"nogroup"}};
    BOOST_TEST(!authorize(s, unmapped, {endpoint("80")}).granted);
    BOOST_TEST(!authorize(s, unmapped, {endpoint("8080")}).granted, "not even unprivileged");
    Peer unmapped_group = alice();
    unmapped_group.gid = kOverflowId;
    BOOST_TEST(!authorize(s, unmapped_group, {endpoint("80")}).granted);
    // A kernel configured with another overflow id.
    s.overflow_uid = 60000;
    Peer other = alice();
    other.uid = 60000;
    const Verdict v = authorize(s, other, {endpoint("80")});
    BOOST_TEST(!v.granted);
    BOOST_TEST(v.error == EACCES);
    BOOST_TEST(contains(v.reason, "overflow"));
}

BOOST_AUTO_TEST_CASE(no_usable_or_invalid_policy_denies_privileged_ports) {
    PolicyState none = state_for(nullptr);
    none.problem = "/etc/portbind.conf is writable by others";
    const Verdict v = authorize(none, alice(), {endpoint("80")});
    BOOST_TEST(!v.granted);
    BOOST_TEST(contains(v.reason, "writable by others"));

    const Policy broken = policy_from("permit alice port 80\nallow bob\n");
    BOOST_TEST_REQUIRE(!broken.valid());
    const Verdict b = authorize(state_for(&broken), alice(), {endpoint("80")});
    BOOST_TEST(!b.granted);
    BOOST_TEST(contains(b.reason, "the policy has errors"));
    BOOST_TEST(contains(b.reason, "/etc/portbind.conf:2"));
}

BOOST_AUTO_TEST_CASE(group_rules_match_by_name) {
    const Policy p = policy_from("permit :web port 80\n");
    BOOST_TEST(authorize(state_for(&p), alice(), {endpoint("80")}).granted);
    Peer bob;
    bob.uid = 1002;
    bob.gid = 1002;
    bob.names = Caller{"bob", {"bob"}};
    BOOST_TEST(!authorize(state_for(&p), bob, {endpoint("80")}).granted);
}

BOOST_AUTO_TEST_CASE(a_known_executable_is_matched_exactly) {
    const Policy p = policy_from("permit alice port 80 cmd /usr/bin/python3\n");
    BOOST_TEST(authorize(state_for(&p), alice("/usr/bin/python3"), {endpoint("80")}).granted);
    BOOST_TEST(!authorize(state_for(&p), alice("/usr/bin/perl"), {endpoint("80")}).granted);
}

BOOST_AUTO_TEST_CASE(an_unknown_executable_fails_closed) {
    // A permit naming a program never covers an unknown one...
    const Policy permit = policy_from("permit alice port 80 cmd /usr/bin/python3\n");
    const Verdict v = authorize(state_for(&permit), alice(), {endpoint("80")});
    BOOST_TEST(!v.granted);
    // ...and a deny naming a program applies, since the peer may be running it.
    const Policy deny = policy_from(
        "permit alice port 80\n"
        "deny alice port 80 cmd /usr/bin/nc\n");
    const Verdict d = authorize(state_for(&deny), alice(), {endpoint("80")});
    BOOST_TEST(!d.granted);
    BOOST_TEST(contains(d.reason, "denied by /etc/portbind.conf:2"));
    BOOST_TEST(contains(d.reason, "program is unknown"));
    // With the executable known, that deny does not apply to another program.
    BOOST_TEST(authorize(state_for(&deny), alice("/usr/bin/python3"), {endpoint("80")}).granted);
    // A later permit without a program still wins over an earlier program deny.
    const Policy later = policy_from(
        "deny alice port 80 cmd /usr/bin/nc\n"
        "permit alice port 80\n");
    BOOST_TEST(authorize(state_for(&later), alice(), {endpoint("80")}).granted);
    // A program deny for another user or port does not apply.
    const Policy other = policy_from(
        "permit alice port 80\n"
        "deny bob port 80 cmd /usr/bin/nc\n"
        "deny alice port 81 cmd /usr/bin/nc\n");
    BOOST_TEST(authorize(state_for(&other), alice(), {endpoint("80")}).granted);
}

BOOST_AUTO_TEST_CASE(decide_for_peer_agrees_with_decide_when_the_program_is_known) {
    const Policy p = policy_from(
        "permit :web port 80-90\n"
        "deny alice port 85 cmd /bin/x\n"
        "permit alice port 86 cmd /bin/y\n"
        "deny * port 88 proto udp\n");
    const Caller names{"alice", {"alice", "web"}};
    for (const std::string exe : {"/bin/x", "/bin/y", "/bin/z"}) {
        for (int port = 79; port <= 91; ++port) {
            for (const std::string proto : {"tcp", "udp"}) {
                const Endpoint ep = endpoint(std::to_string(port) + "/" + proto);
                const Decision a = decide(p, names, Request{ep, exe});
                const Decision b = decide_for_peer(p, names, ep, exe);
                BOOST_TEST(a.permitted == b.permitted, exe << " " << port << "/" << proto);
                BOOST_TEST(a.rule == b.rule);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(log_lines_name_the_peer) {
    Peer nameless;
    nameless.uid = 5000;
    nameless.gid = 5000;
    nameless.pid = 7;
    const std::string text = describe_peer(nameless);
    BOOST_TEST(text == "uid 5000 (uid 5000) pid 7 exe unknown");
    BOOST_TEST(describe_peer(alice("/bin/sh")) == "user alice (uid 1001) pid 4242 exe /bin/sh");
}

BOOST_AUTO_TEST_SUITE_END()
