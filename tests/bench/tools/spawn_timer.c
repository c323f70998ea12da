/* Wall time of starting a command and waiting for it, for several commands interleaved.
 *
 *   spawn_timer ROUNDS WARMUP CMD [ARG]... [--next CMD [ARG]...]...
 *
 * Runs WARMUP + ROUNDS rounds; each round runs every command once (the starting command
 * rotates from round to round, so no command always runs first), timing posix_spawn() to
 * wait4() with CLOCK_MONOTONIC, and the CPU time (user + system) wait4() reports for it.
 * CMD must be an absolute path; the environment is inherited; stdin and stdout are
 * /dev/null, stderr is kept in memory and printed if the command fails.
 *
 * Output, one line per command, in the order given (the warm-up rounds are not reported):
 *
 *   INDEX MAXRSS_KIB WALL_NS,CPU_NS WALL_NS,CPU_NS ...
 *
 * MAXRSS_KIB is the largest ru_maxrss wait4() reported for that command, and CPU_NS the CPU
 * time of the command and of every descendant it waited for, across exec: unlike the wall
 * time, it hardly changes with what else the machine is running.
 * Exits 1 (and names the command) as soon as a command fails or is killed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char** environ;

struct command {
    char** argv; /* NULL-terminated, points into main's argv */
    long long* ns;
    long long* cpu_ns;
    long maxrss_kib;
};

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int parse_count(const char* s, long max, long* out) {
    char* end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 0 || v > max)
        return -1;
    *out = v;
    return 0;
}

static void dump_stderr(int fd) {
    char buf[4096];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n > 0) {
        buf[n] = '\0';
        fprintf(stderr, "%s", buf);
    }
}

static long long timeval_ns(struct timeval tv) {
    return (long long)tv.tv_sec * 1000000000LL + (long long)tv.tv_usec * 1000LL;
}

static int run_once(const struct command* c, int errfd, long long* elapsed, long long* cpu,
                    long* maxrss) {
    posix_spawn_file_actions_t fa;
    if (ftruncate(errfd, 0) != 0 || posix_spawn_file_actions_init(&fa) != 0)
        return -1;
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, errfd, 2);
    pid_t pid;
    const long long t0 = now_ns();
    int rc = posix_spawn(&pid, c->argv[0], &fa, NULL, c->argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        fprintf(stderr, "spawn_timer: cannot start %s: %s\n", c->argv[0], strerror(rc));
        return -1;
    }
    int status = 0;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0) {
        if (errno != EINTR) {
            perror("spawn_timer: wait4");
            return -1;
        }
    }
    *elapsed = now_ns() - t0;
    *cpu = timeval_ns(ru.ru_utime) + timeval_ns(ru.ru_stime);
    *maxrss = ru.ru_maxrss;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "spawn_timer: %s", c->argv[0]);
        for (char** a = c->argv + 1; *a != NULL; a++)
            fprintf(stderr, " %s", *a);
        if (WIFEXITED(status))
            fprintf(stderr, " exited with status %d\n", WEXITSTATUS(status));
        else
            fprintf(stderr, " was killed by signal %d\n", WTERMSIG(status));
        dump_stderr(errfd);
        return -1;
    }
    return 0;
}

int main(int argc, char** argv) {
    long rounds, warmup;
    if (argc < 4 || parse_count(argv[1], 1000000, &rounds) != 0 ||
        parse_count(argv[2], 1000000, &warmup) != 0 || rounds < 1) {
        fprintf(stderr, "usage: spawn_timer ROUNDS WARMUP CMD [ARG]... [--next CMD [ARG]...]...\n");
        return 2;
    }
    struct command* cmds = calloc((size_t)argc, sizeof *cmds);
    int n = 0;
    if (cmds == NULL)
        return 1;
    cmds[n++].argv = argv + 3;
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--next") == 0) {
            argv[i] = NULL; /* terminates the previous command's argv */
            if (i + 1 >= argc) {
                fprintf(stderr, "spawn_timer: nothing after --next\n");
                return 2;
            }
            cmds[n++].argv = argv + i + 1;
        }
    }
    for (int k = 0; k < n; k++) {
        if (cmds[k].argv[0] == NULL || cmds[k].argv[0][0] != '/') {
            fprintf(stderr, "spawn_timer: commands must be absolute paths\n");
            return 2;
        }
        cmds[k].ns = calloc((size_t)rounds, sizeof *cmds[k].ns);
        cmds[k].cpu_ns = calloc((size_t)rounds, sizeof *cmds[k].cpu_ns);
        if (cmds[k].ns == NULL || cmds[k].cpu_ns == NULL)
            return 1;
    }
    int errfd = memfd_create("spawn_timer-stderr", MFD_CLOEXEC);
    if (errfd < 0) {
        perror("spawn_timer: memfd_create");
        return 1;
    }
    for (long r = 0; r < warmup + rounds; r++) {
        for (int j = 0; j < n; j++) {
            struct command* c = &cmds[(r + j) % n];
            long long elapsed, cpu;
            long maxrss;
            if (run_once(c, errfd, &elapsed, &cpu, &maxrss) != 0)
                return 1;
            if (r >= warmup) {
                c->ns[r - warmup] = elapsed;
                c->cpu_ns[r - warmup] = cpu;
                if (maxrss > c->maxrss_kib)
                    c->maxrss_kib = maxrss;
            }
        }
    }
    for (int k = 0; k < n; k++) {
        printf("%d %ld", k, cmds[k].maxrss_kib);
        for (long r = 0; r < rounds; r++)
            printf(" %lld,%lld", cmds[k].ns[r], cmds[k].cpu_ns[r]);
        printf("\n");
    }
    return fflush(stdout) == 0 ? 0 : 1;
}
