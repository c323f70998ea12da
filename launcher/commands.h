// The things portbind can be asked to do. Each returns the exit status, or an Error
// that main renders. run_launch returns an Error or, in the default mode, the command's
// status; in socket-activation mode it execs the command and returns only on failure.
#pragma once

#include "launcher/cli.h"
#include "launcher/privilege.h"
#include "launcher/process.h"
#include "policy/result.h"

namespace portbind {

Result<int> run_launch(const LaunchArgs& args, PrivilegeMode mode, const InheritedState& inherited);
Result<int> run_check(const CheckArgs& args, PrivilegeMode mode);
Result<int> run_who(const WhoArgs& args);

// `portbind setcap ...`: main has already checked that the real uid is 0.
Result<int> run_setcap(const std::vector<std::string>& args);

// `portbind serve ...`: the broker daemon.
Result<int> run_serve(const std::vector<std::string>& args, PrivilegeMode mode);

// `portbind systemd-units ...`: prints a .socket/.service pair.
Result<int> run_systemd_units(const std::vector<std::string>& args);

}  // namespace portbind
