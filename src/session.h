// The Session: the SMTP reducer at the heart of tlswrapper-smtp. It takes
// events (bytes from the client, bytes from the child, control channel and
// greylist outcomes, timer expiries) and returns actions (bytes to write,
// TLS to start, a policy question, a log line, an exit). It holds no
// descriptor and reads no clock, so every rule is testable from a
// transcript.
//
// Replies are paired with commands by a FIFO: every command the helper
// forwards, or answers itself, leaves an entry; a child reply completes the
// entry at the head, and entries the helper answers itself go out when they
// reach the head. So pipelined commands are answered once each, in order.
//
// Contract for drivers: actions may hold views into the bytes the last
// on_client()/on_child() call was given; perform them before reusing that
// memory, then clear actions(). on_client() may take fewer bytes than it is
// given (it waits for a reply before reading on, or has made
// kMaxClientOutput of replies of its own in this call); offer the rest
// again when wants_client() is true. Before on_control(Ready), give on_client() every
// client byte that arrived before the TLS wrapper's go-ahead (buffered, or
// in the pipe at that moment), whatever wants_client() says: while TLS is
// pending the Session takes all of it, discards it and counts it, so only
// bytes written after the go-ahead are read as TLS input.
//
// The pregreet test (SessionConfig::greet_delay_ms): the server's 220 goes
// out as a multi-line reply whose last line the Session holds until the
// driver reports Timer::Greeting (started by a StartTimer action when the
// first line goes out). Meanwhile wants_client() is true, so that any
// client byte, from the very start of the session, reaches on_client():
// the driver gives with it how long the timer has run, for the log line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "action.h"
#include "smtp_grammar.h"

namespace tws {

struct TlsFront;

// Every way a session can end. What each one logs, tells the client and
// exits with is one row of the table in session.cc (kEndings), which the
// manual page prints (ENDINGS).
enum class Ending {
  Quit,            // the child accepted QUIT: its own exit status
  ClientClosed,    // client EOF outside a message, every reply owed relayed
  ClientCut,       // client EOF in the middle of a message: it is dropped
  ServerClosing,   // the child said 421 (RFC 5321 3.8): that is the answer
  ChildClosed,     // the child closed its output before accepting QUIT
  ChildBroken,     // the child does not speak SMTP
  ChildTimeout,    // -T waiting for the child
  ClientTimeout,   // -T waiting for the client
  SessionTimeout,  // -t
  Stopped,         // SIGTERM or SIGHUP
  TlsFailed,       // the TLS wrapper did not confirm the handshake
  PolicyFailed,    // a greylist lookup failed under -c
  BdatUnreadable,  // a BDAT size that cannot be read: no way to resynchronise
  WaitFailed,      // the driver's wait for events (poll) failed: nothing can be relied on
  Pregreet,        // -p: the client spoke before the greeting's last line
};

struct SessionConfig {
  ControlProtocol control = ControlProtocol::None;
  LogLevel log_level = LogLevel::Warning;
  // Greylisting (-g); fail_closed is -c.
  bool greylist = false;
  bool greylist_fail_closed = false;
  std::string client_address;  // TCPREMOTEIP
  std::string client_name;     // TCPREMOTEHOST
  std::string session_id;      // LOG_ID: names the policy instance
  // TLS policy, for a server that cannot know whether the session is
  // encrypted: -a, AUTH only inside TLS; -s, no mail and no AUTH before
  // TLS (it implies -a).
  bool auth_needs_tls = false;
  bool tls_required = false;
  // The pregreet test (-p, GREETDELAY): how long the last line of a 220
  // greeting is held, in milliseconds; 0 is off.
  int greet_delay_ms = 0;
};

class Session {
 public:
  explicit Session(SessionConfig config);

  // ---- events
  // `greeting_ms`: while the pregreet test holds the greeting, how long
  // ago the driver started Timer::Greeting (for the log line only).
  std::size_t on_client(std::string_view bytes, std::int64_t greeting_ms = 0);
  void on_client_eof();
  void on_child(std::string_view bytes);
  void on_child_eof();
  // `negotiated`: with Ready, the TLS protocol and cipher when the front
  // says them ("TLSv1.3/TLS_AES_256_GCM_SHA384"), for the log lines.
  void on_control(ControlEvent event, std::string_view negotiated = {});
  void on_policy(const PolicyVerdict& verdict);
  void on_timeout(Timer timer);
  // A stop signal (SIGTERM, SIGHUP): replies owed for commands already
  // received are relayed, then 421 4.3.2; a message being sent is cut.
  // The driver gives the child's replies at most -T more (then
  // on_timeout(Timer::Session) ends it).
  void on_stop(std::string_view signal_name);
  // The driver cannot wait for events any more (poll(2) failed).
  void on_wait_failed(std::string_view why);

  // ---- results
  std::vector<Action>& actions() { return actions_; }

  // ---- what the driver waits for
  bool wants_client() const;
  bool awaiting_child() const;
  bool awaiting_control() const { return tls_waiting_; }
  bool awaiting_policy() const { return policy_asked_; }
  bool finished() const { return mode_ == Mode::Closed; }
  // STARTTLS was read: what the client sends next belongs to the TLS
  // handshake (a front that runs it on the client's own descriptors must
  // not have them read any more).
  bool past_starttls() const { return mode_ == Mode::TlsPending; }
  // The pregreet test is running: any client byte now is early talk.
  bool pregreet_running() const { return pregreet_ && mode_ != Mode::Closed && !closing_; }

