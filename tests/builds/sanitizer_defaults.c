/* Sanitizer settings compiled into the copies of portbind that builds.asan installs for the
 * integration suite (linked in through LDFLAGS; never part of a real build).
 *
 * They are compiled in because nothing else reaches those copies: the cases start portbind
 * with a cleared environment, and in capability mode the runtime cannot read the caller's
 * ASAN_OPTIONS at all (it reads /proc/self/environ, which the kernel makes root-only for a
 * process that gained a capability at exec, while the process runs as the caller).
 *
 * What differs from the runtime's defaults, and why:
 *   detect_leaks=0      LeakSanitizer stops the world with ptrace at exit. It dies ("does not
 *                       work under ptrace", status 1) in every run the integration suite
 *                       makes on purpose where that cannot work: under strace, with mixed
 *                       ids (a setgid copy refusing before any drop), at RLIMIT_NPROC 0.
 *                       Leaks are checked by the unit suites, the corpus replay and the
 *                       fuzzers.
 *   handle_segv=0, handle_sigbus=0, handle_sigfpe=0
 *                       a fatal signal the caller sends must end portbind as it ends a
 *                       normal build (the cases check the signal); ASan would catch it and
 *                       exit 1. Memory errors are found by the instrumentation, not by
 *                       these handlers.
 *   disable_coredump=0  ASan lowers RLIMIT_CORE to 0 before main(), and portbind hands the
 *                       caller's limits on to the command, so the command would get 0.
 *                       (portbind itself is never dumpable.)
 * Everything else keeps halting on the first error.
 */
const char* __asan_default_options(void);
const char* __ubsan_default_options(void);

const char* __asan_default_options(void) {
    return "detect_leaks=0:handle_segv=0:handle_sigbus=0:handle_sigfpe=0:disable_coredump=0:"
           "halt_on_error=1";
}

const char* __ubsan_default_options(void) {
    return "halt_on_error=1:print_stacktrace=1";
}
