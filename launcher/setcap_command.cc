// `portbind setcap ...`: the administrator's way to give a program cap_net_bind_service
// safely, keep a record of it, and restore it after a package upgrade. Root only (main
// checks the real uid before dispatching here).
//
//   grant    resolve, check every rule (target_rules.h), set through the fd, read back,
//            record, log;
//   revoke   remove exactly what portbind granted, and the record;
//   list     every record with its state on disk: ok, missing, lost, changed;
//   reapply  re-grant every lost record after the same checks (APT hook); exit 0 only if
//            every record ends up ok;
//   audit    see setcap/audit.h.
//
// grant and revoke decide every PATH before changing any: one refusal changes nothing.
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <iostream>
#include <set>

#include "launcher/audit_log.h"
#include "launcher/commands.h"
#include "launcher/setcap/audit.h"
#include "launcher/setcap/file_caps.h"
#include "launcher/setcap/grant.h"
#include "launcher/setcap/registry_store.h"
#include "launcher/setcap/setcap_args.h"
#include "launcher/setcap/target_open.h"
#include "launcher/setcap/target_rules.h"

namespace portbind {

namespace {

void warn(const std::string& text) {
    std::cerr << "portbind: warning: " << text << '\n';
}

// The recorded capabilities of an entry; a record libcap cannot parse is a corrupt registry.
Result<CapSets> recorded_caps(const RegistryEntry& e) {
    auto caps = caps_from_text(e.caps);
    if (!caps.ok()) {
        return Error{ErrorKind::System,
                     "corrupt setcap registry " + RegistryStore::file_path() + ":" +
                         std::to_string(e.line) + ": caps= is not a valid capability list",
                     "restore the file from a backup or remove the line (format: "
                     "portbind-setcap(8))"};
    }
    return caps;
}

struct Observed {
    StateReport report;
    std::optional<OpenedTarget> target;  // when the file exists
    CapSets on_disk;
};

// The state of a recorded grant. The recorded path was symlink-free when granted; a symlink
// on the way now means the file was replaced.
Result<Observed> observe(const RegistryEntry& e) {
    auto recorded = recorded_caps(e);
    if (!recorded.ok()) {
        return std::move(recorded).take_error();
    }
    Observed o;
    auto opened = open_target(e.path, WalkOptions{Symlinks::Refuse, false});
    if (!opened.ok()) {
        o.report = {GrantState::Lost, opened.error().message};
        return o;
    }
    OnDisk disk;
    if (opened.value()) {
        OpenedTarget& t = *opened.value();
        disk.exists = true;
        disk.regular = S_ISREG(t.st.st_mode) && t.fd.valid();
        disk.identity = t.identity();
        if (disk.regular) {
            auto caps = read_file_caps(t.fd.get(), escape_value(t.path));
            if (!caps.ok()) {
                o.report = {GrantState::Lost, caps.error().message};
                return o;
            }
            disk.caps = caps.value();
        }
        o.target = std::move(opened.value());
    }
    o.on_disk = disk.caps;
    o.report = classify_grant(recorded.value(), e.identity, disk);
    if (o.report.state == GrantState::Changed) {
        o.report.detail += " ('" + caps_to_text(disk.caps) + "')";
    }
    return o;
}

std::string lexical_absolute(const std::string& given) {
    std::string path = given;
    if (path.empty() || path[0] != '/') {
        char cwd[4096];
        if (::getcwd(cwd, sizeof cwd) != nullptr) {
            path = std::string(cwd) + "/" + path;
        }
    }
    std::vector<std::string> parts;
    std::size_t pos = 0;
    while (pos <= path.size()) {
        const std::size_t next = std::min(path.find('/', pos), path.size());
        const std::string part = path.substr(pos, next - pos);
        if (part == "..") {
            if (!parts.empty()) {
                parts.pop_back();
            }
        } else if (!part.empty() && part != ".") {
            parts.push_back(part);
        }
        pos = next + 1;
    }
    std::string out;
    for (const std::string& p : parts) {
        out += "/" + p;
    }
    return out.empty() ? "/" : out;
}

// ------------------------------------------------------------------------- grant

Result<int> grant(const SetcapRequest& req) {
    const std::string caps_text = req.caps.value_or("cap_net_bind_service=ep");
    auto caps = caps_from_text(caps_text);
    if (!caps.ok()) {
        return std::move(caps).take_error();
    }
    auto store = RegistryStore::open(RegistryStore::Access::Create);
    if (!store.ok()) {
        return std::move(store).take_error();
    }
    auto registry = store.value().load();
    if (!registry.ok()) {
        return std::move(registry).take_error();
    }

    std::vector<CheckedGrant> checked;
    std::set<std::string> seen;
    for (const std::string& given : req.paths) {
        auto opened = open_target(given, WalkOptions{Symlinks::Follow, true});
        if (opened.ok() && !opened.value()) {
            opened = Error{ErrorKind::Usage,
                           "cannot grant capabilities to " + escape_value(given) + ": no such file",
                           "give the path of an installed program"};
        }
        if (!opened.ok()) {
            log_refusal("grant", given, opened.error());
            return std::move(opened).take_error();
        }
        if (!seen.insert(opened.value()->path).second) {
            continue;
        }
        auto ok =
            check_grant(std::move(*opened.value()), caps.value(), req.force, registry.value());
        if (!ok.ok()) {
            log_refusal("grant", given, ok.error());
            return std::move(ok).take_error();
        }
        checked.push_back(std::move(ok).value());
    }

    Status failure = success();
    // What each changed file carried before, to put back if the registry cannot record it.
    std::vector<std::pair<const CheckedGrant*, CapSets>> applied;
    for (const CheckedGrant& g : checked) {
        for (const std::string& w : g.warnings) {
            warn(escape_value(g.target.path) + ": " + w);
        }
        auto before = read_file_caps(g.target.fd.get(), g.target.path);
        if (!before.ok()) {
            failure = std::move(before).take_error();
            break;
        }
        auto entry = apply_grant(g);
        if (!entry.ok()) {
            failure = std::move(entry).take_error();
            break;
        }
        applied.emplace_back(&g, std::move(before).value());
        registry.value().put(std::move(entry).value());
    }
    // Record what was applied even when a later file failed. A change that cannot be
    // recorded is undone: `reapply` and `list` trust the registry.
    if (auto s = store.value().save(registry.value()); !s.ok()) {
        Error e = std::move(s).take_error();
        for (const auto& [g, before] : applied) {
            if (!write_file_caps(g->target.fd.get(), g->target.path, before).ok()) {
                e.message += "; " + escape_value(g->target.path) +
                             " keeps the capabilities, unrecorded: remove them with 'setcap -r'";
            }
        }
        return e;
    }
    for (const auto& [g, before] : applied) {
        std::cout << "granted " << g->caps_text << " to " << escape_value(g->target.path);
        if (g->target.chain.size() > 1) {
            std::cout << " (" << g->target.chain_text() << ")";
        }
        std::cout << '\n';
    }
    if (!failure.ok()) {
        return std::move(failure).take_error();
    }
    return 0;
}

// ------------------------------------------------------------------------ revoke

Result<int> revoke(const SetcapRequest& req) {
    auto store = RegistryStore::open(RegistryStore::Access::Update);
    if (!store.ok()) {
        return std::move(store).take_error();
    }
    auto registry = store.value().load();
    if (!registry.ok()) {
        return std::move(registry).take_error();
    }
    Registry& reg = registry.value();

    std::vector<std::string> paths;
    for (const std::string& given : req.paths) {
        auto opened = open_target(given, WalkOptions{Symlinks::Follow, false});
        std::string path = lexical_absolute(given);
        if (opened.ok() && opened.value()) {
            path = opened.value()->path;
        }
        if (reg.find(path) == nullptr) {
            return Error{ErrorKind::Usage,
                         "cannot revoke " + escape_value(given) + ": " + escape_value(path) +
                             " is not in the setcap registry, so portbind did not grant it",
                         "'portbind setcap list' shows what portbind granted; setcap -r removes "
                         "capabilities portbind did not grant"};
        }
        if (std::find(paths.begin(), paths.end(), path) == paths.end()) {
            paths.push_back(path);
        }
    }

    Status failure = success();
    for (const std::string& path : paths) {
        const RegistryEntry entry = *reg.find(path);
        const std::string shown = escape_value(path);
        auto observed = observe(entry);
        if (!observed.ok()) {
            failure = std::move(observed).take_error();
            break;
        }
        const Observed& o = observed.value();
        if (!o.target || !o.target->fd.valid()) {
            reg.erase(path);
            log_decision(true, "setcap revoke " + path + ": forgotten, " + o.report.detail);
            std::cout << "forgot " << shown << ": " << o.report.detail << '\n';
            continue;
        }
        const CapSets recorded = caps_from_text(entry.caps).value();
        const CapSets remaining = caps_without(o.on_disk, recorded);
        if (remaining != o.on_disk) {
            if (auto s = write_file_caps(o.target->fd.get(), shown, remaining); !s.ok()) {
                failure = std::move(s).take_error();
                break;
            }
        }
        reg.erase(path);
        log_decision(true, "setcap revoke " + entry.caps + " from " + path);
        if (remaining == o.on_disk) {
            std::cout << "forgot " << shown << ": it no longer carried " << entry.caps << '\n';
        } else {
            std::cout << "revoked " << entry.caps << " from " << shown;
            if (!remaining.empty()) {
                std::cout << " (kept " << caps_to_text(remaining) << ")";
            }
            std::cout << '\n';
        }
    }
    if (auto s = store.value().save(reg); !s.ok()) {
        return std::move(s).take_error();
    }
    if (!failure.ok()) {
        return std::move(failure).take_error();
    }
    return 0;
}

// -------------------------------------------------------------------------- list

std::string describe(const RegistryEntry& e, const StateReport& r) {
    std::string state = state_name(r.state);
    state.resize(8, ' ');
    std::string line = state + escape_value(e.path) + " " + escape_value(e.caps) + " granted " +
                       e.granted + (e.forced ? " forced" : "");
    if (!r.detail.empty()) {
        line += ": " + r.detail;
    }
    return line;
}

Result<int> list() {
    auto store = RegistryStore::open(RegistryStore::Access::Read);
    if (!store.ok()) {
        return std::move(store).take_error();
    }
    auto registry = store.value().load();
    if (!registry.ok()) {
        return std::move(registry).take_error();
    }
    if (registry.value().entries.empty()) {
        std::cout << "no grants recorded in " << RegistryStore::file_path() << '\n';
        return 0;
    }
    for (const RegistryEntry& e : registry.value().entries) {
        auto o = observe(e);
        if (!o.ok()) {
            return std::move(o).take_error();
        }
        std::string line = describe(e, o.value().report);
        if (o.value().report.state == GrantState::Lost) {
            line += "; 'portbind setcap reapply' restores it";
        } else if (o.value().report.state == GrantState::Missing) {
            line += "; 'portbind setcap revoke' forgets it";
        }
        std::cout << line << '\n';
    }
    return 0;
}

// ----------------------------------------------------------------------- reapply

// A lost entry gets the same checks as the first grant, on the file that is there now; the
// recorded path was symlink-free, so a symlink on the way now is refused, not followed.
Result<CheckedGrant> recheck_lost(const RegistryEntry& e, const Registry& reg) {
    auto opened = open_target(e.path, WalkOptions{Symlinks::Refuse, true});
    if (!opened.ok()) {
        return std::move(opened).take_error();
    }
    if (!opened.value()) {
        return Error{ErrorKind::System, escape_value(e.path) + " vanished", ""};
    }
    auto caps = recorded_caps(e);
    if (!caps.ok()) {
        return std::move(caps).take_error();
    }
    return check_grant(std::move(*opened.value()), caps.value(), e.forced, reg);
}

Result<int> reapply() {
    auto store = RegistryStore::open(RegistryStore::Access::Update);
    if (!store.ok()) {
        return std::move(store).take_error();
    }
    auto registry = store.value().load();
    if (!registry.ok()) {
        return std::move(registry).take_error();
    }
    Registry& reg = registry.value();
    bool all_ok = true;
    bool dirty = false;
    for (RegistryEntry& e : reg.entries) {
        auto observed = observe(e);
        if (!observed.ok()) {
            return std::move(observed).take_error();
        }
        const StateReport& r = observed.value().report;
        const std::string shown = escape_value(e.path);
        switch (r.state) {
            case GrantState::Ok:
                if (observed.value().target && observed.value().target->identity() != e.identity) {
                    e.identity = observed.value().target->identity();
                    dirty = true;
                }
                continue;
            case GrantState::Missing:
            case GrantState::Changed:
                std::cout << describe(e, r) << "; left alone\n";
                all_ok = false;
                continue;
            case GrantState::Lost:
                break;
        }
        auto checked = recheck_lost(e, reg);
        if (!checked.ok()) {
            log_refusal("reapply", e.path, checked.error());
            std::cerr << render(Error{checked.error().kind,
                                      "reapply " + shown + ": " + checked.error().message,
                                      checked.error().advice})
                      << '\n';
            all_ok = false;
            continue;
        }
        auto applied = apply_grant(checked.value());
        if (!applied.ok()) {
            std::cerr << render(applied.error()) << '\n';
            all_ok = false;
            continue;
        }
        e.identity = applied.value().identity;
        dirty = true;
        std::cout << "reapplied " << e.caps << " to " << shown << ": " << r.detail << '\n';
    }
    if (dirty) {
        if (auto s = store.value().save(reg); !s.ok()) {
            return std::move(s).take_error();
        }
    }
    return all_ok ? 0 : 1;
}

}  // namespace

// Grants change a file and then record the change in the registry: an RLIMIT_FSIZE inherited
// from the caller must not let the first happen without the second (or kill the process
// between them with SIGXFSZ). Root may raise its own limit; where even that is refused, a
// failed write is an error (EFBIG) that the command reports, not a signal.
void allow_registry_writes() {
    ::signal(SIGXFSZ, SIG_IGN);
    rlimit unlimited{RLIM_INFINITY, RLIM_INFINITY};
    if (::setrlimit(RLIMIT_FSIZE, &unlimited) != 0) {
        rlimit current{};
        if (::getrlimit(RLIMIT_FSIZE, &current) == 0) {
            current.rlim_cur = current.rlim_max;
            (void)::setrlimit(RLIMIT_FSIZE, &current);
        }
    }
}

Result<int> run_setcap(const std::vector<std::string>& args) {
    allow_registry_writes();
    auto req = parse_setcap_args(args);
    if (!req.ok()) {
        return std::move(req).take_error();
    }
    switch (req.value().action) {
        case SetcapAction::Grant:
            return grant(req.value());
        case SetcapAction::Revoke:
            return revoke(req.value());
        case SetcapAction::List:
            return list();
        case SetcapAction::Reapply:
            return reapply();
        case SetcapAction::Audit:
            return run_setcap_audit(req.value().paths);
        case SetcapAction::Help:
            std::cout << setcap_help_text();
            return 0;
    }
    return 0;
}

}  // namespace portbind