 private:
  // How client bytes are read right now.
  enum class Mode {
    Command,     // command lines
    Held,        // nothing is read until the head's reply says how to go on
    Body,        // a DATA body, through the DataScanner
    Chunk,       // BDAT's n raw bytes (forwarded or discarded)
    AuthLine,    // one opaque SASL line after a 334
    SkipLine,    // the rest of an over-long line
    TlsPending,  // everything after STARTTLS, until TLS is up: discarded
    Closed,      // the session has ended
  };

  struct Pending {
    enum class Kind {
      // entries completed by a child reply
      Greeting,
      Ehlo,
      Helo,
      Mail,
      Rcpt,
      Rset,
      Noop,
      Quit,
      Held,  // DATA, unknown verbs: the reply says what follows
      Auth,  // AUTH or a SASL line: held likewise; a 2xx authenticates the client
      Chunk,
      ChunkLast,
      Message,
      SwallowReset,  // the helper's own RSET after TLS: the reply is not relayed
      // entries the helper carries out itself when they reach the head
      LocalReply,
      StartTls,
      Policy,
      Close,  // the helper ends the session (a BDAT it cannot read past)
    };
    Kind kind;
    std::string text;   // address, helo name, reply text or held RCPT line
    std::string extra;  // Policy: the recipient address
    bool expects_reply() const { return kind < Kind::LocalReply; }
  };

  void command(std::string_view raw, bool copy);
  std::string_view refusal(const Command& cmd) const;
  void refuse(std::string_view reply);
  std::string refusal_summary() const;
  void starttls(const Command& cmd);
  void start_tls(const TlsFront& front);
  void bdat(std::string_view raw, bool copy, const Command& cmd, std::string_view refused);
  void reply_line(std::string_view raw);
  void ehlo_line(std::string_view raw, const ReplyLine& r);
  bool withheld(EhloKeyword keyword) const;
  void flush_held_ehlo_line(bool last);
  void unsolicited(std::string_view raw, const ReplyLine& r);
  void greeting_line(std::string_view raw, const ReplyLine& r);
  void release_greeting();
  void early_talk(std::string_view bytes, std::int64_t greeting_ms);
  void complete(const Pending& head, const ReplyLine& r);
  void pump();
  void advance();
  void ask_policy(Pending& head);
  void tls_started();
  void violation(std::string_view why);
  void end_transaction(std::string_view outcome);
  void end(Ending ending, std::string_view detail = {});
  void close_after_owed_replies(Ending ending);
  bool stopping() const { return closing_ == Ending::Stopped; }
  void settle();

  void push(Pending::Kind kind, std::string text = {}, std::string extra = {});
  void local(std::string_view reply) { push(Pending::Kind::LocalReply, std::string(reply)); }
  void emit(Action::Kind kind, std::string_view bytes, bool copy);
  void log(LogLevel level, std::string message);
  bool logs(LogLevel level) const { return level <= config_.log_level; }
  bool mid_message() const {
    return mode_ == Mode::Body || (mode_ == Mode::Chunk && chunk_forward_);
  }

  SessionConfig config_;
  std::vector<Action> actions_;
  Mode mode_ = Mode::Held;  // until the greeting
  std::deque<Pending> pending_;

  std::string line_;   // a command line split over reads
  std::string reply_;  // a reply line split over reads
  DataScanner scanner_;
  std::vector<std::string_view> pieces_;
  std::uint64_t chunk_left_ = 0;
  bool chunk_forward_ = false;
  std::uint64_t discarded_ = 0;        // client bytes dropped after STARTTLS
  std::size_t replies_this_call_ = 0;  // bytes to the client in this on_client()

  // The reply being relayed.
  std::size_t reply_lines_ = 0;
  bool ehlo_rewrite_ = false;
  bool ehlo_chunking_ = false;
  std::string held_line_;  // EHLO: the last kept line, its separator still open
  ReplySeparator held_separator_ = ReplySeparator::End;
  std::string last_reply_;  // the final line of the last reply, for the log

  // How the session ends once the replies owed are relayed (client EOF,
  // a stop signal); nothing is read from the client meanwhile.
  std::optional<Ending> closing_;
  std::string closing_detail_;  // logged with the ending: which signal

  // Control channel and TLS.
  bool control_lost_ = false;
  bool tls_waiting_ = false;
  bool tls_active_ = false;
  std::string tls_name_;       // what was negotiated, when the front said it
  std::uint64_t refused_ = 0;  // commands the TLS policy refused (-a, -s)

  // Greylisting.
  bool policy_asked_ = false;
  // The child answered an AUTH exchange with 2xx in this TLS epoch (RFC
  // 4954 4; forgotten when TLS starts, RFC 3207 4.2): the client's
  // recipients are not greylisted. Credentials are never kept.
  bool authenticated_ = false;

  // The pregreet test: on until the greeting's last line goes out (or the
  // greeting turns out not to be a 220); greeting_held_ is that line.
  bool pregreet_ = false;
  bool greeting_started_ = false;    // its first line went out, the timer runs
  bool greeting_wait_over_ = false;  // Timer::Greeting expired
  std::string greeting_held_;

  // What the client told us (forgotten when TLS starts).
  std::string helo_;
  bool esmtp_ = false;
  bool chunking_ = false;
  bool quit_sent_ = false;

  // The transaction, for its log line.
  bool in_transaction_ = false;
  std::string sender_;
  std::string size_;
  std::vector<std::string> recipients_;
  std::size_t recipients_total_ = 0;
  std::uint64_t transactions_ = 0;
};

}  // namespace tws
