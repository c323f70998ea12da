// inspect_executable: ELF / script / other, and interpreter detection from the bytes of the
// file (DT_NEEDED, exported symbols, identifying strings) before the name. The ELF files here
// are built byte by byte, in both classes and both byte orders, so the reader is tested on
// exactly the structures it parses, including truncated and hostile ones.
#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "launcher/setcap/executable_kind.h"

using namespace portbind;

namespace {

struct ElfSpec {
    bool is64 = true;
    bool little = true;
    std::uint16_t type = 3;  // ET_DYN
    std::vector<std::string> needed;
    std::vector<std::pair<std::string, bool>> symbols;  // name, defined
    std::string extra;                                  // appended bytes (e.g. .rodata)
    bool section_headers = true;
};

class Writer {
  public:
    Writer(bool is64, bool little) : is64_(is64), little_(little) {}
    void put(std::uint64_t v, unsigned width) {
        for (unsigned i = 0; i < width; ++i) {
            const unsigned shift = 8 * (little_ ? i : width - 1 - i);
            out_ += static_cast<char>((v >> shift) & 0xff);
        }
    }
    void word(std::uint64_t v) { put(v, is64_ ? 8 : 4); }
    void bytes(const std::string& s) { out_ += s; }
    void pad_to(std::size_t n) { out_.resize(n, '\0'); }
    std::size_t size() const { return out_.size(); }
    std::string take() { return std::move(out_); }

