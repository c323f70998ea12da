// A main() for compilers without libFuzzer (gcc): runs a fuzz target once on each file given,
// or on each file in each directory given, so the committed corpora and any crash reproducer
// run as regression tests in every build, including the sanitizer build.
//
//   fuzz_policy_replay tests/fuzz/corpus/policy crash-1234
//
// Exits 0 when every input ran (a broken invariant aborts), 1 on unreadable input or when no
// input was found.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

bool run_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        std::fprintf(stderr, "replay: cannot read %s\n", path.c_str());
        return false;
    }
    const std::vector<char> bytes{std::istreambuf_iterator<char>(in),
                                  std::istreambuf_iterator<char>()};
    std::vector<std::uint8_t> input(bytes.begin(), bytes.end());
    std::printf("replay: %s\n", path.c_str());  // names the input if the target aborts
    std::fflush(stdout);
    // A copy of exactly the input's size, so reading past it is caught by the sanitizers.
    LLVMFuzzerTestOneInput(input.empty() ? nullptr : input.data(), input.size());
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t ran = 0;
    bool ok = true;
    for (int i = 1; i < argc; ++i) {
        const std::filesystem::path arg(argv[i]);
        std::error_code ec;
        if (std::filesystem::is_directory(arg, ec)) {
            for (const auto& entry : std::filesystem::directory_iterator(arg, ec)) {
                if (entry.is_regular_file()) {
                    ok = run_file(entry.path()) && ok;
                    ++ran;
                }
            }
        } else {
            ok = run_file(arg) && ok;
            ++ran;
        }
        if (ec) {
            std::fprintf(stderr, "replay: %s: %s\n", argv[i], ec.message().c_str());
            ok = false;
        }
    }
    std::printf("replay: ran %zu inputs\n", ran);
    return ok && ran > 0 ? 0 : 1;
}
