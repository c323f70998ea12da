#include "launcher/broker/decision_cache.h"

#include <boost/test/unit_test.hpp>

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

Endpoint endpoint(const std::string& text, bool host_ipv6 = true, bool v6only = false) {
    auto spec = parse_socket_spec(text);
    BOOST_TEST_REQUIRE(spec.ok(), "test setup: spec '" << text << "' must parse");
    return resolve_endpoint(spec.value(), host_ipv6, v6only);
}

// Every rule answers a different question, so a key missing any part of the input would
// hand one question another's answer.
const char* const kPolicy =
    "permit :web port 80\n"
    "permit alice port 81\n"
    "deny alice port 81 addr 10.0.0.0/8\n"
    "permit alice port 82 proto udp\n"
    "permit alice port 83 addr ::/0\n"
    "permit alice port 84 cmd /usr/bin/python3\n"
    "permit alice port 85\n"
    "deny alice port 85 cmd /usr/bin/nc\n";

struct Question {
    Caller caller;
    Endpoint endpoint;
    std::optional<std::string> exe;
};

std::vector<Question> questions() {
    const Caller in_web{"alice", {"alice", "web"}};
    const Caller not_in_web{"alice", {"alice"}};
    const Caller bob_in_web{"bob", {"bob", "web"}};
    const Caller bob_in_alices_groups{"bob", {"alice", "web"}};
    const Caller nameless{"", {}};
    std::vector<Question> qs;
    for (const Caller& caller : {in_web, not_in_web, bob_in_web, bob_in_alices_groups, nameless}) {
        for (const std::string spec : {"80", "81", "10.1.2.3:81", "127.0.0.1:81", "82", "82/udp",
                                       "0.0.0.0:83", "83", "84", "85"}) {
            for (const std::optional<std::string>& exe :
                 {std::optional<std::string>(), std::optional<std::string>("/usr/bin/python3"),
                  std::optional<std::string>("/usr/bin/nc")}) {
                qs.push_back(Question{caller, endpoint(spec), exe});
                if (spec == "83") {
                    qs.push_back(Question{caller, endpoint(spec, true, true), exe});  // v6only
                }
            }
        }
    }
    return qs;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(broker_decision_cache_test)

// Asked twice, in two orders, every question gets decide_for_peer()'s answer: the same
// verdict and the same deciding rule.
BOOST_AUTO_TEST_CASE(answers_are_decide_for_peers) {
    const Policy p = policy_from(kPolicy);
    BOOST_TEST_REQUIRE(p.valid());
    const std::vector<Question> qs = questions();
    DecisionCache cache(p, 4096);
    for (int round = 0; round < 2; ++round) {
        for (std::size_t i = 0; i < qs.size(); ++i) {
            const Question& q = round == 0 ? qs[i] : qs[qs.size() - 1 - i];
            const Decision want = decide_for_peer(p, q.caller, q.endpoint, q.exe);
            const Decision got = cache.decide(q.caller, q.endpoint, q.exe);
            BOOST_TEST(got.permitted == want.permitted, "round " << round << ": " << q.caller.user
                                                                 << " " << q.endpoint.to_string()
                                                                 << " " << q.exe.value_or("-"));
            BOOST_TEST(got.rule == want.rule);
        }
        // One entry per distinct question: the second round added none, so it was answered
        // from the cache.
        BOOST_TEST(cache.size() == qs.size());
    }
}

// The questions above really differ in their answers, so the test above would catch a key
// that left out the groups, the user, the address, the protocol, the v6only flag or the
// program.
BOOST_AUTO_TEST_CASE(the_questions_tell_every_part_of_the_key_apart) {
    const Policy p = policy_from(kPolicy);
    DecisionCache cache(p, 4096);
    const Caller in_web{"alice", {"alice", "web"}};
    const Caller not_in_web{"alice", {"alice"}};
    const Caller bob_in_alices_groups{"bob", {"alice", "web"}};
    const auto permitted = [&](const Caller& c, const Endpoint& ep,
                               const std::optional<std::string>& exe = std::nullopt) {
        return cache.decide(c, ep, exe).permitted;
    };
    BOOST_TEST(permitted(in_web, endpoint("80")));
    BOOST_TEST(!permitted(not_in_web, endpoint("80")));  // groups
    BOOST_TEST(permitted(in_web, endpoint("127.0.0.1:81")));
    BOOST_TEST(!permitted(bob_in_alices_groups, endpoint("127.0.0.1:81")));  // user
    BOOST_TEST(!permitted(in_web, endpoint("10.1.2.3:81")));                 // address
    BOOST_TEST(permitted(in_web, endpoint("82/udp")));
    BOOST_TEST(!permitted(in_web, endpoint("82")));             // protocol
    BOOST_TEST(permitted(in_web, endpoint("83", true, true)));  // IPv6 wildcard, v6only
    BOOST_TEST(!permitted(in_web, endpoint("83")));             // dual-stack wildcard
    BOOST_TEST(!permitted(in_web, endpoint("0.0.0.0:83")));     // IPv4 wildcard
    BOOST_TEST(permitted(in_web, endpoint("84"), "/usr/bin/python3"));
    BOOST_TEST(!permitted(in_web, endpoint("84")));                 // program unknown
    BOOST_TEST(!permitted(in_web, endpoint("84"), "/usr/bin/nc"));  // another program
    BOOST_TEST(permitted(in_web, endpoint("85"), "/usr/bin/python3"));
    BOOST_TEST(!permitted(in_web, endpoint("85")));  // unknown: the deny applies
}

BOOST_AUTO_TEST_CASE(it_stays_within_its_capacity) {
    const Policy p = policy_from(kPolicy);
    const std::vector<Question> qs = questions();
    for (const std::size_t capacity : {std::size_t{0}, std::size_t{1}, std::size_t{7}}) {
        DecisionCache cache(p, capacity);
        for (int round = 0; round < 2; ++round) {
            for (const Question& q : qs) {
                const Decision want = decide_for_peer(p, q.caller, q.endpoint, q.exe);
                const Decision got = cache.decide(q.caller, q.endpoint, q.exe);
                BOOST_TEST(got.permitted == want.permitted);
                BOOST_TEST(got.rule == want.rule);
                BOOST_TEST(cache.size() <= capacity);
            }
        }
    }
}

// authorize() consults a cache only if it was made for the state's own policy: a cache left
// over from another policy is never asked.
BOOST_AUTO_TEST_CASE(authorize_uses_only_the_cache_of_its_policy) {
    const Policy permits = policy_from("permit alice port 80\n");
    const Policy denies = policy_from("deny alice port 80\n");
    Peer alice;
    alice.uid = 1001;
    alice.gid = 1001;
    alice.pid = 42;
    alice.names = Caller{"alice", {"alice"}};

    DecisionCache of_permits(permits, 16);
    BOOST_TEST(of_permits.decide(alice.names, endpoint("80"), std::nullopt).permitted);

    PolicyState state;
    state.file = "/etc/portbind.conf";
    state.policy = &denies;
    state.decisions = &of_permits;
    BOOST_TEST(!authorize(state, alice, {endpoint("80")}).granted);

    DecisionCache of_denies(denies, 16);
    state.decisions = &of_denies;
    BOOST_TEST(!authorize(state, alice, {endpoint("80")}).granted);
    BOOST_TEST(of_denies.size() == 1u);  // asked, and remembered
    BOOST_TEST(!authorize(state, alice, {endpoint("80")}).granted);
    BOOST_TEST(of_denies.size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
