// `portbind who [PORT]...`: who holds a port, as far as the caller may see.
#include <iostream>

#include "launcher/commands.h"
#include "launcher/port_holders.h"

namespace portbind {

Result<int> run_who(const WhoArgs& args) {
    if (args.ports.empty()) {
        for (const PortHolder& h : find_port_holders(std::nullopt, std::nullopt)) {
            std::cout << format_holder(h) << '\n';
        }
        return 0;
    }
    int status = 0;
    for (const std::uint16_t port : args.ports) {
        const auto holders = find_port_holders(port, std::nullopt);
        if (holders.empty()) {
            std::cout << "port " << port << ": free (no listening or bound socket)\n";
            status = 1;
        }
        for (const PortHolder& h : holders) {
            std::cout << format_holder(h) << '\n';
        }
    }
    return status;
}

}  // namespace portbind
