// The vocabulary between the Session (the SMTP reducer) and whatever drives
// it: the events it takes and the actions it returns. The poll loop, the
// transcript tests and the fuzz targets all speak it; none of it touches a
// descriptor, a clock or a system call.
#pragma once

#include <string>
#include <string_view>

namespace tws {

enum class LogLevel { Error = 0, Warning = 1, Info = 2, Debug = 3, Trace = 4 };

// How the TLS front lets the helper start TLS (../shared/PEERS.md).
enum class ControlProtocol {
  None,     // no control descriptors: STARTTLS is not offered
  Legacy,   // tlswrapper, fd 5 only: the 220 goes to fd 5, then fd 5 is closed
  Current,  // tlswrapper, fd 5 and 6: 220 to the client, one byte on fd 5, ack on fd 6
  Ucspi,    // UCSPI-TLS (s6-ucspitlsd, sslserver -n): 220 to the client, 'Y' on
            // SSLCTLFD (never closed), the answer names what was negotiated
};

// What the driver tells the Session about the control channel.
enum class ControlEvent {
  Ready,   // TLS is up (current: the ack came; legacy: fd 5 written and closed)
  Lost,    // the channel failed before anything reached the TLS wrapper
  Failed,  // the channel failed after the signal (bad ack, no ack, EOF)
};

// The clocks the driver keeps; the Session says what an expiry means.
enum class Timer {
  Session,   // -t: the whole session
  Client,    // -T: waiting for the client's next bytes
  Child,     // -T: waiting for the child's reply
  Control,   // -T: waiting for the control channel's ack
  Policy,    // -T: waiting for the greylist server
  Greeting,  // -p: the pregreet test's wait, from the first greeting line out
};

// The greylist server's answer, already decoded (policy.h).
struct PolicyVerdict {
  enum class Kind { Pass, Defer, Reject, Failure };
  Kind kind = Kind::Failure;
  std::string reply;  // for Defer and Reject: the full reply line to send, CRLF included
};

struct Action {
  enum class Kind {
    ToChild,       // write bytes to the child's stdin
    ToClient,      // write bytes to the client (stdout)
    ToControl,     // write bytes to the control channel (fd 5, or SSLCTLFD)
    CloseControl,  // close fd 5 (tlswrapper's protocols only)
    AwaitTls,      // wait for the control channel to report (ControlEvent)
    AskPolicy,     // send bytes (one request) to the greylist server, await a verdict
    StartTimer,    // start `timer` now: on_timeout(timer) after `millis`
    Log,           // one log line at `level`
    Exit,          // end the session with `status` (kExitChildStatus: the child's)
  };
  Kind kind;
  // The bytes: a view into the input the Session was just given, into
  // static storage, or into `owned` (then `view` is empty and owned wins).
  std::string_view view;
  std::string owned;
  bool is_owned = false;
  LogLevel level = LogLevel::Info;
  int status = 0;
  // StartTimer: which clock, and when it expires.
  Timer timer = Timer::Session;
  int millis = 0;
  // Exit: the child must not finish what it was doing (a message body was
  // cut short), so kill it rather than close its input.
  bool abort_child = false;

  std::string_view bytes() const { return is_owned ? std::string_view(owned) : view; }
};

}  // namespace tws
