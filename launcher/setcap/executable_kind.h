// What kind of program a file is, judged from its bytes (and, second, from its name):
// an ELF executable, a script, or something else; and whether an ELF executable is a
// shared interpreter or shell.
//
// Why it matters: the kernel ignores file capabilities on `#!` scripts, so granting one to
// a script does nothing; and a capability on an interpreter (python, node, perl, bash, ...)
// is held by every script any user runs with it. Detection looks at the binary itself, so a
// renamed copy is still recognised: the shared libraries it needs (DT_NEEDED: libpython,
// libnode, libperl, libruby, libphp, libjvm, ...), the interpreter entry points it exports
// (Py_BytesMain, perl_parse, node::..., JNI_CreateJavaVM, ...), and for shells and awk,
// which export nothing telling, identifying strings in the file. The name is a second signal.
//
// Pure: the caller reads the file. The ELF reader bounds-checks every offset and size, so any
// input (truncated, hostile) is classified without reading outside `content`.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace portbind {

enum class ExecutableKind {
    Elf,            // an ELF executable or position-independent executable
    Script,         // starts with "#!": file capabilities are ignored on it
    NotExecutable,  // neither (empty, text, ELF object or core file, truncated ELF)
};

struct InterpreterMatch {
    std::string family;    // "python", "javascript (node)", "shell", ...
    std::string evidence;  // "it links libperl.so.5.36", "it exports Py_BytesMain", ...
};

struct ExecutableInfo {
    ExecutableKind kind = ExecutableKind::NotExecutable;
    std::string detail;  // Script: its #! line; NotExecutable: what it is instead
    std::optional<InterpreterMatch> interpreter;  // Elf only
};

// `content`: the whole file. `name`: its base name, the second signal.
ExecutableInfo inspect_executable(std::string_view content, std::string_view name);

// The name signal alone: "python3.11", "php-fpm8.2", "bash", "node" ... nullopt if none.
std::optional<std::string> interpreter_family_by_name(std::string_view name);

}  // namespace portbind
