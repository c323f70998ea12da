/* Per-call cost of ordinary system calls (not bind()), to show what a seccomp filter adds to
 * the rest of an app's work.
 *
 *   syscall_loop BATCHES CALLS_PER_BATCH
 *
 * For each of getppid() (raw syscall, nothing cached by libc) and an 8-byte read() from
 * /dev/zero: BATCHES timed batches of CALLS_PER_BATCH calls. Prints two lines,
 *
 *   getppid NS NS ...
 *   read NS NS ...
 *
 * each NS being one batch's mean time per call, in nanoseconds (fractional).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char** argv) {
    char *end1 = NULL, *end2 = NULL;
    long batches = argc == 3 ? strtol(argv[1], &end1, 10) : 0;
    long calls = argc == 3 ? strtol(argv[2], &end2, 10) : 0;
    if (argc != 3 || *end1 != '\0' || *end2 != '\0' || batches < 1 || batches > 100000 ||
        calls < 1 || calls > 100000000) {
        fprintf(stderr, "usage: syscall_loop BATCHES CALLS_PER_BATCH\n");
        return 2;
    }
    int zero = open("/dev/zero", O_RDONLY | O_CLOEXEC);
    if (zero < 0) {
        perror("syscall_loop: /dev/zero");
        return 1;
    }
    char buf[8];
    printf("getppid");
    for (long b = 0; b < batches; b++) {
        const long long t0 = now_ns();
        for (long i = 0; i < calls; i++)
            (void)syscall(SYS_getppid);
        printf(" %.2f", (double)(now_ns() - t0) / (double)calls);
    }
    printf("\nread");
    for (long b = 0; b < batches; b++) {
        const long long t0 = now_ns();
        for (long i = 0; i < calls; i++) {
            if (read(zero, buf, sizeof buf) != (ssize_t)sizeof buf) {
                perror("syscall_loop: read");
                return 1;
            }
        }
        printf(" %.2f", (double)(now_ns() - t0) / (double)calls);
    }
    printf("\n");
    return fflush(stdout) == 0 ? 0 : 1;
}
