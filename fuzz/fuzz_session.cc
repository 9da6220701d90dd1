// Fuzz target: the whole Session, driven the way the poll loop drives it
// (src/relay.cc), by a script decoded from the input, with invariants
// checked on everything it does.
//
// ---- The script --------------------------------------------------------
// Byte 0 is the configuration:
//   bits 0-1  control protocol: 0 none, 1 legacy (fd 5), 2 current, 3 UCSPI-TLS
//   bit 2     greylisting on;  bit 3  fail-closed (-c)
//   bits 4-6  log level: 0 error ... 4 trace (5-7 trace too)
//   bit 7     no valid client address (no greylist request can be made)
// When the first record (right after byte 0) has the kind byte O, its
// payload's first byte is more configuration, the TLS policy:
//   bit 0     -a (auth_needs_tls)   bit 1  -s (tls_required, implies -a)
//   bit 2     -p, the pregreet test (a wait of 2000 ms)
// and the record does nothing else (an O anywhere else is an unknown kind
// byte, below). No input of the corpus before the policy began with O.
// Then records, separated by the two bytes "\n~"; each is a kind byte and
// its payload (so a payload never holds "\n~"):
//   C  the client sends the payload (offered to the Session at most
//      kReadSize at a time, the relay's buffer)
//   c  ... repeated (see below)
//   S  the child sends it (one read per 16 KiB, as the relay reads)
//   s  ... repeated;  L  the child sends it, one read a line
//   E  the client closes its side          F  the child closes its output
//   r  control: ready (the ack)   l  lost   f  failed
//   R  the ack arrives with the payload already in the client pipe behind
//      it (plaintext the TLS wrapper wrote before the ack)
//   W  the next write to fd 5 fails (the relay then reports lost)
//   B  the child's input pipe is full: the relay stops giving the Session
//      client bytes;  U  it drains again
//   t  a timer expires: payload[0] % 5 = session, client, child, control,
//      policy (client when empty)
//   G  the pregreet test's timer (Timer::Greeting) expires
//   p  greylist verdict pass   x  lookup failure
//   d  the verdict decode_policy_action() gives for the payload
//   a  answer bytes from the greylist server, read by PolicyAnswerReader
// Any other kind byte stands for one of these but c, s and G (byte % 17).
// Repeated: the payload's first byte k gives (k % 64 + 1) * 16 copies of
// the rest, at most 1 MiB an input, so a short input can cross the limits
// (4096-byte lines, 256 pending commands, 256 KiB reply lines); k = 0xff
// once an input gives 16 MiB, past the Session's whole memory budget.
//
// ---- The invariants (each a fuzz::fail when broken) --------------------
// T1  STARTTLS: between AwaitTls and the control channel's answer nothing
//     goes to the child or the client; after the ack no client byte that
//     arrived before it reaches the child (views into the client's stream
//     are checked by offset, copied lines must occur after the ack).
// T2  fd 5 is written at most once, with the 220 (legacy) or one NUL
//     (current), then closed, then AwaitTls; UCSPI-TLS: 'Y' once, never
//     closed, then AwaitTls; nothing of it without a control channel.
// R1  Every line the client gets is one well-formed reply line.
// R2  Child reply lines reach the client once each and in the order the
//     child sent them, with the separator changed at most (EHLO rewriting).
//     A line may be missing only when it is the child's STARTTLS keyword
//     (or its AUTH keyword, under -a or -s before TLS),
//     belongs to the swallowed reply to the helper's RSET after TLS starts
//     (a 421 there is relayed),
//     came after STARTTLS reached the head of the queue and before the
//     control channel answered, or the session ended. At rest at most one
//     line is held back (the EHLO line kept one behind) and it is not a
//     final line. Every other line the client gets is one of the helper's
//     own (constants.h, "250 STARTTLS", a greylist reply); the TLS
//     policy's 538 only under -a without -s, its 530 only under -s, and
//     either only before TLS (A1).
// R3  Replies leave in the order commands arrived: a reply the helper
//     makes itself for a command it has just read (its own lines but the
//     closing 421s, sent while it reads client bytes) goes out only once
//     every command, body and SASL line given to the child before has had
//     its reply (counted from what reached the child and the final lines
//     that reached the client). Such a reply that waited its turn comes
//     when a child reply completes, with later commands rightly in flight:
//     there R3 cannot tell and says nothing.
// B1  DATA: what the child gets for a body is the client's body through
//     the reference rule of tests/data_scanner_test.cc (every byte as it
//     came, a second dot on a lone dot next to a bare CR or LF), ending
//     where the reference ends it.
// B2  BDAT: the n bytes after a forwarded "BDAT n" are the n client bytes
//     right after that command line, contiguous and untouched.
// O1  Client bytes reach the child in order, each at most once.
// O2  Command lines reach the child whole, within kMaxCommandLine (SASL
//     data after a 334 is not a command line and has no limit).
// X1  One exit at most, with 111 or the child's status, the latter only
//     after a QUIT reached the child; nothing at all after it, whatever
//     the Session is told next.
// P1  A greylist request only with greylisting on, one at a time, well
//     formed.
// G1  No greylist request once the child answered an AUTH exchange (the
//     AUTH line or a SASL line after 334) with 2xx in this TLS epoch.
// G2  Otherwise, with greylisting on, a RCPT reaches the child only once
//     every earlier command has had its reply (it waited for a verdict),
//     and, with a client address and a sender accepted, after its own
//     request. The driver pairs the n-th final reply line of the child
//     with the n-th thing it was sent (command, SASL line, body) to follow
//     the AUTH state and the transaction: MAIL 2xx opens it; RSET,
//     EHLO/HELO 2xx, a message's or a last chunk's reply and the TLS reset
//     close it.
// L1  Log lines are printable ASCII at or under the configured level, and
//     SASL data or an AUTH initial response never appear in them; the log
//     line of an AUTH command, forwarded or refused, shows at most "AUTH",
//     white space and a mechanism name.
// E1  Client EOF outside a message ends the session at once only when no
//     reply is owed: the replies to what the client sent are relayed first
//     (R2 then holds until the end).
// E2  The exit at client EOF drops what the child was not given (abort)
//     exactly when the client left a message unfinished.
// A1  The TLS policy: before TLS, under -a no AUTH command line reaches
//     the child, under -s none but EHLO, HELO, NOOP, RSET and QUIT.
// W1  The pregreet test (-p): no client byte reaches the child before the
//     greeting's last line reached the client.
// W2  Under -p, client bytes offered before that line end the session in
//     that call with the 554 of the test as the client's last line; the
//     554 comes at no other time, and never without -p.
// W3  The greeting timer is asked for once at most, only under -p, with
//     its wait. While it runs the greeting's last line may be held (R2
//     allows one final line at rest), and a one-line greeting may go out
//     once as a continuation of itself before it.
// M1  The Session's own heap (heap_meter.h), at rest, stays under a budget
//     made of the named limits of constants.h (plus the largest span it
//     was given, for its piece list); during one call under that plus a
//     fixed cost per byte of the call's input.
// M2  Bytes out are bounded by bytes in: to the client at most twice what
//     the child sent plus 128 per client byte and 512 per event; to the
//     child at most twice what the client sent plus 64 per event.
//
// ---- The driver --------------------------------------------------------
// It mirrors src/relay.cc: client bytes are offered while wants_client()
// (and the child's pipe is not full), actions are carried out in order
// with events they raise told afterwards, the legacy protocol drains what
// the client already sent and reports ready by itself, client EOF is told
// once every buffered byte was taken. When TLS starts (the ack, or the
// close of fd 5), every client byte not yet taken is given to the Session
// before the news, whether or not the child's pipe is full, as
// Relay::start_tls_input does.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "action.h"
#include "body_reference.h"
#include "constants.h"
#include "fuzz_target.h"
#include "heap_meter.h"
#include "log_text.h"
#include "policy.h"
#include "session.h"
#include "smtp_grammar.h"

