// The broker's decisions for one loaded policy, remembered: a fleet of workers asks for the
// same sockets as the same users over and over, and deciding over a large policy costs more
// than the rest of a grant.
//
// Exact, not approximate: decide_for_peer() is a pure function of the policy and of the
// caller's names, the endpoint and the executable, and the key is all of those (the groups in
// the order given), so an answer found here is the one decide_for_peer() gives. The cache is
// made for one policy and answers only for it: the broker keeps the two in one object, so a
// reloaded policy starts with an empty cache and no answer outlives the rules it points into.
// At most `capacity` entries; when full it forgets everything rather than grow.
//
// Pure bookkeeping, no system calls.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <unordered_map>

#include "launcher/broker/authorize.h"

namespace portbind::broker {

class DecisionCache {
  public:
    DecisionCache(const Policy& policy, std::size_t capacity)
        : policy_(policy), capacity_(capacity) {}
    DecisionCache(const DecisionCache&) = delete;
    DecisionCache& operator=(const DecisionCache&) = delete;

    const Policy& policy() const { return policy_; }

    // decide_for_peer(policy(), caller, endpoint, exe), computed once per distinct input.
    Decision decide(const Caller& caller, const Endpoint& endpoint,
                    const std::optional<std::string>& exe);

    std::size_t size() const { return entries_.size(); }

  private:
    struct Key {
        Caller caller;
        Endpoint endpoint;
        std::optional<std::string> exe;
        friend bool operator==(const Key&, const Key&) = default;
    };
    struct KeyHash {
        std::size_t operator()(const Key& key) const;
    };

    const Policy& policy_;
    std::size_t capacity_;
    std::unordered_map<Key, Decision, KeyHash> entries_;
};

}  // namespace portbind::broker