  private:
    bool is64_;
    bool little_;
    std::string out_;
};

constexpr std::uint64_t kBase = 0x400000;

std::string build_elf(const ElfSpec& spec) {
    const bool w64 = spec.is64;
    const std::size_t ehsize = w64 ? 64 : 52;
    const std::size_t phentsize = w64 ? 56 : 32;
    const std::size_t shentsize = w64 ? 64 : 40;
    const std::size_t symsize = w64 ? 24 : 16;
    const std::size_t dynsize = w64 ? 16 : 8;

    std::string dynstr(1, '\0');
    std::vector<std::uint64_t> needed_idx;
    for (const std::string& n : spec.needed) {
        needed_idx.push_back(dynstr.size());
        dynstr += n + '\0';
    }
    std::vector<std::uint64_t> sym_idx;
    for (const auto& s : spec.symbols) {
        sym_idx.push_back(dynstr.size());
        dynstr += s.first + '\0';
    }
    const std::size_t phoff = ehsize;
    const std::size_t dynstr_off = phoff + 2 * phentsize;
    const std::size_t dynsym_off = dynstr_off + dynstr.size();
    const std::size_t dynsym_size = (spec.symbols.size() + 1) * symsize;
    const std::size_t dynamic_off = dynsym_off + dynsym_size;
    const std::size_t dynamic_size = (spec.needed.size() + 3) * dynsize;
    const std::size_t extra_off = dynamic_off + dynamic_size;
    const std::size_t shoff = extra_off + spec.extra.size();
    const std::size_t total = shoff + (spec.section_headers ? 4 * shentsize : 0);

    Writer w(w64, spec.little);
    w.bytes(
        "\x7f"
        "ELF");
    w.put(w64 ? 2 : 1, 1);
    w.put(spec.little ? 1 : 2, 1);
    w.put(1, 1);
    w.pad_to(16);
    w.put(spec.type, 2);
    w.put(62, 2);  // e_machine
    w.put(1, 4);   // e_version
    w.word(kBase);
    w.word(phoff);
    w.word(spec.section_headers ? shoff : 0);
    w.put(0, 4);  // e_flags
    w.put(ehsize, 2);
    w.put(phentsize, 2);
    w.put(2, 2);
    w.put(shentsize, 2);
    w.put(spec.section_headers ? 4 : 0, 2);
    w.put(0, 2);  // e_shstrndx
    BOOST_REQUIRE_EQUAL(w.size(), ehsize);

    // PT_LOAD over the whole file at kBase, then PT_DYNAMIC.
    const auto phdr = [&](std::uint32_t type, std::uint64_t off, std::uint64_t size) {
        if (w64) {
            w.put(type, 4);
            w.put(5, 4);
            w.word(off);
            w.word(kBase + off);
            w.word(kBase + off);
            w.word(size);
            w.word(size);
            w.word(8);
        } else {
            w.put(type, 4);
            w.word(off);
            w.word(kBase + off);
            w.word(kBase + off);
            w.word(size);
            w.word(size);
            w.put(5, 4);
            w.word(4);
        }
    };
    phdr(1, 0, total);
    phdr(2, dynamic_off, dynamic_size);

    w.bytes(dynstr);
    // Symbol 0 is the null symbol.
    const auto sym = [&](std::uint64_t name, std::uint16_t shndx) {
        if (w64) {
            w.put(name, 4);
            w.put(0x12, 1);
            w.put(0, 1);
            w.put(shndx, 2);
            w.word(0);
            w.word(0);
        } else {
            w.put(name, 4);
            w.word(0);
            w.word(0);
            w.put(0x12, 1);
            w.put(0, 1);
            w.put(shndx, 2);
        }
    };
    sym(0, 0);
    for (std::size_t i = 0; i < spec.symbols.size(); ++i) {
        sym(sym_idx[i], spec.symbols[i].second ? 12 : 0);
    }
    for (const std::uint64_t idx : needed_idx) {
        w.word(1);  // DT_NEEDED
        w.word(idx);
    }
    w.word(5);  // DT_STRTAB
    w.word(kBase + dynstr_off);
    w.word(10);  // DT_STRSZ
    w.word(dynstr.size());
    w.word(0);  // DT_NULL
    w.word(0);
    w.bytes(spec.extra);

    if (spec.section_headers) {
        const auto shdr = [&](std::uint32_t type, std::uint64_t off, std::uint64_t size,
                              std::uint32_t link, std::uint64_t entsize) {
            w.put(0, 4);  // sh_name
            w.put(type, 4);
            w.word(2);  // SHF_ALLOC
            w.word(kBase + off);
            w.word(off);
            w.word(size);
            w.put(link, 4);
            w.put(0, 4);
            w.word(8);
            w.word(entsize);
        };
        shdr(0, 0, 0, 0, 0);
        shdr(3, dynstr_off, dynstr.size(), 0, 0);        // .dynstr
        shdr(11, dynsym_off, dynsym_size, 1, symsize);   // .dynsym
        shdr(6, dynamic_off, dynamic_size, 1, dynsize);  // .dynamic
    }
    BOOST_REQUIRE_EQUAL(w.size(), total);
    return w.take();
}

ElfSpec plain() {
    ElfSpec s;
    s.needed = {"libc.so.6"};
    s.symbols = {{"main", true}, {"bind", false}, {"socket", false}};
    return s;
}

std::string family_of(const ExecutableInfo& info) {
    return info.interpreter ? info.interpreter->family : "";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(setcap_executable_test)

BOOST_AUTO_TEST_CASE(plain_elf_in_every_class_and_byte_order) {
    for (const bool is64 : {true, false}) {
        for (const bool little : {true, false}) {
            ElfSpec s = plain();
            s.is64 = is64;
            s.little = little;
            const ExecutableInfo info = inspect_executable(build_elf(s), "binder");
            BOOST_TEST_CONTEXT("is64=" << is64 << " little=" << little) {
                BOOST_TEST((info.kind == ExecutableKind::Elf));
                BOOST_TEST(!info.interpreter.has_value());
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(interpreter_libraries_are_found_in_dt_needed) {
    const std::pair<const char*, const char*> cases[] = {
        {"libpython3.11.so.1.0", "python"},
        {"libnode.so.108", "javascript (node)"},
        {"libperl.so.5.36", "perl"},
        {"libruby-3.1.so.3.1", "ruby"},
        {"libphp8.2.so", "php"},
        {"libjvm.so", "java"},
        {"libjli.so", "java"},
        {"liblua5.4.so.0", "lua"},
        {"libtcl8.6.so", "tcl"},
        {"libR.so", "R"},
        {"libguile-3.0.so.1", "guile"},
        {"libmozjs-102.so.0", "javascript (spidermonkey)"},
    };
    for (const bool is64 : {true, false}) {
        for (const auto& [lib, family] : cases) {
            ElfSpec s = plain();
            s.is64 = is64;
            s.little = !is64;
            s.needed.push_back(lib);
            const ExecutableInfo info = inspect_executable(build_elf(s), "server");
            BOOST_TEST_CONTEXT(lib << " is64=" << is64) {
                BOOST_TEST((info.kind == ExecutableKind::Elf));
                BOOST_TEST(family_of(info) == family);
                BOOST_TEST(info.interpreter->evidence == std::string("it links ") + lib);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(dt_needed_is_read_without_section_headers) {
    ElfSpec s = plain();
    s.needed.push_back("libperl.so.5.36");
    s.section_headers = false;
    BOOST_TEST(family_of(inspect_executable(build_elf(s), "x")) == "perl");
}

BOOST_AUTO_TEST_CASE(exported_entry_points_identify_statically_linked_interpreters) {
    const std::pair<const char*, const char*> cases[] = {
        {"Py_BytesMain", "python"},
        {"Py_Initialize", "python"},
        {"perl_parse", "perl"},
        {"ruby_run_node", "ruby"},
        {"php_execute_script", "php"},
        {"JNI_CreateJavaVM", "java"},
        {"luaL_loadfilex", "lua"},
        {"Tcl_EvalFile", "tcl"},
        {"_ZN4node5StartEiPPc", "javascript (node)"},
    };
    for (const auto& [symbol, family] : cases) {
        ElfSpec s = plain();
        s.symbols.push_back({symbol, true});
        BOOST_TEST_CONTEXT(symbol) {
            BOOST_TEST(family_of(inspect_executable(build_elf(s), "webserver")) == family);
        }
    }
}

BOOST_AUTO_TEST_CASE(imported_symbols_do_not_count) {
    // A program that calls into an interpreter library imports these; only a definition makes
    // the file itself an interpreter.
    ElfSpec s = plain();
    s.symbols.push_back({"Py_BytesMain", false});
    s.symbols.push_back({"_ZN4node5StartEiPPc", false});
    BOOST_TEST(!inspect_executable(build_elf(s), "webserver").interpreter.has_value());
}

BOOST_AUTO_TEST_CASE(shells_and_awk_are_found_by_their_strings) {
    const std::pair<const char*, const char*> cases[] = {
        {"@(#)Bash version 5.2.15(1) release GNU", "shell (bash)"},
        {"sh: turning off NDELAY mode", "shell (dash/ash)"},
        {"BusyBox v1.35.0", "shell (busybox)"},
        {"GNU Awk 5.2.1", "awk"},
        {"Usage: mawk [Options]", "awk"},
    };
    for (const auto& [marker, family] : cases) {
        ElfSpec s = plain();
        s.extra = std::string("\0padding\0", 9) + marker + '\0';
        BOOST_TEST_CONTEXT(marker) {
            BOOST_TEST(family_of(inspect_executable(build_elf(s), "tool")) == family);
        }
    }
}

BOOST_AUTO_TEST_CASE(the_name_is_a_second_signal) {
    const std::pair<const char*, const char*> named[] = {
        {"python3.11", "python"},
        {"python", "python"},
        {"pypy3", "python"},
        {"node", "javascript (node)"},
        {"nodejs", "javascript (node)"},
        {"perl5.36.0", "perl"},
        {"ruby3.1", "ruby"},
        {"php-fpm8.2", "php"},
        {"php", "php"},
        {"java", "java"},
        {"lua5.4", "lua"},
        {"tclsh8.6", "tcl"},
        {"bash", "shell"},
        {"sh", "shell"},
        {"dash", "shell"},
        {"zsh", "shell"},
        {"busybox", "shell (busybox)"},
        {"gawk", "awk"},
    };
    for (const auto& [name, family] : named) {
        BOOST_TEST_CONTEXT(name) {
            const ExecutableInfo info = inspect_executable(build_elf(plain()), name);
            BOOST_TEST(family_of(info) == family);
            BOOST_TEST(info.interpreter->evidence == "its name is '" + std::string(name) + "'");
        }
    }
    for (const char* name :
         {"binder", "ssh", "perlbug", "shellcheck", "nodemon", "javac", "nginx", "bashful", "Rx"}) {
        BOOST_TEST_CONTEXT(name) {
            BOOST_TEST(!interpreter_family_by_name(name).has_value());
        }
    }
}

BOOST_AUTO_TEST_CASE(content_evidence_comes_before_the_name) {
    ElfSpec s = plain();
    s.symbols.push_back({"Py_BytesMain", true});
    const ExecutableInfo info = inspect_executable(build_elf(s), "perl");
    BOOST_TEST(family_of(info) == "python");
    BOOST_TEST(info.interpreter->evidence == "it exports Py_BytesMain");
}

BOOST_AUTO_TEST_CASE(scripts_and_non_executables) {
    const ExecutableInfo script = inspect_executable("#!/usr/bin/python3\nprint(1)\n", "app");
    BOOST_TEST((script.kind == ExecutableKind::Script));
    BOOST_TEST(script.detail == "#!/usr/bin/python3");
    BOOST_TEST(!script.interpreter.has_value());

    const ExecutableInfo weird = inspect_executable("#!/bin/sh\x1b[31m\n", "x");
    BOOST_TEST(weird.detail == "#!/bin/sh?[31m");

    BOOST_TEST((inspect_executable("", "x").kind == ExecutableKind::NotExecutable));
    BOOST_TEST(inspect_executable("", "x").detail == "it is empty");
    BOOST_TEST((inspect_executable("hello world\n", "x").kind == ExecutableKind::NotExecutable));
    BOOST_TEST((inspect_executable("\x7f"
                                   "ELF",
                                   "x")
                    .kind == ExecutableKind::NotExecutable));
    for (const std::uint16_t type : {0, 1, 4, 0xfe00}) {  // none, relocatable, core, OS-specific
        ElfSpec s = plain();
        s.type = type;
        BOOST_TEST_CONTEXT("e_type " << type) {
            BOOST_TEST(
                (inspect_executable(build_elf(s), "x").kind == ExecutableKind::NotExecutable));
        }
    }
    ElfSpec exec = plain();
    exec.type = 2;
    BOOST_TEST((inspect_executable(build_elf(exec), "x").kind == ExecutableKind::Elf));

    std::string bad_class = build_elf(plain());
    bad_class[4] = 3;
    BOOST_TEST((inspect_executable(bad_class, "x").kind == ExecutableKind::NotExecutable));
}

BOOST_AUTO_TEST_CASE(every_truncation_is_classified_without_reading_out_of_bounds) {
    ElfSpec s = plain();
    s.needed.push_back("libpython3.11.so.1.0");
    s.symbols.push_back({"Py_BytesMain", true});
    const std::string full = build_elf(s);
    for (std::size_t n = 0; n <= full.size(); ++n) {
        // The copy has exactly n bytes, so any read past it is a heap overflow that the
        // hardened (_GLIBCXX_ASSERTIONS) and sanitizer builds catch.
        const std::string prefix = full.substr(0, n);
        const ExecutableInfo info = inspect_executable(prefix, "x");
        if (info.interpreter) {
            BOOST_TEST(info.interpreter->family == "python");
        }
    }
    BOOST_TEST(family_of(inspect_executable(full, "x")) == "python");
}

BOOST_AUTO_TEST_CASE(hostile_headers_are_classified_without_crashing) {
    const std::string good = build_elf(plain());
    std::mt19937 rng(20240501);
    for (int round = 0; round < 20000; ++round) {
        std::string mutated = good;
        const int flips = 1 + static_cast<int>(rng() % 8);
        for (int i = 0; i < flips; ++i) {
            const std::size_t at = 16 + rng() % (mutated.size() - 16);  // keep the magic
            mutated[at] = static_cast<char>(rng() & 0xff);
        }
        const ExecutableInfo info = inspect_executable(mutated, "binder");
        BOOST_TEST((info.kind != ExecutableKind::Script));
    }
    // Counts and offsets at their maximum.
    std::string huge = good;
    for (const std::size_t at : {32u, 40u}) {  // e_phoff, e_shoff
        for (std::size_t i = 0; i < 8; ++i) {
            huge[at + i] = '\xff';
        }
    }
    huge[56] = huge[57] = huge[60] = huge[61] = '\xff';  // e_phnum, e_shnum
    BOOST_TEST(!inspect_executable(huge, "binder").interpreter.has_value());
}

BOOST_AUTO_TEST_SUITE_END()
