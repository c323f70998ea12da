// TEMPORARY placeholder, replaced by the real implementation before commit.
#include "launcher/commands.h"
namespace portbind {
Result<int> run_setcap(const std::vector<std::string>&) {
    return Error{ErrorKind::Usage, "setcap is not implemented yet", ""};
}
}  // namespace portbind
