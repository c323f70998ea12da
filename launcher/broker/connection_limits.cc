#include "launcher/broker/connection_limits.h"

namespace portbind::broker {

bool ConnectionLimits::admit(uid_t uid) {
    if (open_ >= total_) {
        return false;
    }
    std::size_t& mine = by_uid_[uid];
    if (mine >= per_uid_) {
        if (mine == 0) {
            by_uid_.erase(uid);
        }
        return false;
    }
    ++mine;
    ++open_;
    return true;
}

void ConnectionLimits::release(uid_t uid) {
    const auto it = by_uid_.find(uid);
    if (it == by_uid_.end() || it->second == 0) {
        return;  // not counted: nothing to give back
    }
    if (--it->second == 0) {
        by_uid_.erase(it);
    }
    --open_;
}

std::size_t ConnectionLimits::open_for(uid_t uid) const {
    const auto it = by_uid_.find(uid);
    return it == by_uid_.end() ? 0 : it->second;
}

}  // namespace portbind::broker
