// Every limit, exit status and reply text that tlswrapper-smtp itself uses
// lives here, so an admin can read in one page what the helper will say and
// how much memory a session can cost.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tws {

// ---- limits ---------------------------------------------------------------

// Longest client command line, terminator (CRLF or LF) excluded. Longer
// lines get reply::kLineTooLong and are dropped up to their LF.
inline constexpr std::size_t kMaxCommandLine = 4096;

// Longest child reply line, terminator excluded. Replies are relayed line by
// line, so this bounds one line, not a reply: any number of lines pass.
inline constexpr std::size_t kMaxReplyLine = 256 * 1024;

// Commands forwarded (or answered locally) whose replies have not reached
// the client yet. Past this the helper stops reading the client until
// replies drain: pipelining keeps working, memory stays bounded.
inline constexpr std::size_t kMaxPendingCommands = 256;

// Recipients a transaction remembers for its log line; the rest are counted.
inline constexpr std::size_t kMaxLoggedRecipients = 64;

// Longest greylist server answer (all its lines), and the longest text of
// its action= that is passed on to the client.
inline constexpr std::size_t kMaxPolicyAnswer = 4096;
inline constexpr std::size_t kMaxPolicyReplyText = 400;

// Longest piece of a command or reply quoted in a log line.
inline constexpr std::size_t kMaxLoggedText = 200;

// Timeouts (-t, -T): accepted range and defaults, in seconds.
inline constexpr int kMinSeconds = 1;
inline constexpr int kMaxSeconds = 86400;
inline constexpr int kDefaultSessionTimeout = 600;
inline constexpr int kDefaultIoTimeout = 15;

// The pregreet test (-p, GREETDELAY): its wait, in seconds. 0 is off. At
// most 300: RFC 5321 4.5.3.2.1 has a client wait 5 minutes for the 220,
// so a longer wait only loses good mail. A malformed GREETDELAY with no
// -p gets the default (postscreen's greet_wait).
inline constexpr int kMaxGreetDelay = 300;
inline constexpr int kDefaultGreetDelay = 6;

// The relay's buffers. Reads and writes on the body path are this large:
// a pipe's capacity, so a full read is normally taken whole by the child's
// pipe and no byte is copied. Past kMaxClientOutput of replies waiting for
// a slow client, neither the child nor the client is read until the client
// catches up.
inline constexpr std::size_t kReadSize = 64 * 1024;
inline constexpr std::size_t kMaxClientOutput = 256 * 1024;

// After the child is told to stop (SIGTERM), how long before SIGKILL.
inline constexpr int kChildGraceMillis = 2000;

// The jail (-J, -j): where, which ids without -j, how much memory.
inline constexpr const char* kDefaultJailDir = "/var/lib/tlswrapper/empty";
inline constexpr unsigned kJailIdBase = 140000000;                // + pid: unique per session
inline constexpr unsigned long kJailMemory = 64ul * 1024 * 1024;  // RLIMIT_DATA
inline constexpr int kJailMaxDescriptor = 64;  // descriptors looked at when filling slots

// ---- exit statuses --------------------------------------------------------

inline constexpr int kExitUsage = 100;
inline constexpr int kExitTemporary = 111;
// Not a status: "exit with the child's own status" (after QUIT).
inline constexpr int kExitChildStatus = -1;

// ---- what the helper writes itself ----------------------------------------

namespace reply {
inline constexpr std::string_view kLineTooLong = "500 5.5.2 Line too long\r\n";
inline constexpr std::string_view kTlsNotOffered = "502 5.5.1 STARTTLS not available\r\n";
inline constexpr std::string_view kTlsArguments =
    "501 5.5.4 Syntax error (no parameters allowed)\r\n";
inline constexpr std::string_view kTlsActive = "503 5.5.1 TLS already active\r\n";
inline constexpr std::string_view kTlsTemporary =
    "454 4.7.0 TLS not available due to temporary reason\r\n";
inline constexpr std::string_view kTlsReady = "220 2.0.0 Ready to start TLS\r\n";
inline constexpr std::string_view kStartTlsKeyword = "STARTTLS";
inline constexpr std::string_view kBdatRefused =
    "503 5.5.1 BDAT not available (no CHUNKING advertised)\r\n";
inline constexpr std::string_view kBdatSyntax = "501 5.5.4 Syntax error in BDAT size\r\n";
inline constexpr std::string_view kBdatClosing =
    "421 4.5.0 Cannot resynchronise after bad BDAT, closing connection\r\n";
inline constexpr std::string_view kServerBroken =
    "421 4.3.0 Mail server error, closing connection\r\n";
inline constexpr std::string_view kLocalError =
    "421 4.3.0 Local error in processing, closing connection\r\n";
inline constexpr std::string_view kTimeout = "421 4.4.2 Timeout, closing connection\r\n";
inline constexpr std::string_view kStopping =
    "421 4.3.2 System shutting down, closing connection\r\n";
inline constexpr std::string_view kGreylisted = "450 4.7.1 Greylisted, try again later\r\n";
inline constexpr std::string_view kPolicyRejected = "550 5.7.1 Recipient rejected by policy\r\n";
inline constexpr std::string_view kPolicyUnavailable =
    "421 4.3.0 Policy server unavailable, closing connection\r\n";
// The TLS policy (-a, -s): answers to what must wait for TLS.
// RFC 4954 section 6: AUTH before TLS under -a.
inline constexpr std::string_view kAuthNeedsTls =
    "538 5.7.11 Encryption required for requested authentication mechanism\r\n";
// RFC 3207 section 4: under -s, any command before TLS but EHLO, HELO, NOOP,
// RSET, QUIT and STARTTLS.
inline constexpr std::string_view kTlsRequired =
    "530 5.7.0 Must issue a STARTTLS command first\r\n";
// The pregreet test (-p): the client spoke before the greeting's last line
// (RFC 5321 4.3.1: a client waits for the 220).
inline constexpr std::string_view kPregreet =
    "554 5.7.1 Protocol error: talking before the greeting\r\n";
}  // namespace reply

// What the helper sends the child itself, after TLS starts (its reply is
// swallowed: the client never asked for it).
inline constexpr std::string_view kResetCommand = "RSET\r\n";

// The one byte of the current control protocol, both ways (signal and ack).
inline constexpr std::string_view kControlSignal{"\0", 1};

// UCSPI-TLS: start TLS and send back what was negotiated. ('y' would send
// nothing, and s6-networking up to 2.5.1.3 kills its TLS engine after it.)
inline constexpr std::string_view kUcspiStartTls = "Y";

// The longest UCSPI-TLS answer (NAME=value entries, NUL-ended, then one
// more NUL) read after 'Y'; sslserver's is about 2 KiB, PEM certificates
// included.
inline constexpr std::size_t kMaxUcspiAnswer = 32 * 1024;

}  // namespace tws
