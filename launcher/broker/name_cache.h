// The names the policy matches a broker peer by (user name, group names), cached: a
// name-service lookup for every request would cost more than the rest of the request.
//
// Staleness, by design: the key is the peer's ids as the kernel reports them for each
// connection (uid, gid, supplementary groups), so a change of a process's ids or groups is
// seen at once. Only the id-to-name mapping is cached, for at most `ttl`; a user or group
// renamed or removed in the database is seen within that time, and at once after the policy
// is reloaded (the server clears the cache on SIGHUP). The cache holds at most `capacity`
// entries and forgets everything rather than grow.
//
// Pure bookkeeping: the lookup and the clock are the caller's.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <unordered_map>
#include <vector>

#include "policy/decide.h"

namespace portbind::broker {

class NameCache {
  public:
    using Clock = std::chrono::steady_clock;
    using Lookup = std::function<Caller(uid_t uid, gid_t gid, const std::vector<gid_t>& groups)>;

    NameCache(Lookup lookup, Clock::duration ttl, std::size_t capacity)
        : lookup_(std::move(lookup)), ttl_(ttl), capacity_(capacity) {}

    // The names for these ids, looked up when not cached or older than the ttl. The order
    // of `groups` does not matter.
    Caller names_for(uid_t uid, gid_t gid, std::vector<gid_t> groups, Clock::time_point now);

    void clear() { entries_.clear(); }
    std::size_t size() const { return entries_.size(); }

  private:
    struct Key {
        uid_t uid = 0;
        gid_t gid = 0;
        std::vector<gid_t> groups;  // sorted, without duplicates
        friend bool operator==(const Key&, const Key&) = default;
    };
    struct KeyHash {
        std::size_t operator()(const Key& key) const;
    };
    struct Entry {
        Caller names;
        Clock::time_point expires;
    };

    Lookup lookup_;
    Clock::duration ttl_;
    std::size_t capacity_;
    std::unordered_map<Key, Entry, KeyHash> entries_;
};

}  // namespace portbind::broker
