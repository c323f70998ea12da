#include "launcher/setcap/grant.h"

#include <sys/stat.h>

#include <ctime>

#include "launcher/audit_log.h"
#include "launcher/setcap/executable_kind.h"
#include "launcher/setcap/file_caps.h"
#include "launcher/setcap/target_rules.h"

namespace portbind {

namespace {

std::string base_name(const std::string& path) {
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

Result<CheckedGrant> check_grant(OpenedTarget target, const CapSets& caps, bool force,
                                 const Registry& registry) {
    const std::string shown = escape_value(target.path);
    if (auto s = check_target_facts(shown, target.facts()); !s.ok()) {
        return std::move(s).take_error();
    }
    CheckedGrant grant{std::move(target), caps, caps_to_text(caps), {}};
    const OpenedTarget& t = grant.target;

    auto content = read_whole_file(t.fd.get(), t.path, kMaxInspectSize);
    if (!content.ok()) {
        return std::move(content).take_error();
    }
    const ExecutableInfo info = inspect_executable(content.value(), base_name(t.path));
    if (auto s = check_executable(shown, info, force); !s.ok()) {
        return std::move(s).take_error();
    }
    if (info.interpreter) {
        grant.warnings.push_back("granting to a shared interpreter, " + info.interpreter->family +
                                 " (" + info.interpreter->evidence +
                                 "), because of --force: every script any user runs with it "
                                 "can use the capability");
    }

    if (auto s = check_requested_caps(shown, grant.caps_text, caps, force); !s.ok()) {
        return std::move(s).take_error();
    }
    if (auto beyond = caps_beyond_bind(caps)) {
        grant.warnings.push_back("granting '" + grant.caps_text +
                                 "' because of --force: " + *beyond);
    }

    auto existing = read_file_caps(t.fd.get(), shown);
    if (!existing.ok()) {
        return std::move(existing).take_error();
    }
    if (!existing.value().empty() && existing.value() != caps) {
        const RegistryEntry* own = registry.find(t.path);
        const std::string on_disk = caps_to_text(existing.value());
        const bool ours = own != nullptr && own->caps == on_disk;
        if (!ours && !force) {
            return Error{
                ErrorKind::Denied,
                "refused to grant capabilities to " + shown + ": it already carries '" + on_disk +
                    "', which portbind did not grant, and they would be replaced",
                "check what needs them (getcap " + shown + "); --force replaces them anyway"};
        }
        if (!ours) {
            grant.warnings.push_back("replacing '" + on_disk +
                                     "', which portbind did not grant, "
                                     "because of --force");
        }
    }
    return grant;
}

Result<RegistryEntry> apply_grant(const CheckedGrant& grant) {
    const OpenedTarget& t = grant.target;
    const std::string shown = escape_value(t.path);
    if (auto s = write_file_caps(t.fd.get(), shown, grant.caps); !s.ok()) {
        log_decision(
            false, "setcap grant " + grant.caps_text + " to " + t.path + ": " + s.error().message);
        return std::move(s).take_error();
    }
    struct stat st {};
    if (::fstat(t.fd.get(), &st) != 0) {
        st = t.st;
    }
    log_decision(true, "setcap grant " + grant.caps_text + " to " + t.chain_text() +
                           (grant.warnings.empty() ? "" : " (forced)"));
    RegistryEntry entry;
    entry.path = t.path;
    entry.caps = grant.caps_text;
    entry.forced = !grant.warnings.empty();
    entry.identity = identity_of(st);
    entry.granted = format_utc(static_cast<std::int64_t>(std::time(nullptr)));
    return entry;
}

void log_refusal(const std::string& action, const std::string& path, const Error& error) {
    log_decision(false, "setcap " + action + " " + path + ": " + error.message);
}

}  // namespace portbind
