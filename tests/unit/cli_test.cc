#include "launcher/cli.h"

#include <boost/test/unit_test.hpp>

#include <string>
#include <variant>
#include <vector>

using namespace portbind;

namespace {

using Args = std::vector<std::string>;

std::string joined(const Args& args) {
    std::string out;
    for (const std::string& a : args) {
        out += (out.empty() ? "'" : " '") + a + "'";
    }
    return out;
}

template <typename T>
T must_parse_as(const Args& args) {
    auto result = parse_command_line(args);
    BOOST_TEST_REQUIRE(result.ok(), "refused " << joined(args) << ": "
                                               << (result.ok() ? "" : result.error().message));
    BOOST_TEST_REQUIRE(std::holds_alternative<T>(result.value()),
                       "wrong invocation kind for " << joined(args));
    return std::get<T>(std::move(result).value());
}

LaunchArgs launch(const Args& args) {
    return must_parse_as<LaunchArgs>(args);
}

void expect_usage_error(const Args& args) {
    BOOST_TEST_CONTEXT("args " << joined(args)) {
        const auto result = parse_command_line(args);
        BOOST_TEST_REQUIRE(!result.ok());
        BOOST_TEST((result.error().kind == ErrorKind::Usage), result.error().message);
        BOOST_TEST(!result.error().message.empty());
    }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cli_test)

BOOST_AUTO_TEST_CASE(command_start) {
    struct Case {
        Args args;
        Args command;
        std::size_t sockets;
    };
    const Case cases[] = {
        {{"--activate", "--port", "443", "node", "server.js"}, {"node", "server.js"}, 1},
        {{"--activate", "--port", "443", "--", "node", "--inspect"}, {"node", "--inspect"}, 1},
        {{"--activate", "--port=443", "python3", "-m", "http.server", "--port", "80"},
         {"python3", "-m", "http.server", "--port", "80"},
         1},
        {{"--activate", "python3", "--activate"}, {"python3", "--activate"}, 0},
        {{"--activate", "--", "--weird-name", "-x"}, {"--weird-name", "-x"}, 0},
        {{"--activate", "--", "--"}, {"--"}, 0},
        {{"--activate", "cmd", "--", "x"}, {"cmd", "--", "x"}, 0},
        {{"--activate", "-", "x"}, {"-", "x"}, 0},
        {{"--", "check", "443"}, {"check", "443"}, 0},
        {{"--", "who"}, {"who"}, 0},
        {{"--activate", "check"}, {"check"}, 0},
        {{"--user", "alice", "--activate", "id"}, {"id"}, 0},
        {{"--activate", "--policy", "/etc/x.conf", "--port", "80", "--port", "81", "srv"},
         {"srv"},
         2},
    };
    for (const Case& c : cases) {
        BOOST_TEST_CONTEXT("args " << joined(c.args)) {
            const LaunchArgs l = launch(c.args);
            BOOST_TEST(l.command == c.command);
            BOOST_TEST(l.specs.size() == c.sockets);
        }
    }
}

BOOST_AUTO_TEST_CASE(launch_options) {
    const LaunchArgs l =
        launch({"--activate", "--port", "443", "--port=127.0.0.1:53/udp=dns", "--backlog", "128",
                "--reuseport", "--freebind", "--v6only", "--nonblock", "--user", "alice",
                "--policy=/etc/other.conf", "--", "srv", "-v"});
    BOOST_TEST(l.activate);
    BOOST_TEST_REQUIRE(l.specs.size() == 2u);
    BOOST_TEST(l.specs[0].port == 443);
    BOOST_TEST(!l.specs[0].address.has_value());
    BOOST_TEST(l.specs[1].port == 53);
    BOOST_TEST((l.specs[1].proto == Proto::Udp));
    BOOST_TEST(l.specs[1].name == "dns");
    BOOST_TEST_REQUIRE(l.specs[1].address.has_value());
    BOOST_TEST(l.specs[1].address->to_string() == "127.0.0.1");
    BOOST_TEST(l.socket.backlog == 128);
    BOOST_TEST(l.socket.reuseport);
    BOOST_TEST(l.socket.freebind);
    BOOST_TEST(l.socket.v6only);
    BOOST_TEST(l.socket.nonblock);
    BOOST_TEST(l.user.value_or("<none>") == "alice");
    BOOST_TEST(l.policy_file.value_or("<none>") == "/etc/other.conf");
    BOOST_TEST(l.command == (Args{"srv", "-v"}));
}

BOOST_AUTO_TEST_CASE(launch_defaults) {
    const LaunchArgs l = launch({"srv"});
    BOOST_TEST(!l.activate);
    BOOST_TEST(l.specs.empty());
    BOOST_TEST(l.socket.backlog == 4096);
    BOOST_TEST(!l.socket.reuseport);
    BOOST_TEST(!l.socket.freebind);
    BOOST_TEST(!l.socket.v6only);
    BOOST_TEST(!l.socket.nonblock);
    BOOST_TEST(!l.user.has_value());
    BOOST_TEST(!l.policy_file.has_value());
    BOOST_TEST(l.command == (Args{"srv"}));
}

BOOST_AUTO_TEST_CASE(port_forms_and_order) {
    const LaunchArgs l = launch({"--activate", "--port=443", "--port", "80/udp=b", "--port",
                                 "[::1]:22=c", "--port=8080=d", "srv"});
    BOOST_TEST_REQUIRE(l.specs.size() == 4u);
    BOOST_TEST(l.specs[0].port == 443);
    BOOST_TEST(l.specs[0].name == "unknown");
    BOOST_TEST(l.specs[1].port == 80);
    BOOST_TEST((l.specs[1].proto == Proto::Udp));
    BOOST_TEST(l.specs[1].name == "b");
    BOOST_TEST(l.specs[2].port == 22);
    BOOST_TEST(l.specs[2].name == "c");
    BOOST_TEST(l.specs[3].port == 8080);
    BOOST_TEST(l.specs[3].name == "d");
}

BOOST_AUTO_TEST_CASE(socket_limit) {
    Args args = {"--activate"};
    for (std::size_t i = 0; i < kMaxSockets; ++i) {
        args.push_back("--port");
        args.push_back(std::to_string(1000 + i));
    }
    args.push_back("srv");
    BOOST_TEST(kMaxSockets == 64u);
    BOOST_TEST(launch(args).specs.size() == kMaxSockets);

    args.insert(args.end() - 1, {"--port", "2000"});
    expect_usage_error(args);

    // Refused before Boost's parser, which is quadratic in the number of words: 100,000
    // options took minutes.
    Args many;
    for (std::size_t i = 0; i < 100000; ++i) {
        many.push_back("--port");
        many.push_back("8080");
    }
    many.push_back("srv");
    const auto refused = parse_command_line(many);
    BOOST_TEST_REQUIRE(!refused.ok());
    BOOST_TEST(refused.error().message.find("too many sockets") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(backlog) {
    BOOST_TEST(launch({"--backlog", "1", "srv"}).socket.backlog == 1);
    BOOST_TEST(launch({"--backlog", "2147483647", "srv"}).socket.backlog == 2147483647);
    BOOST_TEST(launch({"--backlog=4096", "srv"}).socket.backlog == 4096);
    for (const char* bad : {"0", "-1", "2147483648", "4294967296", "0x10", "010", "+5", " 5", "5 ",
                            "", "1e3", "ten"}) {
        BOOST_TEST_CONTEXT("backlog '" << bad << "'") {
            expect_usage_error({"--backlog", bad, "srv"});
            expect_usage_error({std::string("--backlog=") + bad, "srv"});
        }
    }
}

BOOST_AUTO_TEST_CASE(refusals) {
    const Args cases[] = {
        // singleton options given twice
        {"--activate", "--activate", "srv"},
        {"--user", "a", "--user", "b", "srv"},
        {"--user=a", "--user", "a", "srv"},
        {"--backlog", "1", "--backlog", "2", "srv"},
        {"--policy", "/a", "--policy", "/b", "srv"},
        {"--v6only", "--v6only", "srv"},
        {"--reuseport", "--reuseport", "srv"},
        // abbreviations and unknown options
        {"--act", "srv"},
        {"--activat", "srv"},
        {"--activate", "--po", "443", "srv"},
        {"--activate", "--port443", "srv"},
        {"--bogus", "srv"},
        {"--activate", "--bogus=1", "srv"},
        {"-x", "srv"},
        {"-p", "443", "srv"},
        {"--ACTIVATE", "srv"},
        // no command
        {},
        {"--activate"},
        {"--activate", "--port", "443"},
        {"--activate", "--port", "443", "--"},
        {"--port"},
        {"--activate", "--port"},
        // option values
        {"--activate=yes", "srv"},
        {"--activate", "--port", "0", "srv"},
        {"--activate", "--port", "localhost:80", "srv"},
        {"--activate", "--port=80/sctp", "srv"},
        {"--policy", "relative.conf", "srv"},
        {"--policy", "./x.conf", "srv"},
        {"--policy=", "srv"},
    };
    for (const Args& args : cases) {
        expect_usage_error(args);
    }
}

BOOST_AUTO_TEST_CASE(bad_spec_error_names_the_spec) {
    const auto result = parse_command_line({"--activate", "--port", "99999", "srv"});
    BOOST_TEST_REQUIRE(!result.ok());
    BOOST_TEST((result.error().kind == ErrorKind::Usage));
    BOOST_TEST(result.error().message.find("'99999'") != std::string::npos, result.error().message);
}

BOOST_AUTO_TEST_CASE(check_subcommand) {
    {
        const CheckArgs c = must_parse_as<CheckArgs>({"check", "443"});
        BOOST_TEST_REQUIRE(c.specs.size() == 1u);
        BOOST_TEST(c.specs[0].port == 443);
        BOOST_TEST(!c.v6only);
        BOOST_TEST(!c.user.has_value());
        BOOST_TEST(!c.command.has_value());
        BOOST_TEST(!c.policy_file.has_value());
    }
    {
        const CheckArgs c = must_parse_as<CheckArgs>({"check", "--user", "alice", "--cmd",
                                                      "/usr/bin/app", "--policy=/etc/p.conf",
                                                      "--v6only", "443", "127.0.0.1:53/udp=dns"});
        BOOST_TEST_REQUIRE(c.specs.size() == 2u);
        BOOST_TEST(c.specs[0].port == 443);
        BOOST_TEST(c.specs[1].port == 53);
        BOOST_TEST((c.specs[1].proto == Proto::Udp));
        BOOST_TEST(c.v6only);
        BOOST_TEST(c.user.value_or("<none>") == "alice");
        BOOST_TEST(c.command.value_or("<none>") == "/usr/bin/app");
        BOOST_TEST(c.policy_file.value_or("<none>") == "/etc/p.conf");
    }
    {
        const CheckArgs c = must_parse_as<CheckArgs>({"check", "--", "80", "81"});
        BOOST_TEST(c.specs.size() == 2u);
    }

    const Args refused[] = {
        {"check"},
        {"check", "--v6only"},
        {"check", "--user", "alice"},
        {"check", "0"},
        {"check", "443", "http"},
        {"check", "--cmd", "app", "443"},
        {"check", "--cmd=", "443"},
        {"check", "--policy", "p.conf", "443"},
        {"check", "--user", "a", "--user", "b", "443"},
        {"check", "--us", "a", "443"},
        {"check", "--bogus", "443"},
        {"check", "--activate", "443"},
    };
    for (const Args& args : refused) {
        expect_usage_error(args);
    }
}

BOOST_AUTO_TEST_CASE(who_subcommand) {
    BOOST_TEST(must_parse_as<WhoArgs>({"who"}).ports.empty());
    const WhoArgs w = must_parse_as<WhoArgs>({"who", "443", "80", "65535", "1"});
    BOOST_TEST(w.ports == (std::vector<std::uint16_t>{443, 80, 65535, 1}));
    const Args refused[] = {
        {"who", "0"},   {"who", "65536"},   {"who", "0443"},  {"who", "+443"},
        {"who", "-1"},  {"who", "0x1bb"},   {"who", "http"},  {"who", ""},
        {"who", " 80"}, {"who", "80", "x"}, {"who", "--all"},
    };
    for (const Args& args : refused) {
        expect_usage_error(args);
    }
}

BOOST_AUTO_TEST_CASE(help_and_version) {
    for (const Args& args : {Args{"--help"}, Args{"-h"}, Args{"--activate", "--help"}}) {
        BOOST_TEST_CONTEXT("args " << joined(args)) {
            const HelpArgs h = must_parse_as<HelpArgs>(args);
            BOOST_TEST(h.text.find("Usage: portbind") != std::string::npos);
            BOOST_TEST(h.text.find("--port") != std::string::npos);
            BOOST_TEST(h.text.find("--activate") != std::string::npos);
        }
    }
    must_parse_as<VersionArgs>({"--version"});
    // After the command starts, --help and --version belong to the command.
    BOOST_TEST(launch({"srv", "--help"}).command == (Args{"srv", "--help"}));
    BOOST_TEST(launch({"--", "srv", "--version"}).command == (Args{"srv", "--version"}));
    expect_usage_error({"--help=1"});
}

// Boost's own error text expands %placeholders% until none is left, which never ends when the
// user's token contains one: this case hung before the messages were built by portbind.
BOOST_AUTO_TEST_CASE(option_errors_with_placeholder_tokens) {
    for (const Args& args :
         {Args{"--x%original_token%"}, Args{"--port%prefix%"}, Args{"--activate=%option%"},
          Args{"--port"}, Args{"--user", "a", "--user", "b", "srv"}, Args{"--bad\x1b[31m"}}) {
        BOOST_TEST_CONTEXT("args " << joined(args)) {
            const auto result = parse_command_line(args);
            BOOST_TEST_REQUIRE(!result.ok());
            BOOST_TEST((result.error().kind == ErrorKind::Usage));
            const std::string& m = result.error().message;
            BOOST_TEST(m.find('\x1b') == std::string::npos, m);
            BOOST_TEST((m.find("option") != std::string::npos), m);
        }
    }
    BOOST_TEST(parse_command_line({"--nope"}).error().message == "unknown option '--nope'");
    BOOST_TEST(parse_command_line({"--port"}).error().message == "option '--port' needs a value");
}

// --broker takes its value only as --broker=PATH: the next word is the command.
BOOST_AUTO_TEST_CASE(broker_option) {
    const LaunchArgs none = launch({"--port", "443", "srv"});
    BOOST_TEST(!none.broker.has_value());
    const LaunchArgs bare = launch({"--broker", "srv", "--flag"});
    BOOST_TEST_REQUIRE(bare.broker.has_value());
    BOOST_TEST(bare.broker->empty());
    BOOST_TEST(bare.command == (Args{"srv", "--flag"}));
    const LaunchArgs path =
        launch({"--broker=/run/x/portbind.sock", "--activate", "--port", "443", "--", "srv"});
    BOOST_TEST(path.broker.value() == "/run/x/portbind.sock");
    BOOST_TEST(path.activate);
    expect_usage_error({"--broker=relative.sock", "srv"});
    expect_usage_error({"--broker=/a", "--broker=/b", "srv"});
}

BOOST_AUTO_TEST_SUITE_END()
