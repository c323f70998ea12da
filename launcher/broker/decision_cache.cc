#include "launcher/broker/decision_cache.h"

#include <cstdint>
#include <functional>
#include <string_view>

namespace portbind::broker {

namespace {

std::size_t mix(std::size_t h, std::size_t value) {
    return h * 1000003 ^ value;
}

}  // namespace

std::size_t DecisionCache::KeyHash::operator()(const Key& key) const {
    const std::hash<std::string_view> text;
    std::size_t h = text(key.caller.user);
    h = mix(h, key.caller.groups.size());
    for (const std::string& g : key.caller.groups) {
        h = mix(h, text(g));
    }
    const Endpoint& ep = key.endpoint;
    h = mix(h, static_cast<std::size_t>(ep.proto));
    h = mix(h, static_cast<std::size_t>(ep.address.family));
    for (const std::uint8_t byte : ep.address.bytes) {
        h = mix(h, byte);
    }
    h = mix(h, ep.dual_stack ? 1U : 0U);
    h = mix(h, ep.port);
    return mix(h, key.exe ? text(*key.exe) : 0U);
}

Decision DecisionCache::decide(const Caller& caller, const Endpoint& endpoint,
                               const std::optional<std::string>& exe) {
    Key key{caller, endpoint, exe};
    if (const auto it = entries_.find(key); it != entries_.end()) {
        return it->second;
    }
    const Decision decision = decide_for_peer(policy_, caller, endpoint, exe);
    if (entries_.size() >= capacity_) {
        entries_.clear();
    }
    if (capacity_ > 0) {
        entries_.emplace(std::move(key), decision);
    }
    return decision;
}

}  // namespace portbind::broker
