/* A complete libportbind client: gets a socket for SPEC from the portbind broker and, for a
 * TCP socket, answers one connection with a line of text. With --check it only reports the
 * socket's state, one "key=value" per line.
 *
 *   cc -o portbind-example example.c $(pkg-config --cflags --libs portbind)
 *   portbind-example [--check] SPEC
 *
 * Exit status: 0 on success; 1 if portbind_bind() failed (the -errno is printed as
 * "error=N"); 2 on a usage error; 3 if serving the connection failed.
 */
#define _GNU_SOURCE /* accept4 */
#include <fcntl.h>
#include <portbind.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int int_option(int fd, int name) {
    int value = -1;
    socklen_t len = sizeof value;
    if (getsockopt(fd, SOL_SOCKET, name, &value, &len) != 0) {
        return -1;
    }
    return value;
}

int main(int argc, char **argv) {
    int check = 0;
    if (argc == 3 && strcmp(argv[1], "--check") == 0) {
        check = 1;
    } else if (argc != 2) {
        fprintf(stderr, "usage: %s [--check] SPEC\n", argv[0]);
        return 2;
    }
    const char *spec = argv[argc - 1];
    const int fd = portbind_bind(spec);
    if (fd < 0) {
        printf("error=%d\n", -fd);
        fprintf(stderr, "portbind_bind(\"%s\"): %s\n", spec, strerror(-fd));
        return 1;
    }
    const int fd_flags = fcntl(fd, F_GETFD);
    printf("fd=%d\ncloexec=%d\ntype=%d\nlistening=%d\n", fd,
           fd_flags >= 0 && (fd_flags & FD_CLOEXEC) != 0, int_option(fd, SO_TYPE),
           int_option(fd, SO_ACCEPTCONN));
    fflush(stdout);
    if (check || int_option(fd, SO_TYPE) != SOCK_STREAM) {
        close(fd);
        return 0;
    }
    const int conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
    if (conn < 0) {
        perror("accept");
        return 3;
    }
    static const char hello[] = "hello from portbind_bind\n";
    if (write(conn, hello, sizeof hello - 1) != (ssize_t)(sizeof hello - 1)) {
        perror("write");
        return 3;
    }
    close(conn);
    close(fd);
    return 0;
}
