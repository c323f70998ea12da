/* The cost of bind() itself, as seen by the process that calls it.
 *
 *   bind_loop ADDR PORT COUNT
 *
 * COUNT times: a fresh TCP socket (SO_REUSEADDR), a timed bind() to ADDR:PORT (IPv4),
 * close. Prints the COUNT bind() durations in nanoseconds on one line. Exits 1 with the
 * error if any bind() fails, so a refused or unserved bind can never pass for a fast one.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char** argv) {
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    char* end = NULL;
    long port = argc == 4 ? strtol(argv[2], &end, 10) : -1;
    long count = argc == 4 && end != NULL && *end == '\0' ? strtol(argv[3], &end, 10) : -1;
    if (argc != 4 || inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1 || port < 1 || port > 65535 ||
        *end != '\0' || count < 1 || count > 10000000) {
        fprintf(stderr, "usage: bind_loop ADDR PORT COUNT\n");
        return 2;
    }
    sa.sin_port = htons((unsigned short)port);
    long long* ns = calloc((size_t)count, sizeof *ns);
    if (ns == NULL)
        return 1;
    const int one = 1;
    for (long i = 0; i < count; i++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) {
            perror("bind_loop: socket");
            return 1;
        }
        const long long t0 = now_ns();
        const int rc = bind(fd, (const struct sockaddr*)&sa, sizeof sa);
        const long long t1 = now_ns();
        if (rc != 0) {
            fprintf(stderr, "bind_loop: bind %s:%ld (attempt %ld): %s\n", argv[1], port, i + 1,
                    strerror(errno));
            return 1;
        }
        ns[i] = t1 - t0;
        close(fd);
    }
    for (long i = 0; i < count; i++)
        printf(i == 0 ? "%lld" : " %lld", ns[i]);
    printf("\n");
    return fflush(stdout) == 0 ? 0 : 1;
}
