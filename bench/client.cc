// The benchmark's SMTP client: starts the program under test on two pipes
// (as tcpserver or a TLS wrapper would), speaks SMTP to it, times what it
// was asked to time and prints one line of key=value results.
//
//   client --mode data  [--bytes N] [--timeout S] -- prog [args]
//   client --mode bdat  [--bytes N] [--chunk N] [--timeout S] -- prog [args]
//   client --mode short [--sessions K] [--body N] [--rss] [--timeout S] -- prog [args]
//
// Common options: --dots puts a "." in the middle of every body line (a
// text body rather than base64: the DATA scanner meets a dot per line);
// --stderr leaves prog's stderr alone (by default it goes to /dev/null, so
// log lines cost what they cost without filling the terminal).
//
// data:  one session (EHLO, MAIL, RCPT, DATA) with an N byte body of
//        76-character lines (each starts with its own number, so no two
//        lines are alike); timed from the first body byte written to the
//        final reply read.
// bdat:  the same bytes as BDAT chunks of --chunk bytes (default 1 MiB),
//        pipelined; timed from the first BDAT written to the last reply.
// short: K sessions one after the other, a new process each (EHLO, MAIL,
//        RCPT, DATA with a --body byte message, QUIT), each command waiting
//        for its reply; timed from the first start to the last exit.
//
// Every message body is checked: the sink's final reply carries the byte
// count and CRC-32C of what it received, which must equal what was sent.
// An argument "{expect}" in prog's arguments becomes "--expect BYTES:CRC",
// so the sink judges the body itself as well. In data and bdat mode, and in
// short mode with --rss, the peak RSS of the started process (VmHWM) is
// read from /proc while it waits for QUIT, after the message is done.
//
// The body is generated in memory before the clock starts and written with
// large blocking writes, so the client pushes several GiB/s into a pipe and
// is never what is measured. A run that does not finish within --timeout
// seconds (default 120) is killed (the whole process group) and reported
// as timeout=1; exit status 0 means every message was verified.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "crc32c.h"

extern char** environ;

namespace {

constexpr std::size_t kLine = 78;  // 76 characters and CRLF

double now() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "client: %s\n", what);
  std::exit(2);
}

// ---------------------------------------------------------------------------
// The body: whole lines, numbered, 76 characters of a rotating alphabet.

struct Body {
  std::vector<char> bytes;
  std::uint32_t crc = 0;
};

Body make_body(std::size_t want, bool dots) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
      "ABCDEFGH";
  static_assert(sizeof kAlphabet - 1 >= 63 + 66, "a line reads 66 characters from offset < 64");
  std::size_t lines = (want + kLine - 1) / kLine;
  if (lines == 0) lines = 1;
  Body b;
  b.bytes.resize(lines * kLine);
  char* p = b.bytes.data();
  for (std::size_t i = 0; i < lines; ++i, p += kLine) {
    std::uint64_t n = i;
    for (int d = 9; d >= 0; --d) {
      p[d] = static_cast<char>('0' + n % 10);
      n /= 10;
    }
    std::memcpy(p + 10, kAlphabet + (i * 7) % 64, 66);
    if (dots) p[40] = '.';
    p[76] = '\r';
    p[77] = '\n';
  }
  bench::Crc32c c;
  c.update(b.bytes.data(), b.bytes.size());
  b.crc = c.value();
  return b;
}

// ---------------------------------------------------------------------------
// The program under test, and the watchdog.

volatile sig_atomic_t timed_out = 0;
volatile pid_t current_pid = 0;

void on_alarm(int) {
  timed_out = 1;
  pid_t pid = current_pid;
  if (pid > 0) {
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
  }
}

struct Peer {
  pid_t pid = -1;
  int to = -1;     // its stdin
  int from = -1;   // its stdout
  std::string in;  // reply bytes read, not consumed yet
};

bool quiet_stderr = true;

