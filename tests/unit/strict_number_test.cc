#include "policy/strict_number.h"

#include <boost/test/unit_test.hpp>

using namespace portbind;

BOOST_AUTO_TEST_SUITE(strict_number_test)

BOOST_AUTO_TEST_CASE(port_table) {
    struct Case {
        const char* text;
        int expected;  // -1: rejected
    };
    const Case cases[] = {
        {"443", 443},
        {"1", 1},
        {"65535", 65535},
        {"0", -1},
        {"65536", -1},
        {"0443", -1},
        {"0x1bb", -1},
        {"+443", -1},
        {"-1", -1},
        {"-0", -1},
        {"443abc", -1},
        {" 443", -1},
        {"443 ", -1},
        {"", -1},
        {"1e3", -1},
        {"4294967739", -1},
        {"18446744073709552059", -1},
        {"\xd9\xa4\xd9\xa4\xd9\xa3", -1},
        {"44\x003", -1},
    };
    for (const Case& c : cases) {
        const auto port = parse_port(c.text);
        BOOST_TEST_CONTEXT("input '" << c.text << "'") {
            if (c.expected < 0) {
                BOOST_TEST(!port.has_value());
            } else {
                BOOST_TEST_REQUIRE(port.has_value());
                BOOST_TEST(*port == c.expected);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(ten_thousand_digits_rejected) {
    BOOST_TEST(!parse_port(std::string(10000, '9')).has_value());
    BOOST_TEST(!parse_decimal(std::string(10000, '0'), 10).has_value());
}

BOOST_AUTO_TEST_CASE(decimal_limits) {
    BOOST_TEST(parse_decimal("0", 5).value() == 0u);
    BOOST_TEST(parse_decimal("5", 5).value() == 5u);
    BOOST_TEST(!parse_decimal("6", 5).has_value());
    BOOST_TEST(parse_decimal("18446744073709551615", UINT64_MAX).value() == UINT64_MAX);
    BOOST_TEST(!parse_decimal("18446744073709551616", UINT64_MAX).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
