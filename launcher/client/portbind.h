/* libportbind: ask the portbind broker for a bound socket on a privileged port.
 *
 * The broker (portbind serve, see portbind-serve(8)) checks the calling process against the
 * administrator's policy (portbind.conf(5)) and passes back a socket it bound, so the
 * program needs no privilege of its own. See portbind_bind(3).
 *
 * C ABI; usable from C and C++. Link with `pkg-config --cflags --libs portbind`.
 */
#ifndef PORTBIND_H
#define PORTBIND_H

#ifdef __cplusplus
extern "C" {
#endif

#if defined(PORTBIND_BUILDING_LIBRARY)
#define PORTBIND_EXPORT __attribute__((visibility("default")))
#else
#define PORTBIND_EXPORT
#endif

#if defined(__cplusplus)
#define PORTBIND_NOEXCEPT noexcept
#else
#define PORTBIND_NOEXCEPT
#endif

/* The broker's socket when PORTBIND_SOCKET is not set. */
#define PORTBIND_DEFAULT_SOCKET "/run/portbind/portbind.sock"

/* The environment variable naming another broker socket. */
#define PORTBIND_SOCKET_ENV "PORTBIND_SOCKET"

/* Asks the broker for a socket described by spec, "[ADDR:]PORT[/tcp|/udp]" (for example
 * "443", "127.0.0.1:80/tcp", "[::1]:53/udp"; a trailing "=NAME" is accepted and ignored).
 *
 * Returns a bound socket, close-on-exec, blocking, which for TCP is already listening; or a
 * negative errno: -EINVAL (bad spec), -EACCES (the policy denies it), -EADDRINUSE,
 * -ENOENT or -ECONNREFUSED (no broker), -EPERM (the socket at the broker's path is not a
 * trusted broker), -ETIMEDOUT, -EPROTO, -EMFILE, or another the broker reported.
 * Thread-safe; not async-signal-safe. errno is left unchanged. */
PORTBIND_EXPORT int portbind_bind(const char* spec) PORTBIND_NOEXCEPT;

#ifdef __cplusplus
}
#endif

#endif /* PORTBIND_H */
