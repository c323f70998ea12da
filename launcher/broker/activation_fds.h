// Receiving sockets by systemd socket activation: sd_listen_fds(3) and sd_is_socket_unix(3),
// written out here so that the program does not link libsystemd (which would load six more
// shared libraries at every start of portbind, launcher included).
//
// Protocol facts followed (sd_listen_fds(3); systemd 252 sd-daemon.c): the sockets are fds
// 3, 4, ... 3+N-1 when LISTEN_PID is this process's pid and LISTEN_FDS is N >= 1. A
// LISTEN_PID naming another process means the variables were meant for someone else: no
// sockets. Receiving marks those fds close-on-exec and, when asked, unsets LISTEN_PID,
// LISTEN_FDS and LISTEN_FDNAMES whatever the outcome.
//
// Threat: the variables come from whoever started the process, and a caller who execs
// portbind keeps its pid, so it can name fds it opened itself. Numbers are parsed strictly
// (canonical decimal, no sign, no overflow), and the broker checks what it receives
// (is_listening_unix_socket(), then the socket's path) before it serves on it.
#pragma once

#include <sys/types.h>

namespace portbind::broker {

inline constexpr int kFirstActivationFd = 3;  // SD_LISTEN_FDS_START

// Pure: how many sockets LISTEN_PID and LISTEN_FDS (nullptr when unset) pass to process
// `self`: N >= 1; 0 when either is unset or LISTEN_PID names another process; -EINVAL when
// either is malformed, LISTEN_FDS is 0, or the fds would run past INT_MAX.
int parse_activation_fd_count(const char* listen_pid, const char* listen_fds, pid_t self);

// sd_listen_fds(unset_environment): the number of sockets passed to this process, 0 for
// none, or -errno (malformed variables, or a named fd that is not open). Marks them
// close-on-exec.
int receive_activation_fds(bool unset_environment);

// sd_is_socket_unix(fd, type, 1, NULL, 0) > 0: `fd` is an AF_UNIX socket of `type`
// (SOCK_STREAM, SOCK_SEQPACKET, ...) in the listening state. False on any error.
bool is_listening_unix_socket(int fd, int type);

}  // namespace portbind::broker