namespace {

using tws::Action;
using tws::ControlEvent;
using tws::ControlProtocol;
using tws::PolicyVerdict;
using tws::Session;
using tws::SessionConfig;
using tws::Timer;
using tws::fuzz::check;

constexpr std::string_view kRecordSeparator = "\n~";

// How much the relay reads from the child at once (its read buffer).
constexpr std::size_t kChildRead = 16384;

// TWS_FUZZ_TRACE=1 in the environment prints every event and action: how
// a regression input is read.
bool tracing() {
  static const bool on = std::getenv("TWS_FUZZ_TRACE") != nullptr;
  return on;
}

void trace(std::string_view what, std::string_view bytes = {}) {
  if (!tracing()) return;
  std::string line(what);
  line += ' ';
  for (char c : bytes.substr(0, 200)) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f && c != '\\') {
      line += c;
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", u);
      line += hex;
    }
  }
  std::fprintf(stderr, "%s\n", line.c_str());
}

std::string_view content_of(std::string_view raw) {
  if (!raw.empty() && raw.back() == '\n') raw.remove_suffix(1);
  if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
  return raw;
}

// ---- B1's reference: tests/body_reference.h.
using tws::test::GrowingBody;
using tws::test::Scanned;

// The helper's own reply lines (R2).
bool helper_line(std::string_view line, const std::vector<std::string>& policy_replies) {
  namespace r = tws::reply;
  static constexpr std::string_view kOwn[] = {
      r::kLineTooLong,    r::kTlsNotOffered,     r::kTlsArguments,   r::kTlsActive,
      r::kTlsTemporary,   r::kTlsReady,          r::kBdatRefused,    r::kBdatSyntax,
      r::kBdatClosing,    r::kServerBroken,      r::kTimeout,        r::kGreylisted,
      r::kPolicyRejected, r::kPolicyUnavailable, "250 STARTTLS\r\n",
  };
  for (std::string_view own : kOwn)
    if (line == own) return true;
  for (const std::string& p : policy_replies)
    if (line == p) return true;
  return false;
}

// A reply line as R2 compares it: code, text and terminator; the
// separator may change (EHLO rewriting).
std::string reply_key(std::string_view raw) {
  std::string_view content = content_of(raw);
  std::string key(content.substr(0, 3));
  key += '|';
  if (content.size() > 4) key += content.substr(4);
  key += '|';
  key += raw.substr(content.size());
  return key;
}

struct ExpectedLine {
  std::string key;
  bool final_line;
  bool may_drop;
};

class Driver {
 public:
  explicit Driver(const SessionConfig& config) : config_(config) {
    {
      tws::fuzz::heap::Charge charge;
      session_ = new Session(config);
    }
    perform();
    check_at_rest();
  }
  ~Driver() { delete session_; }

  void client(std::string_view bytes) {
    if (exited_) return after_exit([&] { session_->on_client(bytes); });
    if (client_eof_) return;
    events_in_ += 1;
    client_stream_.append(bytes);
    feed_client();
  }

  // One read from the child; a long payload comes as the relay reads it,
  // kChildRead bytes at a time.
  void child(std::string_view bytes) {
    while (bytes.size() > kChildRead) {
      child_read(bytes.substr(0, kChildRead));
      bytes.remove_prefix(kChildRead);
    }
    child_read(bytes);
  }

  void child_read(std::string_view bytes) {
    if (exited_) return after_exit([&] { session_->on_child(bytes); });
    if (child_eof_) return;
    events_in_ += 1;
    child_in_ += bytes.size();
    frame_child_lines(bytes);
    call([&] { session_->on_child(bytes); }, bytes.size());
    after_child();
    check_at_rest();
    feed_client();
  }

  void client_eof() {
    if (exited_) return after_exit([&] { session_->on_client_eof(); });
    if (client_eof_) return;
    events_in_ += 1;
    client_eof_ = true;
    feed_client();
  }

  void child_eof() {
    if (exited_) return after_exit([&] { session_->on_child_eof(); });
    if (child_eof_) return;
    events_in_ += 1;
    child_eof_ = true;
    call([&] { session_->on_child_eof(); }, 0);
    check_at_rest();
    feed_client();
  }

  void control(ControlEvent e) {
    if (exited_) return after_exit([&] { session_->on_control(e); });
    events_in_ += 1;
    deliver_control(e);
    check_at_rest();
    feed_client();
  }

  // The ack arrives with these client bytes already in the pipe, written
  // by the TLS wrapper before it: plaintext, never to be read as TLS input.
  void ack_with_plaintext(std::string_view bytes) {
    if (exited_) return after_exit([&] { session_->on_control(ControlEvent::Ready); });
    if (!client_eof_) {
      events_in_ += 1;
      client_stream_.append(bytes);
    }
    control(ControlEvent::Ready);
  }

  void fail_next_control_write() { control_write_fails_ = true; }
  void block_child_input(bool blocked) {
    child_blocked_ = blocked;
    feed_client();
  }

