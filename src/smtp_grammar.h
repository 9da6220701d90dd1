// The SMTP grammar as the helper needs it: what a client command line is,
// what a child reply line is, which EHLO keywords matter, and where a DATA
// body ends. The machines are written in Ragel (grammar/smtp.rl) and the
// generated code lives in generated/; this header is their whole interface.
//
// The line machines take one complete line with its terminator (LF, or CR
// LF) already removed: framing is done by the Session with memchr, so a NUL
// byte or a bare CR can never end a line. The DATA scanner is streaming.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace tws {

enum class Verb { Other, Ehlo, Helo, Mail, Rcpt, Data, Bdat, StartTls, Rset, Noop, Quit, Auth };

std::string_view verb_name(Verb v);

struct Command {
  Verb verb = Verb::Other;
  // What follows the verb, leading and trailing white space removed.
  std::string_view args;
  // MAIL and RCPT: "FROM:"/"TO:" then a path were recognised. address is
  // the path without angle brackets (empty for the null sender <>);
  // params is what follows the path (ESMTP parameters), trimmed.
  bool path_ok = false;
  std::string_view address;
  std::string_view params;
  // BDAT: "size [LAST]" recognised and size fits in 64 bits.
  bool chunk_ok = false;
  std::uint64_t chunk_size = 0;
  bool chunk_last = false;
};

// Classifies one command line. Never fails: a line the machine does not
// know is Verb::Other and goes to the child as it is.
Command parse_command(std::string_view line);

enum class ReplySeparator { Continue, Last, End };  // '-', ' ', end of line

struct ReplyLine {
  bool ok = false;  // three digits then '-', ' ' or end of line
  int code = 0;
  ReplySeparator separator = ReplySeparator::End;
  std::string_view text;  // after the separator
  bool last() const { return separator != ReplySeparator::Continue; }
};

ReplyLine parse_reply(std::string_view line);

enum class EhloKeyword { Other, StartTls, Chunking, Auth };

// The keyword of one EHLO reply line's text ("STARTTLS", "SIZE 1000", ...).
// Auth is "AUTH mechanisms" and the old "AUTH=mechanisms" alike.
EhloKeyword parse_ehlo_keyword(std::string_view text);

// Scans a DATA body as it streams by, finds the CRLF.CRLF that ends it and
// guards against SMTP smuggling: a lone "." line bounded by a bare LF or a
// bare CR (which a lenient child could read as the end of the message) gets
// a second dot, exactly what a dot-unstuffing reader removes again. Every
// other byte passes untouched.
//
// scan() appends to `out` the pieces to send the child, in order: views into
// `in`, or into static storage for the few bytes the scanner has to make or
// carry over a span boundary. It returns how many bytes of `in` belong to
// the body (all of them, unless the end was found).
class DataScanner {
 public:
  DataScanner() { reset(); }
  void reset();
  std::size_t scan(std::string_view in, std::vector<std::string_view>& out);
  bool finished() const { return finished_; }

 private:
  int cs_ = 0;
  bool finished_ = false;
  // A line-start dot (and a CR after it) that arrived at the end of an
  // earlier span: not sent yet, and no longer in the input.
  bool carried_ = false;
  // A dot after a line break has been seen and not decided on yet.
  bool owing_ = false;
};

}  // namespace tws
