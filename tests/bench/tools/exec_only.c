/* The floor of the launch benchmark: a statically linked program that does nothing but
 * execute its arguments, so the time it adds to a command is the least any launcher that
 * runs as its own program (and then executes the command) can add on the machine.
 *
 *   exec_only /ABSOLUTE/COMMAND [ARG]...
 *
 * Exits 127 if the command cannot be executed.
 */
#include <unistd.h>

int main(int argc, char** argv) {
    if (argc < 2)
        return 127;
    execv(argv[1], argv + 1);
    return 127;
}
