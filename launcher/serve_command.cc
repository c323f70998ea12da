// TEMPORARY placeholder, replaced by the real implementation before commit.
#include "launcher/commands.h"
namespace portbind {
Result<int> run_serve(const std::vector<std::string>&, PrivilegeMode) {
    return Error{ErrorKind::Usage, "serve is not implemented yet", ""};
}
}  // namespace portbind
