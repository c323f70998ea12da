// What every fuzz target shares: an invariant check that stays on in every build type, and a
// reader that turns the fuzzer's bytes into typed values.
//
// A target fails by aborting: libFuzzer then saves the input as a crash artifact, and the
// replay driver (non-clang builds) exits non-zero. "Does not crash" is never the only check:
// each target states and checks the contract of the code it drives.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

// Aborts, naming the broken invariant, when `condition` is false.
#define FUZZ_CHECK(condition)           \
    ((condition) ? static_cast<void>(0) \
                 : ::portbind::fuzz::invariant_failed(#condition, __FILE__, __LINE__))

namespace portbind::fuzz {

[[noreturn]] inline void invariant_failed(const char* condition, const char* file, int line) {
    std::fprintf(stderr, "%s:%d: invariant violated: %s\n", file, line, condition);
    std::abort();
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
    return size == 0 ? std::string_view{}
                     : std::string_view(reinterpret_cast<const char*>(data), size);
}

// Reads values off the front of the input. Past the end everything reads as zero or empty, so
// every input is a valid one and the fuzzer never wastes executions on rejected encodings.
class Input {
  public:
    Input(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

    bool empty() const { return pos_ >= size_; }

    std::uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }

    bool flag() { return (byte() & 1U) != 0; }

    template <typename T>
    T integral() {
        static_assert(std::is_integral_v<T>);
        std::uint8_t raw[sizeof(T)] = {};
        for (std::uint8_t& b : raw) {
            b = byte();
        }
        T value{};
        std::memcpy(&value, raw, sizeof value);
        return value;
    }

    // 0 .. count-1 (count > 0).
    std::size_t below(std::size_t count) { return integral<std::uint16_t>() % count; }

    // One length byte (capped at max), then that many bytes.
    std::string string(std::size_t max) {
        const std::size_t wanted = std::min<std::size_t>(byte(), max);
        const std::size_t n = std::min(wanted, size_ - std::min(pos_, size_));
        std::string s =
            n == 0 ? std::string{} : std::string(reinterpret_cast<const char*>(data_ + pos_), n);
        pos_ += n;
        return s;
    }

    // Everything not read yet.
    std::string_view rest() {
        if (pos_ >= size_) {
            return {};
        }
        const std::string_view r(reinterpret_cast<const char*>(data_ + pos_), size_ - pos_);
        pos_ = size_;
        return r;
    }

  private:
    const std::uint8_t* data_;
    std::size_t size_;
    std::size_t pos_ = 0;
};

// Splits `text` on `separator`, keeping empty parts; at most `max_parts` parts (the last one
// keeps the remainder).
inline std::vector<std::string> split(std::string_view text, char separator,
                                      std::size_t max_parts) {
    std::vector<std::string> parts;
    while (parts.size() + 1 < max_parts) {
        const auto at = text.find(separator);
        if (at == text.npos) {
            break;
        }
        parts.emplace_back(text.substr(0, at));
        text.remove_prefix(at + 1);
    }
    parts.emplace_back(text);
    return parts;
}

}  // namespace portbind::fuzz
