#include "launcher/bind_request.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <cstring>

#include "policy/decide.h"

namespace portbind {

std::optional<Endpoint> decode_bind_request(std::span<const std::uint8_t> sockaddr,
                                            const SocketFacts& socket) {
    Endpoint ep;
    if (socket.type == SOCK_STREAM && socket.protocol == IPPROTO_TCP) {
        ep.proto = Proto::Tcp;
    } else if (socket.type == SOCK_DGRAM && socket.protocol == IPPROTO_UDP) {
        ep.proto = Proto::Udp;
    } else {
        return std::nullopt;
    }
    if (sockaddr.size() < sizeof(sa_family_t) || sockaddr.size() > sizeof(sockaddr_storage)) {
        return std::nullopt;
    }
    sa_family_t family = 0;
    std::memcpy(&family, sockaddr.data(), sizeof family);
    if (family != socket.domain) {
        return std::nullopt;
    }
    if (family == AF_INET && sockaddr.size() >= sizeof(sockaddr_in)) {
        sockaddr_in sin{};
        std::memcpy(&sin, sockaddr.data(), sizeof sin);
        ep.address.family = Family::V4;
        std::memcpy(ep.address.bytes.data(), &sin.sin_addr, 4);
        ep.port = ntohs(sin.sin_port);
    } else if (family == AF_INET6 && sockaddr.size() >= sizeof(sockaddr_in6)) {
        sockaddr_in6 sin6{};
        std::memcpy(&sin6, sockaddr.data(), sizeof sin6);
        if (sin6.sin6_scope_id != 0 || IN6_IS_ADDR_V4MAPPED(&sin6.sin6_addr)) {
            return std::nullopt;
        }
        ep.address.family = Family::V6;
        std::memcpy(ep.address.bytes.data(), &sin6.sin6_addr, 16);
        ep.port = ntohs(sin6.sin6_port);
        ep.dual_stack = ep.address.is_any() && !socket.v6only;
    } else {
        return std::nullopt;
    }
    if (ep.port == 0) {
        return std::nullopt;
    }
    return ep;
}

bool spec_covers(const SocketSpec& spec, const Endpoint& endpoint) {
    if (spec.proto != endpoint.proto || spec.port != endpoint.port) {
        return false;
    }
    return !spec.address || (*spec.address == endpoint.address && !endpoint.dual_stack);
}

BindVerdict judge_bind(const BindRules& rules, const Endpoint& endpoint, const std::string& exe) {
    BindVerdict v;
    if (endpoint.port >= rules.unprivileged_start) {
        v.reason = "unprivileged port";
        return v;
    }
    if (rules.specs != nullptr && !rules.specs->empty()) {
        for (std::size_t i = 0; i < rules.specs->size(); ++i) {
            if (spec_covers((*rules.specs)[i], endpoint)) {
                v.spec = i;
                break;
            }
        }
        if (!v.spec) {
            v.reason = "no --port given covers it";
            return v;
        }
    }
    if (rules.policy == nullptr) {
        v.serve = true;
        v.reason = "root caller";
        return v;
    }
    const Decision d = decide(*rules.policy, *rules.caller, Request{endpoint, exe});
    v.serve = d.permitted;
    if (!rules.policy->valid()) {
        v.reason = "policy has errors";
    } else if (d.rule == nullptr) {
        v.reason = "no rule permits it";
    } else {
        v.reason = std::string(d.permitted ? "permitted by " : "denied by ") +
                   rules.policy->location(d.rule->where);
    }
    return v;
}

int shell_status(int wait_status) {
    if (WIFSIGNALED(wait_status)) {
        return 128 + WTERMSIG(wait_status);
    }
    return WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 125;
}

}  // namespace portbind
