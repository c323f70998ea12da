// portbind_bind(): the C ABI over the broker client (launcher/broker/client.h), so C
// programs and the launcher share one implementation of the protocol and of the checks on
// the broker's identity. No C++ exception crosses the ABI.
#include "launcher/client/portbind.h"

#include <cerrno>
#include <cstdlib>
#include <new>
#include <string>

#include "launcher/broker/client.h"
#include "policy/socket_spec.h"

extern "C" PORTBIND_EXPORT int portbind_bind(const char* spec) noexcept {
    const int saved_errno = errno;
    int result = -EINVAL;
    try {
        if (spec != nullptr) {
            auto parsed = portbind::parse_socket_spec(spec);
            if (parsed.ok()) {
                // secure_getenv: a set-id program using the library is not redirected by
                // its caller's environment.
                const char* env = ::secure_getenv(PORTBIND_SOCKET_ENV);
                const std::string path =
                    env != nullptr && env[0] != '\0' ? env : PORTBIND_DEFAULT_SOCKET;
                portbind::broker::Exchange e =
                    portbind::broker::exchange_with_broker(path, {parsed.value()}, {});
                result = e.error != 0 ? -e.error : e.sockets.front().release();
            }
        }
    } catch (const std::bad_alloc&) {
        result = -ENOMEM;
    } catch (...) {
        result = -EIO;
    }
    errno = saved_errno;
    return result;
}
