#include "launcher/policy_access.h"

#include "launcher/config.h"
#include "policy/parser.h"

namespace portbind {

PolicyLocation policy_location(const std::optional<std::string>& override_file) {
    if (override_file) {
        return PolicyLocation{*override_file, std::nullopt};
    }
    return PolicyLocation{PORTBIND_POLICY_FILE, std::string(PORTBIND_POLICY_DIR)};
}

Result<Policy> load_policy(const PolicyLocation& location) {
    auto sources = read_policy_sources(location);
    if (!sources.ok()) {
        return std::move(sources).take_error();
    }
    return parse_policy(std::move(sources).value());
}

}  // namespace portbind
