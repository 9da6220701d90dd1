// Small descriptor chores the shell shares: a monotonic clock in
// milliseconds, waiting for one descriptor, and writing without blocking.
#pragma once

#include <cstdint>
#include <string_view>

#include <poll.h>
#include <sys/types.h>

namespace tws {

std::int64_t now_ms();

// Waits for `events` on fd until the monotonic time `until`; false on
// timeout or error.
bool wait_for(int fd, short events, std::int64_t until);

// Writes what the descriptor takes now: the count (0 when it is full), or
// -1 when the reader is gone.
ssize_t write_some(int fd, std::string_view bytes);

// Writes all of `bytes`, waiting at most timeout_ms in total.
bool write_all(int fd, std::string_view bytes, int timeout_ms);

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
