/* The floor of the broker benchmark: a server of the broker's wire protocol (version 1, see
 * launcher/broker/message.h) that makes only the system calls one grant cannot do without
 * (accept4, recv, socket, setsockopt SO_REUSEADDR, bind, listen, sendmsg with the fd, two
 * closes), one connection at a time, and nothing else: no peer credentials, no policy, no
 * logging, no limits, and no checks beyond the frame's shape.
 *
 *   null_broker SOCKET_PATH
 *
 * It shows what any broker of this protocol could reach on the machine, so `portbind serve`
 * is measured against it in the same run. It grants anything to anyone who can reach the
 * socket: the benchmark runs it as root on a socket in a root-owned directory, for the
 * length of one run. Never install it. Runs until killed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

enum { HEADER = 16, RECORD = 20, MAX_MESSAGE = 4096 };

static void put16(unsigned char* p, unsigned v) {
    p[0] = (unsigned char)(v & 0xff);
    p[1] = (unsigned char)(v >> 8);
}

/* A reply header: n descriptors, status (0 or a negative errno), no text. */
static void reply_header(unsigned char* out, unsigned n, int status) {
    uint32_t s = (uint32_t)status;
    memcpy(out, "PBRP", 4);
    put16(out + 4, 1);
    put16(out + 6, n);
    for (int i = 0; i < 4; ++i)
        out[8 + i] = (unsigned char)(s >> (8 * i));
    put16(out + 12, 0);
    put16(out + 14, 0);
}

/* One IPv4 TCP socket bound and listening as the request's single record asks, or -errno. */
static int bound_socket(const unsigned char* req, size_t len) {
    if (len != HEADER + RECORD || memcmp(req, "PBRQ", 4) != 0 || req[6] != 1 || req[7] != 0 ||
        req[HEADER] != 6 || req[HEADER + 1] != 4)
        return -EPROTO;
    uint32_t backlog = 0;
    for (int i = 3; i >= 0; --i)
        backlog = (backlog << 8) | req[12 + i];
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)(req[HEADER + 2] | req[HEADER + 3] << 8));
    memcpy(&sa.sin_addr, req + HEADER + 4, 4);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, (struct sockaddr*)&sa, sizeof sa) != 0 ||
        listen(fd, backlog > 0 && backlog <= 65535 ? (int)backlog : 4096) != 0) {
        int err = errno;
        close(fd);
        return -err;
    }
    return fd;
}

static void answer(int conn) {
    unsigned char req[MAX_MESSAGE];
    ssize_t len = recv(conn, req, sizeof req, 0);
    int fd = len > 0 ? bound_socket(req, (size_t)len) : -EPROTO;
    unsigned char header[HEADER];
    reply_header(header, fd >= 0 ? 1 : 0, fd >= 0 ? 0 : fd);
    struct iovec iov = {header, sizeof header};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (fd >= 0) {
        memset(&control, 0, sizeof control);
        msg.msg_control = control.buf;
        msg.msg_controllen = sizeof control.buf;
        struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof fd);
    }
    (void)sendmsg(conn, &msg, MSG_NOSIGNAL);
    if (fd >= 0)
        close(fd);
}

int main(int argc, char** argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: null_broker SOCKET_PATH\n");
        return 2;
    }
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    if (strlen(argv[1]) >= sizeof addr.sun_path) {
        fprintf(stderr, "null_broker: socket path too long\n");
        return 1;
    }
    strcpy(addr.sun_path, argv[1]);
    int listener = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (listener < 0 || (unlink(argv[1]) != 0 && errno != ENOENT) ||
        bind(listener, (struct sockaddr*)&addr, sizeof addr) != 0 || chmod(argv[1], 0666) != 0 ||
        listen(listener, 4096) != 0) {
        perror("null_broker: cannot listen");
        return 1;
    }
    for (;;) {
        int conn = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
        if (conn < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            perror("null_broker: accept4");
            return 1;
        }
        answer(conn);
        close(conn);
    }
}
