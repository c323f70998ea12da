/* A deliberately faulty program for builds.asan, built exactly as the copies of portbind the
 * integration suite installs (the asan preset's flags and sanitizer_defaults.c) and installed
 * the same two ways (file capability cap_net_bind_service=p, setuid root), to show that the
 * sanitizers find, report and stop errors in such a secure-execution (AT_SECURE) process after
 * it has given up its privilege the way portbind does.
 *
 *   asan_probe MODE     MODE: none | heap-overflow | use-after-free | ubsan
 *
 * Prints "at_secure=N euid=N dumpable=N" on stdout after the drop, then commits the error
 * MODE names; "none" exits 0. A sanitizer that works ends the process with its report on
 * stderr and a non-zero status.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <unistd.h>

/* Keeps the compiler from proving the errors away. */
static volatile int sink;

static int drop_to_caller(void) {
    const uid_t uid = getuid();
    const gid_t gid = getgid();
    if (setresgid(gid, gid, gid) != 0 || setresuid(uid, uid, uid) != 0) {
        perror("asan_probe: drop");
        return -1;
    }
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
        perror("asan_probe: PR_SET_DUMPABLE");
        return -1;
    }
    return 0;
}

int main(int argc, char** argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: asan_probe none|heap-overflow|use-after-free|ubsan\n");
        return 2;
    }
    if (drop_to_caller() != 0) {
        return 2;
    }
    printf("at_secure=%lu euid=%u dumpable=%d\n", getauxval(AT_SECURE), (unsigned)geteuid(),
           prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
    fflush(stdout);

    const char* mode = argv[1];
    if (strcmp(mode, "none") == 0) {
        return 0;
    }
    if (strcmp(mode, "heap-overflow") == 0) {
        /* A size the compiler cannot see, so ASan, not UBSan's object-size check, finds it. */
        const size_t size = 8 * (size_t)argc;
        char* p = malloc(size);
        if (p == NULL) {
            return 2;
        }
        memset(p, 'x', size);
        sink = p[size + (size_t)sink];
        free(p);
        return 0;
    }
    if (strcmp(mode, "use-after-free") == 0) {
        char* p = malloc(16);
        if (p == NULL) {
            return 2;
        }
        memset(p, 'x', 16);
        char* volatile freed = p;
        free(p);
        sink = freed[sink];
        return 0;
    }
    if (strcmp(mode, "ubsan") == 0) {
        int big = INT_MAX - sink;
        sink = big + argc;
        return 0;
    }
    fprintf(stderr, "asan_probe: unknown mode %s\n", mode);
    return 2;
}
