// The TLS fronts as one table: a row per ControlProtocol saying everything
// that differs between them (../shared/PEERS.md). The Session reads a row
// to know how to start TLS; ControlChannel reads it to know which
// descriptors answer and how; the relay only asks ControlChannel. Adding a
// front is adding a row. The manual's STARTTLS CONTROL PROTOCOLS section
// describes the same rows.
#pragma once

#include <cstddef>
#include <iterator>
#include <string_view>

#include "action.h"
#include "constants.h"

namespace tws {

// What comes back once the signal is given, and where.
enum class FrontAnswer {
  None,     // nothing: closing the signal descriptor is the point where TLS starts
  AckByte,  // one byte 0x00 on fd 6, then fd 6 is closed
  Entries,  // NAME=value entries, each NUL-ended, then one more NUL, on the control socket
};

struct TlsFront {
  ControlProtocol protocol;
  std::string_view name;  // for the log
  bool offers_starttls;
  // The 220 goes to the control descriptor (the front sends it to the
  // client itself), not to the client: a failed write then leaves the
  // client in plaintext, and it can be told 454.
  bool ready_via_control;
  std::string_view signal;  // written to the control descriptor after the 220
  bool close_signal;        // the control descriptor is closed after the signal
  FrontAnswer answer;
  // The handshake runs on the client's own descriptors (fds 0 and 1, the
  // TCP socket): after STARTTLS nothing more is read there, and once TLS
  // is up the client is SSLREADFD and SSLWRITEFD.
  bool handshake_on_client_fds;
};

inline constexpr TlsFront kTlsFronts[] = {
    {.protocol = ControlProtocol::None,
     .name = "none (STARTTLS not offered)",
     .offers_starttls = false,
     .ready_via_control = false,
     .signal = {},
     .close_signal = false,
     .answer = FrontAnswer::None,
     .handshake_on_client_fds = false},
    {.protocol = ControlProtocol::Legacy,
     .name = "tlswrapper, legacy protocol (fd 5)",
     .offers_starttls = true,
     .ready_via_control = true,
     .signal = {},
     .close_signal = true,
     .answer = FrontAnswer::None,
     .handshake_on_client_fds = false},
    {.protocol = ControlProtocol::Current,
     .name = "tlswrapper, current protocol (fd 5 signal, fd 6 ack)",
     .offers_starttls = true,
     .ready_via_control = false,
     .signal = kControlSignal,
     .close_signal = true,
     .answer = FrontAnswer::AckByte,
     .handshake_on_client_fds = false},
    // The control socket stays open to the end: sslserver ends a program
    // that closes it.
    {.protocol = ControlProtocol::Ucspi,
     .name = "UCSPI-TLS",
     .offers_starttls = true,
     .ready_via_control = false,
     .signal = kUcspiStartTls,
     .close_signal = false,
     .answer = FrontAnswer::Entries,
     .handshake_on_client_fds = true},
};

constexpr const TlsFront& tls_front(ControlProtocol p) {
  return kTlsFronts[static_cast<std::size_t>(p)];
}

static_assert([] {
  for (std::size_t i = 0; i < std::size(kTlsFronts); ++i)
    if (static_cast<std::size_t>(kTlsFronts[i].protocol) != i) return false;
  return true;
}());

}  // namespace tws
