#include "launcher/systemd_units.h"

#include <boost/test/unit_test.hpp>

using namespace portbind;

namespace {

UnitRequest request(std::vector<std::string> specs, std::vector<std::string> command) {
    UnitRequest r;
    r.name = "web";
    for (const std::string& s : specs) {
        r.specs.push_back(parse_socket_spec(s).value());
    }
    r.command = std::move(command);
    return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(systemd_units_test)

BOOST_AUTO_TEST_CASE(single_socket_unit_and_service) {
    auto r = request({"443", "127.0.0.1:80", "[::1]:53/udp"}, {"/usr/bin/node", "app.js"});
    r.user = "alice";
    r.options.nonblock = true;
    const auto units = generate_units(r);
    BOOST_TEST_REQUIRE(units.ok());
    BOOST_TEST_REQUIRE(units.value().size() == 2u);
    const UnitFile& socket = units.value()[0];
    const UnitFile& service = units.value()[1];
    BOOST_TEST(socket.file_name == "web.socket");
    BOOST_TEST(socket.text.find("ListenStream=443\n") != std::string::npos);
    BOOST_TEST(socket.text.find("ListenStream=127.0.0.1:80\n") != std::string::npos);
    BOOST_TEST(socket.text.find("ListenDatagram=[::1]:53\n") != std::string::npos);
    BOOST_TEST(socket.text.find("FileDescriptorName") == std::string::npos);  // unnamed
    BOOST_TEST(socket.text.find("BindIPv6Only=both\n") != std::string::npos);
    BOOST_TEST(socket.text.find("Backlog=4096\n") != std::string::npos);
    // Order of the Listen lines is the order of the specs (the fd order).
    BOOST_TEST(socket.text.find("ListenStream=443") < socket.text.find("ListenStream=127"));
    BOOST_TEST(service.file_name == "web.service");
    BOOST_TEST(service.text.find("ExecStart=/usr/bin/node app.js\n") != std::string::npos);
    BOOST_TEST(service.text.find("Sockets=web.socket\n") != std::string::npos);
    BOOST_TEST(service.text.find("User=alice\n") != std::string::npos);
    BOOST_TEST(service.text.find("NonBlocking=yes\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(named_sockets_get_one_unit_each) {
    auto r = request({"443=https", "80=http", "8443=https"}, {"/srv/app"});
    r.options.v6only = true;
    r.options.reuseport = true;
    const auto units = generate_units(r);
    BOOST_TEST_REQUIRE(units.ok());
    BOOST_TEST_REQUIRE(units.value().size() == 3u);
    BOOST_TEST(units.value()[0].file_name == "web-https.socket");
    BOOST_TEST(units.value()[0].text.find("ListenStream=443\nListenStream=8443\n") !=
               std::string::npos);
    BOOST_TEST(units.value()[0].text.find("FileDescriptorName=https\n") != std::string::npos);
    BOOST_TEST(units.value()[0].text.find("BindIPv6Only=ipv6-only\n") != std::string::npos);
    BOOST_TEST(units.value()[0].text.find("ReusePort=yes\n") != std::string::npos);
    BOOST_TEST(units.value()[1].file_name == "web-http.socket");
    BOOST_TEST(units.value()[2].text.find("Sockets=web-https.socket web-http.socket\n") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(exec_words_are_quoted_for_systemd) {
    BOOST_TEST(quote_exec_word("plain") == "plain");
    BOOST_TEST(quote_exec_word("two words") == "\"two words\"");
    BOOST_TEST(quote_exec_word("$HOME") == "$$HOME");
    BOOST_TEST(quote_exec_word("100%") == "100%%");
    BOOST_TEST(quote_exec_word("a\"b") == "a\\\"b");
    BOOST_TEST(quote_exec_word("back\\slash") == "back\\\\slash");
    BOOST_TEST(quote_exec_word("") == "\"\"");
    BOOST_TEST(quote_exec_word("a;b") == "\"a;b\"");
}

BOOST_AUTO_TEST_CASE(refusals) {
    auto r = request({"443"}, {"/usr/bin/app"});
    r.name = "../evil";
    BOOST_TEST(!generate_units(r).ok());
    r.name = "web";
    r.command = {"/usr/bin/app", "line\nbreak"};
    BOOST_TEST(!generate_units(r).ok());
    r.command = {"relative"};
    BOOST_TEST(!generate_units(r).ok());
    r.command = {"/usr/bin/app"};
    r.user = "a\nb";
    BOOST_TEST(!generate_units(r).ok());
    for (const char* shared : {"nobody", "65534"}) {
        r.user = shared;
        const auto refused = generate_units(r);
        BOOST_TEST_REQUIRE(!refused.ok());
        BOOST_TEST(refused.error().message.find("refusing User=" + std::string(shared)) == 0U);
    }
    r.user = "nobody2";
    BOOST_TEST(generate_units(r).ok());
    r.user.reset();
    r.specs.clear();
    BOOST_TEST(!generate_units(r).ok());
    auto named = request({"443=bad/name", "80=http"}, {"/usr/bin/app"});
    BOOST_TEST(!generate_units(named).ok());
}

BOOST_AUTO_TEST_SUITE_END()
