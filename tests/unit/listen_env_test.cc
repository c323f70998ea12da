#include "launcher/listen_env.h"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using namespace portbind;

namespace {

using Env = std::vector<std::string>;
using Overrides = std::vector<std::pair<std::string, std::string>>;

std::string_view name_of(std::string_view entry) {
    return entry.substr(0, entry.find('='));
}

// Every entry named `name`, as "NAME=value".
std::vector<std::string> entries_named(const Env& env, std::string_view name) {
    std::vector<std::string> out;
    for (const std::string& e : env) {
        if (e.find('=') != std::string::npos && name_of(e) == name) {
            out.push_back(e);
        }
    }
    return out;
}

std::vector<std::string> listen_entries(const Env& env) {
    std::vector<std::string> out;
    for (const std::string& e : env) {
        if (e.rfind("LISTEN_", 0) == 0) {
            out.push_back(e);
        }
    }
    return out;
}

// The entries of `env` that are not LISTEN_* and not overridden, in order.
std::vector<std::string> other_entries(const Env& env, const Overrides& overrides) {
    std::vector<std::string> out;
    for (const std::string& e : env) {
        const bool overridden = std::any_of(overrides.begin(), overrides.end(), [&](const auto& o) {
            return name_of(e) == std::string_view(o.first);
        });
        if (e.rfind("LISTEN_", 0) != 0 && !overridden) {
            out.push_back(e);
        }
    }
    return out;
}

ListenFds fds(std::vector<std::string> names, pid_t pid,
              std::optional<std::uint64_t> pidfd_id = std::nullopt) {
    ListenFds f;
    f.names = std::move(names);
    f.pid = pid;
    f.pidfd_id = pidfd_id;
    return f;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(listen_env_test)

BOOST_AUTO_TEST_CASE(listen_values) {
    struct Case {
        ListenFds fds;
        const char* count;
        const char* names;
        const char* pid;
        const char* pidfd_id;  // nullptr: not set
    };
    const Case cases[] = {
        {fds({"unknown"}, 4242), "LISTEN_FDS=1", "LISTEN_FDNAMES=unknown", "LISTEN_PID=4242",
         nullptr},
        {fds({"http", "https"}, 1), "LISTEN_FDS=2", "LISTEN_FDNAMES=http:https", "LISTEN_PID=1",
         nullptr},
        {fds({"a b", "unknown", "dns"}, 2147483647, 12345), "LISTEN_FDS=3",
         "LISTEN_FDNAMES=a b:unknown:dns", "LISTEN_PID=2147483647", "LISTEN_PIDFDID=12345"},
        {fds({"x"}, 99, 0), "LISTEN_FDS=1", "LISTEN_FDNAMES=x", "LISTEN_PID=99",
         "LISTEN_PIDFDID=0"},
        {fds({"x"}, 7, UINT64_MAX), "LISTEN_FDS=1", "LISTEN_FDNAMES=x", "LISTEN_PID=7",
         "LISTEN_PIDFDID=18446744073709551615"},
    };
    for (const Case& c : cases) {
        BOOST_TEST_CONTEXT(c.names) {
            const Env env = build_child_environment({"PATH=/usr/bin", "HOME=/home/a"}, {}, c.fds);
            BOOST_TEST(entries_named(env, "LISTEN_FDS") == std::vector<std::string>{c.count});
            BOOST_TEST(entries_named(env, "LISTEN_FDNAMES") == std::vector<std::string>{c.names});
            BOOST_TEST(entries_named(env, "LISTEN_PID") == std::vector<std::string>{c.pid});
            if (c.pidfd_id == nullptr) {
                BOOST_TEST(entries_named(env, "LISTEN_PIDFDID").empty());
                BOOST_TEST(listen_entries(env).size() == 3u);
            } else {
                BOOST_TEST(entries_named(env, "LISTEN_PIDFDID") ==
                           std::vector<std::string>{c.pidfd_id});
                BOOST_TEST(listen_entries(env).size() == 4u);
            }
            BOOST_TEST(other_entries(env, {}) == (Env{"PATH=/usr/bin", "HOME=/home/a"}));
        }
    }
}

BOOST_AUTO_TEST_CASE(many_names) {
    std::vector<std::string> names;
    std::string joined;
    for (int i = 0; i < 64; ++i) {
        names.push_back("n" + std::to_string(i));
        joined += (i ? ":n" : "n") + std::to_string(i);
    }
    const Env env = build_child_environment({}, {}, fds(names, 10));
    BOOST_TEST(entries_named(env, "LISTEN_FDS") == std::vector<std::string>{"LISTEN_FDS=64"});
    BOOST_TEST(entries_named(env, "LISTEN_FDNAMES") ==
               std::vector<std::string>{"LISTEN_FDNAMES=" + joined});
}

BOOST_AUTO_TEST_CASE(nothing_set_without_names) {
    const Env inherited_text = {"A=1", "B=2"};
    const std::vector<std::string_view> inherited(inherited_text.begin(), inherited_text.end());
    for (const auto& f : {fds({}, 0), fds({}, 1234), fds({}, 1234, 99)}) {
        BOOST_TEST_CONTEXT("pid " << f.pid << " pidfd_id " << f.pidfd_id.has_value()) {
            const Env env = build_child_environment(inherited, {}, f);
            BOOST_TEST(listen_entries(env).empty());
            BOOST_TEST(env == (Env{"A=1", "B=2"}));
        }
    }
}

BOOST_AUTO_TEST_CASE(stale_listen_variables_removed) {
    const std::vector<std::string_view> inherited = {
        "LISTEN_FDS=5",
        "A=1",
        "LISTEN_PID=1",
        "LISTEN_FDNAMES=old:ones",
        "LISTEN_FDS=6",
        "LISTEN_PIDFDID=77",
        "B=2",
        "LISTEN_PID=2",
        "LISTEN_PIDFDID=",
        "LISTEN_FDNAMES=",
        "LISTEN_FDS_FIRST_FD=3",
        "C=3",
    };
    {
        // No fds: every stale LISTEN_* goes, nothing comes back.
        const Env env = build_child_environment(inherited, {}, fds({}, 0));
        BOOST_TEST(env == (Env{"A=1", "B=2", "C=3"}));
    }
    {
        // With fds: exactly one of each, with the new values.
        const Env env = build_child_environment(inherited, {}, fds({"web"}, 500));
        BOOST_TEST(entries_named(env, "LISTEN_FDS") == std::vector<std::string>{"LISTEN_FDS=1"});
        BOOST_TEST(entries_named(env, "LISTEN_PID") == std::vector<std::string>{"LISTEN_PID=500"});
        BOOST_TEST(entries_named(env, "LISTEN_FDNAMES") ==
                   std::vector<std::string>{"LISTEN_FDNAMES=web"});
        BOOST_TEST(entries_named(env, "LISTEN_PIDFDID").empty());
        BOOST_TEST(listen_entries(env).size() == 3u);
        BOOST_TEST(other_entries(env, {}) == (Env{"A=1", "B=2", "C=3"}));
    }
    {
        const Env env = build_child_environment(inherited, {}, fds({"web"}, 500, 8));
        BOOST_TEST(entries_named(env, "LISTEN_PIDFDID") ==
                   std::vector<std::string>{"LISTEN_PIDFDID=8"});
        BOOST_TEST(listen_entries(env).size() == 4u);
    }
}

BOOST_AUTO_TEST_CASE(other_listen_like_names_kept) {
    // Only the protocol variables are stale; look-alikes and apps' own settings belong to
    // the caller.
    const std::vector<std::string_view> inherited = {
        "LISTEN_FDS_X=1",         "LISTEN=2",        "listen_fds=3", "XLISTEN_PID=4", "LISTEN_FD=5",
        "LISTEN_ADDRESS=0.0.0.0", "LISTEN_PORT=8080"};
    const Env env = build_child_environment(inherited, {}, fds({}, 0));
    BOOST_TEST(env == (Env{"LISTEN_FDS_X=1", "LISTEN=2", "listen_fds=3", "XLISTEN_PID=4",
                           "LISTEN_FD=5", "LISTEN_ADDRESS=0.0.0.0", "LISTEN_PORT=8080"}));
}

BOOST_AUTO_TEST_CASE(malformed_entries_dropped) {
    const std::vector<std::string_view> inherited = {"NOEQUALS", "A=1",  "",      "=value", "=",
                                                     "B=",       "C==x", "D=a=b", "E"};
    const Env env = build_child_environment(inherited, {}, fds({}, 0));
    BOOST_TEST(env == (Env{"A=1", "B=", "C==x", "D=a=b"}));
}

BOOST_AUTO_TEST_CASE(first_duplicate_wins) {
    const std::vector<std::string_view> inherited = {"PATH=/first", "A=1", "PATH=/second",
                                                     "A=2",         "B=x", "PATH=/third"};
    const Env env = build_child_environment(inherited, {}, fds({}, 0));
    BOOST_TEST(env == (Env{"PATH=/first", "A=1", "B=x"}));
}

BOOST_AUTO_TEST_CASE(overrides_replace_inherited_values) {
    const std::vector<std::string_view> inherited = {"HOME=/root", "PATH=/usr/bin", "USER=root",
                                                     "TERM=xterm", "USER=again",    "LOGNAME=root",
                                                     "LANG=C"};
    const Overrides overrides = {{"HOME", "/home/alice"},
                                 {"USER", "alice"},
                                 {"LOGNAME", "alice"},
                                 {"NEWVAR", "new value=with equals"},
                                 {"EMPTY", ""}};
    const Env env = build_child_environment(inherited, overrides, fds({"http"}, 42));

    BOOST_TEST(entries_named(env, "HOME") == std::vector<std::string>{"HOME=/home/alice"});
    BOOST_TEST(entries_named(env, "USER") == std::vector<std::string>{"USER=alice"});
    BOOST_TEST(entries_named(env, "LOGNAME") == std::vector<std::string>{"LOGNAME=alice"});
    BOOST_TEST(entries_named(env, "NEWVAR") ==
               std::vector<std::string>{"NEWVAR=new value=with equals"});
    BOOST_TEST(entries_named(env, "EMPTY") == std::vector<std::string>{"EMPTY="});
    // Untouched entries keep their order.
    BOOST_TEST(other_entries(env, overrides) == (Env{"PATH=/usr/bin", "TERM=xterm", "LANG=C"}));
    BOOST_TEST(listen_entries(env).size() == 3u);
    BOOST_TEST(env.size() == 3u + overrides.size() + 3u);
}

BOOST_AUTO_TEST_CASE(empty_inputs) {
    BOOST_TEST(build_child_environment({}, {}, fds({}, 0)).empty());
    const Env env = build_child_environment({}, {{"A", "1"}}, fds({}, 0));
    BOOST_TEST(env == (Env{"A=1"}));
}

BOOST_AUTO_TEST_SUITE_END()
