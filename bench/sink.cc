// The benchmark's SMTP server: an inetd-style sink on stdin/stdout, built
// to cost as little as possible per byte so that what a benchmark measures
// is the relay in front of it.
//
//   sink [--expect BYTES:CRC32C_HEX] [--record FILE]
//
// It reads 256 KiB at a time, answers the greeting, EHLO (advertising
// PIPELINING and CHUNKING), HELO, MAIL, RCPT, DATA, BDAT, RSET, NOOP and
// QUIT, and keeps a CRC-32C of every message body it receives: the DATA
// body as it came (up to and including the CRLF before the final "."), or
// the concatenated BDAT chunks. The reply that ends a message says what it
// got:
//
//   250 2.0.0 received bytes=N crc32c=XXXXXXXX
//
// With --expect the sink also judges each message itself: a body that
// differs gets a 554 instead, and the sink exits with status 4 after QUIT.
// With --record each message the sink stores (whose final reply it is about
// to send) also appends one line to FILE, written with a single write(2) on
// a descriptor opened with O_APPEND, so many sinks can share one file:
//
//   id=ID bytes=N crc32c=XXXXXXXX how=data|bdat pid=PID
//
// ID is what follows "X-Soak-Id: " on the body's first line (up to 64
// characters), "-" when the body does not start so: the soak benchmark
// (soak.py) embeds a unique id there to count losses and duplicates. The
// line is written before the reply, so a client that saw the 250 can count
// on the line being there.
// Exit status: 0 after QUIT with every message as expected, 1 when the
// input ends without QUIT, 2 on bad usage, 4 after a mismatch.
//
// The end of a DATA body (CRLF "." CRLF) is found with memchr for the dot,
// so a body costs a memchr and a CRC pass, never a loop over its bytes.
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "crc32c.h"

namespace {

constexpr std::size_t kReadSize = 256 * 1024;
constexpr std::size_t kMaxLine = 64 * 1024;
alignas(64) char in_buf[kReadSize];

std::string out;                   // replies not written yet: flushed before each read
int record_fd = -1;                // --record FILE
constexpr std::size_t kHead = 80;  // body bytes kept for the id
constexpr std::string_view kIdTag = "X-Soak-Id: ";

void flush() {
  std::size_t done = 0;
  while (done < out.size()) {
    ssize_t w = ::write(1, out.data() + done, out.size() - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      std::_Exit(1);
    }
    done += static_cast<std::size_t>(w);
  }
  out.clear();
}

void reply(std::string_view text) {
  out.append(text);
  out.append("\r\n");
}

bool verb_is(std::string_view line, std::string_view verb) {
  if (line.size() < verb.size()) return false;
  for (std::size_t i = 0; i < verb.size(); ++i) {
    char c = line[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c != verb[i]) return false;
  }
  return line.size() == verb.size() || line[verb.size()] == ' ';
}

struct Expectation {
  bool set = false;
  std::uint64_t bytes = 0;
  std::uint32_t crc = 0;
};

class Sink {
 public:
  explicit Sink(Expectation e) : expect_(e) {}

  // Takes what was read; false once QUIT has been answered.
  bool feed(const char* p, std::size_t n) {
    while (n > 0) {
      std::size_t used = 0;
      switch (mode_) {
        case Mode::Command:
          used = command_bytes(p, n);
          break;
        case Mode::Body:
          used = body_bytes(p, n);
          break;
        case Mode::Chunk:
          used = chunk_bytes(p, n);
          break;
      }
      p += used;
      n -= used;
      if (quit_) return false;
    }
    return true;
  }

  bool all_good() const { return !mismatch_; }

 private:
  enum class Mode { Command, Body, Chunk };

  // ---- command lines
  std::size_t command_bytes(const char* p, std::size_t n) {
    const char* lf = static_cast<const char*>(std::memchr(p, '\n', n));
    if (lf == nullptr) {
      if (line_.size() + n > kMaxLine) {
        reply("500 5.5.2 line too long");
        line_.clear();
      } else {
        line_.append(p, n);
      }
      return n;
    }
    std::size_t used = static_cast<std::size_t>(lf - p) + 1;
    std::string_view line;
    if (line_.empty()) {
      line = std::string_view(p, used - 1);
    } else {
      line_.append(p, used - 1);
      line = line_;
    }
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    command(line);
    line_.clear();
    return used;
  }

