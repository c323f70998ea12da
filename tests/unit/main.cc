#define BOOST_TEST_MODULE portbind
#include <boost/test/unit_test.hpp>
