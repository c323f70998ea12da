#define _GNU_SOURCE
/* A statically linked server that binds port 80 with the raw bind system call (no libc
 * wrapper), then answers each TCP connection with "static-ok uid=N\n". Like a Go binary, it
 * is invisible to any LD_PRELOAD approach: only a kernel-level interception can serve it. */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
    int port = argc > 1 ? atoi(argv[1]) : 80;
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons((unsigned short)port);
    if (syscall(SYS_bind, s, (struct sockaddr *)&sin, sizeof sin) != 0) {
        perror("static_server: bind");
        return 3;
    }
    if (listen(s, 16) != 0) {
        perror("static_server: listen");
        return 4;
    }
    for (;;) {
        int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0) continue;
        char line[64];
        int n = snprintf(line, sizeof line, "static-ok uid=%d\n", (int)getuid());
        (void)!write(c, line, (size_t)n);
        close(c);
    }
}
