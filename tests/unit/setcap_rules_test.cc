// The rules `portbind setcap` applies: capability sets, target files and directories,
// executables, the state of a recorded grant, and the risks audit reports.
#include <sys/stat.h>

#include <boost/test/unit_test.hpp>
#include <string>

#include "launcher/setcap/cap_sets.h"
#include "launcher/setcap/target_rules.h"

using namespace portbind;

namespace {

constexpr unsigned kNetRaw = 13;
constexpr unsigned kSysAdmin = 21;
constexpr unsigned kSetuid = 7;

const std::uint64_t kBind = cap_bit(kCapNetBindService);

TargetFacts safe_file() {
    return TargetFacts{S_IFREG | 0755, 0, 1, false, false};
}

// The message of a refusal ("" when it passed); every refusal must name the alternative.
std::string refusal(const Status& s) {
    if (s.ok()) {
        return "";
    }
    BOOST_TEST((s.error().kind == ErrorKind::Denied));
    BOOST_TEST(s.error().advice.find("portbind --port PORT -- COMMAND") != std::string::npos,
               "advice: " << s.error().advice);
    BOOST_TEST(s.error().message.find('\n') == std::string::npos);
    return s.error().message;
}

ExecutableInfo elf(std::optional<InterpreterMatch> interpreter = std::nullopt) {
    ExecutableInfo info;
    info.kind = ExecutableKind::Elf;
    info.interpreter = std::move(interpreter);
    return info;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(setcap_rules_test)

BOOST_AUTO_TEST_CASE(capability_names) {
    BOOST_TEST(cap_name(kCapNetBindService) == "cap_net_bind_service");
    BOOST_TEST(cap_name(0) == "cap_chown");
    BOOST_TEST(cap_name(40) == "cap_checkpoint_restore");
    BOOST_TEST(cap_name(63) == "cap_63");
    BOOST_TEST(cap_bit(64) == 0u);
    const std::vector<std::string> names = cap_names(cap_bit(kSysAdmin) | kBind);
    BOOST_TEST(names == (std::vector<std::string>{"cap_net_bind_service", "cap_sys_admin"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(default_grant_is_net_bind_service_ep) {
    const CapSets d = default_grant();
    BOOST_TEST(d.permitted == kBind);
    BOOST_TEST(d.effective == kBind);
    BOOST_TEST(d.inheritable == 0u);
    BOOST_TEST(!invalid_file_caps(d).has_value());
    BOOST_TEST(!caps_beyond_bind(d).has_value());
    BOOST_TEST(dangerous_caps(d).empty());
}

BOOST_AUTO_TEST_CASE(what_a_file_can_hold) {
    BOOST_TEST(invalid_file_caps(CapSets{}).value() == "it grants no capability");
    BOOST_TEST(!invalid_file_caps(CapSets{kBind, 0, 0}).has_value());  // =p
    // One effective flag per file: effective must be empty or all of p|i.
    const std::uint64_t two = kBind | cap_bit(kNetRaw);
    BOOST_TEST(invalid_file_caps(CapSets{two, 0, kBind}).has_value());
    BOOST_TEST(invalid_file_caps(CapSets{0, 0, kBind}).has_value());
    BOOST_TEST(!invalid_file_caps(CapSets{two, 0, two}).has_value());
    BOOST_TEST(!invalid_file_caps(CapSets{kBind, kBind, kBind}).has_value());
}

BOOST_AUTO_TEST_CASE(anything_beyond_net_bind_service_needs_force) {
    BOOST_TEST(!caps_beyond_bind(CapSets{kBind, 0, 0}).has_value());
    const auto raw = caps_beyond_bind(CapSets{kBind | cap_bit(kNetRaw), 0, 0});
    BOOST_TEST(raw.value().find("cap_net_raw") != std::string::npos);
    const auto inh = caps_beyond_bind(CapSets{kBind, kBind, kBind});
    BOOST_TEST(inh.value().find("inheritable") != std::string::npos);
    BOOST_TEST(caps_beyond_bind(CapSets{~std::uint64_t{0}, 0, 0}).has_value());
}

BOOST_AUTO_TEST_CASE(dangerous_capabilities) {
    const CapSets admin{cap_bit(kSysAdmin) | cap_bit(kSetuid) | kBind, 0, 0};
    const std::vector<std::string> found = dangerous_caps(admin);
    BOOST_TEST(found == (std::vector<std::string>{"cap_setuid", "cap_sys_admin"}),
               boost::test_tools::per_element());
    BOOST_TEST(dangerous_caps(CapSets{0, cap_bit(kSysAdmin), 0}).size() == 1u);
    BOOST_TEST(dangerous_caps(CapSets{kBind | cap_bit(kNetRaw), 0, 0}).empty());
    for (const unsigned cap : {0u, 1u, 2u, 3u, 6u, 7u, 12u, 16u, 17u, 19u, 21u, 31u, 39u}) {
        BOOST_TEST(dangerous_caps(CapSets{cap_bit(cap), 0, 0}).size() == 1u, cap_name(cap));
    }
}

BOOST_AUTO_TEST_CASE(revoking_keeps_what_portbind_did_not_grant) {
    const CapSets both{kBind | cap_bit(kNetRaw), 0, kBind | cap_bit(kNetRaw)};
    const CapSets left = caps_without(both, default_grant());
    BOOST_TEST(left.permitted == cap_bit(kNetRaw));
    BOOST_TEST(left.effective == cap_bit(kNetRaw));
    BOOST_TEST(caps_without(default_grant(), default_grant()).empty());
    BOOST_TEST(caps_without(CapSets{kBind, 0, 0}, default_grant()).empty());
    const CapSets p_only{cap_bit(kNetRaw), 0, 0};
    BOOST_TEST((caps_without(p_only, default_grant()) == p_only));
}

BOOST_AUTO_TEST_CASE(a_safe_file_passes) {
    BOOST_TEST(check_target_facts("/usr/local/bin/app", safe_file()).ok());
    TargetFacts only_owner = safe_file();
    only_owner.mode = S_IFREG | 0700;
    BOOST_TEST(check_target_facts("/x", only_owner).ok());
}

BOOST_AUTO_TEST_CASE(every_unsafe_file_is_refused_with_its_reason) {
    struct Case {
        const char* what;
        TargetFacts facts;
        const char* says;
    };
    const Case cases[] = {
        {"directory", {S_IFDIR | 0755, 0, 2, false, false}, "it is a directory"},
        {"fifo", {S_IFIFO | 0644, 0, 1, false, false}, "it is a FIFO"},
        {"socket", {S_IFSOCK | 0755, 0, 1, false, false}, "it is a socket"},
        {"char device", {S_IFCHR | 0666, 0, 1, false, false}, "it is a character device"},
        {"block device", {S_IFBLK | 0660, 0, 1, false, false}, "it is a block device"},
        {"symlink", {S_IFLNK | 0777, 0, 1, false, false}, "it is a symbolic link"},
        {"not root's", {S_IFREG | 0755, 1000, 1, false, false}, "owned by uid 1000, not root"},
        {"world-writable", {S_IFREG | 0757, 0, 1, false, false}, "writable by group or others"},
        {"group-writable", {S_IFREG | 0775, 0, 1, false, false}, "(mode 0775)"},
        {"setuid", {S_IFREG | 04755, 0, 1, false, false}, "setuid or setgid (mode 4755)"},
        {"setgid", {S_IFREG | 02755, 0, 1, false, false}, "setuid or setgid (mode 2755)"},
        {"not executable", {S_IFREG | 0644, 0, 1, false, false}, "not executable"},
        {"hard links", {S_IFREG | 0755, 0, 2, false, false}, "it has 2 hard links"},
        {"nosuid", {S_IFREG | 0755, 0, 1, true, false}, "mounted nosuid"},
        {"noexec", {S_IFREG | 0755, 0, 1, false, true}, "mounted noexec"},
    };
    for (const Case& c : cases) {
        BOOST_TEST_CONTEXT(c.what) {
            const std::string msg = refusal(check_target_facts("/opt/x/app", c.facts));
            BOOST_TEST(msg.rfind("refused to grant capabilities to /opt/x/app: ", 0) == 0u, msg);
            BOOST_TEST(msg.find(c.says) != std::string::npos, msg);
        }
    }
}

BOOST_AUTO_TEST_CASE(directories_on_the_way) {
    BOOST_TEST(check_directory("/usr/bin", S_IFDIR | 0755, 0, "/usr/bin/x").ok());
    BOOST_TEST(check_directory("/usr/bin", S_IFDIR | 0700, 0, "/usr/bin/x").ok());
    const std::string tmp = refusal(check_directory("/tmp", S_IFDIR | 01777, 0, "/tmp/x"));
    BOOST_TEST(tmp.find("directory /tmp is writable by group or others (mode 1777)") !=
               std::string::npos);
    const std::string grp = refusal(check_directory("/srv", S_IFDIR | 0775, 0, "/srv/x"));
    BOOST_TEST(grp.find("(mode 0775)") != std::string::npos);
    const std::string user =
        refusal(check_directory("/home/al", S_IFDIR | 0755, 1000, "/home/al/x"));
    BOOST_TEST(user.find("owned by uid 1000") != std::string::npos);
    const std::string file = refusal(check_directory("/a", S_IFREG | 0755, 0, "/a/x"));
    BOOST_TEST(file.find("not a directory") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(executables) {
    BOOST_TEST(check_executable("/x", elf(), false).ok());

    ExecutableInfo script;
    script.kind = ExecutableKind::Script;
    script.detail = "#!/usr/bin/python3";
    for (const bool force : {false, true}) {
        const std::string msg = refusal(check_executable("/x", script, force));
        BOOST_TEST(msg.find("script (#!/usr/bin/python3)") != std::string::npos);
        BOOST_TEST(msg.find("ignores file capabilities on scripts") != std::string::npos);
    }
    ExecutableInfo other;
    other.detail = "it is empty";
    BOOST_TEST(refusal(check_executable("/x", other, true)).find("it is empty") !=
               std::string::npos);

    const ExecutableInfo py = elf(InterpreterMatch{"python", "it exports Py_BytesMain"});
    const Status refused = check_executable("/opt/py", py, false);
    BOOST_TEST_REQUIRE(!refused.ok());
    BOOST_TEST((refused.error().kind == ErrorKind::Denied));
    BOOST_TEST(refused.error().message.find(
                   "shared interpreter, python (it exports Py_BytesMain), so every script any "
                   "user runs with it") != std::string::npos);
    BOOST_TEST(refused.error().advice.find("portbind --port PORT -- /opt/py SCRIPT") !=
               std::string::npos);
    BOOST_TEST(refused.error().advice.find("--force") != std::string::npos);
    BOOST_TEST(check_executable("/opt/py", py, true).ok());
}

BOOST_AUTO_TEST_CASE(requested_capabilities) {
    BOOST_TEST(check_requested_caps("/x", "cap_net_bind_service=ep", default_grant(), false).ok());
    const Status empty = check_requested_caps("/x", "=", CapSets{}, true);
    BOOST_TEST_REQUIRE(!empty.ok());
    BOOST_TEST((empty.error().kind == ErrorKind::Usage));
    const CapSets raw{kBind | cap_bit(kNetRaw), 0, kBind | cap_bit(kNetRaw)};
    const Status refused =
        check_requested_caps("/x", "cap_net_raw,cap_net_bind_service=ep", raw, false);
    BOOST_TEST_REQUIRE(!refused.ok());
    BOOST_TEST((refused.error().kind == ErrorKind::Denied));
    BOOST_TEST(refused.error().message.find("cap_net_raw") != std::string::npos);
    BOOST_TEST(refused.error().advice.find("--force") != std::string::npos);
    BOOST_TEST(check_requested_caps("/x", "...", raw, true).ok());
    BOOST_TEST(
        check_requested_caps("/x", "cap_net_bind_service=p", CapSets{kBind, 0, 0}, false).ok());
}

BOOST_AUTO_TEST_CASE(state_of_a_recorded_grant) {
    const FileIdentity id{8, 1, 100, 5000, 1700000000, 0};
    FileIdentity replaced = id;
    replaced.ino = 101;
    const CapSets granted = default_grant();

    BOOST_TEST((classify_grant(granted, id, OnDisk{}).state == GrantState::Missing));

    OnDisk dir{true, false, id, {}};
    BOOST_TEST((classify_grant(granted, id, dir).state == GrantState::Lost));

    const StateReport removed = classify_grant(granted, id, OnDisk{true, true, id, {}});
    BOOST_TEST((removed.state == GrantState::Lost));
    BOOST_TEST(removed.detail == "the capability was removed from the file");

    const StateReport upgraded = classify_grant(granted, id, OnDisk{true, true, replaced, {}});
    BOOST_TEST((upgraded.state == GrantState::Lost));
    BOOST_TEST(upgraded.detail.find("replaced (e.g. by a package upgrade)") != std::string::npos);

    const StateReport changed =
        classify_grant(granted, id, OnDisk{true, true, id, CapSets{kBind, 0, 0}});
    BOOST_TEST((changed.state == GrantState::Changed));

    const StateReport ok = classify_grant(granted, id, OnDisk{true, true, id, granted});
    BOOST_TEST((ok.state == GrantState::Ok));
    BOOST_TEST(ok.detail.empty());
    FileIdentity touched = id;
    touched.mtime_sec += 10;  // same inode, new contents: still the file portbind granted
    BOOST_TEST((classify_grant(granted, id, OnDisk{true, true, touched, granted}).state ==
                GrantState::Ok));

    BOOST_TEST(std::string(state_name(GrantState::Ok)) == "ok");
    BOOST_TEST(std::string(state_name(GrantState::Missing)) == "missing");
    BOOST_TEST(std::string(state_name(GrantState::Lost)) == "lost");
    BOOST_TEST(std::string(state_name(GrantState::Changed)) == "changed");
}

BOOST_AUTO_TEST_CASE(system_directories) {
    for (const char* in : {"/usr/bin/ping", "/usr/sbin/x", "/usr/lib/x86_64-linux-gnu/a/b",
                           "/usr/libexec/x", "/bin/x", "/sbin/x", "/usr/local/bin/x"}) {
        BOOST_TEST(in_system_directory(in), in);
    }
    for (const char* out : {"/opt/app/bin/x", "/home/u/x", "/tmp/x", "/usr/binx/y", "/usr/bin",
                            "/srv/x", "/usr/share/x"}) {
        BOOST_TEST(!in_system_directory(out), out);
    }
}

BOOST_AUTO_TEST_CASE(audit_risks_name_each_problem) {
    AuditFacts clean;
    clean.path = "/usr/bin/ping";
    clean.mode = S_IFREG | 0755;
    clean.nlink = 1;
    clean.caps = CapSets{cap_bit(kNetRaw), 0, cap_bit(kNetRaw)};
    clean.executable = elf();
    BOOST_TEST(audit_risks(clean).empty());

    const auto risks_of = [](const AuditFacts& f) {
        std::string all;
        for (const std::string& r : audit_risks(f)) {
            all += r + ";";
        }
        return all;
    };
    AuditFacts f = clean;
    f.path = "/opt/t/evil";
    f.caps = CapSets{cap_bit(kSysAdmin), 0, cap_bit(kSysAdmin)};
    BOOST_TEST(risks_of(f) == "dangerous capability cap_sys_admin;outside the system directories;");

    f = clean;
    f.executable = elf(InterpreterMatch{"python", "it exports Py_BytesMain"});
    BOOST_TEST(risks_of(f) == "shared interpreter: python (it exports Py_BytesMain);");

    f = clean;
    f.executable->kind = ExecutableKind::Script;
    BOOST_TEST(risks_of(f).find("a script") != std::string::npos);

    f = clean;
    f.uid = 1000;
    f.mode = S_IFREG | 04777;
    f.nlink = 3;
    f.writable_dir = "/usr/bin/sub";
    f.caps.inheritable = cap_bit(kNetRaw);
    const std::string all = risks_of(f);
    for (const char* expect : {"owned by uid 1000, not root", "writable by group or others",
                               "in a directory writable by non-root users (/usr/bin/sub)",
                               "also setuid/setgid", "3 hard links", "inheritable"}) {
        BOOST_TEST(all.find(expect) != std::string::npos, expect << " in " << all);
    }
}

BOOST_AUTO_TEST_SUITE_END()
