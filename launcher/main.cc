// portbind: bind privileged ports allowed by the administrator's policy, drop every
// privilege, and run the command with the sockets.
//
// main() is the sequence of phases; each phase is one function that does one thing and
// checks it. See launch.cc for the launcher's own phases.
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "launcher/broker/listener.h"
#include "launcher/cli.h"
#include "launcher/commands.h"
#include "launcher/config.h"
#include "launcher/privilege.h"
#include "launcher/process.h"

using namespace portbind;

namespace {

int fail(const Error& error) {
    std::cerr << render(error) << std::endl;
    return exit_status_for(error);
}

int finish(Result<int> result) {
    return result.ok() ? result.value() : fail(result.error());
}

// Writes "portbind: internal error: WHAT; ..." without allocating: it runs after an
// exception, possibly std::bad_alloc.
void write_internal_error(const char* what) {
    const auto put = [](const char* text) {
        (void)!::write(STDERR_FILENO, text, std::strlen(text));
    };
    put("portbind: internal error: ");
    put(what);
    put("; portbind stopped here and granted nothing further; please report it as a bug\n");
}

int run_phases(int argc, char** argv) {
    // Phase 0: an empty argv (PwnKit) is refused before anything reads it.
    if (argc < 1 || argv == nullptr || argv[0] == nullptr) {
        static const char msg[] = "portbind: refusing to run with an empty argument list\n";
        (void)!::write(STDERR_FILENO, msg, sizeof msg - 1);
        return kExitFailure;
    }

    // Phase 1: sanitise the inherited process (stdio, stray fds, dumpability, core limit).
    // Only `portbind serve` started by systemd socket activation keeps inherited fds: the
    // ones LISTEN_FDS/LISTEN_PID name for this very process (the broker then checks them).
    const unsigned activation_fds =
        argc > 1 && std::strcmp(argv[1], "serve") == 0
            ? static_cast<unsigned>(std::min<std::size_t>(broker::count_activation_fds(), 64))
            : 0;
    auto inherited = sanitize_process(activation_fds);
    if (!inherited.ok()) {
        return fail(inherited.error());
    }

    // Phase 2: what privilege this process holds; a setuid start becomes the caller at once,
    // keeping only CAP_NET_BIND_SERVICE, so both install modes continue identically.
    auto mode = detect_privilege_mode();
    if (!mode.ok()) {
        return fail(mode.error());
    }
    const bool may_bind =
        mode.value() == PrivilegeMode::Setuid || mode.value() == PrivilegeMode::FileCapability;
    const Credentials caller{::getuid(), ::getgid(), std::nullopt};
    if (may_bind) {
        if (auto s = become_keeping_bind_capability(caller); !s.ok()) {
            return fail(s.error());
        }
    }

    // Phase 3: parse the command line (pure).
    const std::vector<std::string> args(argv + 1, argv + argc);
    auto invocation = parse_command_line(args);
    if (!invocation.ok()) {
        return fail(invocation.error());
    }

    // Phase 4: dispatch. Only the launcher and the broker keep the bind capability.
    if (auto* launch = std::get_if<LaunchArgs>(&invocation.value())) {
        return finish(run_launch(*launch, mode.value(), inherited.value()));
    }
    if (auto* serve = std::get_if<ServeArgs>(&invocation.value())) {
        return finish(run_serve(serve->args, mode.value()));
    }
    if (may_bind) {
        if (auto s = drop_all_privileges(caller); !s.ok()) {
            return fail(s.error());
        }
    }
    if (auto* check = std::get_if<CheckArgs>(&invocation.value())) {
        return finish(run_check(*check, mode.value()));
    }
    if (auto* who = std::get_if<WhoArgs>(&invocation.value())) {
        return finish(run_who(*who));
    }
    if (auto* setcap = std::get_if<SetcapArgs>(&invocation.value())) {
        // The real uid, never the effective one: a setuid install must not make this root.
        if (mode.value() != PrivilegeMode::Root) {
            return fail(Error{ErrorKind::Denied, "refused 'portbind setcap': only root may use it",
                              "run it as root, e.g. with sudo"});
        }
        return finish(run_setcap(setcap->args));
    }
    if (auto* units = std::get_if<SystemdUnitsArgs>(&invocation.value())) {
        return finish(run_systemd_units(units->args));
    }
    if (auto* help = std::get_if<HelpArgs>(&invocation.value())) {
        std::cout << help->text;
        return 0;
    }
    std::cout << "portbind " << PORTBIND_VERSION << '\n';
    return 0;
}

}  // namespace

// Every failure portbind expects is an Error; an exception reaching here is a defect (or
// memory exhaustion). It ends the process with the refusal status and one line, never with
// std::terminate's abort.
int main(int argc, char** argv) {
    try {
        return run_phases(argc, argv);
    } catch (const std::exception& e) {
        write_internal_error(e.what());
    } catch (...) {
        write_internal_error("unknown exception");
    }
    return kExitFailure;
}