  void timeout(Timer t) {
    if (exited_) return after_exit([&] { session_->on_timeout(t); });
    events_in_ += 1;
    call([&] { session_->on_timeout(t); }, 0);
    check_at_rest();
    feed_client();
  }

  void policy(const PolicyVerdict& v) {
    if (exited_) return after_exit([&] { session_->on_policy(v); });
    events_in_ += 1;
    if (!v.reply.empty()) policy_replies_.push_back(v.reply);
    call([&] { session_->on_policy(v); }, v.reply.size());
    check_at_rest();
    feed_client();
  }

  // Answer bytes from the greylist server, as the relay would read them.
  void policy_answer(std::string_view bytes) {
    if (exited_) return;
    if (!session_->awaiting_policy()) return;  // no connection to read from
    std::size_t used = 0;
    auto status = reader_.feed(bytes, &used);
    if (status == tws::PolicyAnswerReader::Status::NeedMore) return;
    PolicyVerdict v =
        status == tws::PolicyAnswerReader::Status::Done ? reader_.verdict() : PolicyVerdict{};
    reader_.reset();
    policy(v);
  }

  void finish() {
    if (!exited_) check_at_rest();
  }

 private:
  // ---- calling the Session, with the heap metered (M1)
  template <typename F>
  void after_exit(F f) {
    f();
    check(session_->actions().empty(), "X1: actions after the exit");
  }

  template <typename F>
  void call(F f, std::size_t input) {
    check(!session_->finished() || exited_, "X1: finished() without an Exit action");
    policy_outstanding_ = session_->awaiting_policy();
    tws::fuzz::heap::reset_peak();
    {
      tws::fuzz::heap::Charge charge;
      f();
    }
    std::size_t during = tws::fuzz::heap::peak();
    check(during <= budget() + 256 * (input + 64),
          "M1: the Session's heap during one call is over its budget");
    perform();
    // G2: a verdict forwards its RCPT in the call that delivers it, or never.
    if (!session_->awaiting_policy()) request_for_rcpt_ = false;
  }

  std::size_t budget() const {
    // What the Session may keep whatever it was sent: the partial command
    // and reply lines, the EHLO line held back, the FIFO at its limit with
    // each entry a command line (a held RCPT keeps line and address), the
    // logged recipients, the log text kept, and the capacity of its piece
    // list, which follows the largest span it was given (at most
    // kReadSize, as the relay reads). Its actions are taken out at each
    // call; during a call they cost up to the per-byte allowance of call().
    using namespace tws;
    constexpr std::size_t line = 2 * (kMaxCommandLine + 2);
    constexpr std::size_t reply = 2 * (kMaxReplyLine + 2);
    constexpr std::size_t entry = 2 * line + 128;
    return 64 * 1024 + 3 * line + 2 * reply + (kMaxPendingCommands + 8) * entry +
           kMaxLoggedRecipients * (line + 64) + 4 * kMaxPolicyAnswer + 2 * 16 * largest_span_;
  }

