#include "launcher/setcap/target_rules.h"

#include <sys/stat.h>

#include <cstdio>

namespace portbind {

namespace {

Error refused(const std::string& path, const std::string& why, const std::string& fix) {
    std::string advice = fix.empty() ? std::string(kPortbindAlternative).substr(3)
                                     : fix + "; " + std::string(kPortbindAlternative);
    return Error{ErrorKind::Denied, "refused to grant capabilities to " + path + ": " + why,
                 std::move(advice)};
}

std::string join(const std::vector<std::string>& parts, const char* sep) {
    std::string out;
    for (const std::string& p : parts) {
        out += out.empty() ? p : sep + p;
    }
    return out;
}

bool same_file(const FileIdentity& a, const FileIdentity& b) {
    return a.dev_major == b.dev_major && a.dev_minor == b.dev_minor && a.ino == b.ino;
}

}  // namespace

std::string file_type_name(std::uint32_t mode) {
    if (S_ISREG(mode)) {
        return "a regular file";
    }
    if (S_ISDIR(mode)) {
        return "a directory";
    }
    if (S_ISLNK(mode)) {
        return "a symbolic link";
    }
    if (S_ISFIFO(mode)) {
        return "a FIFO";
    }
    if (S_ISSOCK(mode)) {
        return "a socket";
    }
    if (S_ISCHR(mode)) {
        return "a character device";
    }
    if (S_ISBLK(mode)) {
        return "a block device";
    }
    return "not a regular file";
}

std::string octal_mode(std::uint32_t mode) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
    return buf;
}

Status check_directory(const std::string& dir, std::uint32_t mode, std::uint32_t uid,
                       const std::string& target) {
    if (!S_ISDIR(mode)) {
        return refused(target, dir + " is " + file_type_name(mode) + ", not a directory", "");
    }
    if (uid != 0) {
        return refused(target,
                       "directory " + dir + " is owned by uid " + std::to_string(uid) +
                           ", not root, so its owner could swap the file for another one",
                       "move the program to a root-owned directory such as /usr/local/bin");
    }
    if (mode & (S_IWGRP | S_IWOTH)) {
        return refused(target,
                       "directory " + dir + " is writable by group or others (mode " +
                           octal_mode(mode) + "), so they could swap the file for another one",
                       "move the program to a root-owned directory such as /usr/local/bin");
    }
    return success();
}

Status check_target_facts(const std::string& path, const TargetFacts& f) {
    if (!S_ISREG(f.mode)) {
        return refused(path,
                       "it is " + file_type_name(f.mode) +
                           ", not a regular file; only a program file can carry a capability",
                       "give the path of the program itself");
    }
    if (f.uid != 0) {
        return refused(path,
                       "it is owned by uid " + std::to_string(f.uid) +
                           ", not root, so its owner could change the program and keep the "
                           "capability",
                       "install it root-owned (chown root: " + path + ")");
    }
    if (f.mode & (S_IWGRP | S_IWOTH)) {
        return refused(path,
                       "it is writable by group or others (mode " + octal_mode(f.mode) +
                           "), so they could change the program and keep the capability",
                       "run: chmod go-w " + path);
    }
    if (f.mode & (S_ISUID | S_ISGID)) {
        return refused(path,
                       "it is setuid or setgid (mode " + octal_mode(f.mode) +
                           "), so it already runs with another identity",
                       "remove the setuid/setgid bit first if capabilities should replace it");
    }
    if ((f.mode & (S_IXUSR | S_IXGRP | S_IXOTH)) == 0) {
        return refused(path, "it is not executable (mode " + octal_mode(f.mode) + ")",
                       "give the path of the program itself");
    }
    if (f.nlink > 1) {
        return refused(path,
                       "it has " + std::to_string(f.nlink) +
                           " hard links, so the same program is reachable under names portbind "
                           "did not check",
                       "give it a single name (copy it instead of linking it)");
    }
    if (f.nosuid_mount) {
        return refused(path,
                       "it is on a filesystem mounted nosuid, where the kernel ignores file "
                       "capabilities",
                       "install the program on a filesystem mounted without nosuid");
    }
    if (f.noexec_mount) {
        return refused(path, "it is on a filesystem mounted noexec, where it cannot run",
                       "install the program on a filesystem mounted without noexec");
    }
    return success();
}

