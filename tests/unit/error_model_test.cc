// The error model's rendering and exit statuses, and os_error()'s advice: every refusal is
// one line that says what to do.
#include "policy/result.h"

#include <cerrno>
#include <cstring>
#include <string>

#include <boost/test/unit_test.hpp>

using namespace portbind;

BOOST_AUTO_TEST_SUITE(error_model_test)

BOOST_AUTO_TEST_CASE(render_is_one_line_with_advice_after_a_semicolon) {
    BOOST_TEST(render(Error{ErrorKind::Denied, "refused 443/tcp", "ask the admin"}) ==
               "portbind: refused 443/tcp; ask the admin");
    BOOST_TEST(render(Error{ErrorKind::Denied, "refused 443/tcp", ""}) ==
               "portbind: refused 443/tcp");
}

BOOST_AUTO_TEST_CASE(exit_status_table) {
    BOOST_TEST(exit_status_for(Error{ErrorKind::Usage, "", ""}) == 125);
    BOOST_TEST(exit_status_for(Error{ErrorKind::PolicyInvalid, "", ""}) == 125);
    BOOST_TEST(exit_status_for(Error{ErrorKind::Untrusted, "", ""}) == 125);
    BOOST_TEST(exit_status_for(Error{ErrorKind::Denied, "", ""}) == 125);
    BOOST_TEST(exit_status_for(Error{ErrorKind::System, "", ""}) == 125);
    BOOST_TEST(exit_status_for(Error{ErrorKind::CommandNotExecutable, "", ""}) == 126);
    BOOST_TEST(exit_status_for(Error{ErrorKind::CommandNotFound, "", ""}) == 127);
}

BOOST_AUTO_TEST_CASE(os_error_names_the_call_and_the_errno) {
    const Error e = os_error("cannot create a socket pair", EINVAL);
    BOOST_TEST((e.kind == ErrorKind::System));
    BOOST_TEST(e.message == std::string("cannot create a socket pair: ") + std::strerror(EINVAL));
}

BOOST_AUTO_TEST_CASE(os_error_advice_by_errno) {
    struct Case {
        int err;
        const char* advice_contains;
    };
    const Case cases[] = {
        {EMFILE, "ulimit -n"},        {ENFILE, "ulimit -n"},        {ENOMEM, "short of memory"},
        {ENOBUFS, "short of memory"}, {EINVAL, "please report it"}, {EPERM, "please report it"},
        {0, "please report it"},
    };
    for (const Case& c : cases) {
        const Error e = os_error("x", c.err);
        BOOST_TEST_CONTEXT("errno " << c.err) {
            BOOST_TEST(e.advice.find(c.advice_contains) != std::string::npos, e.advice);
            BOOST_TEST(render(e).find('\n') == std::string::npos);
        }
    }
}

BOOST_AUTO_TEST_CASE(os_error_keeps_the_call_sites_advice) {
    BOOST_TEST(os_error("cannot fork", EAGAIN, "try later").advice == "try later");
    BOOST_TEST(os_error("cannot fork", EMFILE, "try later").advice == "try later");
}

BOOST_AUTO_TEST_SUITE_END()
