// Making protocol bytes safe to quote in a log line: control and 8-bit
// bytes become \xNN, and long text is cut.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tws {

std::string printable(std::string_view bytes, std::size_t max);

// A command line as it may be logged: AUTH keeps its mechanism only, so no
// credential ever reaches a log.
std::string loggable_command(std::string_view line, bool is_auth, std::size_t max);

}  // namespace tws
