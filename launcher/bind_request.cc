#include "launcher/bind_request.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstring>

#include "policy/decide.h"

namespace portbind {

std::optional<Endpoint> decode_bind_request(std::span<const std::uint8_t> sockaddr,
                                            const SocketFacts& socket) {
    Endpoint ep;
    const bool tcp = socket.protocol == IPPROTO_TCP || socket.protocol == kIpprotoMptcp;
    if (socket.type == SOCK_STREAM && tcp) {
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
    if (socket.domain == AF_INET && sockaddr.size() >= sizeof(sockaddr_in) &&
        (family == AF_INET || family == AF_UNSPEC)) {
        sockaddr_in sin{};
        std::memcpy(&sin, sockaddr.data(), sizeof sin);
        // The kernel takes AF_UNSPEC on an AF_INET socket as AF_INET, for INADDR_ANY only.
        if (family == AF_UNSPEC && sin.sin_addr.s_addr != htonl(INADDR_ANY)) {
            return std::nullopt;
        }
        ep.address.family = Family::V4;
        std::memcpy(ep.address.bytes.data(), &sin.sin_addr, 4);
        ep.port = ntohs(sin.sin_port);
    } else if (socket.domain == AF_INET6 && family == AF_INET6 &&
               sockaddr.size() >= kSockaddrIn6MinLength) {
        // The kernel reads the scope id only from a full sockaddr_in6; anything shorter
        // (down to the 24 bytes of RFC 2133) has none, whatever bytes follow the address.
        sockaddr_in6 sin6{};
        std::memcpy(&sin6, sockaddr.data(),
                    sockaddr.size() >= sizeof sin6 ? sizeof sin6 : kSockaddrIn6MinLength);
        if (sin6.sin6_scope_id != 0 || IN6_IS_ADDR_V4MAPPED(&sin6.sin6_addr)) {
            return std::nullopt;
        }
        ep.address.family = Family::V6;
        std::memcpy(ep.address.bytes.data(), &sin6.sin6_addr, 16);
        ep.port = ntohs(sin6.sin6_port);
        // Judged as dual-stack whatever IPV6_V6ONLY says now: the app can flip the option
        // until the socket is bound, i.e. during our bind().
        ep.dual_stack = ep.address.is_any();
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
    const bool specs_given = rules.specs != nullptr && !rules.specs->empty();
    if (specs_given) {
        for (std::size_t i = 0; i < rules.specs->size(); ++i) {
            if (spec_covers((*rules.specs)[i], endpoint)) {
                v.spec = i;
                break;
            }
        }
    }
    if (endpoint.port >= rules.unprivileged_start) {
        v.reason = "unprivileged port";
        return v;
    }
    if (specs_given && !v.spec) {
        v.reason = "no --port given covers it";
        return v;
    }
    if (rules.policy == nullptr) {
        v.serve = true;
        v.reason = std::string(rules.unpoliced);
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
