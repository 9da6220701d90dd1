// Small descriptor chores the shell shares: a monotonic clock in
// milliseconds, waiting for one descriptor, and writing without blocking.
#pragma once

#include <cstdint>
#include <string_view>

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

}  // namespace tws
