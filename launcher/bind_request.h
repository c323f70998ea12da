// What an intercepted bind() asks for. Pure: the app's raw sockaddr bytes (a copy the
// binding process made; the app cannot change it any more) and facts about the app's socket
// in, an Endpoint out, or nullopt when the bind is not one portbind serves (then the kernel
// decides it with the app's own rights).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "policy/socket_spec.h"

namespace portbind {

struct SocketFacts {
    int domain = 0;    // SO_DOMAIN
    int type = 0;      // SO_TYPE
    int protocol = 0;  // SO_PROTOCOL
};

inline constexpr int kIpprotoMptcp = 262;
inline constexpr std::size_t kSockaddrIn6MinLength = 24;  // SIN6_LEN_RFC2133

// Served: AF_INET and AF_INET6 sockets of type stream (TCP or MPTCP) or datagram (UDP),
// binding a non-zero port with a sockaddr of the socket's own family (or AF_UNSPEC with
// INADDR_ANY on an AF_INET socket, which the kernel accepts) and a length the kernel accepts.
// Not served: every other family, type or protocol, port 0, IPv4-mapped IPv6 addresses and
// link-local scope ids (which the policy cannot name), short or oversized sockaddrs.
//
// An IPv6 wildcard bind is judged as dual-stack whatever the socket's IPV6_V6ONLY says:
// the app still holds the socket and can flip that option until it is bound, so the
// binding process must decide for the wider of the two outcomes.
std::optional<Endpoint> decode_bind_request(std::span<const std::uint8_t> sockaddr,
                                            const SocketFacts& socket);

// Whether a --port spec covers what the app binds: same protocol and port, and the spec has
// no address (all addresses) or exactly the bound one.
bool spec_covers(const SocketSpec& spec, const Endpoint& endpoint);

struct Policy;
struct Caller;

// What the binding process does with an intercepted bind() of `endpoint` by the program
// `exe`. Pure.
struct BindVerdict {
    bool serve = false;               // bind it with CAP_NET_BIND_SERVICE
    std::optional<std::size_t> spec;  // the covering --port spec, if any
    std::string reason;               // why, for the log
};

struct BindRules {
    // nullptr: no policy is applied here, for the reason `unpoliced` gives (a root caller,
    // or a broker that decides when it is asked for the socket).
    const Policy* policy = nullptr;
    const Caller* caller = nullptr;
    const std::vector<SocketSpec>* specs = nullptr;  // empty: the policy alone decides
    unsigned unprivileged_start = 1024;
    std::string_view unpoliced = "root caller";
};

// Unprivileged ports are never served (the kernel lets the app bind them itself); a
// privileged one is served only if a --port spec covers it (when any was given) and the
// policy permits it for `exe`. `spec` names the covering spec, served or not, so its
// reservation can be released for the app's own bind.
BindVerdict judge_bind(const BindRules& rules, const Endpoint& endpoint, const std::string& exe);

// The status a shell reports for a waitpid() status: the exit code, or 128+N for death by
// signal N.
int shell_status(int wait_status);

}  // namespace portbind