  void command(std::string_view line) {
    if (verb_is(line, "EHLO")) {
      reply("250-sink.invalid\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-CHUNKING\r\n250 SIZE");
    } else if (verb_is(line, "HELO")) {
      reply("250 sink.invalid");
    } else if (verb_is(line, "MAIL")) {
      start_message();
      reply("250 2.1.0 ok");
    } else if (verb_is(line, "RCPT")) {
      reply("250 2.1.5 ok");
    } else if (verb_is(line, "DATA")) {
      start_message();
      reply("354 go ahead");
      mode_ = Mode::Body;
      // The CRLF that ended the DATA line counts as the one before a "."
      // that ends an empty body.
      prev_[0] = '\r';
      prev_[1] = '\n';
      held_ = 0;
    } else if (verb_is(line, "BDAT")) {
      bdat(line.substr(4));
    } else if (verb_is(line, "RSET")) {
      start_message();
      reply("250 2.0.0 ok");
    } else if (verb_is(line, "NOOP")) {
      reply("250 2.0.0 ok");
    } else if (verb_is(line, "QUIT")) {
      reply("221 2.0.0 bye");
      quit_ = true;
    } else {
      reply("500 5.5.1 unknown command");
    }
  }

  void bdat(std::string_view args) {
    while (!args.empty() && args.front() == ' ') args.remove_prefix(1);
    std::uint64_t size = 0;
    std::size_t i = 0;
    while (i < args.size() && args[i] >= '0' && args[i] <= '9' && i < 19)
      size = size * 10 + static_cast<unsigned>(args[i++] - '0');
    std::string_view rest = args.substr(i);
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    if (i == 0 || (!rest.empty() && !verb_is(rest, "LAST"))) {
      reply("501 5.5.4 bad BDAT");
      return;
    }
    chunk_left_ = size;
    chunk_last_ = !rest.empty();
    chunk_size_ = size;
    mode_ = Mode::Chunk;
    if (size == 0) end_chunk();
  }

  // ---- BDAT: n raw bytes
  std::size_t chunk_bytes(const char* p, std::size_t n) {
    std::size_t take = n < chunk_left_ ? n : static_cast<std::size_t>(chunk_left_);
    body(p, take);
    chunk_left_ -= take;
    if (chunk_left_ == 0) end_chunk();
    return take;
  }

  void end_chunk() {
    mode_ = Mode::Command;
    if (chunk_last_) {
      end_message();
    } else {
      reply("250 2.0.0 " + std::to_string(chunk_size_) + " octets received");
    }
  }

  // ---- DATA: everything up to CRLF "." CRLF
  //
  // prev_ holds the last two body bytes before this span (for a CRLF that
  // ends one read and a dot that starts the next), held_ the bytes of a
  // possible ".\r" at the very end of the last span: not counted yet,
  // because they belong to the terminator if the next bytes finish it.
  std::size_t body_bytes(const char* p, std::size_t n) {
    if (held_ > 0) {
      // "." or ".\r" is waiting; the terminator is ".\r\n".
      static constexpr char kTerm[] = ".\r\n";
      std::size_t need = 3 - held_;
      std::size_t have = n < need ? n : need;
      if (std::memcmp(p, kTerm + held_, have) == 0) {
        if (have == need) {
          held_ = 0;
          end_message();
          mode_ = Mode::Command;
          return need;
        }
        held_ += have;  // still undecided
        return have;
      }
      // Not the end after all: the held bytes are body.
      body(kTerm, held_);
      prev_[0] = held_ == 2 ? '.' : prev_[1];
      prev_[1] = kTerm[held_ - 1];
      held_ = 0;
    }
    const char* from = p;  // first byte not counted yet
    const char* q = p;
    const char* const end = p + n;
    while (q < end) {
      const char* dot = static_cast<const char*>(std::memchr(q, '.', end - q));
      if (dot == nullptr) break;
      char b1 = dot - p >= 1 ? dot[-1] : prev_[1];
      char b2 = dot - p >= 2 ? dot[-2] : (dot - p == 1 ? prev_[1] : prev_[0]);
      q = dot + 1;
      if (b1 != '\n' || b2 != '\r') continue;
      std::size_t after = static_cast<std::size_t>(end - dot);
      if (after >= 3) {
        if (dot[1] == '\r' && dot[2] == '\n') {
          body(from, static_cast<std::size_t>(dot - from));
          end_message();
          mode_ = Mode::Command;
          return static_cast<std::size_t>(dot + 3 - p);
        }
        continue;
      }
      if (after == 1 || dot[1] == '\r') {
        // The span ends inside what may be the terminator: hold it.
        body(from, static_cast<std::size_t>(dot - from));
        remember_tail(p, dot);
        held_ = after;
        return n;
      }
    }
    body(from, static_cast<std::size_t>(end - from));
    remember_tail(p, end);
    return n;
  }

