// `portbind setcap ACTION ...` command line -> SetcapRequest. Pure.
//
//   grant [--caps LIST] [--force] [--] PATH...
//   revoke [--] PATH...
//   list
//   reapply
//   audit [--] [DIR]...
//   --help | -h | help
//
// Options come before the first PATH (`--` ends them; an option after a PATH is an error),
// each at most once, exact names only; `--caps=LIST` and `--caps LIST` are both accepted.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "policy/result.h"

namespace portbind {

enum class SetcapAction { Grant, Revoke, List, Reapply, Audit, Help };

struct SetcapRequest {
    SetcapAction action = SetcapAction::Help;
    std::optional<std::string> caps;  // grant --caps; nullopt: cap_net_bind_service=ep
    bool force = false;               // grant --force
    std::vector<std::string> paths;   // grant/revoke: files; audit: directories
};

Result<SetcapRequest> parse_setcap_args(const std::vector<std::string>& args);

std::string setcap_help_text();

}  // namespace portbind
