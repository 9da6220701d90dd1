// The Session reducer (see session.h for the contract).
#include "session.h"

#include <cstring>
#include <iterator>
#include <utility>

#include "constants.h"
#include "log_text.h"
#include "policy.h"
#include "tls_front.h"

namespace tws {

namespace {

// A line without its terminator: LF, and a CR right before it.
std::string_view content_of(std::string_view raw) {
  if (!raw.empty() && raw.back() == '\n') raw.remove_suffix(1);
  if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
  return raw;
}

std::string_view terminator_of(std::string_view raw) {
  return raw.substr(content_of(raw).size());
}

// The next line of `in`: its size with the LF, or all of `in` when the LF
// has not come yet.
struct LineCut {
  std::size_t size;
  bool complete;
};

LineCut cut_line(std::string_view in) {
  const void* lf = std::memchr(in.data(), '\n', in.size());
  if (!lf) return {in.size(), false};
  return {static_cast<std::size_t>(static_cast<const char*>(lf) - in.data()) + 1, true};
}

// Whether the line made of `held` (its start, from earlier reads) and
// `piece` (up to its LF when complete) is, or will be, longer than `max`
// bytes without its terminator. The byte before the LF may be the CR of a
// CRLF, so max + 1 bytes before the LF pass only when the last is a CR.
bool line_too_long(std::string_view held, std::string_view piece, bool complete, std::size_t max) {
  std::size_t length = held.size() + piece.size() - (complete ? 1 : 0);
  std::string_view body = complete ? piece.substr(0, piece.size() - 1) : piece;
  char last = !body.empty() ? body.back() : (held.empty() ? '\0' : held.back());
  return length > max + 1 || (length == max + 1 && last != '\r');
}

bool positive(int code) {
  return code >= 200 && code < 300;
}

const char* yes_no(bool b) {
  return b ? "yes" : "no";
}

}  // namespace

Session::Session(SessionConfig config) : config_(std::move(config)) {
  if (config_.tls_required) config_.auth_needs_tls = true;  // -s implies -a
  pregreet_ = config_.greet_delay_ms > 0;
  push(Pending::Kind::Greeting);
}

// ---------------------------------------------------------------------------
// Small tools.

void Session::push(Pending::Kind kind, std::string text, std::string extra) {
  pending_.push_back(Pending{kind, std::move(text), std::move(extra)});
}

void Session::emit(Action::Kind kind, std::string_view bytes, bool copy) {
  if (kind == Action::Kind::ToClient) replies_this_call_ += bytes.size();
  Action& a = actions_.emplace_back();
  a.kind = kind;
  if (copy) {
    a.owned.assign(bytes);
    a.is_owned = true;
  } else {
    a.view = bytes;
  }
}

void Session::log(LogLevel level, std::string message) {
  if (!logs(level)) return;
  Action& a = actions_.emplace_back();
  a.kind = Action::Kind::Log;
  a.level = level;
  a.owned = std::move(message);
  a.is_owned = true;
}

// ---------------------------------------------------------------------------
// How a session ends: one row per Ending, in its order. The manual page's
// ENDINGS section prints this table; man.endings checks it.
//
// The child's input is always closed at the end. `drop` says the child
// failed: what it was not given yet is dropped and it is not waited for;
// so is it when a message was being sent (mid_message()), so the child
// never gets a terminator the client did not send.

namespace {

struct EndingRule {
  Ending ending;
  LogLevel level;
  std::string_view log;    // the log line (a detail may follow)
  std::string_view reply;  // to the client (never while TLS is pending)
  int status;
  bool drop;
};

constexpr EndingRule kEndings[] = {
    {.ending = Ending::Quit,
     .level = LogLevel::Debug,
     .log = "QUIT accepted",
     .reply = {},
     .status = kExitChildStatus,
     .drop = false},
    {.ending = Ending::ClientClosed,
     .level = LogLevel::Info,
     .log = "client closed its side without QUIT: every reply owed was relayed",
     .reply = {},
     .status = kExitTemporary,
     .drop = false},
    {.ending = Ending::ClientCut,
     .level = LogLevel::Warning,
     .log = "client disconnected in the middle of a message: the message is dropped",
     .reply = {},
     .status = kExitTemporary,
     .drop = true},
    {.ending = Ending::ServerClosing,
     .level = LogLevel::Warning,
     .log = "child closing",
     .reply = {},
     .status = kExitTemporary,
     .drop = false},
    {.ending = Ending::ChildClosed,
     .level = LogLevel::Error,
     .log = "child closed its output before QUIT",
     .reply = reply::kServerBroken,
     .status = kExitTemporary,
     .drop = true},
    {.ending = Ending::ChildBroken,
     .level = LogLevel::Error,
     .log = "child is not speaking SMTP",
     .reply = reply::kServerBroken,
     .status = kExitTemporary,
     .drop = true},
    {.ending = Ending::ChildTimeout,
     .level = LogLevel::Error,
     .log = "timed out waiting for the child's reply",
     .reply = reply::kServerBroken,
     .status = kExitTemporary,
     .drop = true},
    {.ending = Ending::ClientTimeout,
     .level = LogLevel::Warning,
     .log = "timed out waiting for the client",
     .reply = reply::kTimeout,
     .status = kExitTemporary,
     .drop = false},
    {.ending = Ending::SessionTimeout,
     .level = LogLevel::Warning,
     .log = "session time limit reached",
     .reply = reply::kTimeout,
     .status = kExitTemporary,
     .drop = false},
    {.ending = Ending::Stopped,
     .level = LogLevel::Warning,
     .log = "stopped",
     .reply = reply::kStopping,
     .status = kExitTemporary,
     .drop = false},
    {.ending = Ending::TlsFailed,
     .level = LogLevel::Error,
     .log = "TLS handshake not confirmed by the TLS wrapper",
     .reply = {},
     .status = kExitTemporary,
     .drop = false},
    {.ending = Ending::PolicyFailed,
     .level = LogLevel::Error,
     .log = "greylist lookup failed (fail-closed)",
     .reply = reply::kPolicyUnavailable,
     .status = kExitTemporary,
     .drop = false},
    {.ending = Ending::BdatUnreadable,
     .level = LogLevel::Warning,
     .log = "BDAT with an unreadable size: closing",
     .reply = reply::kBdatClosing,
     .status = kExitTemporary,
     .drop = false},
    {.ending = Ending::WaitFailed,
     .level = LogLevel::Error,
     .log = "the relay's wait for events failed",
     .reply = reply::kLocalError,
     .status = kExitTemporary,
     .drop = true},
    {.ending = Ending::Pregreet,
     .level = LogLevel::Info,
     .log = "pregreet",
     .reply = reply::kPregreet,
     .status = kExitTemporary,
     .drop = false},
};

const EndingRule& rule_of(Ending e) {
  return kEndings[static_cast<std::size_t>(e)];
}

static_assert([] {
  for (std::size_t i = 0; i < std::size(kEndings); ++i)
    if (static_cast<std::size_t>(kEndings[i].ending) != i) return false;
  return true;
}());

}  // namespace

void Session::end(Ending ending, std::string_view detail) {
  if (mode_ == Mode::Closed) return;
  if (ending == Ending::ClientClosed && mid_message()) ending = Ending::ClientCut;
  const EndingRule& r = rule_of(ending);
  std::string line(r.log);
  if (detail.empty() && closing_ == ending) detail = closing_detail_;
  if (!detail.empty()) {
    line += ": ";
    line += detail;
  }
  end_transaction("none (session ended)");
  log(r.level, std::move(line));
  if (!r.reply.empty() && !tls_waiting_) emit(Action::Kind::ToClient, r.reply, false);
  if (std::string refusals = refusal_summary(); !refusals.empty())
    log(LogLevel::Info, std::move(refusals));
  Action& a = actions_.emplace_back();
  a.kind = Action::Kind::Exit;
  a.status = r.status;
  a.abort_child = r.drop || mid_message();
  mode_ = Mode::Closed;
  pending_.clear();
  tls_waiting_ = false;
  policy_asked_ = false;
  closing_.reset();
}

void Session::violation(std::string_view why) {
  end(Ending::ChildBroken, why);
}

// Client EOF and stop signals: nothing more is read from the client; the
// replies owed for what it already sent are relayed (settle() ends the
// session once none is owed).
void Session::close_after_owed_replies(Ending ending) {
  closing_ = ending;
  line_.clear();  // a command line the client never finished
  settle();
}

void Session::settle() {
  if (!closing_ || mode_ == Mode::Closed) return;
  // Nothing owed, or what comes next needs the client: a body, SASL
  // data, a TLS handshake.
  // (The rest of a refused BDAT chunk being dropped is needed by no one.)
  bool needs_client = mid_message() || mode_ == Mode::AuthLine ||
                      (!pending_.empty() && pending_.front().kind == Pending::Kind::StartTls);
  // A stop does not wait for the greylist server: the RCPT it was asked
  // about never reached the child, and the 421 answers it.
  bool lookup_pending =
      stopping() && !pending_.empty() && pending_.front().kind == Pending::Kind::Policy;
  if (pending_.empty() || needs_client || lookup_pending) end(*closing_);
}

void Session::end_transaction(std::string_view outcome) {
  if (!in_transaction_) return;
  if (logs(LogLevel::Info)) {
    std::string m = "mail from=<" + printable(sender_, kMaxLoggedText) + "> to=";
    for (std::size_t i = 0; i < recipients_.size(); ++i) {
      if (i) m += ',';
      m += '<' + printable(recipients_[i], kMaxLoggedText) + '>';
    }
    if (recipients_total_ > recipients_.size())
      m += ",(+" + std::to_string(recipients_total_ - recipients_.size()) + " more)";
    if (recipients_total_ == 0) m += "none";
    m += " reply=";
    m += outcome;
    m += " tls=";
    m += tls_active_ && !tls_name_.empty() ? tls_name_ : yes_no(tls_active_);
    if (authenticated_) m += " auth=yes";
    log(LogLevel::Info, std::move(m));
  }
  in_transaction_ = false;
  sender_.clear();
  size_.clear();
  recipients_.clear();
  recipients_total_ = 0;
  ++transactions_;
}

bool Session::wants_client() const {
  if (closing_) return false;
  if (pregreet_running()) return true;  // a byte now is the test's answer
  switch (mode_) {
    case Mode::Held:
    case Mode::Closed:
      return false;
    case Mode::Command:
      return pending_.size() < kMaxPendingCommands;
    default:
      return true;
  }
}

bool Session::awaiting_child() const {
  return mode_ != Mode::Closed && !pending_.empty() && pending_.front().expects_reply();
}

// ---------------------------------------------------------------------------
// Client side.

std::size_t Session::on_client(std::string_view in, std::int64_t greeting_ms) {
  std::size_t used = 0;
  replies_this_call_ = 0;
  if (pregreet_running() && !in.empty()) {
    early_talk(in, greeting_ms);
    return in.size();
  }
  while (used < in.size()) {
    std::string_view rest = in.substr(used);
    switch (mode_) {
      case Mode::Closed:
        return in.size();
      case Mode::Held:
        return used;
      case Mode::TlsPending:
        // RFC 3207 / CVE-2011-0411: nothing sent before the handshake may
        // be read as if it came over TLS.
        discarded_ += rest.size();
        log(LogLevel::Debug,
            "discarded " + std::to_string(rest.size()) + " bytes sent before the TLS handshake");
        return in.size();
      case Mode::Body: {
        pieces_.clear();
        std::size_t n = scanner_.scan(rest, pieces_);
        for (std::string_view piece : pieces_) emit(Action::Kind::ToChild, piece, false);
        used += n;
        if (scanner_.finished()) {
          mode_ = Mode::Command;
          push(Pending::Kind::Message);
        }
        break;
      }
      case Mode::Chunk: {
        std::size_t take = rest.size();
        if (take > chunk_left_) take = static_cast<std::size_t>(chunk_left_);
        if (chunk_forward_) emit(Action::Kind::ToChild, rest.substr(0, take), false);
        chunk_left_ -= take;
        used += take;
        if (chunk_left_ == 0) mode_ = Mode::Command;
        break;
      }
      case Mode::AuthLine: {
        // Opaque SASL data: not parsed, not logged, not limited.
        LineCut cut = cut_line(rest);
        emit(Action::Kind::ToChild, rest.substr(0, cut.size), false);
        used += cut.size;
        if (cut.complete) {
          log(LogLevel::Debug, "> [authentication data]");
          push(Pending::Kind::Auth);
          mode_ = Mode::Held;
        }
        break;
      }
      case Mode::SkipLine: {
        LineCut cut = cut_line(rest);
        if (!cut.complete) return in.size();
        used += cut.size;
        mode_ = Mode::Command;
        break;
      }
      case Mode::Command: {
        // Commands the helper answers itself (refusals, 500s) need no
        // round trip: one call makes at most kMaxClientOutput of replies,
        // and the driver offers the rest once the client has read them.
        if (pending_.size() >= kMaxPendingCommands || replies_this_call_ >= kMaxClientOutput)
          return used;
        LineCut cut = cut_line(rest);
        std::string_view piece = rest.substr(0, cut.size);
        used += cut.size;
        if (line_too_long(line_, piece, cut.complete, kMaxCommandLine)) {
          log(LogLevel::Warning,
              "command line longer than " + std::to_string(kMaxCommandLine) + " bytes refused");
          local(reply::kLineTooLong);
          line_.clear();
          if (!cut.complete) mode_ = Mode::SkipLine;
          pump();
          break;
        }
        if (!cut.complete) {
          line_.append(piece);
          break;
        }
        if (line_.empty()) {
          command(piece, false);
        } else {
          line_.append(piece);
          command(line_, true);
          line_.clear();
        }
        break;
      }
    }
  }
  return used;
}

void Session::command(std::string_view raw, bool copy) {
  std::string_view content = content_of(raw);
  Command cmd = parse_command(content);
  if (logs(LogLevel::Debug))
    log(LogLevel::Debug, "> " + loggable_command(content, cmd.verb == Verb::Auth, kMaxLoggedText));
  std::string_view refused = refusal(cmd);
  if (!refused.empty() && cmd.verb != Verb::Bdat) {
    refuse(refused);
    return;
  }
  using K = Pending::Kind;
  switch (cmd.verb) {
    case Verb::StartTls:
      starttls(cmd);
      return;
    case Verb::Bdat:
      bdat(raw, copy, cmd, refused);
      return;
    case Verb::Rcpt:
      if (config_.greylist && !authenticated_) {
        // The RCPT waits for the policy verdict; nothing after it may reach
        // the child first.
        push(K::Policy, std::string(raw), std::string(cmd.address));
        mode_ = Mode::Held;
        pump();
        return;
      }
      emit(Action::Kind::ToChild, raw, copy);
      push(K::Rcpt, std::string(cmd.address));
      return;
    case Verb::Ehlo:
    case Verb::Helo:
      emit(Action::Kind::ToChild, raw, copy);
      push(cmd.verb == Verb::Ehlo ? K::Ehlo : K::Helo, std::string(cmd.args));
      return;
    case Verb::Mail:
      emit(Action::Kind::ToChild, raw, copy);
      push(K::Mail, std::string(cmd.address), std::string(size_parameter(cmd.params)));
      return;
    case Verb::Rset:
      emit(Action::Kind::ToChild, raw, copy);
      push(K::Rset);
      return;
    case Verb::Noop:
      emit(Action::Kind::ToChild, raw, copy);
      push(K::Noop);
      return;
    case Verb::Quit:
      emit(Action::Kind::ToChild, raw, copy);
      push(K::Quit);
      quit_sent_ = true;
      mode_ = Mode::Held;
      return;
    case Verb::Data:
    case Verb::Auth:
    case Verb::Other:
      // The child's reply decides what the next client bytes are (a body
      // after 354, SASL data after 334), so nothing more is read until then.
      emit(Action::Kind::ToChild, raw, copy);
      push(cmd.verb == Verb::Auth ? K::Auth : K::Held, std::string(verb_name(cmd.verb)));
      mode_ = Mode::Held;
      return;
  }
}

// The TLS policy (-a, -s). The child was started before any TLS and cannot
// know whether the session is encrypted, so the helper keeps it: before TLS,
// AUTH (RFC 4954 6) or, under -s, everything but EHLO, HELO, NOOP, RSET,
// QUIT and STARTTLS (RFC 3207 4) is answered here and never reaches the
// child. Unknown verbs are refused too: one may be a server's own extension
// that takes data or credentials. Returns the reply, or empty to go on.
std::string_view Session::refusal(const Command& cmd) const {
  if (tls_active_) return {};
  if (config_.tls_required) {
    switch (cmd.verb) {
      case Verb::Ehlo:
      case Verb::Helo:
      case Verb::Noop:
      case Verb::Rset:
      case Verb::Quit:
      case Verb::StartTls:
        return {};
      default:
        return reply::kTlsRequired;
    }
  }
  if (config_.auth_needs_tls && cmd.verb == Verb::Auth) return reply::kAuthNeedsTls;
  return {};
}

// A refused command is answered in its turn and counted, never logged with
// its arguments.
void Session::refuse(std::string_view reply) {
  ++refused_;
  local(reply);
  pump();
}

// The session's one line about the TLS policy (-v), when it refused anything.
std::string Session::refusal_summary() const {
  if (refused_ == 0) return {};
  return "refused before TLS: " + std::to_string(refused_);
}

void Session::starttls(const Command& cmd) {
  if (!tls_front(config_.control).offers_starttls) {
    local(reply::kTlsNotOffered);
  } else if (tls_active_) {
    local(reply::kTlsActive);
  } else if (!cmd.args.empty()) {
    local(reply::kTlsArguments);
  } else if (control_lost_) {
    local(reply::kTlsTemporary);
  } else {
    push(Pending::Kind::StartTls);
    mode_ = Mode::TlsPending;
  }
  pump();
}

void Session::bdat(std::string_view raw, bool copy, const Command& cmd, std::string_view refused) {
  if (!cmd.chunk_ok) {
    // The size says where the next command starts; without it there is no
    // way to find the next command again.
    local(reply::kBdatSyntax);
    push(Pending::Kind::Close);
    mode_ = Mode::Held;
    pump();
    return;
  }
  chunk_left_ = cmd.chunk_size;
  chunk_forward_ = chunking_ && refused.empty();
  if (chunk_forward_) {
    emit(Action::Kind::ToChild, raw, copy);
    push(cmd.chunk_last ? Pending::Kind::ChunkLast : Pending::Kind::Chunk);
  } else if (!refused.empty()) {
    // Refused or not offered, the chunk is read and dropped, so its bytes
    // never pass for commands.
    refuse(refused);
  } else {
    local(reply::kBdatRefused);
    pump();
  }
  if (chunk_left_ > 0) mode_ = Mode::Chunk;
}

void Session::on_client_eof() {
  if (mode_ == Mode::Closed || quit_sent_ || closing_) return;
  // RFC 2920 3.2, RFC 5321 4.2: what the client sent before it closed
  // its side is answered. A message it left unfinished is not: the child
  // never gets a terminator the client did not send.
  if (mid_message()) {
    end(Ending::ClientCut);
    return;
  }
  log(LogLevel::Debug, "client closed its side: relaying the replies owed");
  close_after_owed_replies(Ending::ClientClosed);
}

void Session::on_stop(std::string_view signal_name) {
  if (mode_ == Mode::Closed) return;
  std::string why = "on " + std::string(signal_name);
  if (tls_waiting_ || mid_message()) {
    // No reply can go in the middle of a handshake; a message being sent
    // is cut, as for a client that vanished.
    end(Ending::Stopped, why);
    return;
  }
  log(LogLevel::Info, "stop requested " + why + ": relaying the replies owed");
  closing_detail_ = why;
  close_after_owed_replies(Ending::Stopped);
}

void Session::on_wait_failed(std::string_view why) {
  end(Ending::WaitFailed, why);
}

// ---------------------------------------------------------------------------
// Child side.

void Session::on_child(std::string_view in) {
  while (!in.empty() && mode_ != Mode::Closed) {
    LineCut cut = cut_line(in);
    std::string_view piece = in.substr(0, cut.size);
    if (line_too_long(reply_, piece, cut.complete, kMaxReplyLine)) {
      violation("reply line longer than " + std::to_string(kMaxReplyLine) + " bytes");
      return;
    }
    in.remove_prefix(cut.size);
    if (!cut.complete) {
      reply_.append(piece);
      return;
    }
    if (reply_.empty()) {
      reply_line(piece);
    } else {
      reply_.append(piece);
      std::string line = std::move(reply_);
      reply_.clear();
      reply_line(line);
    }
  }
}

void Session::reply_line(std::string_view raw) {
  std::string_view content = content_of(raw);
  ReplyLine r = parse_reply(content);
  if (!r.ok) {
    violation("bad reply line \"" + printable(content, kMaxLoggedText) + "\"");
    return;
  }
  if (logs(LogLevel::Debug)) log(LogLevel::Debug, "< " + printable(content, kMaxLoggedText));
  if (pending_.empty() || !pending_.front().expects_reply()) {
    unsolicited(raw, r);
    return;
  }
  Pending& head = pending_.front();
  ++reply_lines_;
  switch (head.kind) {
    case Pending::Kind::Greeting:
      greeting_line(raw, r);
      break;
    case Pending::Kind::Ehlo:
      ehlo_line(raw, r);
      break;
    case Pending::Kind::SwallowReset:
      // The client never asked for this reply, but a server that closes
      // says so to the client.
      if (r.code == 421 && !tls_waiting_) emit(Action::Kind::ToClient, raw, true);
      break;
    default:
      emit(Action::Kind::ToClient, raw, true);
      break;
  }
  if (!r.last()) return;
  if (logs(LogLevel::Info)) last_reply_ = printable(content, kMaxLoggedText);
  Pending done = std::move(head);
  pending_.pop_front();
  reply_lines_ = 0;
  complete(done, r);
  pump();
}

// EHLO (RFC 3207): the helper owns STARTTLS. The child's withheld keyword
// lines go (STARTTLS, and AUTH while it waits for TLS); one STARTTLS of the
// helper's own comes last while TLS can still start. Lines are held one
// behind, so the last kept line can still get its final ' '.
void Session::ehlo_line(std::string_view raw, const ReplyLine& r) {
  if (reply_lines_ == 1) {
    ehlo_rewrite_ = r.code == 250;
    ehlo_chunking_ = false;
    held_line_.clear();
  }
  if (!ehlo_rewrite_) {
    emit(Action::Kind::ToClient, raw, true);
    return;
  }
  if (reply_lines_ > 1) {
    EhloKeyword k = parse_ehlo_keyword(r.text);
    if (withheld(k)) {
      log(LogLevel::Trace, k == EhloKeyword::Auth ? "child's AUTH advertisement withheld until TLS"
                                                  : "child's STARTTLS advertisement removed");
      if (r.last()) flush_held_ehlo_line(true);
      return;
    }
    if (k == EhloKeyword::Chunking) ehlo_chunking_ = true;
    flush_held_ehlo_line(false);
  }
  held_line_.assign(raw);
  held_separator_ = r.separator;
  if (r.last()) flush_held_ehlo_line(true);
}

// The child's EHLO keywords the client must not see: STARTTLS is the
// helper's own, and under -a AUTH waits for TLS.
bool Session::withheld(EhloKeyword keyword) const {
  return keyword == EhloKeyword::StartTls ||
         (keyword == EhloKeyword::Auth && config_.auth_needs_tls && !tls_active_);
}

void Session::flush_held_ehlo_line(bool last) {
  bool offer = last && tls_front(config_.control).offers_starttls && !control_lost_ && !tls_active_;
  bool final_line = last && !offer;
  std::string_view held(held_line_);
  std::string out(held.substr(0, 3));
  if (held_separator_ == ReplySeparator::End) {
    if (!final_line) out += '-';
  } else {
    out += final_line ? ' ' : '-';
    out += content_of(held.substr(4));
  }
  out += terminator_of(held);
  emit(Action::Kind::ToClient, out, true);
  if (offer) {
    out.assign("250 ");
    out += reply::kStartTlsKeyword;
    out += "\r\n";
    emit(Action::Kind::ToClient, out, true);
  }
  held_line_.clear();
}

// The pregreet test (-p). The greeting's lines go out as they come but its
// last, which is held until the wait is over: the client sees at once that
// the connection is alive (a person at a terminal, a client with a short
// connect timeout), and a bot that sends as soon as it reads a 220, without
// waiting for the reply's end, is caught as surely as one that does not
// wait at all. A one-line greeting first goes out as a continuation of
// itself, as postscreen(8) sends its "220-" line. Only a 220 is held: a
// server that refuses the session with its greeting says so at once.
void Session::greeting_line(std::string_view raw, const ReplyLine& r) {
  if (reply_lines_ == 1 && r.code != 220) pregreet_ = false;
  if (!pregreet_running() || (r.last() && greeting_wait_over_)) {
    if (r.last()) pregreet_ = false;
    emit(Action::Kind::ToClient, raw, true);
    return;
  }
  if (!r.last()) {
    emit(Action::Kind::ToClient, raw, true);
  } else {
    if (!greeting_started_) {
      std::string_view content = content_of(raw);
      std::string out(content.substr(0, 3));
      out += '-';
      if (content.size() > 4) out += content.substr(4);
      out += terminator_of(raw);
      emit(Action::Kind::ToClient, out, true);
    }
    greeting_held_.assign(raw);
  }
  if (!greeting_started_) {
    greeting_started_ = true;
    Action& a = actions_.emplace_back();
    a.kind = Action::Kind::StartTimer;
    a.timer = Timer::Greeting;
    a.millis = config_.greet_delay_ms;
  }
}

// The wait is over: the held last line goes, and the client may speak. A
// greeting whose last line has not come yet goes on as it comes.
void Session::release_greeting() {
  if (!pregreet_running() || !greeting_started_) return;  // no timer was asked for
  greeting_wait_over_ = true;
  if (greeting_held_.empty()) return;
  pregreet_ = false;
  emit(Action::Kind::ToClient, greeting_held_, true);
  greeting_held_.clear();
  log(LogLevel::Trace, "pregreet: the client waited for the greeting");
  mode_ = Mode::Command;
  pump();
}

// Any byte before the greeting's last line (RFC 5321 4.3.1: the client
// waits for the 220). Nothing of it reaches the child; its first line is
// quoted as a command would be (an AUTH's initial response never shows).
void Session::early_talk(std::string_view bytes, std::int64_t greeting_ms) {
  pregreet_ = false;
  std::string_view first = bytes.substr(0, bytes.find('\n'));
  first = content_of(first);
  bool is_auth = parse_command(first).verb == Verb::Auth;
  std::string detail = std::to_string(bytes.size()) + " bytes ";
  detail += greeting_started_ ? "after " + std::to_string(greeting_ms) + " ms"
                              : std::string("before the greeting");
  detail += ": \"" + loggable_command(first, is_auth, kMaxLoggedText) + "\"";
  end(Ending::Pregreet, detail);
}

void Session::unsolicited(std::string_view raw, const ReplyLine& r) {
  // A server may announce its shutdown at any time (RFC 5321 3.8); anything
  // else out of turn would put every later reply out of step.
  if (r.code != 421) {
    violation("reply with no command waiting for it");
    return;
  }
  if (!tls_waiting_) emit(Action::Kind::ToClient, raw, true);
  if (r.last()) end(Ending::ServerClosing, printable(content_of(raw), kMaxLoggedText));
}

void Session::complete(const Pending& done, const ReplyLine& r) {
  using K = Pending::Kind;
  const int code = r.code;
  if (code == 421) {
    // The server is closing (RFC 5321 3.8): its 421 is the answer, and the
    // last one; commands after it get none.
    end(Ending::ServerClosing, "421 " + printable(r.text, kMaxLoggedText));
    return;
  }
  if ((code == 354 || code == 334) && done.kind != K::Held && done.kind != K::Auth) {
    violation("reply " + std::to_string(code) + " to a command that cannot take it");
    return;
  }
  switch (done.kind) {
    case K::Greeting:
      if (greeting_held_.empty()) mode_ = Mode::Command;  // else the wait goes on
      break;
    case K::Ehlo:
    case K::Helo:
      if (positive(code)) {
        end_transaction("none (new EHLO/HELO)");
        helo_ = done.text;
        esmtp_ = done.kind == K::Ehlo;
        chunking_ = done.kind == K::Ehlo && ehlo_rewrite_ && ehlo_chunking_;
      }
      break;
    case K::Mail:
      if (positive(code)) {
        end_transaction("none (new MAIL)");
        in_transaction_ = true;
        sender_ = done.text;
        size_ = done.extra;
      }
      break;
    case K::Rcpt:
      if (positive(code) && in_transaction_) {
        if (recipients_.size() < kMaxLoggedRecipients) recipients_.push_back(done.text);
        ++recipients_total_;
      }
      break;
    case K::Rset:
      end_transaction("none (RSET)");
      break;
    case K::Quit:
      if (positive(code)) {
        end(Ending::Quit);
        return;
      }
      mode_ = Mode::Command;
      quit_sent_ = false;
      break;
    case K::Auth:
      // One step (235 to AUTH with an initial response) or the last of
      // the 334 challenges: the server accepted the client. 4xx, 5xx and
      // the 501 to a client's "*" cancel change nothing.
      if (positive(code) && !authenticated_) {
        authenticated_ = true;
        if (config_.greylist) log(LogLevel::Info, "client authenticated: not greylisted");
      }
      [[fallthrough]];
    case K::Held:
      if (code == 354) {
        scanner_.reset();
        mode_ = Mode::Body;
      } else if (code == 334) {
        mode_ = Mode::AuthLine;
      } else {
        mode_ = Mode::Command;
      }
      break;
    case K::ChunkLast:
    case K::Message:
      end_transaction(last_reply_);
      break;
    case K::Noop:
    case K::Chunk:
    case K::SwallowReset:
    case K::LocalReply:
    case K::StartTls:
    case K::Policy:
    case K::Close:
      break;
  }
}

void Session::on_child_eof() {
  // Only a QUIT the child accepted ends a session with the child's status
  // (complete()); closing before that is a failure, QUIT sent or not.
  end(Ending::ChildClosed);
}

// ---------------------------------------------------------------------------
// The FIFO head: entries the helper carries out itself.

void Session::pump() {
  advance();
  settle();
}

void Session::advance() {
  while (!pending_.empty() && mode_ != Mode::Closed) {
    Pending& head = pending_.front();
    switch (head.kind) {
      case Pending::Kind::LocalReply:
        emit(Action::Kind::ToClient, head.text, true);
        pending_.pop_front();
        continue;
      case Pending::Kind::Close:
        end(Ending::BdatUnreadable);
        return;
      case Pending::Kind::StartTls:
        if (tls_waiting_ || closing_) return;  // closing: settle() ends it
        if (control_lost_) {
          // The channel went away while STARTTLS waited its turn: nothing
          // was signalled, so the client can go on in plaintext.
          pending_.pop_front();
          emit(Action::Kind::ToClient, reply::kTlsTemporary, false);
          mode_ = Mode::Command;
          continue;
        }
        tls_waiting_ = true;
        log(LogLevel::Debug, "starting TLS");
        start_tls(tls_front(config_.control));
        return;
      case Pending::Kind::Policy:
        if (!policy_asked_ && !stopping()) ask_policy(head);
        return;
      default:
        return;  // a child reply is due
    }
  }
}

// The front's row says where the 220 goes, what signal follows and whether
// the signal descriptor is closed.
void Session::start_tls(const TlsFront& front) {
  emit(front.ready_via_control ? Action::Kind::ToControl : Action::Kind::ToClient, reply::kTlsReady,
       false);
  if (!front.signal.empty()) emit(Action::Kind::ToControl, front.signal, false);
  if (front.close_signal) emit(Action::Kind::CloseControl, {}, false);
  emit(Action::Kind::AwaitTls, {}, false);
}

void Session::on_control(ControlEvent event, std::string_view negotiated) {
  if (mode_ == Mode::Closed) return;
  if (!tls_waiting_) {
    // Outside a STARTTLS the only news is that the channel is gone.
    if (!control_lost_) log(LogLevel::Warning, "control channel lost: STARTTLS no longer offered");
    control_lost_ = true;
    return;
  }
  tls_waiting_ = false;
  if (event == ControlEvent::Lost && tls_front(config_.control).ready_via_control) {
    // Not even the 220 reached the front: the client is still in plaintext.
    log(LogLevel::Warning, "control channel failed before STARTTLS was signalled");
    control_lost_ = true;
    pending_.pop_front();
    emit(Action::Kind::ToClient, reply::kTlsTemporary, false);
    mode_ = Mode::Command;
    pump();
    return;
  }
  if (event != ControlEvent::Ready) {
    end(Ending::TlsFailed);
    return;
  }
  pending_.pop_front();
  tls_name_ = printable(negotiated, kMaxLoggedText);
  tls_started();
}

// RFC 3207 4.2: after the handshake the server forgets everything it
// learned from the client. The child is told with an RSET whose reply the
// client never sees.
void Session::tls_started() {
  end_transaction("none (STARTTLS)");  // it ran in plaintext
  tls_active_ = true;
  authenticated_ = false;
  if (discarded_ > 0)
    log(LogLevel::Warning, "discarded " + std::to_string(discarded_) +
                               " bytes the client sent after STARTTLS in plaintext");
  discarded_ = 0;
  log(LogLevel::Debug, tls_name_.empty() ? "TLS started" : "TLS started: " + tls_name_);
  helo_.clear();
  esmtp_ = false;
  chunking_ = false;
  line_.clear();
  emit(Action::Kind::ToChild, kResetCommand, false);
  push(Pending::Kind::SwallowReset);
  mode_ = Mode::Command;
}

// ---------------------------------------------------------------------------
// Greylisting.

void Session::ask_policy(Pending& head) {
  if (!in_transaction_) {
    // No sender yet: the child will refuse the RCPT itself.
    emit(Action::Kind::ToChild, head.text, true);
    head.kind = Pending::Kind::Rcpt;
    head.text = head.extra;
    mode_ = Mode::Command;
    return;
  }
  PolicyQuery q;
  q.client_address = config_.client_address;
  q.client_name = config_.client_name;
  q.helo_name = helo_;
  q.sender = sender_;
  q.recipient = head.extra;
  std::string instance = config_.session_id + "." + std::to_string(transactions_);
  q.instance = instance;
  q.size = size_;
  q.esmtp = esmtp_;
  std::string request = policy_request(q);
  policy_asked_ = true;
  if (request.empty()) {
    log(LogLevel::Warning, "no valid client address for the greylist request");
    on_policy(PolicyVerdict{});
    return;
  }
  emit(Action::Kind::AskPolicy, request, true);
}

void Session::on_policy(const PolicyVerdict& verdict) {
  if (!policy_asked_ || pending_.empty() || pending_.front().kind != Pending::Kind::Policy) return;
  policy_asked_ = false;
  Pending& head = pending_.front();
  std::string triplet = "client=" + config_.client_address + " from=<" +
                        printable(sender_, kMaxLoggedText) + "> to=<" +
                        printable(head.extra, kMaxLoggedText) + ">";
  using V = PolicyVerdict::Kind;
  V kind = verdict.kind;
  if (kind == V::Failure) {
    if (config_.greylist_fail_closed) {
      end(Ending::PolicyFailed, triplet);
      return;
    }
    log(LogLevel::Warning, "greylist lookup failed, letting the recipient through: " + triplet);
    kind = V::Pass;
  } else {
    log(LogLevel::Info, std::string("greylist ") +
                            (kind == V::Pass    ? "pass"
                             : kind == V::Defer ? "defer"
                                                : "reject") +
                            ": " + triplet);
  }
  if (kind == V::Pass) {
    emit(Action::Kind::ToChild, head.text, true);
    head.kind = Pending::Kind::Rcpt;
    head.text = head.extra;
  } else {
    head.kind = Pending::Kind::LocalReply;
    head.text = verdict.reply.empty()
                    ? std::string(kind == V::Defer ? reply::kGreylisted : reply::kPolicyRejected)
                    : verdict.reply;
  }
  mode_ = Mode::Command;
  pump();
}

// ---------------------------------------------------------------------------
// Clocks.

void Session::on_timeout(Timer timer) {
  if (mode_ == Mode::Closed) return;
  switch (timer) {
    case Timer::Greeting:
      release_greeting();
      return;
    case Timer::Policy:
      if (policy_asked_) {
        log(LogLevel::Warning, "greylist server did not answer in time");
        on_policy(PolicyVerdict{});
      }
      return;
    case Timer::Control:
      end(Ending::TlsFailed, "timed out waiting for the TLS handshake");
      return;
    case Timer::Child:
      end(Ending::ChildTimeout);
      return;
    case Timer::Client:
      end(Ending::ClientTimeout);
      return;
    case Timer::Session:
      // A stop's grace (-T) ran out with replies still owed.
      if (stopping())
        end(Ending::Stopped, closing_detail_ + ", replies still owed when its time ran out");
      else
        end(Ending::SessionTimeout);
      return;
  }
}

}  // namespace tws
