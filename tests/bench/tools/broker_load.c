/* Load generator for the portbind broker: THREADS clients, each asking for a socket with
 * portbind_bind(3) and closing it, as fast as the broker answers, for SECONDS.
 *
 *   broker_load THREADS SECONDS PORT
 *
 * Client i asks for "127.0.0.(i+1):PORT/tcp", so the clients never contend for the same
 * address and every request is a grant. With SECONDS 0 each client makes exactly one
 * request. The broker is found through PORTBIND_SOCKET, as for any libportbind program.
 *
 * A call answered EAGAIN (the broker's "too many connections, try again later") or reset
 * by the broker (ECONNRESET) is counted and retried at once; it is not a grant.
 *
 * Prints, one per line: "grants N", "busy N" (EAGAIN answers), "resets N", "seconds S"
 * (wall time of the whole run), "p50_us X", "p99_us Y" (latency of one granted
 * portbind_bind() call, over every grant of every client).
 * Exits 1 if any call failed otherwise (naming the error), or if there was no grant at all:
 * a refusal must never count as a fast grant.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <portbind.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct client {
    pthread_t thread;
    char spec[64];
    long long deadline_ns; /* 0: one request */
    long long* lat_ns;
    size_t count, capacity;
    size_t busy, resets;
    int first_error; /* negative errno of the first failed call, or 0 */
};

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int record(struct client* c, long long ns) {
    if (c->count == c->capacity) {
        size_t cap = c->capacity ? c->capacity * 2 : 4096;
        long long* grown = realloc(c->lat_ns, cap * sizeof *grown);
        if (grown == NULL)
            return -ENOMEM;
        c->lat_ns = grown;
        c->capacity = cap;
    }
    c->lat_ns[c->count++] = ns;
    return 0;
}

static void* run_client(void* arg) {
    struct client* c = arg;
    for (;;) {
        if (c->deadline_ns != 0 && now_ns() >= c->deadline_ns)
            break;
        const long long t0 = now_ns();
        const int fd = portbind_bind(c->spec);
        const long long t1 = now_ns();
        if (fd == -EAGAIN || fd == -ECONNRESET) {
            *(fd == -EAGAIN ? &c->busy : &c->resets) += 1;
            if (c->deadline_ns == 0 && c->busy + c->resets >= 1000) {
                c->first_error = fd; /* a one-shot client that never gets its grant */
                break;
            }
            continue;
        }
        if (fd < 0) {
            c->first_error = fd;
            break;
        }
        close(fd);
        const int rc = record(c, t1 - t0);
        if (rc != 0) {
            c->first_error = rc;
            break;
        }
        if (c->deadline_ns == 0)
            break;
    }
    return NULL;
}

static int by_value(const void* a, const void* b) {
    const long long x = *(const long long*)a, y = *(const long long*)b;
    return (x > y) - (x < y);
}

static double percentile_us(const long long* sorted, size_t n, double p) {
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return (double)sorted[i] / 1000.0;
}

int main(int argc, char** argv) {
    char *e1 = NULL, *e2 = NULL, *e3 = NULL;
    long threads = argc == 4 ? strtol(argv[1], &e1, 10) : 0;
    long seconds = argc == 4 ? strtol(argv[2], &e2, 10) : -1;
    long port = argc == 4 ? strtol(argv[3], &e3, 10) : 0;
    if (argc != 4 || *e1 || *e2 || *e3 || threads < 1 || threads > 254 || seconds < 0 ||
        seconds > 3600 || port < 1 || port > 65535) {
        fprintf(stderr, "usage: broker_load THREADS SECONDS PORT\n");
        return 2;
    }
    struct client* clients = calloc((size_t)threads, sizeof *clients);
    if (clients == NULL)
        return 1;
    const long long start = now_ns();
    for (long i = 0; i < threads; i++) {
        struct client* c = &clients[i];
        snprintf(c->spec, sizeof c->spec, "127.0.0.%ld:%ld/tcp", i + 1, port);
        c->deadline_ns = seconds ? start + seconds * 1000000000LL : 0;
        if (pthread_create(&c->thread, NULL, run_client, c) != 0) {
            fprintf(stderr, "broker_load: cannot start client %ld\n", i);
            return 1;
        }
    }
    size_t total = 0, busy = 0, resets = 0;
    int failed = 0;
    for (long i = 0; i < threads; i++) {
        pthread_join(clients[i].thread, NULL);
        total += clients[i].count;
        busy += clients[i].busy;
        resets += clients[i].resets;
        if (clients[i].first_error != 0 && !failed) {
            fprintf(stderr, "broker_load: portbind_bind(\"%s\"): %s\n", clients[i].spec,
                    strerror(-clients[i].first_error));
            failed = 1;
        }
    }
    const double elapsed = (double)(now_ns() - start) / 1e9;
    if (failed)
        return 1;
    if (total == 0) {
        fprintf(stderr, "broker_load: no grant at all (%zu busy, %zu reset)\n", busy, resets);
        return 1;
    }
    long long* all = malloc(total * sizeof *all);
    if (all == NULL)
        return 1;
    size_t k = 0;
    for (long i = 0; i < threads; i++) {
        memcpy(all + k, clients[i].lat_ns, clients[i].count * sizeof *all);
        k += clients[i].count;
    }
    qsort(all, total, sizeof *all, by_value);
    printf("grants %zu\nbusy %zu\nresets %zu\nseconds %.6f\np50_us %.1f\np99_us %.1f\n", total,
           busy, resets, elapsed, percentile_us(all, total, 0.50), percentile_us(all, total, 0.99));
    return fflush(stdout) == 0 ? 0 : 1;
}