  // The child's lines not relayed yet, counted as they come and go (a
  // flood of droppable STARTTLS lines must not make each check a scan).
  void expect(ExpectedLine e) {
    if (!e.may_drop) {
      ++waiting_;
      if (e.final_line) ++waiting_final_;
    }
    expected_.push_back(std::move(e));
  }
  void forget_expected(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      if (expected_[i].may_drop) continue;
      --waiting_;
      if (expected_[i].final_line) --waiting_final_;
    }
    expected_.erase(expected_.begin(), expected_.begin() + static_cast<std::ptrdiff_t>(n));
  }

  void check_at_rest() {
    if (exited_) return;
    check(tws::fuzz::heap::live() <= budget(), "M1: the Session's heap at rest is over its budget");
    check(client_out_ <= 2 * child_in_ + 128 * client_stream_.size() + 512 * (events_in_ + 1),
          "M2: more to the client than the input explains");
    check(child_out_ <= 2 * client_stream_.size() + 64 * (events_in_ + 1),
          "M2: more to the child than the input explains");
    // R2: at rest at most one child line is not relayed yet, not final.
    // W3: the greeting's last line may wait for the timer.
    bool holding = timer_started_ && !greeting_done_;
    check(waiting_final_ <= (holding ? 1u : 0u),
          "R2: a final reply line of the child did not reach the client");
    check(waiting_ <= 1, "R2: child reply lines did not reach the client");
    // B1: an unfinished body has gone out exactly as far as it is decided.
    if (child_mode_ == ChildMode::Body) {
      const Scanned& ref = body_reference(consumed_);
      check(!ref.finished, "B1: the body ended but the Session did not say so");
      check(body_out_ == ref.out.size(), "B1: body to the child falls short of the client's body");
    }
  }

  // B1's reference for the body from body_start_ to `end`, scanned once
  // as it grows (a body comes in many pieces and calls).
  const Scanned& body_reference(std::size_t end) {
    // GrowingBody only ever grows: a shorter prefix would get the longer one's answer.
    check(end >= reference_end_, "target: the body reference was asked for less than before");
    reference_end_ = end;
    return reference_.feed(std::string_view(client_stream_).substr(body_start_, end - body_start_));
  }

  // ---- client side, as Relay::feed_client
  void feed_client() {
    while (!exited_ && !child_blocked_ && consumed_ < client_stream_.size() &&
           session_->wants_client()) {
      const bool early = config_.greet_delay_ms > 0 && !greeting_done_;
      // At most what the relay's buffer holds.
      std::string_view rest = std::string_view(client_stream_).substr(consumed_, tws::kReadSize);
      largest_span_ = std::max(largest_span_, rest.size());
      std::size_t n = 0;
      seen_ = consumed_ + rest.size();
      reading_client_ = true;
      call([&] { n = session_->on_client(rest); }, rest.size());
      reading_client_ = false;
      check(n <= rest.size(), "on_client took more than it was given");
      if (early)
        check(exited_ && last_to_client_ == tws::reply::kPregreet,
              "W2: bytes before the greeting's last line did not end the session with 554");
      consumed_ += n;
      seen_ = consumed_;
      check_at_rest();
      if (n == 0) break;
    }
    if (client_eof_ && !client_eof_told_ && consumed_ == client_stream_.size() && !exited_) {
      client_eof_told_ = true;
      bool open = child_mode_ == ChildMode::Body || child_mode_ == ChildMode::Chunk;
      call([&] { session_->on_client_eof(); }, 0);
      if (exited_) {
        check(open || owed_ == 0, "E1: the session ended at client EOF with replies owed");
        check(exit_abort_ == open,
              open ? "E2: a message the client left unfinished may still be completed"
                   : "E2: client bytes given to the child dropped at client EOF");
      }
      check_at_rest();
    }
  }

  // ---- control events, as the relay tells them
  void deliver_control(ControlEvent e) {
    bool was_waiting = session_->awaiting_control();
    if (was_waiting && e == ControlEvent::Ready) {
      // As Relay::start_tls_input: every client byte that arrived before
      // the handshake was confirmed, buffered or still in the pipe, is
      // given to the Session first. It must take all of it and pass none
      // on (tls_wait_ still holds: T1).
      while (consumed_ < client_stream_.size() && !exited_) {
        std::string_view rest = std::string_view(client_stream_).substr(consumed_, tws::kReadSize);
        largest_span_ = std::max(largest_span_, rest.size());
        std::size_t n = 0;
        seen_ = consumed_ + rest.size();
        call([&] { n = session_->on_client(rest); }, rest.size());
        check(n == rest.size() || exited_, "T1: plaintext before the handshake was not all taken");
        consumed_ += rest.size();
        seen_ = consumed_;
      }
      if (exited_) return;
      tls_floor_ = client_stream_.size();
      tls_started_ = true;
      swallow_open_ = true;
      authenticated_ = false;  // G1, G2: RFC 3207 4.2
      in_transaction_ = false;
    }
    if (was_waiting) tls_wait_ = false;
    call([&] { session_->on_control(e); }, 0);
    if (was_waiting && e == ControlEvent::Ready && !exited_) {
      // The Session had to leave its wait.
      check(!session_->awaiting_control(), "T1: still awaiting TLS after the ack");
    }
  }

  // ---- the child's replies, framed as the child wrote them (R2)
  void frame_child_lines(std::string_view bytes) {
    lines_this_call_.clear();
    while (!bytes.empty()) {
      std::size_t lf = bytes.find('\n');
      if (lf == std::string_view::npos) {
        if (reply_part_.size() < tws::kMaxReplyLine + 8) reply_part_.append(bytes);
        return;
      }
      reply_part_.append(bytes.substr(0, lf + 1));
      bytes.remove_prefix(lf + 1);
      std::string line = std::move(reply_part_);
      reply_part_.clear();
      if (line.size() > tws::kMaxReplyLine + 2) continue;  // the Session ends there
      tws::ReplyLine r = tws::parse_reply(content_of(line));
      if (!r.ok) continue;  // the Session ends there
      // The STARTTLS keyword (and AUTH while the policy withholds it) goes
      // only from an EHLO reply, never its first line, so such a line may
      // be missing. Lines that come while TLS starts, and the reply to the
      // helper's RSET, are never relayed; but a 421 to that RSET is (the
      // server is closing and says so).
      tws::EhloKeyword k = tws::parse_ehlo_keyword(r.text);
      bool keyword = !reply_start_ && (k == tws::EhloKeyword::StartTls ||
                                       (k == tws::EhloKeyword::Auth && auth_waits_for_tls()));
      bool never = tls_wait_ || (swallow_open_ && r.code != 421);
      if (swallow_open_ && r.last()) {
        swallow_open_ = false;
        if (owed_ > 0) --owed_;  // the helper's RSET had its reply
      }
      reply_start_ = r.last();
      if (r.last()) {
        codes_.push_back(r.code);
        pair_replies();
      }
      if (!never) expect(ExpectedLine{reply_key(line), r.last(), keyword});
      lines_this_call_.push_back(r);
    }
  }

  // After the child's bytes: a final 354 or 334 that the Session survived
  // switched it to a body or to one line of SASL data (B1, O2).
  void after_child() {
    if (exited_) {
      forget_expected(expected_.size());
      return;
    }
    for (const tws::ReplyLine& r : lines_this_call_) {
      if (!r.last()) continue;
      if (r.code == 354) {
        child_mode_ = ChildMode::Body;
        body_start_ = consumed_;
        body_out_ = 0;
        reference_ = GrowingBody();
        reference_end_ = body_start_;
      } else if (r.code == 334) {
        child_mode_ = ChildMode::AuthLine;
      }
    }
  }

  // ---- carrying out the actions, as Relay::perform
  void perform() {
    for (;;) {
      std::vector<Action> batch;
      batch.swap(session_->actions());
      if (batch.empty()) {
        if (!deferred_.empty()) {
          ControlEvent e = deferred_.front();
          deferred_.erase(deferred_.begin());
          deliver_control(e);
          continue;
        }
        break;
      }
      auth_secret_.clear();
      for (std::size_t i = 0; i < batch.size(); ++i) {
        check(!exited_, "X1: an action after the exit");
        perform_one(batch, i);
      }
    }
  }

  void perform_one(const std::vector<Action>& batch, std::size_t i) {
    const Action& a = batch[i];
    std::string_view bytes = a.bytes();
    static constexpr const char* kNames[] = {"  -> child",  "  -> client", "  -> fd5",
                                             "  close fd5", "  await tls", "  -> policy",
                                             "  timer",     "  log",       "  exit"};
    trace(kNames[static_cast<int>(a.kind)],
          a.kind == Action::Kind::Exit ? std::to_string(a.status) : bytes);
    switch (a.kind) {
      case Action::Kind::ToChild:
        check(!tls_wait_, "T1: bytes to the child while the TLS handshake is pending");
        child_out_ += bytes.size();
        auth_response_.clear();
        to_child(a, bytes);
        // The command's own log line ("> AUTH mech [redacted]") comes
        // right before it.
        if (!auth_response_.empty() && i > 0 && batch[i - 1].kind == Action::Kind::Log)
          check(batch[i - 1].bytes().find(auth_response_) == std::string_view::npos,
                "L1: an AUTH initial response in a log line");
        return;
      case Action::Kind::ToClient:
        check(!tls_wait_, "T1: bytes to the client while the TLS handshake is pending");
        client_out_ += bytes.size();
        to_client(bytes);
        return;
      case Action::Kind::ToControl:
        check(!control_written_, "T2: fd 5 written twice");
        control_written_ = true;
        // The oracle's own view of each front (PEERS.md), apart from the
        // table the Session reads.
        switch (config_.control) {
          case ControlProtocol::None:
            check(false, "T2: fd 5 written without a control channel");
            break;
          case ControlProtocol::Legacy:
            check(bytes == tws::reply::kTlsReady,
                  "T2: legacy fd 5 got something else than the 220");
            break;
          case ControlProtocol::Current:
            check(bytes == tws::kControlSignal, "T2: current fd 5 got something else than one NUL");
            break;
          case ControlProtocol::Ucspi:
            check(bytes == tws::kUcspiStartTls, "T2: SSLCTLFD got something else than Y");
            break;
        }
        if (control_write_fails_) {
          control_write_fails_ = false;
          deferred_.push_back(ControlEvent::Lost);
        }
        return;
      case Action::Kind::CloseControl:
        check(control_written_ && !control_closed_, "T2: fd 5 closed out of turn");
        check(signal_closes(), "T2: the UCSPI-TLS control socket closed");
        control_closed_ = true;
        return;
      case Action::Kind::AwaitTls:
        check((control_closed_ || (!signal_closes() && control_written_)) && !tls_started_,
              "T2: AwaitTls out of turn");
        // Child lines not relayed yet came after STARTTLS reached the
        // head (every reply before it is complete): not for the client.
        forget_expected(expected_.size());
        if (!deferred_.empty()) return;  // the write failed: lost comes next
        tls_wait_ = true;
        // No ack: closing fd 5 is where TLS starts (deliver_control).
        if (!front_answers()) deferred_.push_back(ControlEvent::Ready);
        return;
      case Action::Kind::AskPolicy:
        check(config_.greylist, "P1: a greylist request without greylisting");
        check(!policy_outstanding_, "P1: a second greylist request before the answer");
        check(!authenticated_,
              "G1: a greylist request after the child accepted AUTH in this TLS epoch");
        request_for_rcpt_ = true;
        check(bytes.size() > 2 && bytes.substr(bytes.size() - 2) == "\n\n" &&
                  bytes.substr(0, 28) == "request=smtpd_access_policy\n",
              "P1: a malformed greylist request");
        policy_outstanding_ = true;
        return;
      case Action::Kind::StartTimer:
        check(config_.greet_delay_ms > 0 && !timer_started_ && a.timer == Timer::Greeting &&
                  a.millis == config_.greet_delay_ms,
              "W3: a timer asked for without -p, twice, or with another wait");
        timer_started_ = true;
        return;
      case Action::Kind::Log:
        check(a.level <= config_.log_level, "L1: a log line above the configured level");
        for (char c : bytes) {
          unsigned char u = static_cast<unsigned char>(c);
          check(u >= 0x20 && u < 0x7f, "L1: a log line with an unprintable byte");
        }
        if (!auth_secret_.empty())
          check(bytes.find(auth_secret_) == std::string_view::npos, "L1: SASL data in a log line");
        if (bytes.substr(0, 2) == "> ")
          check(auth_log_redacted(bytes.substr(2)),
                "L1: an AUTH command logged past its mechanism");
        return;
      case Action::Kind::Exit:
        check(!exited_, "X1: a second exit");
        check(a.status == tws::kExitTemporary ||
                  (a.status == tws::kExitChildStatus && quit_forwarded_),
              "X1: an exit status other than 111, or the child's without QUIT");
        check(session_->finished(), "X1: an exit but not finished()");
        exited_ = true;
        exit_abort_ = a.abort_child;
        forget_expected(expected_.size());
        return;
    }
  }

  // ---- what reaches the child
  void to_child(const Action& a, std::string_view bytes) {
    if (bytes.empty()) return;
    check(config_.greet_delay_ms == 0 || greeting_done_,
          "W1: client bytes reached the child before the greeting's last line");
    const char* base = client_stream_.data();
    bool view = !a.is_owned && bytes.data() >= base && bytes.data() + bytes.size() <= base + seen_;
    std::size_t offset = view ? static_cast<std::size_t>(bytes.data() - base) : 0;
    if (view) {
      check(offset >= view_end_, "O1: client bytes reach the child twice or out of order");
      view_end_ = offset + bytes.size();
      if (tls_started_)
        check(offset >= tls_floor_, "T1: plaintext from before the handshake reached the child");
    } else if (a.is_owned) {
      if (tls_started_)
        check(std::string_view(client_stream_).substr(tls_floor_).find(bytes) !=
                  std::string_view::npos,
              "T1: a line that was never sent after the handshake reached the child");
    } else {
      static constexpr std::string_view kMade[] = {".", "..", "..\r", ".\r\n"};
      bool made = std::find(std::begin(kMade), std::end(kMade), bytes) != std::end(kMade);
      check(made || bytes == tws::kResetCommand, "bytes to the child from nowhere");
    }

    switch (child_mode_) {
      case ChildMode::Body: {
        // Each piece is the reference's next bytes, so what went out is
        // always a prefix of the reference output.
        const Scanned& ref = body_reference(seen_);
        check(body_out_ + bytes.size() <= ref.out.size(),
              ref.finished ? "B1: a body piece runs past the end of the body"
                           : "B1: body to the child differs from the client's body");
        check(std::string_view(ref.out).substr(body_out_, bytes.size()) == bytes,
              "B1: body to the child differs from the client's body");
        body_out_ += bytes.size();
        if (ref.finished && body_out_ == ref.out.size()) {
          child_mode_ = ChildMode::Command;
          ++owed_;  // the message's reply
          sent_.push_back(Sent::Ends);
          pair_replies();
        }
        return;
      }
      case ChildMode::Chunk: {
        check(view, "B2: chunk bytes that are not the client's");
        check(bytes.size() <= chunk_left_, "B2: a chunk piece runs past the chunk");
        if (chunk_next_ == 0) {
          check(offset >= chunk_line_.size() &&
                    std::string_view(client_stream_)
                            .substr(offset - chunk_line_.size(), chunk_line_.size()) == chunk_line_,
                "B2: a chunk that does not follow its BDAT line");
        } else {
          check(offset == chunk_next_, "B2: chunk bytes not contiguous");
        }
        chunk_next_ = offset + bytes.size();
        chunk_left_ -= bytes.size();
        if (chunk_left_ == 0) child_mode_ = ChildMode::Command;
        return;
      }
      case ChildMode::AuthLine: {
        partial_ += bytes;
        if (partial_.back() != '\n') return;
        std::string_view data = content_of(partial_);
        if (secret_worth_checking(data)) auth_secret_.assign(data);
        partial_.clear();
        child_mode_ = ChildMode::Command;
        ++owed_;  // the reply to the SASL line
        sent_.push_back(Sent::Auth);
        pair_replies();
        return;
      }
      case ChildMode::Command:
        break;
    }
    check(bytes.back() == '\n' && bytes.find('\n') == bytes.size() - 1 && partial_.empty(),
          "O2: a command reached the child in pieces or with others");
    std::string_view content = content_of(bytes);
    check(content.size() <= tws::kMaxCommandLine,
          "O2: an over-long command line reached the child");
    tws::Command cmd = tws::parse_command(content);
    if (!tls_started_) {
      check(!(cmd.verb == tws::Verb::Auth && auth_waits_for_tls()),
            "A1: an AUTH command reached the child before TLS under -a");
      check(!config_.tls_required || allowed_before_tls(cmd.verb),
            "A1: a command other than EHLO, HELO, NOOP, RSET, QUIT reached the child before TLS "
            "under -s");
    }
    ++owed_;
    if (cmd.verb == tws::Verb::Rcpt && config_.greylist && !authenticated_) {
      check(sent_.empty(), "G2: a RCPT reached the child before the replies to earlier commands");
      if (!config_.client_address.empty() && in_transaction_)
        check(request_for_rcpt_, "G2: a RCPT reached the child with no greylist request");
      request_for_rcpt_ = false;
    }
    sent_.push_back(sent_kind(cmd));
    pair_replies();
    if (cmd.verb == tws::Verb::Quit) quit_forwarded_ = true;
    if (cmd.verb == tws::Verb::Auth) {
      // "AUTH mech initial-response": the response must not be logged.
      std::string_view args = cmd.args;
      std::size_t sp = args.find_first_of(" \t");
      if (sp != std::string_view::npos) {
        std::string_view response = args.substr(sp + 1);
        while (!response.empty() && (response.front() == ' ' || response.front() == '\t'))
          response.remove_prefix(1);
        std::string_view before = content.substr(0, content.size() - response.size());
        if (secret_worth_checking(response) &&
            tws::printable(before, tws::kMaxLoggedText).find(response) == std::string::npos)
          auth_response_.assign(response);
      }
    }
    if (cmd.verb == tws::Verb::Bdat && cmd.chunk_ok && cmd.chunk_size > 0) {
      child_mode_ = ChildMode::Chunk;
      chunk_left_ = cmd.chunk_size;
      chunk_line_.assign(bytes);
      chunk_next_ = 0;
    }
  }

  // G1, G2: what each thing sent to the child was, for its reply.
  enum class Sent { Other, Auth, Mail, Helo, Rset, Ends };
  static Sent sent_kind(const tws::Command& cmd) {
    using tws::Verb;
    switch (cmd.verb) {
      case Verb::Auth:
        return Sent::Auth;
      case Verb::Mail:
        return Sent::Mail;
      case Verb::Ehlo:
      case Verb::Helo:
        return Sent::Helo;
      case Verb::Rset:
        return Sent::Rset;
      case Verb::Bdat:
        return cmd.chunk_last ? Sent::Ends : Sent::Other;
      default:
        return Sent::Other;
    }
  }
  // The n-th final line answers the n-th thing sent, whichever came first
  // to the driver (a child may answer ahead within one read).
  void pair_replies() {
    while (!sent_.empty() && !codes_.empty()) {
      Sent what = sent_.front();
      sent_.pop_front();
      int code = codes_.front();
      codes_.pop_front();
      answered(what, code);
    }
  }
  void answered(Sent what, int code) {
    bool ok = code >= 200 && code < 300;
    switch (what) {
      case Sent::Auth:
        if (ok) authenticated_ = true;
        break;
      case Sent::Mail:
        if (ok) in_transaction_ = true;
        break;
      case Sent::Helo:
        if (ok) in_transaction_ = false;
        break;
      case Sent::Rset:
      case Sent::Ends:
        in_transaction_ = false;
        break;
      case Sent::Other:
        break;
    }
  }

  // A1: the policy's view, as the Session must hold it.
  // Whether the front's signal descriptor is closed after the signal, and
  // whether an answer comes back (else closing it is where TLS starts).
  bool signal_closes() const {
    switch (config_.control) {
      case ControlProtocol::Legacy:
      case ControlProtocol::Current:
        return true;
      case ControlProtocol::None:
      case ControlProtocol::Ucspi:
        break;
    }
    return false;
  }
  bool front_answers() const {
    switch (config_.control) {
      case ControlProtocol::Current:
      case ControlProtocol::Ucspi:
        return true;
      case ControlProtocol::None:
      case ControlProtocol::Legacy:
        break;
    }
    return false;
  }

  bool auth_waits_for_tls() const {
    return (config_.auth_needs_tls || config_.tls_required) && !tls_started_;
  }
  static bool allowed_before_tls(tws::Verb v) {
    using tws::Verb;
    return v == Verb::Ehlo || v == Verb::Helo || v == Verb::Noop || v == Verb::Rset ||
           v == Verb::Quit;
  }

  // L1: the log text of an AUTH command ("> " removed) is what
  // loggable_command leaves of it: "AUTH", white space (SP, or TAB and CR
  // escaped), at most a mechanism name, perhaps cut ("...") and
  // " [redacted]". Text that is not an AUTH command passes.
  static bool auth_log_redacted(std::string_view t) {
    if (t.size() < 4) return true;
    for (std::size_t i = 0; i < 4; ++i) {
      char c = t[i];
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
      if (c != "AUTH"[i]) return true;
    }
    constexpr std::string_view kRedacted = " [redacted]";
    if (t.size() >= kRedacted.size() && t.substr(t.size() - kRedacted.size()) == kRedacted)
      t.remove_suffix(kRedacted.size());
    if (t.size() >= 7 && t.substr(t.size() - 3) == "...") t.remove_suffix(3);
    std::size_t p = 4;
    bool space = false;
    while (p < t.size()) {
      if (t[p] == ' ') {
        p += 1;
      } else if (t.substr(p, 4) == "\\x09" || t.substr(p, 4) == "\\x0d") {
        p += 4;
      } else {
        break;
      }
      space = true;
    }
    if (p == t.size()) return true;
    if (!space) return true;  // "AUTHX", "AUTH\x00...": another verb, logged whole
    std::size_t mech = p;
    while (p < t.size() && p - mech < 20) {
      char c = t[p];
      bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '_';
      if (!ok) break;
      ++p;
    }
    return p == t.size();
  }

  // A secret L1 can look for without false alarms: long enough and made
  // of base64 (what SASL sends), so in a log line it can only stand
  // between the separators the log puts around what it quotes.
  static bool secret_worth_checking(std::string_view s) {
    if (s.size() < 12) return false;
    for (char c : s) {
      bool b64 = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '+' || c == '/' || c == '=';
      if (!b64) return false;
    }
    return true;
  }

  // ---- what reaches the client (R1, R2)
  void to_client(std::string_view bytes) {
    check(!bytes.empty() && bytes.back() == '\n' && bytes.find('\n') == bytes.size() - 1,
          "R1: not exactly one line to the client");
    tws::ReplyLine r = tws::parse_reply(content_of(bytes));
    check(r.ok, "R1: a malformed reply line to the client");
    last_to_client_.assign(bytes);
    bool greeting_line = config_.greet_delay_ms > 0 && !greeting_done_;
    if (r.last()) greeting_done_ = true;
    // W3: a one-line greeting goes out first as a continuation of itself.
    if (greeting_line && !r.last() && !greeting_copy_ && !expected_.empty() &&
        expected_.front().final_line && expected_.front().key == reply_key(bytes)) {
      greeting_copy_ = true;
      return;
    }
    // A final EHLO line relayed as a continuation: the helper's own
    // STARTTLS line must come next. After a continuation followed only by
    // STARTTLS lines and the reply's end, it may come next (an EHLO reply
    // whose STARTTLS lines went) or not (any other reply, relayed whole).
    bool offer = bytes == "250 STARTTLS\r\n";
    if (offer_due_) {
      offer_due_ = false;
      check(offer, "R2: a final line made a continuation, and no STARTTLS after it");
      if (owed_ > 0) --owed_;
      return;
    }
    if (offer_may_come_) {
      offer_may_come_ = false;
      if (offer) {
        std::size_t n = 0;
        while (n < expected_.size() && expected_[n].may_drop) {
          if (expected_[n++].final_line) break;
        }
        forget_expected(n);
        if (owed_ > 0) --owed_;
        return;
      }
    }
    // The child's next line, past lines the Session may have dropped; or
    // else one of the helper's own, and nothing is skipped.
    std::string key = reply_key(bytes);
    for (std::size_t j = 0; j < expected_.size(); ++j) {
      // A STARTTLS line the Session may drop is never rewritten: when it
      // is relayed, its separator is the child's.
      bool same = expected_[j].key == key &&
                  (!expected_[j].may_drop || expected_[j].final_line == r.last());
      if (same) {
        offer_due_ = expected_[j].final_line && !r.last();
        if (!expected_[j].final_line && !r.last()) {
          std::size_t k = j + 1;
          while (k < expected_.size() && expected_[k].may_drop && !expected_[k].final_line) ++k;
          offer_may_come_ =
              k < expected_.size() && expected_[k].may_drop && expected_[k].final_line;
        }
        // A continuation relayed as the final line: the STARTTLS lines
        // after it, through the reply's own end, were dropped.
        std::size_t end = j + 1;
        if (r.last() && !expected_[j].final_line) {
          while (end < expected_.size() && expected_[end].may_drop) {
            bool last = expected_[end++].final_line;
            if (last) break;
          }
        }
        forget_expected(end);
        if (r.last() && owed_ > 0) --owed_;
        return;
      }
      if (!expected_[j].may_drop) break;
    }
    namespace rp = tws::reply;
    if (bytes == rp::kPregreet) {
      check(greeting_line && reading_client_, "W2: the pregreet 554 without -p, or out of turn");
    } else if (bytes == rp::kAuthNeedsTls || bytes == rp::kTlsRequired) {
      bool required = bytes == rp::kTlsRequired;
      check(!tls_started_, "A1: a TLS policy refusal inside TLS");
      check(required ? config_.tls_required : config_.auth_needs_tls && !config_.tls_required,
            required ? "A1: 530 without -s" : "A1: 538 without -a, or under -s");
    } else {
      check(helper_line(bytes, policy_replies_),
            "R2: the client got a line that is neither the child's next nor the helper's own");
    }
    bool closing =
        bytes == rp::kServerBroken || bytes == rp::kTimeout || bytes == rp::kPolicyUnavailable;
    if (bytes == "250 STARTTLS\r\n") {
      if (owed_ > 0) --owed_;  // the end of an EHLO reply
    } else if (!closing && reading_client_) {
      check(owed_ == 0, "R3: the helper answered a command before the child answered earlier ones");
    }
  }

  enum class ChildMode { Command, Body, Chunk, AuthLine };

  SessionConfig config_;
  Session* session_ = nullptr;

  // The client's side: every byte it ever sent; consumed_ taken by the
  // Session (or dropped); seen_ the end of what the current call was given.
  std::string client_stream_;
  std::size_t consumed_ = 0;
  std::size_t seen_ = 0;
  bool client_eof_ = false;
  bool client_eof_told_ = false;
  bool child_blocked_ = false;
  std::size_t view_end_ = 0;

  // The child's side.
  bool child_eof_ = false;
  std::string reply_part_;
  bool reply_start_ = true;      // the next line opens a reply
  bool offer_due_ = false;       // the next line to the client is "250 STARTTLS"
  bool offer_may_come_ = false;  // ... or may be
  std::deque<ExpectedLine> expected_;
  std::size_t waiting_ = 0;        // lines in expected_ that must be relayed
  std::size_t waiting_final_ = 0;  // ... and of those, final lines
  std::vector<tws::ReplyLine> lines_this_call_;
  ChildMode child_mode_ = ChildMode::Command;
  std::string partial_;
  std::size_t body_start_ = 0;
  std::size_t body_out_ = 0;  // body bytes the child got so far
  GrowingBody reference_;
  std::size_t reference_end_ = 0;  // the prefix it was last fed up to
  std::uint64_t chunk_left_ = 0;
  std::size_t chunk_next_ = 0;
  std::string chunk_line_;
  bool quit_forwarded_ = false;
  std::size_t owed_ = 0;  // R3: replies the child owes
  bool reading_client_ = false;
  std::string auth_secret_;    // SASL data sent in this batch
  std::string auth_response_;  // an AUTH initial response just sent

  // Control channel and TLS.
  bool control_write_fails_ = false;
  bool control_written_ = false;
  bool control_closed_ = false;
  bool tls_wait_ = false;
  bool tls_started_ = false;
  bool swallow_open_ = false;
  std::size_t tls_floor_ = 0;
  std::vector<ControlEvent> deferred_;

  // Greylisting.
  bool policy_outstanding_ = false;
  std::deque<Sent> sent_{Sent::Other};  // awaiting a reply; the greeting first
  std::deque<int> codes_;               // final reply lines not paired yet
  bool authenticated_ = false;          // G1: AUTH answered 2xx in this TLS epoch
  bool in_transaction_ = false;         // G2: a sender is accepted
  bool request_for_rcpt_ = false;       // G2: a request not yet used by a RCPT
  std::vector<std::string> policy_replies_;
  tws::PolicyAnswerReader reader_;

  bool exited_ = false;
  bool exit_abort_ = false;

  // The pregreet test (W1-W3).
  bool greeting_done_ = false;  // a final line reached the client
  bool timer_started_ = false;
  bool greeting_copy_ = false;
  std::string last_to_client_;

  // M1, M2.
  std::size_t largest_span_ = 0;
  std::size_t client_out_ = 0, child_out_ = 0, child_in_ = 0, events_in_ = 0;
};

