// The poll(2) core (see relay.h).
#include "relay.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "constants.h"
#include "io.h"

namespace tws {

namespace {

void set_nonblocking(int fd) {
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

}  // namespace

Relay::Relay(Session& session, ChildProcess& child, ControlChannel& control, const Logger& log,
             RelayLimits limits, PolicyClient* policy)
    : session_(session),
      child_(child),
      control_(control),
      log_(log),
      limits_(limits),
      policy_(policy),
      in_(new char[kReadSize]) {}

// ---------------------------------------------------------------------------
// Actions.

void Relay::perform() {
  // Events raised while a batch is carried out are told to the Session
  // after it, so the batch being walked never changes under us.
  while (!exit_requested_) {
    batch_.clear();
    batch_.swap(session_.actions());
    if (batch_.empty()) {
      if (!deferred_control_.empty()) {
        ControlEvent e = deferred_control_.front();
        deferred_control_.erase(deferred_control_.begin());
        session_.on_control(e);
      } else if (policy_answer_) {
        policy_answer_ = false;
        session_.on_policy(policy_verdict_);
      } else {
        break;
      }
      continue;
    }
    for (const Action& a : batch_) {
      if (exit_requested_) break;
      perform_one(a);
    }
  }
  flush_client();
}

void Relay::perform_one(const Action& a) {
  switch (a.kind) {
    case Action::Kind::ToChild:
      write_child(a.bytes());
      return;
    case Action::Kind::ToClient:
      if (!client_gone_) to_client_.bytes.append(a.bytes());
      return;
    case Action::Kind::ToControl:
      // What went to the client before must reach the wrapper first.
      flush_client_blocking(limits_.io_timeout_ms);
      control_watch_ = false;
      if (!control_.write_signal(a.bytes(), limits_.io_timeout_ms))
        deferred_control_.push_back(ControlEvent::Lost);
      return;
    case Action::Kind::CloseControl:
      control_.close_signal();
      control_watch_ = false;
      return;
    case Action::Kind::AwaitTls:
      if (!deferred_control_.empty()) return;  // the write already failed
      if (control_.protocol() == ControlProtocol::Legacy) {
        // No ack in this protocol: closing fd 5 is the point where TLS
        // starts, taken up by the loop once this batch is done.
        tls_point_reached_ = true;
      } else {
        awaiting_ack_ = true;
        ack_since_ = now_ms();
      }
      return;
    case Action::Kind::AskPolicy: {
      // Asked only when no reply is due from the child and the client is
      // held: nothing else can move while the server thinks (at most -T).
      std::string why;
      policy_verdict_ = policy_ ? policy_->ask(a.bytes(), &why) : PolicyVerdict{};
      if (!why.empty()) log_.write(LogLevel::Warning, why);
      // Nobody waited for the child or the client meanwhile: their -T
      // clocks start again, so what the child did in the meantime (an
      // EOF) is read before a stale clock speaks for it.
      child_since_ = client_since_ = now_ms();
      policy_answer_ = true;
      return;
    }
    case Action::Kind::StartTimer:
      // The one timer the Session asks for: the pregreet test's wait.
      greeting_timer_ = true;
      greeting_since_ = now_ms();
      greeting_due_ = greeting_since_ + a.millis;
      return;
    case Action::Kind::Log:
      log_.write(a.level, a.bytes());
      return;
    case Action::Kind::Exit:
      exit_requested_ = true;
      exit_status_ = a.status;
      abort_child_ = a.abort_child;
      return;
  }
}

void Relay::write_child(std::string_view bytes) {
  if (child_in_broken_ || bytes.empty()) return;
  if (to_child_.empty()) {
    // The common case: straight from the read buffer, no copy.
    ssize_t w = write_some(child_.input(), bytes);
    if (w < 0) {
      child_in_broken_ = true;
      return;
    }
    if (w > 0) child_since_ = now_ms();
    bytes.remove_prefix(static_cast<std::size_t>(w));
    if (bytes.empty()) return;
    to_child_.clear();
  }
  to_child_.bytes.append(bytes);
}

int Relay::drain(int fd, Backlog& b, std::int64_t* since) {
  while (!b.empty()) {
    ssize_t w = write_some(fd, b.rest());
    if (w < 0) {
      b.clear();
      return -1;
    }
    if (w == 0) return 0;
    b.sent += static_cast<std::size_t>(w);
    *since = now_ms();
  }
  b.clear();
  return 1;
}

bool Relay::flush_child() {
  int r = drain(child_.input(), to_child_, &child_since_);
  if (r < 0) child_in_broken_ = true;
  return r > 0;
}

bool Relay::flush_client() {
  int r = drain(1, to_client_, &client_since_);
  if (r < 0) client_gone_ = true;
  return r > 0;
}

bool Relay::flush_client_blocking(int timeout_ms) {
  const std::int64_t until = now_ms() + timeout_ms;
  while (!flush_client())
    if (client_gone_ || !wait_for(1, POLLOUT, until)) return false;
  return true;
}

// The one place where TLS starts for the Session (the ack came, or fd 5
// was closed). Every client byte that arrived before this point, still
// buffered here or waiting in the pipe now, is plaintext sent after
// STARTTLS: the Session is given it first (it discards and counts it), so
// the first byte it reads as TLS input was written after this point,
// whatever order poll(2) reported the ack and the client's bytes in.
// Only what the pipe holds now is taken, so TLS bytes written after the
// ack are not mistaken for plaintext. With UCSPI-TLS nothing is read: fd 0
// is the socket the handshake ran on, and the client moves to SSLREADFD.
void Relay::start_tls_input(std::string_view negotiated) {
  tls_point_reached_ = false;
  if (!session_.awaiting_control()) return;  // the session ended meanwhile
  // A front that runs the handshake on the client's descriptors owns them
  // now: nothing more is read there.
  int waiting = 0;
  if (client_eof_ || control_.handshake_on_client_fds() || ioctl(0, FIONREAD, &waiting) < 0)
    waiting = 0;
  for (;;) {
    if (in_end_ > in_begin_ && !exit_requested_) {
      session_.on_client(std::string_view(in_.get() + in_begin_, in_end_ - in_begin_));
      perform();
    }
    in_begin_ = in_end_ = 0;
    if (waiting <= 0 || exit_requested_) break;
    std::size_t got = read_client(static_cast<std::size_t>(waiting));
    if (got == 0) break;
    waiting -= static_cast<int>(got);
  }
  if (exit_requested_) return;
  if (control_.move_client_to_tls()) {
    set_nonblocking(0);
    set_nonblocking(1);
    client_eof_ = false;
  }
  session_.on_control(ControlEvent::Ready, negotiated);
  perform();
}

// ---------------------------------------------------------------------------
// Reading.

void Relay::feed_client() {
  // Replies the helper makes itself (a refusal, a 500, a 503) need no
  // round trip to the child: a client that sends and never reads must not
  // grow the replies waiting for it without bound.
  while (!exit_requested_ && in_end_ > in_begin_ && session_.wants_client() && to_child_.empty() &&
         to_client_.size() < kMaxClientOutput) {
    std::size_t n = session_.on_client(std::string_view(in_.get() + in_begin_, in_end_ - in_begin_),
                                       greeting_timer_ ? now_ms() - greeting_since_ : 0);
    perform();  // writes (or copies) every view into in_ before it moves
    in_begin_ += n;
    if (n == 0) break;
  }
  if (in_begin_ == in_end_) in_begin_ = in_end_ = 0;
  if (client_eof_ && !client_eof_told_ && in_begin_ == in_end_ && !exit_requested_) {
    client_eof_told_ = true;
    session_.on_client_eof();
    perform();
  }
}

std::size_t Relay::read_client(std::size_t most) {
  if (in_end_ == kReadSize && in_begin_ > 0) {
    std::memmove(in_.get(), in_.get() + in_begin_, in_end_ - in_begin_);
    in_end_ -= in_begin_;
    in_begin_ = 0;
  }
  std::size_t room = std::min(most, kReadSize - in_end_);
  if (room == 0) return 0;
  ssize_t r = ::read(0, in_.get() + in_end_, room);
  if (r > 0) {
    in_end_ += static_cast<std::size_t>(r);
    client_since_ = now_ms();
    return static_cast<std::size_t>(r);
  }
  if (r == 0 || (errno != EAGAIN && errno != EINTR)) client_eof_ = true;
  return 0;
}

void Relay::read_child() {
  char buf[16384];
  ssize_t r = ::read(child_.output(), buf, sizeof buf);
  if (r > 0) {
    child_since_ = now_ms();
    session_.on_child(std::string_view(buf, static_cast<std::size_t>(r)));
    perform();
  } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
    child_eof_ = true;
    child_.close_output();
    session_.on_child_eof();
    perform();
  }
}

void Relay::read_ack() {
  std::string negotiated, why;
  ControlChannel::Outcome outcome = control_.read_outcome(&negotiated, &why);
  if (outcome == ControlChannel::Outcome::Pending) return;
  awaiting_ack_ = false;
  if (outcome == ControlChannel::Outcome::Ready) {
    start_tls_input(negotiated);
    return;
  }
  log_.write(LogLevel::Error, why);
  session_.on_control(ControlEvent::Failed);
  perform();
}

// ---------------------------------------------------------------------------
// The loop.

Relay::Deadline Relay::next_deadline() const {
  const std::int64_t io = limits_.io_timeout_ms;
  Deadline d{session_deadline_, Timer::Session};
  Deadline w;
  if (greeting_timer_ && session_.pregreet_running()) {
    w = {greeting_due_, Timer::Greeting};  // the client is rightly silent
  } else if (awaiting_ack_) {
    w = {ack_since_ + io, Timer::Control};
  } else if (!to_client_.empty()) {
    w = {client_since_ + io, Timer::Client};  // the client does not read
  } else if (!to_child_.empty() || session_.awaiting_child()) {
    w = {child_since_ + io, Timer::Child};  // the child does not read or answer
  } else {
    w = {client_since_ + io, Timer::Client};  // waiting for the client
  }
  return w.at < d.at ? w : d;
}

int Relay::run() {
  set_nonblocking(0);
  set_nonblocking(1);
  const std::int64_t start = now_ms();
  session_deadline_ = start + limits_.session_timeout_ms;
  client_since_ = child_since_ = start;
  perform();

  // Only live descriptors go into the poll set: poll(2) refuses more
  // entries than RLIMIT_NOFILE, which the jail keeps tight.
  enum { kStdin, kStdout, kChildOut, kChildIn, kAck, kSignal, kCount };
  struct pollfd fds[kCount];
  int slot[kCount];
  nfds_t used = 0;
  auto watch = [&](int which, bool on, int fd, short events) {
    slot[which] = -1;
    if (!on || fd < 0) return;
    slot[which] = static_cast<int>(used);
    fds[used++] = {fd, events, 0};
  };
  auto revents = [&](int which) { return slot[which] < 0 ? 0 : fds[slot[which]].revents; };
  while (!exit_requested_) {
    feed_client();
    if (tls_point_reached_) start_tls_input({});
    if (exit_requested_) break;

    used = 0;
    bool room = in_end_ < kReadSize || in_begin_ > 0;
    bool client_full = to_client_.size() >= kMaxClientOutput;
    // After STARTTLS a front that runs the handshake on fd 0 owns it.
    bool handshake_on_stdin = control_.handshake_on_client_fds() && session_.past_starttls();
    watch(kStdin, !client_eof_ && room && !handshake_on_stdin, 0, POLLIN);
    watch(kStdout, !to_client_.empty(), 1, POLLOUT);
    watch(kChildOut, !child_eof_ && !client_full, child_.output(), POLLIN);
    watch(kChildIn, !to_child_.empty(), child_.input(), POLLOUT);
    watch(kAck, awaiting_ack_, control_.ack_fd(), POLLIN);
    // A write end with no events still reports the wrapper going away.
    watch(kSignal, control_watch_, control_.signal_fd(), 0);

    Deadline d = next_deadline();
    std::int64_t left = d.at - now_ms();
    int ready = left > 0
                    ? wait_events(fds, used, static_cast<int>(std::min<std::int64_t>(left, 60000)))
                    : 0;
    if (const char* stop = take_stop_signal()) {
      // The replies owed get at most -T more, whatever -t had left.
      session_deadline_ = std::min(session_deadline_, now_ms() + limits_.io_timeout_ms);
      session_.on_stop(stop);
      perform();
      continue;
    }
    if (ready < 0) {
      if (errno == EINTR) continue;
      log_.write(LogLevel::Error, std::string("poll: ") + std::strerror(errno));
      session_.on_timeout(Timer::Session);
      perform();
      break;
    }
    if (ready == 0) {
      if (now_ms() >= d.at) {
        if (d.timer == Timer::Greeting) {
          // A byte already in the pipe came before the last line: it is
          // early talk, however near the end of the wait.
          greeting_timer_ = false;
          read_client(kReadSize);
          feed_client();
          if (exit_requested_) continue;
        }
        session_.on_timeout(d.timer);
        perform();
      }
      continue;
    }
    // The ack first: it decides which client bytes are plaintext.
    if (revents(kAck)) read_ack();
    if (revents(kSignal) & (POLLERR | POLLHUP)) {
      control_watch_ = false;
      session_.on_control(ControlEvent::Lost);
      perform();
    }
    if (revents(kStdout)) flush_client();
    if (revents(kChildIn) && !flush_child() && child_in_broken_)
      log_.write(LogLevel::Debug, "child stopped reading its input");
    if (revents(kChildOut) && !exit_requested_) read_child();
    if (revents(kStdin) && !exit_requested_) read_client(kReadSize);
  }
  return finish();
}

int Relay::finish() {
  if (!client_gone_) flush_client_blocking(limits_.io_timeout_ms);
  // Closing both pipes is the one stop signal that works from inside the
  // jail, where the child (another uid) cannot be killed: a child reading
  // sees EOF (mid-message: no terminator, so no message), one writing gets
  // SIGPIPE.
  if (!abort_child_) flush_child();
  child_.close_input();
  child_.close_output();
  int status = 0;
  bool ended = child_.wait(abort_child_ ? 0 : limits_.io_timeout_ms, &status);
  if (!ended && child_.signal(SIGTERM)) {
    ended = child_.wait(kChildGraceMillis, &status);
    if (!ended && child_.signal(SIGKILL)) ended = child_.wait(kChildGraceMillis, &status);
  }
  if (exit_status_ != kExitChildStatus) return exit_status_;
  if (ended && WIFEXITED(status)) return WEXITSTATUS(status);
  return kExitTemporary;
}

}  // namespace tws
