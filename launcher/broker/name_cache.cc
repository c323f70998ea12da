#include "launcher/broker/name_cache.h"

#include <algorithm>

namespace portbind::broker {

std::size_t NameCache::KeyHash::operator()(const Key& key) const {
    std::size_t h = std::hash<uid_t>{}(key.uid) * 31 + std::hash<gid_t>{}(key.gid);
    for (const gid_t g : key.groups) {
        h = h * 1000003 ^ std::hash<gid_t>{}(g);
    }
    return h;
}

Caller NameCache::names_for(uid_t uid, gid_t gid, std::vector<gid_t> groups,
                            Clock::time_point now) {
    std::sort(groups.begin(), groups.end());
    groups.erase(std::unique(groups.begin(), groups.end()), groups.end());
    Key key{uid, gid, std::move(groups)};
    if (const auto it = entries_.find(key); it != entries_.end()) {
        if (now < it->second.expires) {
            return it->second.names;
        }
        entries_.erase(it);
    }
    Caller names = lookup_(key.uid, key.gid, key.groups);
    if (entries_.size() >= capacity_) {
        std::erase_if(entries_, [&](const auto& e) { return !(now < e.second.expires); });
        if (entries_.size() >= capacity_) {
            entries_.clear();
        }
    }
    if (capacity_ > 0) {
        entries_.emplace(std::move(key), Entry{names, now + ttl_});
    }
    return names;
}

}  // namespace portbind::broker
