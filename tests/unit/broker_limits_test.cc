#include "launcher/broker/connection_limits.h"

#include <boost/test/unit_test.hpp>

using namespace portbind::broker;

BOOST_AUTO_TEST_SUITE(broker_limits_test)

BOOST_AUTO_TEST_CASE(one_uid_cannot_take_every_connection) {
    ConnectionLimits limits(10, 3);
    BOOST_TEST(limits.admit(1000));
    BOOST_TEST(limits.admit(1000));
    BOOST_TEST(limits.admit(1000));
    BOOST_TEST(!limits.admit(1000), "the fourth connection of one uid is refused");
    BOOST_TEST(limits.open_for(1000) == 3u, "a refusal is not counted");
    BOOST_TEST(limits.admit(1001), "another uid still gets in");
    BOOST_TEST(limits.open() == 4u);
    limits.release(1000);
    BOOST_TEST(limits.admit(1000), "a released slot can be used again");
}

BOOST_AUTO_TEST_CASE(the_total_is_a_hard_cap) {
    ConnectionLimits limits(4, 4);
    for (uid_t uid = 1; uid <= 4; ++uid) {
        BOOST_TEST(limits.admit(uid));
    }
    BOOST_TEST(limits.full());
    BOOST_TEST(!limits.admit(99));
    BOOST_TEST(limits.open_for(99) == 0u);
    limits.release(2);
    BOOST_TEST(!limits.full());
    BOOST_TEST(limits.admit(99));
}

BOOST_AUTO_TEST_CASE(releasing_what_was_not_admitted_changes_nothing) {
    ConnectionLimits limits(2, 1);
    BOOST_TEST(limits.admit(7));
    limits.release(8);
    limits.release(8);
    BOOST_TEST(limits.open() == 1u);
    limits.release(7);
    limits.release(7);
    BOOST_TEST(limits.open() == 0u);
    BOOST_TEST(limits.admit(7));
    BOOST_TEST(limits.admit(8));
    BOOST_TEST(limits.full());
}

BOOST_AUTO_TEST_CASE(counts_return_to_zero_after_churn) {
    ConnectionLimits limits(1024, 128);
    for (int round = 0; round < 10000; ++round) {
        const uid_t uid = static_cast<uid_t>(round % 37);
        BOOST_TEST_REQUIRE(limits.admit(uid));
        limits.release(uid);
    }
    BOOST_TEST(limits.open() == 0u);
    BOOST_TEST(limits.open_for(0) == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
