#include "launcher/setcap/setcap_args.h"

namespace portbind {

namespace {

Error usage(const std::string& what) {
    return Error{ErrorKind::Usage, "setcap: " + what,
                 "see 'portbind setcap --help' or portbind-setcap(8)"};
}

}  // namespace

std::string setcap_help_text() {
    return "Usage: portbind setcap grant [--caps LIST] [--force] PATH...\n"
           "       portbind setcap revoke PATH...\n"
           "       portbind setcap list\n"
           "       portbind setcap reapply\n"
           "       portbind setcap audit [DIR]...\n\n"
           "Give programs cap_net_bind_service safely (root only), record each grant, and\n"
           "restore grants that a package upgrade removed. See portbind-setcap(8).\n\n"
           "  --caps LIST  capabilities in cap_from_text(3) form (default\n"
           "               cap_net_bind_service=ep)\n"
           "  --force      also grant to a shared interpreter, other capabilities than\n"
           "               cap_net_bind_service, or over capabilities portbind did not grant\n";
}

Result<SetcapRequest> parse_setcap_args(const std::vector<std::string>& args) {
    SetcapRequest req;
    if (args.empty()) {
        return usage("missing action (grant, revoke, list, reapply or audit)");
    }
    const std::string& action = args[0];
    if (action == "--help" || action == "-h" || action == "help") {
        if (args.size() > 1) {
            return usage("unexpected argument '" + args[1] + "' after " + action);
        }
        return req;
    }
    if (action == "grant") {
        req.action = SetcapAction::Grant;
    } else if (action == "revoke") {
        req.action = SetcapAction::Revoke;
    } else if (action == "list") {
        req.action = SetcapAction::List;
    } else if (action == "reapply") {
        req.action = SetcapAction::Reapply;
    } else if (action == "audit") {
        req.action = SetcapAction::Audit;
    } else {
        return usage("unknown action '" + action +
                     "' (expected grant, revoke, list, reapply or audit)");
    }

    bool after_dashdash = false;
    for (std::size_t i = 1; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (!after_dashdash && arg == "--") {
            after_dashdash = true;
            continue;
        }
        if (!after_dashdash && arg.size() > 1 && arg[0] == '-') {
            if (!req.paths.empty()) {
                return usage("option '" + arg +
                             "' after a path: options come first (put -- before a path that "
                             "starts with '-')");
            }
            const bool grant = req.action == SetcapAction::Grant;
            if (grant && arg == "--force") {
                if (req.force) {
                    return usage("--force given twice");
                }
                req.force = true;
                continue;
            }
            if (grant && (arg == "--caps" || arg.rfind("--caps=", 0) == 0)) {
                if (req.caps) {
                    return usage("--caps given twice");
                }
                if (arg == "--caps") {
                    if (i + 1 >= args.size()) {
                        return usage("--caps needs a value, e.g. --caps cap_net_bind_service=ep");
                    }
                    req.caps = args[++i];
                } else {
                    req.caps = arg.substr(7);
                }
                if (req.caps->empty()) {
                    return usage("--caps needs a value, e.g. --caps cap_net_bind_service=ep");
                }
                continue;
            }
            return usage("unknown option '" + arg + "' for " + action);
        }
        if (arg.empty()) {
            return usage("empty path");
        }
        req.paths.push_back(arg);
    }

    switch (req.action) {
        case SetcapAction::Grant:
        case SetcapAction::Revoke:
            if (req.paths.empty()) {
                return usage(action + " needs at least one PATH");
            }
            break;
        case SetcapAction::List:
        case SetcapAction::Reapply:
            if (!req.paths.empty()) {
                return usage(action + " takes no arguments");
            }
            break;
        case SetcapAction::Audit:
        case SetcapAction::Help:
            break;
    }
    return req;
}

}  // namespace portbind
