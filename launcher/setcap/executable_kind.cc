#include "launcher/setcap/executable_kind.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

namespace portbind {

namespace {

// --------------------------------------------------------------------- ELF reading
//
// Every read goes through ElfReader::uint, which returns nullopt for anything outside the
// file; sizes and counts read from the file are only ever used as loop bounds after being
// checked against the file size.

constexpr std::uint32_t kPtLoad = 1;
constexpr std::uint32_t kPtDynamic = 2;
constexpr std::uint32_t kShtDynsym = 11;
constexpr std::uint64_t kDtNull = 0;
constexpr std::uint64_t kDtNeeded = 1;
constexpr std::uint64_t kDtStrtab = 5;
constexpr std::uint64_t kDtStrsz = 10;
constexpr std::size_t kMaxNameLength = 4096;

class ElfReader {
  public:
    ElfReader(std::string_view data, bool is64, bool little)
        : data_(data), is64_(is64), little_(little) {}

    bool is64() const { return is64_; }
    unsigned word() const { return is64_ ? 8 : 4; }

    std::optional<std::uint64_t> uint(std::uint64_t offset, unsigned width) const {
        if (offset > data_.size() || width > data_.size() - offset) {
            return std::nullopt;
        }
        std::uint64_t v = 0;
        for (unsigned i = 0; i < width; ++i) {
            const unsigned byte = little_ ? width - 1 - i : i;
            v = (v << 8) | static_cast<unsigned char>(data_[offset + byte]);
        }
        return v;
    }

    // The NUL-terminated string at `index` in the string table [offset, offset+size).
    std::optional<std::string_view> string_at(std::uint64_t offset, std::uint64_t size,
                                              std::uint64_t index) const {
        if (offset > data_.size() || size > data_.size() - offset || index >= size) {
            return std::nullopt;
        }
        const std::string_view table = data_.substr(offset, size);
        const std::size_t end = table.find('\0', index);
        if (end == std::string_view::npos || end - index > kMaxNameLength) {
            return std::nullopt;
        }
        return table.substr(index, end - index);
    }

    std::uint64_t size() const { return data_.size(); }