Peer spawn(const std::vector<char*>& argv) {
  int a[2], b[2];
  if (pipe2(a, O_CLOEXEC) != 0 || pipe2(b, O_CLOEXEC) != 0) die("pipe");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, a[0], 0);
  posix_spawn_file_actions_adddup2(&fa, b[1], 1);
  if (quiet_stderr) posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  posix_spawnattr_t at;
  posix_spawnattr_init(&at);
  // Its own process group, so a timeout can stop it and its child.
  posix_spawnattr_setpgroup(&at, 0);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&at, &none);
  sigset_t def;
  sigemptyset(&def);
  sigaddset(&def, SIGPIPE);
  sigaddset(&def, SIGALRM);
  posix_spawnattr_setsigdefault(&at, &def);
  posix_spawnattr_setflags(&at,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  Peer p;
  int rc = posix_spawn(&p.pid, argv[0], &fa, &at, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  close(a[0]);
  close(b[1]);
  if (rc != 0) {
    std::fprintf(stderr, "client: cannot run %s: %s\n", argv[0], std::strerror(rc));
    std::exit(2);
  }
  current_pid = p.pid;
  p.to = a[1];
  p.from = b[0];
  return p;
}

// Blocking writes of everything; false if the peer is gone or time ran out.
bool send_all(Peer& p, const char* data, std::size_t n) {
  while (n > 0) {
    std::size_t piece = n < (1u << 20) ? n : (1u << 20);
    ssize_t w = ::write(p.to, data, piece);
    if (w < 0) {
      if (errno == EINTR && !timed_out) continue;
      return false;
    }
    data += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

bool send(Peer& p, std::string_view s) {
  return send_all(p, s.data(), s.size());
}

// One whole reply (all its lines); its code, or -1 on EOF, error, timeout
// or something that is not a reply.
int read_reply(Peer& p, std::string* text = nullptr) {
  if (text) text->clear();
  for (;;) {
    std::size_t lf;
    while ((lf = p.in.find('\n')) != std::string::npos) {
      std::string line = p.in.substr(0, lf + 1);
      p.in.erase(0, lf + 1);
      if (text) *text += line;
      if (line.size() < 4 || line[0] < '0' || line[0] > '9') return -1;
      if (line[3] != '-') return std::atoi(line.substr(0, 3).c_str());
    }
    char buf[4096];
    ssize_t r = ::read(p.from, buf, sizeof buf);
    if (r < 0 && errno == EINTR && !timed_out) continue;
    if (r <= 0) return -1;
    p.in.append(buf, static_cast<std::size_t>(r));
  }
}

// Closes our ends and reaps it; its exit status, or -1 if it did not exit.
int finish(Peer& p) {
  close(p.to);
  char buf[4096];
  while (true) {  // up to EOF, so a late reply never blocks its writer
    ssize_t r = ::read(p.from, buf, sizeof buf);
    if (r < 0 && errno == EINTR && !timed_out) continue;
    if (r <= 0) break;
  }
  close(p.from);
  int status = 0;
  while (waitpid(p.pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  current_pid = 0;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void stop(Peer& p) {
  kill(-p.pid, SIGKILL);
  kill(p.pid, SIGKILL);
  finish(p);
}

long vm_hwm_kb(pid_t pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/status", static_cast<int>(pid));
  FILE* f = std::fopen(path, "r");
  if (!f) return -1;
  char line[256];
  long kb = -1;
  while (std::fgets(line, sizeof line, f))
    if (std::strncmp(line, "VmHWM:", 6) == 0) kb = std::strtol(line + 6, nullptr, 10);
  std::fclose(f);
  return kb;
}

// "250 2.0.0 received bytes=N crc32c=X": does it match the body?
bool verified(const std::string& reply, const Body& b) {
  char want[64];
  std::snprintf(want, sizeof want, "bytes=%zu crc32c=%08x", b.bytes.size(), b.crc);
  return reply.compare(0, 3, "250") == 0 && reply.find(want) != std::string::npos;
}

// ---------------------------------------------------------------------------
// The runs.

struct Options {
  std::string mode = "data";
  std::size_t bytes = 256u << 20;
  std::size_t chunk = 1u << 20;
  std::size_t body = 2048;
  int sessions = 500;
  int timeout = 120;
  bool rss = false;
  bool dots = false;
  std::vector<std::string> prog;
};

std::vector<std::string> expand(const std::vector<std::string>& prog, const Body& b) {
  std::vector<std::string> out;
  for (const std::string& a : prog) {
    if (a == "{expect}") {
      char v[64];
      std::snprintf(v, sizeof v, "%zu:%08x", b.bytes.size(), b.crc);
      out.push_back("--expect");
      out.push_back(v);
    } else {
      out.push_back(a);
    }
  }
  return out;
}

std::vector<char*> c_argv(std::vector<std::string>& args) {
  std::vector<char*> v;
  for (std::string& a : args) v.push_back(a.data());
  v.push_back(nullptr);
  return v;
}

// Greeting, EHLO, MAIL, RCPT: true when all were accepted.
bool envelope(Peer& p, std::string* ehlo) {
  if (read_reply(p) != 220) return false;
  if (!send(p, "EHLO client.invalid\r\n") || read_reply(p, ehlo) != 250) return false;
  if (!send(p, "MAIL FROM:<bench@client.invalid>\r\n") || read_reply(p) != 250) return false;
  if (!send(p, "RCPT TO:<sink@sink.invalid>\r\n") || read_reply(p) != 250) return false;
  return true;
}

void report_failure(const Options& o, const char* where, int status) {
  std::printf("mode=%s ok=0 verified=0 timeout=%d failed_at=%s exit=%d\n", o.mode.c_str(),
              timed_out ? 1 : 0, where, status);
}

int run_stream(const Options& o) {
  Body b = make_body(o.bytes, o.dots);
  std::vector<std::string> args = expand(o.prog, b);
  std::vector<char*> argv = c_argv(args);
  alarm(static_cast<unsigned>(o.timeout));
  Peer p = spawn(argv);
  std::string ehlo, final_reply;
  if (!envelope(p, &ehlo)) {
    stop(p);
    report_failure(o, "envelope", -1);
    return 1;
  }
  double t0 = 0, t1 = 0;
  bool ok = true;
  if (o.mode == "data") {
    if (!send(p, "DATA\r\n") || read_reply(p) != 354) {
      stop(p);
      report_failure(o, "DATA", -1);
      return 1;
    }
    t0 = now();
    ok = send_all(p, b.bytes.data(), b.bytes.size()) && send(p, ".\r\n");
    ok = ok && read_reply(p, &final_reply) > 0;
    t1 = now();
  } else {
    // Pipelined BDAT chunks: each command line and its chunk in one writev.
    t0 = now();
    std::size_t off = 0, chunks = 0;
    while (ok && off < b.bytes.size()) {
      std::size_t n = b.bytes.size() - off;
      if (n > o.chunk) n = o.chunk;
      bool last = off + n == b.bytes.size();
      char cmd[64];
      int len = std::snprintf(cmd, sizeof cmd, "BDAT %zu%s\r\n", n, last ? " LAST" : "");
      struct iovec iov[2] = {{cmd, static_cast<std::size_t>(len)}, {b.bytes.data() + off, n}};
      ssize_t w;
      do w = ::writev(p.to, iov, 2);
      while (w < 0 && errno == EINTR && !timed_out);
      if (w < 0) {
        ok = false;
        break;
      }
      if (static_cast<std::size_t>(w) < static_cast<std::size_t>(len) + n) {
        // Partly written (a signal): finish the rest with plain writes.
        std::size_t done = static_cast<std::size_t>(w);
        if (done < static_cast<std::size_t>(len)) {
          ok = send_all(p, cmd + done, static_cast<std::size_t>(len) - done);
          done = static_cast<std::size_t>(len);
        }
        ok = ok && send_all(p, b.bytes.data() + off + (done - len), n - (done - len));
      }
      off += n;
      ++chunks;
    }
    for (std::size_t i = 0; ok && i < chunks; ++i) {
      int code = read_reply(p, i + 1 == chunks ? &final_reply : nullptr);
      if (code != 250) ok = false;
    }
    t1 = now();
  }
  if (!ok || timed_out) {
    stop(p);
    report_failure(o, o.mode == "data" ? "body" : "chunks", -1);
    return 1;
  }
  bool good = verified(final_reply, b);
  long rss = vm_hwm_kb(p.pid);
  int status = -1;
  if (send(p, "QUIT\r\n") && read_reply(p) == 221)
    status = finish(p);
  else
    stop(p);
  alarm(0);
  double secs = t1 - t0;
  double mib = static_cast<double>(b.bytes.size()) / (1024.0 * 1024.0);
  bool chunking = ehlo.find("CHUNKING") != std::string::npos;
  std::printf(
      "mode=%s ok=%d verified=%d timeout=0 bytes=%zu crc32c=%08x seconds=%.6f mibps=%.1f "
      "rss_kb=%ld exit=%d chunking=%d pid=%d\n",
      o.mode.c_str(), good && status == 0 ? 1 : 0, good ? 1 : 0, b.bytes.size(), b.crc, secs,
      mib / secs, rss, status, chunking ? 1 : 0, static_cast<int>(p.pid));
  return good && status == 0 ? 0 : 1;
}

int run_short(const Options& o) {
  Body b = make_body(o.body, o.dots);
  std::string body(b.bytes.begin(), b.bytes.end());
  body += ".\r\n";
  std::vector<std::string> args = expand(o.prog, b);
  std::vector<char*> argv = c_argv(args);
  long rss = -1;
  int good = 0;
  double t0 = now();
  for (int i = 0; i < o.sessions; ++i) {
    alarm(static_cast<unsigned>(o.timeout));
    Peer p = spawn(argv);
    std::string reply;
    bool ok = envelope(p, nullptr) && send(p, "DATA\r\n") && read_reply(p) == 354 &&
              send(p, body) && read_reply(p, &reply) == 250 && verified(reply, b);
    if (ok && o.rss) {
      long kb = vm_hwm_kb(p.pid);
      if (kb > rss) rss = kb;
    }
    ok = ok && send(p, "QUIT\r\n") && read_reply(p) == 221;
    int status = ok ? finish(p) : (stop(p), -1);
    alarm(0);
    if (!ok || status != 0) {
      std::printf("mode=short ok=0 verified=0 timeout=%d failed_session=%d exit=%d\n",
                  timed_out ? 1 : 0, i, status);
      return 1;
    }
    ++good;
  }
  double secs = now() - t0;
  std::printf(
      "mode=short ok=1 verified=1 timeout=0 sessions=%d body=%zu seconds=%.6f "
      "per_second=%.1f rss_kb=%ld\n",
      good, b.bytes.size(), secs, good / secs, rss);
  return 0;
}

std::size_t number(const char* s) {
  char* end = nullptr;
  unsigned long long v = std::strtoull(s, &end, 10);
  if (end == s) die("bad number");
  if (*end == 'k' || *end == 'K') v <<= 10;
  if (*end == 'm' || *end == 'M') v <<= 20;
  return static_cast<std::size_t>(v);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  int i = 1;
  for (; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--") {
      ++i;
      break;
    }
    if (a == "--rss" || a == "--dots" || a == "--stderr") {
      if (a == "--rss") o.rss = true;
      if (a == "--dots") o.dots = true;
      if (a == "--stderr") quiet_stderr = false;
      continue;
    }
    if (i + 1 >= argc) die("option needs a value");
    const char* v = argv[++i];
    if (a == "--mode")
      o.mode = v;
    else if (a == "--bytes")
      o.bytes = number(v);
    else if (a == "--chunk")
      o.chunk = number(v);
    else if (a == "--body")
      o.body = number(v);
    else if (a == "--sessions")
      o.sessions = static_cast<int>(number(v));
    else if (a == "--timeout")
      o.timeout = static_cast<int>(number(v));
    else
      die("unknown option");
  }
  for (; i < argc; ++i) o.prog.push_back(argv[i]);
  if (o.prog.empty() || (o.mode != "data" && o.mode != "bdat" && o.mode != "short") ||
      o.chunk == 0 || o.timeout <= 0)
    die("usage: client --mode data|bdat|short [options] -- prog [args]");

  struct sigaction sa = {};
  sa.sa_handler = on_alarm;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGALRM, &sa, nullptr);  // no SA_RESTART: a blocked call returns
  signal(SIGPIPE, SIG_IGN);
  return o.mode == "short" ? run_short(o) : run_stream(o);
}
