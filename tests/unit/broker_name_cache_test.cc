#include "launcher/broker/name_cache.h"

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

using namespace portbind;
using namespace portbind::broker;

namespace {

using Clock = NameCache::Clock;

struct CountingLookup {
    int calls = 0;
    std::string suffix;  // changes what the "database" answers
    NameCache::Lookup lookup() {
        return [this](uid_t uid, gid_t gid, const std::vector<gid_t>& groups) {
            ++calls;
            Caller c;
            c.user = "u" + std::to_string(uid) + suffix;
            c.groups.push_back("g" + std::to_string(gid));
            for (const gid_t g : groups) {
                c.groups.push_back("g" + std::to_string(g));
            }
            return c;
        };
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(broker_name_cache_test)

BOOST_AUTO_TEST_CASE(repeated_peers_are_looked_up_once_within_the_ttl) {
    CountingLookup db;
    NameCache cache(db.lookup(), std::chrono::seconds(5), 100);
    const Clock::time_point t0{};
    const Caller a = cache.names_for(1000, 1000, {20, 10}, t0);
    const Caller b = cache.names_for(1000, 1000, {10, 20, 10}, t0 + std::chrono::seconds(4));
    BOOST_TEST(db.calls == 1, "group order and duplicates do not matter");
    BOOST_TEST(a.user == "u1000");
    BOOST_TEST(b.user == a.user);
    BOOST_TEST(b.groups == a.groups);
}

BOOST_AUTO_TEST_CASE(ids_from_the_kernel_are_part_of_the_key) {
    CountingLookup db;
    NameCache cache(db.lookup(), std::chrono::seconds(5), 100);
    const Clock::time_point t0{};
    cache.names_for(1000, 1000, {10}, t0);
    const Caller more = cache.names_for(1000, 1000, {10, 30}, t0);
    BOOST_TEST(db.calls == 2, "a process with another group list is looked up afresh");
    BOOST_TEST(more.groups.back() == "g30");
    cache.names_for(1000, 1001, {10}, t0);
    cache.names_for(1001, 1000, {10}, t0);
    BOOST_TEST(db.calls == 4);
}

BOOST_AUTO_TEST_CASE(names_expire_after_the_ttl) {
    CountingLookup db;
    NameCache cache(db.lookup(), std::chrono::seconds(5), 100);
    const Clock::time_point t0{};
    BOOST_TEST(cache.names_for(1000, 1000, {}, t0).user == "u1000");
    db.suffix = "-renamed";
    BOOST_TEST(cache.names_for(1000, 1000, {}, t0 + std::chrono::seconds(4)).user == "u1000");
    BOOST_TEST(cache.names_for(1000, 1000, {}, t0 + std::chrono::seconds(5)).user ==
               "u1000-renamed");
    BOOST_TEST(db.calls == 2);
}

BOOST_AUTO_TEST_CASE(clear_forgets_everything) {
    CountingLookup db;
    NameCache cache(db.lookup(), std::chrono::hours(1), 100);
    const Clock::time_point t0{};
    cache.names_for(1000, 1000, {}, t0);
    db.suffix = "-new";
    cache.clear();
    BOOST_TEST(cache.size() == 0u);
    BOOST_TEST(cache.names_for(1000, 1000, {}, t0).user == "u1000-new");
}

BOOST_AUTO_TEST_CASE(the_cache_never_grows_past_its_capacity) {
    CountingLookup db;
    NameCache cache(db.lookup(), std::chrono::hours(1), 8);
    const Clock::time_point t0{};
    for (uid_t uid = 0; uid < 1000; ++uid) {
        BOOST_TEST_REQUIRE(cache.names_for(uid, uid, {}, t0).user == "u" + std::to_string(uid));
        BOOST_TEST_REQUIRE(cache.size() <= 8u);
    }
    NameCache none(db.lookup(), std::chrono::hours(1), 0);
    none.names_for(1, 1, {}, t0);
    none.names_for(1, 1, {}, t0);
    BOOST_TEST(none.size() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
