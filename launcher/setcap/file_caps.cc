#include "launcher/setcap/file_caps.h"

#include <sys/capability.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <type_traits>

namespace portbind {

namespace {

using CapPtr = std::unique_ptr<std::remove_pointer_t<cap_t>, int (*)(void*)>;

CapPtr make_caps(cap_t c) {
    return CapPtr(c, cap_free);
}

CapSets to_sets(cap_t caps) {
    CapSets sets;
    for (unsigned cap = 0; cap < kMaxCapBits; ++cap) {
        const auto value = static_cast<cap_value_t>(cap);
        cap_flag_value_t v = CAP_CLEAR;
        if (cap_get_flag(caps, value, CAP_PERMITTED, &v) == 0 && v == CAP_SET) {
            sets.permitted |= cap_bit(cap);
        }
        if (cap_get_flag(caps, value, CAP_INHERITABLE, &v) == 0 && v == CAP_SET) {
            sets.inheritable |= cap_bit(cap);
        }
        if (cap_get_flag(caps, value, CAP_EFFECTIVE, &v) == 0 && v == CAP_SET) {
            sets.effective |= cap_bit(cap);
        }
    }
    return sets;
}

CapPtr from_sets(const CapSets& sets) {
    CapPtr caps = make_caps(cap_init());
    if (!caps) {
        return caps;
    }
    for (unsigned cap = 0; cap < kMaxCapBits; ++cap) {
        const auto value = static_cast<cap_value_t>(cap);
        const std::pair<std::uint64_t, cap_flag_t> flags[] = {
            {sets.permitted, CAP_PERMITTED},
            {sets.inheritable, CAP_INHERITABLE},
            {sets.effective, CAP_EFFECTIVE},
        };
        for (const auto& [bits, flag] : flags) {
            if ((bits & cap_bit(cap)) && cap_set_flag(caps.get(), flag, 1, &value, CAP_SET) != 0) {
                return make_caps(nullptr);
            }
        }
    }
    return caps;
}

Error no_xattr_support(const std::string& path) {
    return Error{ErrorKind::Denied,
                 "refused to grant capabilities to " + path +
                     ": its filesystem cannot store file capabilities (no security extended "
                     "attributes)",
                 "install the program on a filesystem that can (ext4, xfs, btrfs, tmpfs), or run "
                 "the service as 'portbind --port PORT -- COMMAND', which needs no capability on "
                 "the program"};
}

Error sys_error(const std::string& what, const std::string& path, int err) {
    return os_error(what + " " + path, err);
}

}  // namespace

Result<CapSets> caps_from_text(const std::string& text) {
    CapPtr caps = make_caps(cap_from_text(text.c_str()));
    if (!caps) {
        return Error{ErrorKind::Usage, "invalid capability list '" + text + "'",
                     "use cap_from_text(3) syntax, e.g. --caps cap_net_bind_service=ep"};
    }
    return to_sets(caps.get());
}

std::string caps_to_text(const CapSets& sets) {
    if (sets.empty()) {
        return "";
    }
    CapPtr caps = from_sets(sets);
    if (!caps) {
        return "?";
    }
    ssize_t len = 0;
    char* text = cap_to_text(caps.get(), &len);
    if (text == nullptr) {
        return "?";
    }
    std::string s(text, static_cast<std::size_t>(len));
    cap_free(text);
    return s;
}

Result<CapSets> read_file_caps(int fd, const std::string& path) {
    errno = 0;
    CapPtr caps = make_caps(cap_get_fd(fd));
    if (!caps) {
        if (errno == ENODATA) {
            return CapSets{};
        }
        if (errno == ENOTSUP || errno == EOPNOTSUPP) {
            return no_xattr_support(path);
        }
        return sys_error("cannot read the capabilities of", path, errno);
    }
    return to_sets(caps.get());
}

Status write_file_caps(int fd, const std::string& path, const CapSets& sets) {
    CapPtr caps = make_caps(nullptr);
    if (!sets.empty()) {
        caps = from_sets(sets);
        if (!caps) {
            return sys_error("cannot build the capability set for", path, errno);
        }
    }
    if (cap_set_fd(fd, caps.get()) != 0) {
        const int err = errno;
        if (err == ENODATA && sets.empty()) {
            return success();  // nothing to remove
        }
        if (err == ENOTSUP || err == EOPNOTSUPP) {
            return no_xattr_support(path);
        }
        return sys_error("cannot set the capabilities of", path, err);
    }
    auto back = read_file_caps(fd, path);
    if (!back.ok()) {
        return std::move(back).take_error();
    }
    if (back.value() != sets) {
        return Error{ErrorKind::System,
                     "the capabilities of " + path + " read back as '" +
                         caps_to_text(back.value()) + "', not '" + caps_to_text(sets) + "'",
                     "check with getcap(8); this is a bug or a kernel restriction"};
    }
    return success();
}

}  // namespace portbind
