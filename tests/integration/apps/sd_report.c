/* Socket-activated test app using libsystemd.
 *
 *   sd_report COUNT [NAME]...
 *
 * Calls sd_listen_fds_with_names(1, &names) and checks that it returns COUNT
 * sockets named NAME... in order (exit 2 otherwise, with a message on stderr).
 * Then serves every passed stream socket: each accepted connection gets
 * KEY=VALUE lines (count, names, per-fd name/port/listening state, LISTEN_*
 * after sd_listen_fds unset them) and is closed.
 *
 * Build: cc -o sd_report sd_report.c $(pkg-config --cflags --libs libsystemd)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#define MAXFDS 64

static int port_of(int fd) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return -1;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return -1;
}

int main(int argc, char **argv) {
    char **names = NULL;
    char buf[8192];
    size_t off = 0;
    int n, expected, i, bad = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: sd_report COUNT [NAME]...\n");
        return 64;
    }
    expected = atoi(argv[1]);
    n = sd_listen_fds_with_names(1, &names);
    if (n < 0) {
        fprintf(stderr, "sd_report: sd_listen_fds_with_names: %s\n", strerror(-n));
        return 2;
    }
    if (n != expected) {
        fprintf(stderr, "sd_report: got %d fds, expected %d\n", n, expected);
        bad = 1;
    }
    if (n > MAXFDS) {
        fprintf(stderr, "sd_report: too many fds\n");
        return 2;
    }
    for (i = 0; i < n && !bad; i++) {
        const char *want = (i + 2 < argc) ? argv[i + 2] : "unknown";
        if (names == NULL || names[i] == NULL || strcmp(names[i], want) != 0) {
            fprintf(stderr, "sd_report: fd %d named '%s', expected '%s'\n",
                    SD_LISTEN_FDS_START + i,
                    (names && names[i]) ? names[i] : "(null)", want);
            bad = 1;
        }
    }
    if (argc - 2 > n && !bad) {
        fprintf(stderr, "sd_report: fewer fds than expected names\n");
        bad = 1;
    }
    if (bad)
        return 2;

#define ADD(...)                                                              \
    do {                                                                      \
        int r_ = snprintf(buf + off, sizeof buf - off, __VA_ARGS__);          \
        if (r_ < 0 || (size_t)r_ >= sizeof buf - off)                         \
            return 2;                                                         \
        off += (size_t)r_;                                                    \
    } while (0)

    ADD("runtime=sd_report\ncount=%d\nnames=", n);
    for (i = 0; i < n; i++)
        ADD("%s%s", i ? ":" : "", names[i]);
    ADD("\npid=%d\n", (int)getpid());
    for (i = 0; i < n; i++) {
        int fd = SD_LISTEN_FDS_START + i;
        ADD("fd.%d.name=%s\nfd.%d.port=%d\nfd.%d.stream_listening=%d\n", fd,
            names[i], fd, port_of(fd), fd,
            sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) > 0);
    }
    ADD("after.LISTEN_FDS=%s\n", getenv("LISTEN_FDS") ? getenv("LISTEN_FDS") : "<unset>");
    ADD("after.LISTEN_PID=%s\n", getenv("LISTEN_PID") ? getenv("LISTEN_PID") : "<unset>");
    ADD("after.LISTEN_FDNAMES=%s\n",
        getenv("LISTEN_FDNAMES") ? getenv("LISTEN_FDNAMES") : "<unset>");
    ADD("end=1\n");

    struct pollfd pfd[MAXFDS];
    int np = 0;
    for (i = 0; i < n; i++) {
        int fd = SD_LISTEN_FDS_START + i;
        if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) > 0) {
            pfd[np].fd = fd;
            pfd[np].events = POLLIN;
            np++;
        }
    }
    if (np == 0) {
        fprintf(stderr, "sd_report: no listening stream socket\n");
        return 2;
    }
    for (;;) {
        if (poll(pfd, (nfds_t)np, -1) < 0) {
            if (errno == EINTR)
                continue;
            perror("sd_report: poll");
            return 2;
        }
        for (i = 0; i < np; i++) {
            if (!(pfd[i].revents & POLLIN))
                continue;
            int c = accept4(pfd[i].fd, NULL, NULL, SOCK_CLOEXEC);
            if (c < 0)
                continue;
            size_t done = 0;
            while (done < off) {
                ssize_t w = write(c, buf + done, off - done);
                if (w <= 0)
                    break;
                done += (size_t)w;
            }
            close(c);
        }
    }
}