Status check_executable(const std::string& path, const ExecutableInfo& info, bool force) {
    switch (info.kind) {
        case ExecutableKind::Script:
            return refused(path,
                           "it is a script (" + info.detail +
                               "), and the kernel ignores file capabilities on scripts",
                           "");
        case ExecutableKind::NotExecutable:
            return refused(path, info.detail + "; only an ELF executable can carry a capability",
                           "give the path of the program itself");
        case ExecutableKind::Elf:
            break;
    }
    if (info.interpreter && !force) {
        return Error{ErrorKind::Denied,
                     "refused to grant capabilities to " + path + ": it is a shared interpreter, " +
                         info.interpreter->family + " (" + info.interpreter->evidence +
                         "), so every script any user runs with it could use the capability",
                     "run the script as 'portbind --port PORT -- " + path +
                         " SCRIPT' instead, which limits the port to who the policy names; "
                         "--force grants it anyway"};
    }
    return success();
}

Status check_requested_caps(const std::string& path, const std::string& caps_text,
                            const CapSets& caps, bool force) {
    if (auto why = invalid_file_caps(caps)) {
        return Error{ErrorKind::Usage, "cannot grant '" + caps_text + "' to " + path + ": " + *why,
                     "the default, cap_net_bind_service=ep, is what binding a port needs"};
    }
    if (auto why = caps_beyond_bind(caps); why && !force) {
        return Error{ErrorKind::Denied,
                     "refused to grant '" + caps_text + "' to " + path + ": " + *why,
                     "binding privileged ports needs only cap_net_bind_service=ep (the default); "
                     "--force grants more anyway"};
    }
    return success();
}

const char* state_name(GrantState state) {
    switch (state) {
        case GrantState::Ok:
            return "ok";
        case GrantState::Missing:
            return "missing";
        case GrantState::Lost:
            return "lost";
        case GrantState::Changed:
            return "changed";
    }
    return "?";
}

StateReport classify_grant(const CapSets& recorded, const FileIdentity& recorded_identity,
                           const OnDisk& disk) {
    if (!disk.exists) {
        return {GrantState::Missing, "the file is gone"};
    }
    if (!disk.regular) {
        return {GrantState::Lost, "the file was replaced by something that is not a regular file"};
    }
    const bool replaced = !same_file(disk.identity, recorded_identity);
    if (disk.caps.empty()) {
        return {GrantState::Lost,
                replaced ? "the file was replaced (e.g. by a package upgrade) and the capability "
                           "went with it"
                         : "the capability was removed from the file"};
    }
    if (disk.caps != recorded) {
        return {GrantState::Changed, "the file carries different capabilities"};
    }
    return {GrantState::Ok, replaced ? "the file was replaced but carries the capability" : ""};
}

bool in_system_directory(std::string_view path) {
    static constexpr std::string_view kDirs[] = {
        "/usr/bin/",
        "/usr/sbin/",
        "/usr/lib/",
        "/usr/lib32/",
        "/usr/lib64/",
        "/usr/libexec/",
        "/bin/",
        "/sbin/",
        "/lib/",
        "/lib32/",
        "/lib64/",
        "/usr/local/bin/",
        "/usr/local/sbin/",
        "/usr/local/lib/",
        "/usr/local/libexec/",
    };
    for (const std::string_view dir : kDirs) {
        if (path.substr(0, dir.size()) == dir) {
            return true;
        }
    }
    return false;
}

std::vector<std::string> audit_risks(const AuditFacts& f) {
    std::vector<std::string> risks;
    const std::vector<std::string> dangerous = dangerous_caps(f.caps);
    if (!dangerous.empty()) {
        risks.push_back("dangerous capabilit" + std::string(dangerous.size() > 1 ? "ies " : "y ") +
                        join(dangerous, ","));
    }
    if (f.caps.inheritable != 0) {
        risks.push_back("inheritable capabilities");
    }
    if (f.executable) {
        switch (f.executable->kind) {
            case ExecutableKind::Script:
                risks.push_back("a script (capabilities on it do nothing)");
                break;
            case ExecutableKind::NotExecutable:
                risks.push_back("not an executable (" + f.executable->detail + ")");
                break;
            case ExecutableKind::Elf:
                if (f.executable->interpreter) {
                    risks.push_back("shared interpreter: " + f.executable->interpreter->family +
                                    " (" + f.executable->interpreter->evidence + ")");
                }
                break;
        }
    }
    if (f.uid != 0) {
        risks.push_back("owned by uid " + std::to_string(f.uid) + ", not root");
    }
    if (f.mode & (S_IWGRP | S_IWOTH)) {
        risks.push_back("writable by group or others (mode " + octal_mode(f.mode) + ")");
    }
    if (f.writable_dir) {
        risks.push_back("in a directory writable by non-root users (" + *f.writable_dir + ")");
    }
    if (f.mode & (S_ISUID | S_ISGID)) {
        risks.push_back("also setuid/setgid (mode " + octal_mode(f.mode) + ")");
    }
    if (f.nlink > 1) {
        risks.push_back(std::to_string(f.nlink) + " hard links");
    }
    if (!in_system_directory(f.path)) {
        risks.push_back("outside the system directories");
    }
    return risks;
}

}  // namespace portbind
