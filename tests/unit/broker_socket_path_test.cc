// locate_socket() on this machine's own filesystem: Debian's root-owned system directories
// are trusted, /tmp (writable by everyone) is not, and a path with a symlink, ".", ".." or
// a doubled slash is checked as the directory it resolves to.
#include "launcher/broker/socket_path.h"

#include <sys/stat.h>

#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <memory>
#include <string>

using namespace portbind::broker;

namespace {

struct Located {
    int error = 0;
    std::string why;
    SocketLocation where;
};

Located locate(const std::string& path) {
    Located l;
    l.error = locate_socket(path, l.where, l.why);
    return l;
}

std::string resolved(const std::string& dir) {
    std::unique_ptr<char, void (*)(void*)> p(::realpath(dir.c_str(), nullptr), std::free);
    return p ? std::string(p.get()) : std::string();
}

bool same_directory(int fd, const std::string& path) {
    struct stat a {
    }, b{};
    return ::fstat(fd, &a) == 0 && ::stat(path.c_str(), &b) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
}

// The checks need a tree root owns, as on any installed system (not, e.g., a build in a user
// namespace, where / appears owned by the overflow uid).
bool root_owns_the_tree() {
    struct stat st {};
    return ::stat("/", &st) == 0 && st.st_uid == 0 && ::stat("/usr/lib", &st) == 0 &&
           st.st_uid == 0 && (st.st_mode & S_IWOTH) == 0;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(broker_socket_path_test,
                      *boost::unit_test::precondition([](boost::unit_test::test_unit_id) {
                          return root_owns_the_tree();
                      }))

BOOST_AUTO_TEST_CASE(plain_absolute_directories) {
    for (const char* plain : {"/", "/run", "/run/portbind", "/a.b/..c/c..", "/usr/lib/x86_64"}) {
        BOOST_TEST(plain_absolute(plain), plain);
    }
    for (const char* other :
         {"/run/", "//run", "/run//portbind", "/./run", "/run/.", "/run/..", "/run/../etc",
          "/run/./portbind", "/..", "/.", "", "run", "run/portbind"}) {
        BOOST_TEST(!plain_absolute(other), other);
    }
}

BOOST_AUTO_TEST_CASE(plain_trusted_directories) {
    for (const std::string dir : {"/", "/usr", "/usr/lib"}) {
        BOOST_TEST_CONTEXT(dir) {
            const std::string path = (dir == "/" ? "" : dir) + "/broker.sock";
            const Located l = locate(path);
            BOOST_TEST(l.error == 0);
            BOOST_TEST(l.why.empty());
            BOOST_TEST(l.where.directory_path == dir);
            BOOST_TEST(l.where.name == "broker.sock");
            BOOST_TEST(l.where.path() == path);
            BOOST_TEST(same_directory(l.where.directory.get(), dir));
        }
    }
}

// Each is resolved first, then walked: the result names the real directory.
BOOST_AUTO_TEST_CASE(unplain_paths_are_resolved) {
    for (const std::string dir :
         {"/usr/./lib", "/usr//lib", "/usr/lib/../lib", "/usr/share/../lib", "//usr/lib"}) {
        BOOST_TEST_CONTEXT(dir) {
            const Located l = locate(dir + "/x.sock");
            BOOST_TEST(l.error == 0);
            BOOST_TEST(l.where.directory_path == "/usr/lib");
            BOOST_TEST(l.where.path() == "/usr/lib/x.sock");
            BOOST_TEST(same_directory(l.where.directory.get(), "/usr/lib"));
        }
    }
}

BOOST_AUTO_TEST_CASE(symlinked_directory_is_resolved) {
    // Debian's merged /usr: /lib is a symlink to usr/lib.
    struct stat st {};
    if (::lstat("/lib", &st) != 0 || !S_ISLNK(st.st_mode)) {
        BOOST_TEST_MESSAGE("skipped: /lib is not a symlink here");
        return;
    }
    const std::string target = resolved("/lib");
    const Located l = locate("/lib/x.sock");
    BOOST_TEST(l.error == 0);
    BOOST_TEST(l.where.directory_path == target);
    BOOST_TEST(l.where.path() == target + "/x.sock");
    BOOST_TEST(same_directory(l.where.directory.get(), target));
}

BOOST_AUTO_TEST_CASE(refusals) {
    struct Row {
        std::string path;
        int error;
        std::string why;
    };
    const Row rows[] = {
        {"relative.sock", EINVAL, "the socket path must be absolute"},
        {"", EINVAL, "the socket path must be absolute"},
        {std::string("/usr/x\0y", 8), EINVAL, "the socket path must be absolute"},
        {"/usr/", EINVAL, "the socket path must end in a file name"},
        {"/usr/..", EINVAL, "the socket path must end in a file name"},
        {"/tmp/x.sock", EPERM,
         "directory /tmp is not owned by root or is writable by others, so anyone could put "
         "a socket there"},
        {"/usr/../tmp/x.sock", EPERM,
         "directory /tmp is not owned by root or is writable by others, so anyone could put "
         "a socket there"},
        {"/nonexistent-portbind-dir/x.sock", ENOENT,
         "/nonexistent-portbind-dir: No such file or directory"},
        {"/usr/bin/env/x.sock", ENOTDIR, "/usr/bin/env: Not a directory"},
        {"/usr/lib/" + std::string(120, 'a'), ENAMETOOLONG,
         "the socket path /usr/lib/" + std::string(120, 'a') + " is too long for a unix socket"},
    };
    struct stat tmp {};
    const bool tmp_is_shared = ::stat("/tmp", &tmp) == 0 && (tmp.st_mode & S_IWOTH) != 0;
    for (const Row& row : rows) {
        if (!tmp_is_shared && row.path.find("tmp") != std::string::npos) {
            continue;  // /tmp is writable by everyone on Debian; not here
        }
        BOOST_TEST_CONTEXT(row.path) {
            const Located l = locate(row.path);
            BOOST_TEST(l.error == row.error);
            BOOST_TEST(l.why == row.why);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
