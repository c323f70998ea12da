// `portbind setcap` command line: actions, options, and the errors for everything else.
#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "launcher/setcap/setcap_args.h"

using namespace portbind;

namespace {

using Args = std::vector<std::string>;

std::string usage_error(const Args& args) {
    auto r = parse_setcap_args(args);
    if (r.ok()) {
        return "";
    }
    BOOST_TEST((r.error().kind == ErrorKind::Usage));
    BOOST_TEST(r.error().advice.find("portbind-setcap(8)") != std::string::npos);
    return r.error().message;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(setcap_args_test)

BOOST_AUTO_TEST_CASE(grant_forms) {
    auto plain = parse_setcap_args({"grant", "/usr/bin/node"});
    BOOST_TEST_REQUIRE(plain.ok());
    BOOST_TEST((plain.value().action == SetcapAction::Grant));
    BOOST_TEST(!plain.value().caps.has_value());
    BOOST_TEST(!plain.value().force);
    BOOST_TEST(plain.value().paths == Args{"/usr/bin/node"}, boost::test_tools::per_element());

    auto full =
        parse_setcap_args({"grant", "--force", "--caps", "cap_net_bind_service=p", "/a", "b"});
    BOOST_TEST_REQUIRE(full.ok());
    BOOST_TEST(full.value().force);
    BOOST_TEST(full.value().caps.value() == "cap_net_bind_service=p");
    BOOST_TEST(full.value().paths == (Args{"/a", "b"}), boost::test_tools::per_element());

    auto eq = parse_setcap_args({"grant", "--caps=cap_net_bind_service,cap_net_raw=ep", "/a"});
    BOOST_TEST_REQUIRE(eq.ok());
    BOOST_TEST(eq.value().caps.value() == "cap_net_bind_service,cap_net_raw=ep");

    auto dash = parse_setcap_args({"grant", "--", "-weird", "--force"});
    BOOST_TEST_REQUIRE(dash.ok());
    BOOST_TEST(!dash.value().force);
    BOOST_TEST(dash.value().paths == (Args{"-weird", "--force"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(other_actions) {
    auto revoke = parse_setcap_args({"revoke", "/a", "/b"});
    BOOST_TEST_REQUIRE(revoke.ok());
    BOOST_TEST((revoke.value().action == SetcapAction::Revoke));
    BOOST_TEST(revoke.value().paths.size() == 2u);
    BOOST_TEST((parse_setcap_args({"list"}).value().action == SetcapAction::List));
    BOOST_TEST((parse_setcap_args({"reapply"}).value().action == SetcapAction::Reapply));
    auto audit = parse_setcap_args({"audit"});
    BOOST_TEST((audit.value().action == SetcapAction::Audit));
    BOOST_TEST(audit.value().paths.empty());
    BOOST_TEST(parse_setcap_args({"audit", "/opt", "/srv"}).value().paths.size() == 2u);
    for (const char* help : {"--help", "-h", "help"}) {
        BOOST_TEST((parse_setcap_args({help}).value().action == SetcapAction::Help));
    }
    BOOST_TEST(setcap_help_text().find("portbind setcap grant [--caps LIST] [--force] PATH...") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(errors) {
    const std::pair<Args, const char*> cases[] = {
        {{}, "missing action"},
        {{"grnat", "/a"}, "unknown action 'grnat'"},
        {{"grant"}, "grant needs at least one PATH"},
        {{"grant", "--force"}, "grant needs at least one PATH"},
        {{"revoke"}, "revoke needs at least one PATH"},
        {{"list", "x"}, "list takes no arguments"},
        {{"reapply", "--", "x"}, "reapply takes no arguments"},
        {{"grant", "/a", "--force"}, "option '--force' after a path"},
        {{"grant", "--force", "--force", "/a"}, "--force given twice"},
        {{"grant", "--caps", "a", "--caps", "b", "/a"}, "--caps given twice"},
        {{"grant", "--caps"}, "--caps needs a value"},
        {{"grant", "--caps=", "/a"}, "--caps needs a value"},
        {{"grant", "--cap", "x", "/a"}, "unknown option '--cap'"},
        {{"grant", "-f", "/a"}, "unknown option '-f'"},
        {{"revoke", "--force", "/a"}, "unknown option '--force' for revoke"},
        {{"audit", "--caps=x"}, "unknown option '--caps=x' for audit"},
        {{"grant", ""}, "empty path"},
        {{"--help", "x"}, "unexpected argument 'x'"},
    };
    for (const auto& [args, says] : cases) {
        std::string joined;
        for (const std::string& a : args) {
            joined += "[" + a + "]";
        }
        BOOST_TEST_CONTEXT(joined) {
            const std::string msg = usage_error(args);
            BOOST_TEST(msg.rfind("setcap: ", 0) == 0u, msg);
            BOOST_TEST(msg.find(says) != std::string::npos, msg);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
