// How many broker connections may be open at once: in total, and per peer uid. Pure
// bookkeeping; the server asks before it keeps a connection and tells when it closes one.
//
// The total bounds the broker's fds and memory. The per-uid cap keeps one user (or every
// unmapped user namespace, which all appear as the overflow uid) from taking all of them.
// A connection counts from accept until the broker has closed it, including while its reply
// still waits unread in the peer's queue, so a client that never reads cannot pile up
// sockets in flight beyond its cap.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <unordered_map>

namespace portbind::broker {

class ConnectionLimits {
  public:
    ConnectionLimits(std::size_t total, std::size_t per_uid) : total_(total), per_uid_(per_uid) {}

    // Counts a new connection of `uid`, or returns false (and counts nothing) when the
    // total or the uid's share is used up.
    bool admit(uid_t uid);

    // Forgets one connection of `uid` that admit() counted.
    void release(uid_t uid);

    // No new connection could be admitted for any uid: stop accepting.
    bool full() const { return open_ >= total_; }

    std::size_t open() const { return open_; }
    std::size_t open_for(uid_t uid) const;

  private:
    std::size_t total_;
    std::size_t per_uid_;
    std::size_t open_ = 0;
    std::unordered_map<uid_t, std::size_t> by_uid_;
};

}  // namespace portbind::broker