  // The last two body bytes before `upto` (which is in the span at p).
  void remember_tail(const char* p, const char* upto) {
    std::size_t k = static_cast<std::size_t>(upto - p);
    if (k >= 2) {
      prev_[0] = upto[-2];
      prev_[1] = upto[-1];
    } else if (k == 1) {
      prev_[0] = prev_[1];
      prev_[1] = upto[-1];
    }
  }

  // ---- messages
  void start_message() {
    crc_ = bench::Crc32c{};
    bytes_ = 0;
    head_len_ = 0;
  }

  // n bytes of the current body
  void body(const char* p, std::size_t n) {
    crc_.update(p, n);
    bytes_ += n;
    if (record_fd >= 0 && head_len_ < kHead) {
      std::size_t k = n < kHead - head_len_ ? n : kHead - head_len_;
      std::memcpy(head_ + head_len_, p, k);
      head_len_ += k;
    }
  }

  void record(std::uint32_t crc) {
    std::string_view head(head_, head_len_);
    std::string_view id = "-";
    if (head.substr(0, kIdTag.size()) == kIdTag) {
      head.remove_prefix(kIdTag.size());
      std::size_t n = 0;
      while (n < head.size() && n < 64 && head[n] > ' ' && head[n] < 127) ++n;
      if (n > 0) id = head.substr(0, n);
    }
    char text[192];
    int len = std::snprintf(text, sizeof text, "id=%.*s bytes=%llu crc32c=%08x how=%s pid=%ld\n",
                            static_cast<int>(id.size()), id.data(),
                            static_cast<unsigned long long>(bytes_), crc,
                            mode_ == Mode::Body ? "data" : "bdat", static_cast<long>(::getpid()));
    if (len <= 0 || static_cast<std::size_t>(len) >= sizeof text) std::_Exit(3);
    // One write: O_APPEND puts it whole at the end, whatever other sinks do.
    ssize_t w;
    do {
      w = ::write(record_fd, text, static_cast<std::size_t>(len));
    } while (w < 0 && errno == EINTR);
    if (w != len) std::_Exit(3);
  }

  void end_message() {
    char text[128];
    std::uint32_t crc = crc_.value();
    bool ok = !expect_.set || (bytes_ == expect_.bytes && crc == expect_.crc);
    std::snprintf(text, sizeof text, "%s received bytes=%llu crc32c=%08x%s",
                  ok ? "250 2.0.0" : "554 5.6.0", static_cast<unsigned long long>(bytes_), crc,
                  expect_.set ? (ok ? " verified" : " MISMATCH") : "");
    if (!ok) mismatch_ = true;
    if (record_fd >= 0) record(crc);
    reply(text);
    start_message();
  }

  Expectation expect_;
  Mode mode_ = Mode::Command;
  std::string line_;
  bool quit_ = false;
  bool mismatch_ = false;
  bench::Crc32c crc_;
  std::uint64_t bytes_ = 0;
  char prev_[2] = {'\r', '\n'};
  std::size_t held_ = 0;
  std::uint64_t chunk_left_ = 0;
  std::uint64_t chunk_size_ = 0;
  bool chunk_last_ = false;
  char head_[kHead];
  std::size_t head_len_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  Expectation e;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--expect") == 0 && i + 1 < argc) {
      unsigned long long bytes = 0;
      unsigned crc = 0;
      if (std::sscanf(argv[++i], "%llu:%x", &bytes, &crc) != 2) return 2;
      e.set = true;
      e.bytes = bytes;
      e.crc = crc;
    } else if (std::strcmp(argv[i], "--record") == 0 && i + 1 < argc) {
      record_fd = ::open(argv[++i], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
      if (record_fd < 0) {
        std::perror(argv[i]);
        return 2;
      }
    } else {
      std::fprintf(stderr, "usage: sink [--expect BYTES:CRC32C_HEX] [--record FILE]\n");
      return 2;
    }
  }
  Sink sink(e);
  reply("220 sink.invalid ESMTP benchmark sink");
  for (;;) {
    flush();
    ssize_t r = ::read(0, in_buf, kReadSize);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return 1;
    if (!sink.feed(in_buf, static_cast<std::size_t>(r))) break;
  }
  flush();
  return sink.all_good() ? 0 : 4;
}
