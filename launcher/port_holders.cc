#include "launcher/port_holders.h"

#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>

#include <map>
#include <memory>

#include "launcher/small_file.h"
#include "policy/strict_number.h"

namespace portbind {

namespace {

void read_table(const char* path, Proto proto, Family family, std::optional<std::uint16_t> port,
                std::vector<PortHolder>& out) {
    const auto table = read_small_file(path, 256u << 20);
    std::string_view rest = table ? std::string_view(*table) : std::string_view();
    while (!rest.empty()) {
        const auto newline = rest.find('\n');
        const std::string_view line = rest.substr(0, newline);
        rest = newline == rest.npos ? std::string_view() : rest.substr(newline + 1);
        const auto entry = parse_proc_net_line(line, proto, family);
        if (!entry || (port && entry->port != *port)) {
            continue;
        }
        const bool bound = proto == Proto::Tcp ? entry->state == kTcpListen : entry->port != 0;
        if (bound) {
            out.push_back(PortHolder{*entry, {}, {}, {}});
        }
    }
}

std::string read_comm(const std::string& pid) {
    std::string comm = read_small_file("/proc/" + pid + "/comm", 256).value_or("?");
    while (!comm.empty() && comm.back() == '\n') {
        comm.pop_back();
    }
    return comm;
}

// Maps socket inodes to the processes holding them, for the processes the caller may see.
void attach_processes(std::vector<PortHolder>& holders) {
    std::map<std::uint64_t, PortHolder*> by_inode;
    for (PortHolder& h : holders) {
        by_inode[h.socket.inode] = &h;
    }
    // opendir() opens with O_CLOEXEC.
    std::unique_ptr<DIR, int (*)(DIR*)> proc(::opendir("/proc"), ::closedir);
    if (!proc) {
        return;
    }
    while (const dirent* p = ::readdir(proc.get())) {
        const auto pid = parse_decimal(p->d_name, 0x7fffffff);
        if (!pid) {
            continue;
        }
        const std::string fd_dir = std::string("/proc/") + p->d_name + "/fd";
        std::unique_ptr<DIR, int (*)(DIR*)> fds(::opendir(fd_dir.c_str()), ::closedir);
        if (!fds) {
            continue;
        }
        while (const dirent* f = ::readdir(fds.get())) {
            char target[64] = {};
            const std::string link = fd_dir + "/" + f->d_name;
            const ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
            std::string_view t(target, n > 0 ? static_cast<std::size_t>(n) : 0);
            if (t.size() < 10 || t.substr(0, 8) != "socket:[" || t.back() != ']') {
                continue;
            }
            const auto inode = parse_decimal(t.substr(8, t.size() - 9), UINT64_MAX);
            const auto it = inode ? by_inode.find(*inode) : by_inode.end();
            if (it != by_inode.end()) {
                auto& pids = it->second->pids;
                if (pids.empty() || pids.back() != static_cast<pid_t>(*pid)) {
                    pids.push_back(static_cast<pid_t>(*pid));
                    it->second->commands.push_back(read_comm(p->d_name));
                }
            }
        }
    }
}

std::string user_name(uid_t uid) {
    struct passwd pw {};
    struct passwd* found = nullptr;
    std::vector<char> buf(16384);
    if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr) {
        return pw.pw_name;
    }
    return std::to_string(uid);
}

std::string address_text(const SocketEntry& s) {
    const std::string a = s.address.to_string();
    return (s.address.family == Family::V6 ? "[" + a + "]" : a) + ":" + std::to_string(s.port);
}

}  // namespace

std::vector<PortHolder> find_port_holders(std::optional<std::uint16_t> port,
                                          std::optional<Proto> proto) {
    std::vector<PortHolder> holders;
    if (!proto || *proto == Proto::Tcp) {
        read_table("/proc/net/tcp", Proto::Tcp, Family::V4, port, holders);
        read_table("/proc/net/tcp6", Proto::Tcp, Family::V6, port, holders);
    }
    if (!proto || *proto == Proto::Udp) {
        read_table("/proc/net/udp", Proto::Udp, Family::V4, port, holders);
        read_table("/proc/net/udp6", Proto::Udp, Family::V6, port, holders);
    }
    attach_processes(holders);
    for (PortHolder& h : holders) {
        h.user = user_name(h.socket.uid);
    }
    return holders;
}

std::string describe_port_holders(std::uint16_t port, Proto proto) {
    std::string text;
    for (const PortHolder& h : find_port_holders(port, proto)) {
        std::string one;
        for (std::size_t i = 0; i < h.pids.size(); ++i) {
            one += (i ? ", " : "") + std::string("pid ") + std::to_string(h.pids[i]) + " (" +
                   h.commands[i] + ")";
        }
        one += (one.empty() ? "" : ", ") + std::string("user ") + h.user;
        if (text.find(one) == std::string::npos) {
            text += (text.empty() ? "" : "; ") + one;
        }
    }
    return text;
}

std::string format_holder(const PortHolder& h) {
    std::string line = std::string(proto_name(h.socket.proto)) + " " + address_text(h.socket) +
                       " " + (h.socket.proto == Proto::Tcp ? "LISTEN" : "BOUND") + " user " +
                       h.user;
    if (h.pids.empty()) {
        line += " pid ? (not visible to you)";
    }
    for (std::size_t i = 0; i < h.pids.size(); ++i) {
        line += " pid " + std::to_string(h.pids[i]) + " cmd " + h.commands[i];
    }
    return line;
}

}  // namespace portbind
