// The socket knobs a systemd .socket unit has, as portbind options.
#pragma once

namespace portbind {

struct SocketOptions {
    int backlog = 4096;  // SOMAXCONN, systemd's default Backlog=
    bool reuseport = false;
    bool freebind = false;
    bool v6only = false;
    bool nonblock = false;  // systemd's NonBlocking= default is false
};

}  // namespace portbind