SessionConfig config_of(std::uint8_t b, std::uint8_t policy) {
  SessionConfig c;
  c.auth_needs_tls = (policy & 1) != 0;
  c.tls_required = (policy & 2) != 0;
  c.greet_delay_ms = (policy & 4) != 0 ? 2000 : 0;
  int control = b & 3;
  c.control = control == 0   ? ControlProtocol::None
              : control == 1 ? ControlProtocol::Legacy
              : control == 2 ? ControlProtocol::Current
                             : ControlProtocol::Ucspi;
  c.greylist = (b & 4) != 0;
  c.greylist_fail_closed = (b & 8) != 0;
  int level = (b >> 4) & 7;
  c.log_level = static_cast<tws::LogLevel>(level > 4 ? 4 : level);
  c.client_address = (b & 128) ? "" : "192.0.2.1";
  c.client_name = "client.example";
  c.session_id = "fuzz";
  return c;
}

// Repeated payloads, at most 1 MiB per input (past that a payload goes
// once), so that an input stays quick to run; but a first byte 0xff makes
// 16 MiB, once per input, more than the Session may ever keep (M1).
std::string repeated(std::string_view payload, std::size_t* budget, bool* huge_used) {
  if (payload.empty()) return {};
  unsigned char k = static_cast<unsigned char>(payload[0]);
  std::size_t copies = (k % 64 + 1) * 16;
  payload.remove_prefix(1);
  if (payload.empty()) return {};
  if (k == 0xff && !*huge_used) {
    *huge_used = true;
    copies = (std::size_t{16} << 20) / payload.size() + 1;
    std::string out;
    out.reserve(copies * payload.size());
    for (std::size_t i = 0; i < copies; ++i) out += payload;
    return out;
  }
  if (copies * payload.size() > *budget) copies = 1;
  *budget -= std::min(*budget, copies * payload.size());
  std::string out;
  out.reserve(payload.size() * copies);
  for (std::size_t i = 0; i < copies; ++i) out += payload;
  return out;
}

