/* execve() with a hand-made environment and argv, for launch states a shell
 * cannot produce (duplicate variables, entries without '=', argc == 0).
 *
 *   rawexec [-e ENTRY]... -- PATH [ARGV0 [ARG]...]
 *
 * The environment is exactly the -e entries, in order (duplicates kept).
 * argv is ARGV0 ARG...; with no ARGV0 argv is {NULL} (argc == 0).
 * Exits 127 if execve fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
    char **envp = calloc((size_t)argc + 1, sizeof *envp);
    int ne = 0, i = 1;

    if (envp == NULL)
        return 127;
    for (; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        }
        if (strcmp(argv[i], "-e") == 0 && i + 1 < argc) {
            envp[ne++] = argv[++i];
            continue;
        }
        fprintf(stderr, "usage: rawexec [-e ENTRY]... -- PATH [ARGV0 [ARG]...]\n");
        return 64;
    }
    if (i >= argc) {
        fprintf(stderr, "rawexec: no PATH\n");
        return 64;
    }
    envp[ne] = NULL;
    /* argv + i + 1 is NULL-terminated by the C runtime (argv[argc] == NULL). */
    execve(argv[i], argv + i + 1, envp);
    perror("rawexec: execve");
    return 127;
}
