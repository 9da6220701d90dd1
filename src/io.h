// Small descriptor chores the shell shares: a monotonic clock in
// milliseconds, waiting for one descriptor, and writing without blocking.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <poll.h>
#include <sys/types.h>

namespace tws {

std::int64_t now_ms();

// Whether fd reports `events` now (poll(2) without waiting).
bool ready_now(int fd, short events);

// Waits for `events` on fd until the monotonic time `until`; false on
// timeout or error.
bool wait_for(int fd, short events, std::int64_t until);

// O_NONBLOCK on a descriptor the helper made itself (never on an
// inherited one: see Access below).
void set_nonblocking(int fd);

// How the loop reads and writes a descriptor without ever blocking on it.
// Descriptors the helper makes itself (the child's pipes, the greylist
// socket) are O_NONBLOCK. Inherited ones are never changed: file status
// flags belong to the open file description, which the process that passed
// it may go on using (under UCSPI-TLS fd 0 and 1 are the TCP socket the TLS
// server runs its handshake on, during the session and after it, and libtls
// fails a handshake on a socket someone made non-blocking). So a shared
// socket is used with MSG_DONTWAIT, and any other shared descriptor (a
// pipe) is read only once poll(2) said it is readable and written at most
// PIPE_BUF bytes at a time once poll(2) says there is room: a pipe with
// room takes that much whole without blocking.
enum class Access { NonBlocking, SharedSocket, Shared };
// What an inherited descriptor is: looked up before the jail (fstat(2) is
// not among the jailed relay's system calls).
Access shared_access(int fd);

// Reads what is there: the count, 0 at EOF, -1 with errno (EAGAIN: nothing
// yet). A Shared descriptor must have been reported readable.
ssize_t read_some(int fd, Access access, char* buf, std::size_t size);

// Writes what the descriptor takes now: the count (0 when it is full), or
// -1 when the reader is gone.
ssize_t write_some(int fd, Access access, std::string_view bytes);

// Writes all of `bytes`, waiting at most timeout_ms in total.
bool write_all(int fd, Access access, std::string_view bytes, int timeout_ms);

// Stop signals (SIGTERM, SIGHUP): after catch_stop_signals() they are
// blocked everywhere but in wait_events(), so a stop is noticed between
// two events of the loop, never in the middle of one. Call it after the
// child is started (the child keeps the default mask).
void catch_stop_signals();
// The signal's name ("SIGTERM") once, when one came since the last call.
const char* take_stop_signal();
// poll(2) with the stop signals let through: the loop's one wait.
int wait_events(struct pollfd* fds, nfds_t n, int timeout_ms);

}  // namespace tws