  private:
    std::string_view data_;
    bool is64_;
    bool little_;
};

struct Segment {
    std::uint32_t type;
    std::uint64_t offset;
    std::uint64_t vaddr;
    std::uint64_t filesz;
};

struct Section {
    std::uint32_t type;
    std::uint64_t offset;
    std::uint64_t size;
    std::uint32_t link;
    std::uint64_t entsize;
};

std::optional<std::vector<Segment>> read_segments(const ElfReader& elf) {
    const auto phoff = elf.uint(elf.is64() ? 32 : 28, elf.word());
    const auto phentsize = elf.uint(elf.is64() ? 54 : 42, 2);
    const auto phnum = elf.uint(elf.is64() ? 56 : 44, 2);
    if (!phoff || !phentsize || !phnum) {
        return std::nullopt;
    }
    if (*phnum == 0) {
        return std::vector<Segment>{};
    }
    if (*phentsize != (elf.is64() ? 56u : 32u)) {
        return std::nullopt;
    }
    std::vector<Segment> out;
    for (std::uint64_t i = 0; i < *phnum; ++i) {
        const std::uint64_t at = *phoff + i * *phentsize;
        if (at < *phoff) {
            return std::nullopt;
        }
        const auto type = elf.uint(at, 4);
        const auto offset = elf.uint(at + (elf.is64() ? 8 : 4), elf.word());
        const auto vaddr = elf.uint(at + (elf.is64() ? 16 : 8), elf.word());
        const auto filesz = elf.uint(at + (elf.is64() ? 32 : 16), elf.word());
        if (!type || !offset || !vaddr || !filesz) {
            return std::nullopt;
        }
        out.push_back({static_cast<std::uint32_t>(*type), *offset, *vaddr, *filesz});
    }
    return out;
}

std::optional<std::vector<Section>> read_sections(const ElfReader& elf) {
    const auto shoff = elf.uint(elf.is64() ? 40 : 32, elf.word());
    const auto shentsize = elf.uint(elf.is64() ? 58 : 46, 2);
    const auto shnum = elf.uint(elf.is64() ? 60 : 48, 2);
    if (!shoff || !shentsize || !shnum) {
        return std::nullopt;
    }
    if (*shoff == 0 || *shnum == 0) {
        return std::vector<Section>{};
    }
    if (*shentsize != (elf.is64() ? 64u : 40u)) {
        return std::nullopt;
    }
    std::vector<Section> out;
    for (std::uint64_t i = 0; i < *shnum; ++i) {
        const std::uint64_t at = *shoff + i * *shentsize;
        if (at < *shoff) {
            return std::nullopt;
        }
        const auto type = elf.uint(at + 4, 4);
        const auto offset = elf.uint(at + (elf.is64() ? 24 : 16), elf.word());
        const auto size = elf.uint(at + (elf.is64() ? 32 : 20), elf.word());
        const auto link = elf.uint(at + (elf.is64() ? 40 : 24), 4);
        const auto entsize = elf.uint(at + (elf.is64() ? 56 : 36), elf.word());
        if (!type || !offset || !size || !link || !entsize) {
            return std::nullopt;
        }
        out.push_back({static_cast<std::uint32_t>(*type), *offset, *size,
                       static_cast<std::uint32_t>(*link), *entsize});
    }
    return out;
}

// File offset of a virtual address, through the PT_LOAD segments.
std::optional<std::uint64_t> file_offset(const std::vector<Segment>& segments,
                                         std::uint64_t vaddr) {
    for (const Segment& s : segments) {
        if (s.type == kPtLoad && vaddr >= s.vaddr && vaddr - s.vaddr < s.filesz) {
            return s.offset + (vaddr - s.vaddr);
        }
    }
    return std::nullopt;
}

// DT_NEEDED names, read the way the dynamic loader finds them (program headers), so
// stripped section headers do not hide them.
std::vector<std::string_view> needed_libraries(const ElfReader& elf) {
    std::vector<std::string_view> names;
    const auto segments = read_segments(elf);
    if (!segments) {
        return names;
    }
    std::vector<std::uint64_t> needed;
    std::optional<std::uint64_t> strtab;
    std::optional<std::uint64_t> strsz;
    const unsigned entry = 2 * elf.word();
    for (const Segment& s : *segments) {
        if (s.type != kPtDynamic) {
            continue;
        }
        for (std::uint64_t at = s.offset; at - s.offset + entry <= s.filesz; at += entry) {
            const auto tag = elf.uint(at, elf.word());
            const auto value = elf.uint(at + elf.word(), elf.word());
            if (!tag || !value || *tag == kDtNull) {
                break;
            }
            if (*tag == kDtNeeded) {
                needed.push_back(*value);
            } else if (*tag == kDtStrtab) {
                strtab = value;
            } else if (*tag == kDtStrsz) {
                strsz = value;
            }
        }
    }
    if (!strtab || !strsz) {
        return names;
    }
    const auto offset = file_offset(*segments, *strtab);
    if (!offset) {
        return names;
    }
    for (const std::uint64_t index : needed) {
        if (const auto name = elf.string_at(*offset, *strsz, index)) {
            names.push_back(*name);
        }
    }
    return names;
}

// Calls `visit(name)` for every symbol the executable defines in its dynamic symbol table,
// until it returns true.
template <typename Visit>
bool any_exported_symbol(const ElfReader& elf, Visit visit) {
    const auto sections = read_sections(elf);
    if (!sections) {
        return false;
    }
    const std::uint64_t symsize = elf.is64() ? 24 : 16;
    for (const Section& sym : *sections) {
        if (sym.type != kShtDynsym || sym.entsize != symsize || sym.link >= sections->size()) {
            continue;
        }
        const Section& str = (*sections)[sym.link];
        if (sym.offset > elf.size() || sym.size > elf.size() - sym.offset) {
            continue;
        }
        for (std::uint64_t at = sym.offset; at + symsize <= sym.offset + sym.size; at += symsize) {
            const auto name_index = elf.uint(at, 4);
            const auto shndx = elf.uint(at + (elf.is64() ? 6 : 14), 2);
            if (!name_index || !shndx || *shndx == 0) {  // SHN_UNDEF: imported, not defined
                continue;
            }
            const auto name = elf.string_at(str.offset, str.size, *name_index);
            if (name && !name->empty() && visit(*name)) {
                return true;
            }
        }
    }
    return false;
}

// ------------------------------------------------------------------ signatures

struct Signature {
    std::string_view text;
    std::string_view family;
};

constexpr std::string_view kJs = "javascript (node)";

constexpr Signature kNeededPrefixes[] = {
    {"libpython", "python"},
    {"libnode.so", kJs},
    {"libperl.so", "perl"},
    {"libruby", "ruby"},
    {"libphp", "php"},
    {"libjvm.so", "java"},
    {"libjli.so", "java"},
    {"liblua", "lua"},
    {"libluajit", "lua"},
    {"libtcl", "tcl"},
    {"libR.so", "R"},
    {"libguile", "guile"},
    {"libmozjs", "javascript (spidermonkey)"},
    {"libgjs", "javascript (gjs)"},
};

constexpr Signature kExportedSymbols[] = {
    {"Py_BytesMain", "python"},   {"Py_Main", "python"},         {"Py_Initialize", "python"},
    {"perl_parse", "perl"},       {"perl_run", "perl"},          {"ruby_run_node", "ruby"},
    {"ruby_init", "ruby"},        {"php_execute_script", "php"}, {"zend_eval_string", "php"},
    {"JNI_CreateJavaVM", "java"}, {"luaL_loadfilex", "lua"},     {"lua_pcallk", "lua"},
    {"Tcl_EvalFile", "tcl"},      {"Tcl_Main", "tcl"},           {"Rf_initialize_R", "R"},
    {"scm_boot_guile", "guile"},  {"node_module_register", kJs},
};

// C++ namespaces whose presence among the exported symbols identifies the program.
constexpr Signature kExportedPrefixes[] = {
    {"_ZN4node", kJs},
};

// Strings that identify shells and awk, which export nothing telling.
constexpr Signature kContentMarkers[] = {
    {"@(#)Bash version", "shell (bash)"},
    {"GNU bash, version", "shell (bash)"},
    {"sh: turning off NDELAY mode", "shell (dash/ash)"},
    {"@(#)MIRBSD KSH", "shell (mksh)"},
    {"BusyBox v", "shell (busybox)"},
    {"GNU Awk ", "awk"},
    {"Usage: mawk", "awk"},
};

struct NameRule {
    std::string_view name;
    std::string_view family;
};

constexpr NameRule kNames[] = {
    {"python", "python"},
    {"pypy", "python"},
    {"node", kJs},
    {"nodejs", kJs},
    {"deno", "javascript"},
    {"bun", "javascript"},
    {"perl", "perl"},
    {"ruby", "ruby"},
    {"jruby", "ruby"},
    {"irb", "ruby"},
    {"php", "php"},
    {"java", "java"},
    {"jshell", "java"},
    {"jrunscript", "java"},
    {"lua", "lua"},
    {"luajit", "lua"},
    {"tclsh", "tcl"},
    {"wish", "tcl"},
    {"expect", "tcl"},
    {"Rscript", "R"},
    {"R", "R"},
    {"guile", "guile"},
    {"awk", "awk"},
    {"gawk", "awk"},
    {"mawk", "awk"},
    {"nawk", "awk"},
    {"sh", "shell"},
    {"bash", "shell"},
    {"rbash", "shell"},
    {"dash", "shell"},
    {"ash", "shell"},
    {"ksh", "shell"},
    {"mksh", "shell"},
    {"pdksh", "shell"},
    {"zsh", "shell"},
    {"csh", "shell"},
    {"tcsh", "shell"},
    {"fish", "shell"},
    {"yash", "shell"},
    {"busybox", "shell (busybox)"},
};

bool starts_with(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
}

std::optional<InterpreterMatch> match_content(const ElfReader& elf, std::string_view content) {
    for (const std::string_view lib : needed_libraries(elf)) {
        for (const Signature& sig : kNeededPrefixes) {
            if (starts_with(lib, sig.text)) {
                return InterpreterMatch{std::string(sig.family), "it links " + std::string(lib)};
            }
        }
    }
    std::optional<InterpreterMatch> found;
    any_exported_symbol(elf, [&](std::string_view name) {
        for (const Signature& sig : kExportedSymbols) {
            if (name == sig.text) {
                found =
                    InterpreterMatch{std::string(sig.family), "it exports " + std::string(name)};
                return true;
            }
        }
        for (const Signature& sig : kExportedPrefixes) {
            if (starts_with(name, sig.text)) {
                found = InterpreterMatch{std::string(sig.family),
                                         "it exports " + std::string(sig.text) + "... symbols"};
                return true;
            }
        }
        return false;
    });
    if (found) {
        return found;
    }
    for (const Signature& sig : kContentMarkers) {
        if (content.find(sig.text) != std::string_view::npos) {
            return InterpreterMatch{std::string(sig.family),
                                    "it contains the string '" + std::string(sig.text) + "'"};
        }
    }
    return std::nullopt;
}

// The #! line, printable ASCII only, for a message.
std::string script_line(std::string_view content) {
    const std::size_t end = std::min(content.find('\n'), std::size_t{120});
    std::string line;
    for (const char c : content.substr(0, end)) {
        const auto u = static_cast<unsigned char>(c);
        line += (u >= 0x20 && u < 0x7f) ? c : '?';
    }
    return line;
}

}  // namespace

std::optional<std::string> interpreter_family_by_name(std::string_view name) {
    for (const NameRule& rule : kNames) {
        if (!starts_with(name, rule.name)) {
            continue;
        }
        if (name.size() == rule.name.size()) {
            return std::string(rule.family);
        }
        const char next = name[rule.name.size()];
        if ((next >= '0' && next <= '9') || next == '.' || next == '-' || next == '_') {
            return std::string(rule.family);
        }
    }
    return std::nullopt;
}

ExecutableInfo inspect_executable(std::string_view content, std::string_view name) {
    ExecutableInfo info;
    if (content.empty()) {
        info.detail = "it is empty";
        return info;
    }
    if (starts_with(content, "#!")) {
        info.kind = ExecutableKind::Script;
        info.detail = script_line(content);
        return info;
    }
    if (content.size() < 52 || !starts_with(content,
                                            "\x7f"
                                            "ELF")) {
        info.detail = "it is neither an ELF executable nor a script";
        return info;
    }
    const auto cls = static_cast<unsigned char>(content[4]);
    const auto data = static_cast<unsigned char>(content[5]);
    const auto version = static_cast<unsigned char>(content[6]);
    if ((cls != 1 && cls != 2) || (data != 1 && data != 2) || version != 1 ||
        (cls == 2 && content.size() < 64)) {
        info.detail = "it is a malformed ELF file";
        return info;
    }
    const ElfReader elf(content, cls == 2, data == 1);
    const auto type = elf.uint(16, 2);
    if (!type || (*type != 2 && *type != 3)) {  // ET_EXEC, ET_DYN
        info.detail = "it is an ELF file but not an executable (an object or core file)";
        return info;
    }
    info.kind = ExecutableKind::Elf;
    info.interpreter = match_content(elf, content);
    if (!info.interpreter) {
        if (auto family = interpreter_family_by_name(name)) {
            info.interpreter = InterpreterMatch{*family, "its name is '" + std::string(name) + "'"};
        }
    }
    return info;
}

}  // namespace portbind
