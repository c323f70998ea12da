// The setcap registry codec: exact round trip, and strict parsing where every malformed
// line is an error naming file:line.
#include <boost/test/unit_test.hpp>
#include <string>

#include "launcher/setcap/registry.h"

using namespace portbind;

namespace {

RegistryEntry sample(const std::string& path) {
    RegistryEntry e;
    e.path = path;
    e.caps = "cap_net_bind_service=ep";
    e.forced = false;
    e.identity = FileIdentity{8, 1, 1234567, 35664, 1700000000, 123456789};
    e.granted = "2024-05-01T12:00:00Z";
    return e;
}

const std::string kHeader = "portbind-setcap-registry 1\n";
const std::string kGood =
    "path=/usr/lib/nodejs/node caps=cap_net_bind_service=ep force=no dev=8:1 ino=42 size=100 "
    "mtime=1700000000.000000001 granted=2024-05-01T12:00:00Z";

// Parses kHeader + "# comment\n" + line + "\n" and returns the error message ("" if it parsed).
std::string error_for(const std::string& line) {
    auto r = parse_registry(kHeader + "# comment\n" + line + "\n", "/var/lib/portbind/reg");
    return r.ok() ? "" : r.error().message;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(setcap_registry_test)

BOOST_AUTO_TEST_CASE(round_trip_including_hostile_paths) {
    Registry reg;
    reg.put(sample("/usr/lib/nodejs/node"));
    RegistryEntry odd = sample("/opt/my app/bin\\x/new\nline/caf\xc3\xa9/\x7f\x01");
    odd.caps = "cap_net_bind_service,cap_net_raw=ep cap_sys_nice=p";
    odd.forced = true;
    odd.identity = FileIdentity{4294967295u, 0, UINT64_MAX, 0, -86401, 999999999};
    reg.put(odd);
    const std::string text = format_registry(reg);
    BOOST_TEST(text.rfind(kHeader, 0) == 0u);
    BOOST_TEST(text.find('\t') == std::string::npos);
    BOOST_TEST(text.find("/opt/my\\x20app/bin\\x5cx/new\\x0aline/caf\\xc3\\xa9/\\x7f\\x01") !=
               std::string::npos);

    auto parsed = parse_registry(text, "reg");
    BOOST_TEST_REQUIRE(parsed.ok());
    BOOST_TEST_REQUIRE(parsed.value().entries.size() == 2u);
    for (std::size_t i = 0; i < 2; ++i) {
        const RegistryEntry& a = reg.entries[i];
        const RegistryEntry& b = parsed.value().entries[i];
        BOOST_TEST(a.path == b.path);
        BOOST_TEST(a.caps == b.caps);
        BOOST_TEST(a.forced == b.forced);
        BOOST_TEST((a.identity == b.identity));
        BOOST_TEST(a.granted == b.granted);
    }
    BOOST_TEST(parsed.value().entries[1].line == 5u);  // header, two comment lines, entry 1
    BOOST_TEST(format_registry(parsed.value()) == text);
}

BOOST_AUTO_TEST_CASE(the_documented_line_parses) {
    auto r = parse_registry(kHeader + kGood + "\n", "reg");
    BOOST_TEST_REQUIRE(r.ok());
    const RegistryEntry& e = r.value().entries.at(0);
    BOOST_TEST(e.path == "/usr/lib/nodejs/node");
    BOOST_TEST(e.caps == "cap_net_bind_service=ep");
    BOOST_TEST(!e.forced);
    BOOST_TEST(e.identity.dev_major == 8u);
    BOOST_TEST(e.identity.dev_minor == 1u);
    BOOST_TEST(e.identity.ino == 42u);
    BOOST_TEST(e.identity.size == 100u);
    BOOST_TEST(e.identity.mtime_sec == 1700000000);
    BOOST_TEST(e.identity.mtime_nsec == 1u);
    BOOST_TEST(e.line == 2u);
    BOOST_TEST(format_entry(e) == kGood);
}

BOOST_AUTO_TEST_CASE(empty_registry_and_comments) {
    auto r = parse_registry(kHeader, "reg");
    BOOST_TEST_REQUIRE(r.ok());
    BOOST_TEST(r.value().entries.empty());
    auto c = parse_registry(kHeader + "\n# a comment\n\n" + kGood + "\n\n", "reg");
    BOOST_TEST_REQUIRE(c.ok());
    BOOST_TEST(c.value().entries.size() == 1u);
    BOOST_TEST(c.value().entries[0].line == 5u);
    auto f = parse_registry(format_registry(Registry{}), "reg");
    BOOST_TEST_REQUIRE(f.ok());
    BOOST_TEST(f.value().entries.empty());
}

BOOST_AUTO_TEST_CASE(every_malformed_line_is_an_error_with_file_and_line) {
    const std::string cases[] = {
        "garbage",
        " " + kGood,
        kGood + " ",
        kGood + " extra=1",
        "caps=cap_net_bind_service=ep path=/x force=no dev=8:1 ino=42 size=100 "
        "mtime=1.000000000 granted=2024-05-01T12:00:00Z",
        "path=relative caps=x force=no dev=8:1 ino=1 size=1 mtime=1.000000000 "
        "granted=2024-05-01T12:00:00Z",
        "path=/a/../b caps=x force=no dev=8:1 ino=1 size=1 mtime=1.000000000 "
        "granted=2024-05-01T12:00:00Z",
        "path=/a//b caps=x force=no dev=8:1 ino=1 size=1 mtime=1.000000000 "
        "granted=2024-05-01T12:00:00Z",
        "path=/a/ caps=x force=no dev=8:1 ino=1 size=1 mtime=1.000000000 "
        "granted=2024-05-01T12:00:00Z",
        "path=/ caps=x force=no dev=8:1 ino=1 size=1 mtime=1.000000000 "
        "granted=2024-05-01T12:00:00Z",
        "path=/a\\x41 caps=x force=no dev=8:1 ino=1 size=1 mtime=1.000000000 "
        "granted=2024-05-01T12:00:00Z",
        "path=/a\\x2A caps=x force=no dev=8:1 ino=1 size=1 mtime=1.000000000 "
        "granted=2024-05-01T12:00:00Z",
        "path=/a\\x00 caps=x force=no dev=8:1 ino=1 size=1 mtime=1.000000000 "
        "granted=2024-05-01T12:00:00Z",
        "path=/a\\x2 caps=x force=no dev=8:1 ino=1 size=1 mtime=1.000000000 "
        "granted=2024-05-01T12:00:00Z",
        "path=/a\\ caps=x force=no dev=8:1 ino=1 size=1 mtime=1.000000000 "
        "granted=2024-05-01T12:00:00Z",
        "path=/a\tb caps=x force=no dev=8:1 ino=1 size=1 mtime=1.000000000 "
        "granted=2024-05-01T12:00:00Z",
        "path=/a caps= force=no dev=8:1 ino=1 size=1 mtime=1.000000000 "
        "granted=2024-05-01T12:00:00Z",
        "path=/a caps=x force=maybe dev=8:1 ino=1 size=1 mtime=1.000000000 "
        "granted=2024-05-01T12:00:00Z",
        "path=/a caps=x force=no dev=8 ino=1 size=1 mtime=1.000000000 "
        "granted=2024-05-01T12:00:00Z",
        "path=/a caps=x force=no dev=8:01 ino=1 size=1 mtime=1.000000000 "
        "granted=2024-05-01T12:00:00Z",
        "path=/a caps=x force=no dev=4294967296:1 ino=1 size=1 mtime=1.000000000 "
        "granted=2024-05-01T12:00:00Z",
        "path=/a caps=x force=no dev=8:1 ino=-1 size=1 mtime=1.000000000 "
        "granted=2024-05-01T12:00:00Z",
        "path=/a caps=x force=no dev=8:1 ino=18446744073709551616 size=1 mtime=1.000000000 "
        "granted=2024-05-01T12:00:00Z",
        "path=/a caps=x force=no dev=8:1 ino=1 size=0x10 mtime=1.000000000 "
        "granted=2024-05-01T12:00:00Z",
        "path=/a caps=x force=no dev=8:1 ino=1 size=1 mtime=1.0 granted=2024-05-01T12:00:00Z",
        "path=/a caps=x force=no dev=8:1 ino=1 size=1 mtime=1 granted=2024-05-01T12:00:00Z",
        "path=/a caps=x force=no dev=8:1 ino=1 size=1 mtime=-0.000000000 "
        "granted=2024-05-01T12:00:00Z",
        "path=/a caps=x force=no dev=8:1 ino=1 size=1 mtime=1.00000000a "
        "granted=2024-05-01T12:00:00Z",
        "path=/a caps=x force=no dev=8:1 ino=1 size=1 mtime=1.000000000 granted=2024-05-01",
        "path=/a caps=x force=no dev=8:1 ino=1 size=1 mtime=1.000000000 "
        "granted=2023-02-29T12:00:00Z",
        "path=/a caps=x force=no dev=8:1 ino=1 size=1 mtime=1.000000000 "
        "granted=2024-05-01T24:00:00Z",
        "path=/a caps=x force=no dev=8:1 ino=1 size=1 mtime=1.000000000 granted=",
        "path=/a caps=x  force=no dev=8:1 ino=1 size=1 mtime=1.000000000 "
        "granted=2024-05-01T12:00:00Z",
    };
    for (const std::string& line : cases) {
        BOOST_TEST_CONTEXT("line '" << line << "'") {
            const std::string msg = error_for(line);
            BOOST_TEST(msg.rfind("corrupt setcap registry /var/lib/portbind/reg:3: ", 0) == 0u,
                       "message: " << msg);
        }
    }
}

BOOST_AUTO_TEST_CASE(file_level_errors) {
    const auto msg = [](const std::string& text) {
        auto r = parse_registry(text, "reg");
        return r.ok() ? std::string() : r.error().message;
    };
    BOOST_TEST(msg("").find("reg:1: ") != std::string::npos);
    BOOST_TEST(msg("portbind-setcap-registry 2\n").find("reg:1: the first line") !=
               std::string::npos);
    BOOST_TEST(msg("# comment first\n" + kHeader).find("reg:1: ") != std::string::npos);
    BOOST_TEST(msg(kHeader + kGood).find("reg:2: the last line does not end") != std::string::npos);
    BOOST_TEST(msg(kHeader + "#x\n" + std::string("#\0\n", 3)).find("reg:3: it contains a NUL") !=
               std::string::npos);
    const std::string dup = msg(kHeader + kGood + "\n#\n" + kGood + "\n");
    BOOST_TEST(dup.find("reg:4: path /usr/lib/nodejs/node is already listed on line 2") !=
               std::string::npos);
    BOOST_TEST(msg("\xef\xbb\xbf" + kHeader).find("reg:1:") != std::string::npos);
    BOOST_TEST(msg("portbind-setcap-registry 1\r\n").find("reg:1:") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(errors_advise_what_to_do) {
    auto r = parse_registry(kHeader + "junk\n", "reg");
    BOOST_TEST_REQUIRE(!r.ok());
    BOOST_TEST(r.error().advice.find("portbind-setcap(8)") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(escaping_is_canonical) {
    BOOST_TEST(escape_value("/usr/bin/node") == "/usr/bin/node");
    BOOST_TEST(escape_value("a b\\c\n\x7f\xff") == "a\\x20b\\x5cc\\x0a\\x7f\\xff");
    for (int c = 0; c < 256; ++c) {
        const std::string raw(1, static_cast<char>(c));
        const std::string esc = escape_value(raw);
        BOOST_TEST_CONTEXT("byte " << c) {
            if (c == 0) {
                BOOST_TEST(!unescape_value(esc).has_value());  // never in a path or caps text
            } else {
                BOOST_TEST(unescape_value(esc).value() == raw);
            }
        }
    }
    BOOST_TEST(!unescape_value("\\x41").has_value());  // 'A' needs no escape
    BOOST_TEST(!unescape_value("\\x0A").has_value());  // uppercase hex
    BOOST_TEST(!unescape_value("\\n").has_value());
    BOOST_TEST(!unescape_value("\\x2").has_value());
    BOOST_TEST(!unescape_value("a b").has_value());
}

BOOST_AUTO_TEST_CASE(canonical_paths) {
    for (const char* good : {"/a", "/usr/bin/node", "/a/b.c/...", "/.hidden/x"}) {
        BOOST_TEST(is_canonical_path(good), good);
    }
    for (const char* bad :
         {"", "/", "a", "a/b", "/a/", "//a", "/a//b", "/a/./b", "/a/../b", "/..", "/."}) {
        BOOST_TEST(!is_canonical_path(bad), bad);
    }
}

BOOST_AUTO_TEST_CASE(utc_times) {
    BOOST_TEST(format_utc(0) == "1970-01-01T00:00:00Z");
    BOOST_TEST(format_utc(951782400) == "2000-02-29T00:00:00Z");
    BOOST_TEST(format_utc(1700000000) == "2023-11-14T22:13:20Z");
    BOOST_TEST(format_utc(-1) == "1969-12-31T23:59:59Z");
    BOOST_TEST(format_utc(4102444799) == "2099-12-31T23:59:59Z");
    for (std::int64_t t = -100000000; t < 5000000000; t += 86399 * 97) {
        BOOST_TEST(valid_utc(format_utc(t)), format_utc(t));
    }
    BOOST_TEST(valid_utc("2024-02-29T23:59:59Z"));
    BOOST_TEST(!valid_utc("2023-02-29T00:00:00Z"));
    BOOST_TEST(!valid_utc("1900-02-29T00:00:00Z"));
    BOOST_TEST(valid_utc("2000-02-29T00:00:00Z"));
    BOOST_TEST(!valid_utc("2024-13-01T00:00:00Z"));
    BOOST_TEST(!valid_utc("2024-00-01T00:00:00Z"));
    BOOST_TEST(!valid_utc("2024-04-31T00:00:00Z"));
    BOOST_TEST(!valid_utc("2024-05-01T12:60:00Z"));
    BOOST_TEST(!valid_utc("2024-05-01 12:00:00Z"));
    BOOST_TEST(!valid_utc("2024-05-01T12:00:00+00:00"));
}

BOOST_AUTO_TEST_CASE(put_find_erase) {
    Registry reg;
    reg.put(sample("/a"));
    reg.put(sample("/b"));
    RegistryEntry again = sample("/a");
    again.caps = "cap_net_bind_service=p";
    reg.put(again);
    BOOST_TEST(reg.entries.size() == 2u);
    BOOST_TEST(reg.find("/a")->caps == "cap_net_bind_service=p");
    BOOST_TEST(reg.erase("/a"));
    BOOST_TEST(!reg.erase("/a"));
    BOOST_TEST(reg.find("/a") == nullptr);
    BOOST_TEST(reg.find("/b") != nullptr);
}

BOOST_AUTO_TEST_SUITE_END()
