// The poll(2) core (see relay.h).
#include "relay.h"

#include <errno.h>
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

Relay::Relay(Session& session, ChildProcess& child, ControlChannel& control, const Logger& log,
             RelayLimits limits, PolicyClient* policy)
    : session_(session),
      child_(child),
      control_(control),
      log_(log),
      limits_(limits),
      policy_(policy) {
  client_.in.reset(new char[kReadSize]);
}

// ---------------------------------------------------------------------------
// Actions.

void Relay::perform() {
  // Events raised while a batch is carried out are told to the Session
  // after it, so the batch being walked never changes under us.
  while (!exit_requested_) {
    batch_.clear();
    batch_.swap(session_.actions());
    if (batch_.empty()) {
      if (front_.lost) {
        front_.lost = false;
        session_.on_control(ControlEvent::Lost);
      } else if (policy_side_.verdict) {
        PolicyVerdict v = std::move(*policy_side_.verdict);
        policy_side_.verdict.reset();
        session_.on_policy(v);
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
      if (!client_.gone) client_.out.bytes.append(a.bytes());
      return;
    case Action::Kind::ToControl:
      // What went to the client before must reach the front first.
      flush_client_blocking(limits_.io_timeout_ms);
      front_.watched = false;
      if (!control_.write_signal(a.bytes(), limits_.io_timeout_ms)) front_.lost = true;
      return;
    case Action::Kind::CloseControl:
      control_.close_signal();
      front_.watched = false;
      return;
    case Action::Kind::AwaitTls:
      if (front_.lost) return;  // the write already failed
      if (!control_.answers_start()) {
        // No answer from this front: closing the signal descriptor is the
        // point where TLS starts, taken up by the loop once this batch is done.
        front_.start_reached = true;
      } else {
        front_.awaiting_answer = true;
        front_.since = now_ms();
      }
      return;
    case Action::Kind::AskPolicy:
      ask_policy(a.bytes());
      return;
    case Action::Kind::StartTimer:
      // The one timer the Session asks for: the pregreet test's wait.
      greeting_.running = true;
      greeting_.since = now_ms();
      greeting_.due = greeting_.since + a.millis;
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

// A lookup runs in the loop (its descriptor polled, its deadline with the
// others); one that ends at once (no server, given up) is told after the
// batch like any other verdict.
void Relay::ask_policy(std::string_view request) {
  PolicyVerdict v;
  std::string why;
  policy_side_.since = now_ms();
  bool ended = true;
  if (policy_ != nullptr)
    ended = policy_->start(request, &v, &why);
  else
    why = "no greylist server";
  policy_ended(ended, v, why);
}

void Relay::policy_ended(bool ended, const PolicyVerdict& verdict, const std::string& why) {
  if (!ended) return;
  if (!why.empty()) log_.write(LogLevel::Warning, why);
  policy_side_.verdict = verdict;
}

void Relay::write_child(std::string_view bytes) {
  if (child_side_.in_broken || bytes.empty()) return;
  if (child_side_.in.empty()) {
    // The common case: straight from the read buffer, no copy.
    ssize_t w = write_some(child_.input(), Access::NonBlocking, bytes);
    if (w < 0) {
      child_side_.in_broken = true;
      return;
    }
    if (w > 0) child_side_.since = now_ms();
    bytes.remove_prefix(static_cast<std::size_t>(w));
    if (bytes.empty()) return;
    child_side_.in.clear();
  }
  child_side_.in.bytes.append(bytes);
}

int Relay::drain(Endpoint to, Backlog& b, std::int64_t* since) {
  while (!b.empty()) {
    ssize_t w = write_some(to.fd, to.access, b.rest());
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
  int r = drain({child_.input(), Access::NonBlocking}, child_side_.in, &child_side_.since);
  if (r < 0) child_side_.in_broken = true;
  return r > 0;
}

bool Relay::flush_client() {
  int r = drain(control_.client_output(), client_.out, &client_.since);
  if (r < 0) client_.gone = true;
  return r > 0;
}

void Relay::flush_client_blocking(int timeout_ms) {
  const std::int64_t until = now_ms() + timeout_ms;
  while (!flush_client())
    if (client_.gone || !wait_for(control_.client_output().fd, POLLOUT, until)) return;
}

// The one place where TLS starts for the Session (the answer came, or the
// signal descriptor was closed). Every client byte that arrived before
// this point, still buffered here or waiting in the pipe now, is plaintext
// sent after STARTTLS: the Session is given it first (it discards and
// counts it), so the first byte it reads as TLS input was written after
// this point, whatever order poll(2) reported the answer and the client's
// bytes in. Only what the pipe holds now is taken, so TLS bytes written
// after the answer are not mistaken for plaintext. A front that runs the
// handshake on the client's descriptors owns them now: nothing more is
// read there, and the client moves to the front's TLS descriptors.
void Relay::start_tls_input(std::string_view negotiated) {
  front_.start_reached = false;
  if (!session_.awaiting_control()) return;  // the session ended meanwhile
  int waiting = 0;
  if (client_.eof || control_.handshake_on_client_fds() ||
      ioctl(control_.client_input().fd, FIONREAD, &waiting) < 0)
    waiting = 0;
  for (;;) {
    if (client_.end > client_.begin && !exit_requested_)
      tell([&](Session& s) { s.on_client(client_.unread()); });
    client_.begin = client_.end = 0;
    if (waiting <= 0 || exit_requested_) break;
    std::size_t got = read_client(static_cast<std::size_t>(waiting));
    if (got == 0) break;
    waiting -= static_cast<int>(got);
  }
  if (exit_requested_) return;
  if (control_.move_client_to_tls()) client_.eof = false;
  tell([&](Session& s) { s.on_control(ControlEvent::Ready, negotiated); });
}

// ---------------------------------------------------------------------------
// Reading.

void Relay::feed_client() {
  // Replies the helper makes itself (a refusal, a 500, a 503) need no
  // round trip to the child: a client that sends and never reads must not
  // grow the replies waiting for it without bound.
  while (!exit_requested_ && client_.end > client_.begin && session_.wants_client() &&
         child_side_.in.empty() && client_.out.size() < kMaxClientOutput) {
    std::size_t n =
        session_.on_client(client_.unread(), greeting_.running ? now_ms() - greeting_.since : 0);
    perform();  // writes (or copies) every view into the buffer before it moves
    client_.begin += n;
    if (n == 0) break;
  }
  if (client_.begin == client_.end) client_.begin = client_.end = 0;
  if (client_.eof && !client_.eof_told && client_.begin == client_.end && !exit_requested_) {
    client_.eof_told = true;
    tell([](Session& s) { s.on_client_eof(); });
  }
}

std::size_t Relay::read_client(std::size_t most) {
  if (client_.end == kReadSize && client_.begin > 0) {
    std::memmove(client_.in.get(), client_.in.get() + client_.begin, client_.end - client_.begin);
    client_.end -= client_.begin;
    client_.begin = 0;
  }
  std::size_t room = std::min(most, kReadSize - client_.end);
  if (room == 0) return 0;
  const Endpoint from = control_.client_input();
  ssize_t r = read_some(from.fd, from.access, client_.in.get() + client_.end, room);
  if (r > 0) {
    client_.end += static_cast<std::size_t>(r);
    client_.since = now_ms();
    return static_cast<std::size_t>(r);
  }
  if (r == 0 || errno != EAGAIN) client_.eof = true;
  return 0;
}

void Relay::read_child() {
  char buf[16384];
  ssize_t r = read_some(child_.output(), Access::NonBlocking, buf, sizeof buf);
  if (r > 0) {
    child_side_.since = now_ms();
    tell([&](Session& s) { s.on_child(std::string_view(buf, static_cast<std::size_t>(r))); });
  } else if (r == 0 || errno != EAGAIN) {
    child_side_.eof = true;
    child_.close_output();
    tell([](Session& s) { s.on_child_eof(); });
  }
}

void Relay::read_answer() {
  std::string negotiated, why;
  ControlChannel::Outcome outcome = control_.read_outcome(&negotiated, &why);
  if (outcome == ControlChannel::Outcome::Pending) return;
  front_.awaiting_answer = false;
  if (outcome == ControlChannel::Outcome::Ready) {
    start_tls_input(negotiated);
    return;
  }
  log_.write(LogLevel::Error, why);
  tell([](Session& s) { s.on_control(ControlEvent::Failed); });
}

// ---------------------------------------------------------------------------
// The loop.

// The nearest deadline: -t, and the -T of whatever the session waits for.
Relay::Deadline Relay::next_deadline() const {
  const std::int64_t io = limits_.io_timeout_ms;
  Deadline d{session_deadline_, Timer::Session};
  auto sooner = [&d](std::int64_t at, Timer t) {
    if (at < d.at) d = {at, t};
  };
  // While the pregreet test waits, the client is rightly silent.
  const bool greeting = greeting_.running && session_.pregreet_running();
  if (greeting) sooner(greeting_.due, Timer::Greeting);
  if (front_.awaiting_answer) sooner(front_.since + io, Timer::Control);
  if (policy_ && policy_->busy()) sooner(policy_side_.since + io, Timer::Policy);
  if (!client_.out.empty())
    sooner(client_.since + io, Timer::Client);  // the client does not read
  else if (!child_side_.in.empty() || session_.awaiting_child())
    sooner(child_side_.since + io, Timer::Child);  // the child does not read or answer
  else if (!greeting && !front_.awaiting_answer && !(policy_ && policy_->busy()))
    sooner(client_.since + io, Timer::Client);  // waiting for the client
  return d;
}

int Relay::run() {
  // The client's descriptors are inherited: shared with the front, so
  // they stay as they came (io.h, Access).
  const std::int64_t start = now_ms();
  session_deadline_ = start + limits_.session_timeout_ms;
  client_.since = child_side_.since = start;
  perform();

  // Only live descriptors go into the poll set: poll(2) refuses more
  // entries than RLIMIT_NOFILE, which the jail keeps tight.
  enum { kClientIn, kClientOut, kChildOut, kChildIn, kAnswer, kSignal, kPolicy, kCount };
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
    if (front_.start_reached) start_tls_input({});
    if (exit_requested_) break;

    used = 0;
    bool room = client_.end < kReadSize || client_.begin > 0;
    bool client_full = client_.out.size() >= kMaxClientOutput;
    // After STARTTLS a front that runs the handshake on fd 0 owns it.
    bool handshake_on_input = control_.handshake_on_client_fds() && session_.past_starttls();
    bool asking = policy_ && policy_->busy();
    watch(kClientIn, !client_.eof && room && !handshake_on_input, control_.client_input().fd,
          POLLIN);
    watch(kClientOut, !client_.out.empty(), control_.client_output().fd, POLLOUT);
    watch(kChildOut, !child_side_.eof && !client_full, child_.output(), POLLIN);
    watch(kChildIn, !child_side_.in.empty(), child_.input(), POLLOUT);
    watch(kAnswer, front_.awaiting_answer, control_.answer_fd(), POLLIN);
    // A write end with no events still reports the front going away.
    watch(kSignal, front_.watched, control_.signal_fd(), 0);
    watch(kPolicy, asking, asking ? policy_->fd() : -1, asking ? policy_->events() : 0);

    Deadline d = next_deadline();
    std::int64_t left = d.at - now_ms();
    int ready = left > 0
                    ? wait_events(fds, used, static_cast<int>(std::min<std::int64_t>(left, 60000)))
                    : 0;
    if (const char* stop = take_stop_signal()) {
      // The replies owed get at most -T more, whatever -t had left.
      session_deadline_ = std::min(session_deadline_, now_ms() + limits_.io_timeout_ms);
      tell([stop](Session& s) { s.on_stop(stop); });
      continue;
    }
    if (ready < 0) {
      if (errno == EINTR) continue;
      const std::string why = std::string("poll: ") + std::strerror(errno);
      tell([&why](Session& s) { s.on_wait_failed(why); });
      break;
    }
    if (ready == 0) {
      if (now_ms() >= d.at) {
        if (d.timer == Timer::Greeting) {
          // A byte already waiting came before the last line: it is early
          // talk, however near the end of the wait.
          greeting_.running = false;
          if (ready_now(control_.client_input().fd, POLLIN)) read_client(kReadSize);
          feed_client();
          if (exit_requested_) continue;
        }
        // A lookup that ran out of time is dropped; the server is not
        // asked again in this session.
        if (d.timer == Timer::Policy) policy_->give_up();
        tell([&d](Session& s) { s.on_timeout(d.timer); });
      }
      continue;
    }
    // The answer first: it decides which client bytes are plaintext.
    if (revents(kAnswer)) read_answer();
    if (revents(kSignal) & (POLLERR | POLLHUP)) {
      front_.watched = false;
      tell([](Session& s) { s.on_control(ControlEvent::Lost); });
    }
    if (revents(kPolicy) && policy_->busy()) {
      PolicyVerdict v;
      std::string why;
      policy_ended(policy_->on_ready(&v, &why), v, why);
      perform();
    }
    if (revents(kClientOut)) flush_client();
    if (revents(kChildIn) && !flush_child() && child_side_.in_broken)
      log_.write(LogLevel::Debug, "child stopped reading its input");
    if (revents(kChildOut) && !exit_requested_) read_child();
    if (revents(kClientIn) && !exit_requested_) read_client(kReadSize);
  }
  return finish();
}

int Relay::finish() {
  if (!client_.gone) flush_client_blocking(limits_.io_timeout_ms);
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