constexpr std::string_view kKinds = "CcSsLEFrRlfWBUtpxdaG";
constexpr std::string_view kPlainKinds = "CSLEFrRlfWBUtpxda";

}  // namespace

TWS_FUZZ_TARGET(session) {
  if (size == 0) return 0;
  std::string_view script(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::uint8_t policy = 0;
  if (!script.empty() && script[0] == 'O') {
    std::size_t sep = script.find(kRecordSeparator);
    if (script.size() > 1) policy = static_cast<std::uint8_t>(script[1]);
    script.remove_prefix(sep == std::string_view::npos ? script.size()
                                                       : sep + kRecordSeparator.size());
  }
  Driver d(config_of(data[0], policy));
  std::size_t budget = std::size_t{1} << 20;
  bool huge_used = false;
  while (!script.empty()) {
    std::size_t sep = script.find(kRecordSeparator);
    std::string_view record = script.substr(0, sep);
    script.remove_prefix(sep == std::string_view::npos ? script.size()
                                                       : sep + kRecordSeparator.size());
    if (record.empty()) continue;
    char kind = record[0];
    std::string_view payload = record.substr(1);
    if (kKinds.find(kind) == std::string_view::npos)
      kind = kPlainKinds[static_cast<unsigned char>(kind) % kPlainKinds.size()];
    trace(std::string("record ") + kind, payload);
    switch (kind) {
      case 'C':
        d.client(payload);
        break;
      case 'c':
        d.client(repeated(payload, &budget, &huge_used));
        break;
      case 'S':
        d.child(payload);
        break;
      case 's':
        d.child(repeated(payload, &budget, &huge_used));
        break;
      case 'L':
        while (!payload.empty()) {
          std::size_t lf = payload.find('\n');
          std::size_t n = lf == std::string_view::npos ? payload.size() : lf + 1;
          d.child(payload.substr(0, n));
          payload.remove_prefix(n);
        }
        break;
      case 'E':
        d.client_eof();
        break;
      case 'F':
        d.child_eof();
        break;
      case 'r':
        d.control(ControlEvent::Ready);
        break;
      case 'R':
        d.ack_with_plaintext(payload);
        break;
      case 'l':
        d.control(ControlEvent::Lost);
        break;
      case 'f':
        d.control(ControlEvent::Failed);
        break;
      case 'W':
        d.fail_next_control_write();
        break;
      case 'B':
        d.block_child_input(true);
        break;
      case 'U':
        d.block_child_input(false);
        break;
      case 't': {
        static constexpr Timer kTimers[] = {Timer::Session, Timer::Client, Timer::Child,
                                            Timer::Control, Timer::Policy};
        d.timeout(payload.empty() ? Timer::Client
                                  : kTimers[static_cast<unsigned char>(payload[0]) % 5]);
        break;
      }
      case 'p':
        d.policy(PolicyVerdict{PolicyVerdict::Kind::Pass, {}});
        break;
      case 'x':
        d.policy(PolicyVerdict{});
        break;
      case 'd':
        d.policy(tws::decode_policy_action(payload));
        break;
      case 'a':
        d.policy_answer(payload);
        break;
      case 'G':
        d.timeout(Timer::Greeting);
        break;
    }
  }
  d.finish();
  return 0;
}
