// The SMTP grammar of tlswrapper-smtp: the command machine, the reply
// machine, the EHLO keyword machine and the DATA body scanner.
//
// Dependencies: src/smtp_grammar.h (the interface these functions fill in).
// Required actions: none from outside; every action below only marks a
// position or records a value, and the C++ around the machine decides.
//
// Generated with `ragel -F1` (flat tables, expanded actions) from the
// repository root (see CMakeLists.txt, target `regenerate`); the output is
// committed in generated/.

#include <cstring>

#include "smtp_grammar.h"

namespace tws {

namespace {

using uchar = unsigned char;

std::string_view span(const uchar* a, const uchar* b) {
  return {reinterpret_cast<const char*>(a), static_cast<std::size_t>(b - a)};
}

const uchar* begin_of(std::string_view s) { return reinterpret_cast<const uchar*>(s.data()); }

std::string_view trim(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string_view verb_name(Verb v) {
  switch (v) {
    case Verb::Ehlo: return "EHLO";
    case Verb::Helo: return "HELO";
    case Verb::Mail: return "MAIL";
    case Verb::Rcpt: return "RCPT";
    case Verb::Data: return "DATA";
    case Verb::Bdat: return "BDAT";
    case Verb::StartTls: return "STARTTLS";
    case Verb::Rset: return "RSET";
    case Verb::Noop: return "NOOP";
    case Verb::Quit: return "QUIT";
    case Verb::Auth: return "AUTH";
    case Verb::Other: break;
  }
  return "other";
}

// ---------------------------------------------------------------------------
// The verb. RFC 5321 4.1.1: verb [SP args] CRLF; verbs are case-insensitive.
// A verb is matched whole: "EHLOX" or "DATA\0" is some other command. White
// space after the verb includes TAB and CR, because servers trim them and
// would otherwise read "DATA\r" as DATA while the helper did not.
%%{
  machine command_verb;
  alphtype unsigned char;

  action ehlo { verb = Verb::Ehlo; verb_end = p + 1; }
  action helo { verb = Verb::Helo; verb_end = p + 1; }
  action mail { verb = Verb::Mail; verb_end = p + 1; }
  action rcpt { verb = Verb::Rcpt; verb_end = p + 1; }
  action data { verb = Verb::Data; verb_end = p + 1; }
  action bdat { verb = Verb::Bdat; verb_end = p + 1; }
  action starttls { verb = Verb::StartTls; verb_end = p + 1; }
  action rset { verb = Verb::Rset; verb_end = p + 1; }
  action noop { verb = Verb::Noop; verb_end = p + 1; }
  action quit { verb = Verb::Quit; verb_end = p + 1; }
  action auth { verb = Verb::Auth; verb_end = p + 1; }

  verb = "EHLO"i @ehlo | "HELO"i @helo | "MAIL"i @mail | "RCPT"i @rcpt
       | "DATA"i @data | "BDAT"i @bdat | "STARTTLS"i @starttls
       | "RSET"i @rset | "NOOP"i @noop | "QUIT"i @quit | "AUTH"i @auth;

  main := verb ( [ \t\r] any* )?;
}%%

%% write data noerror noentry;

// ---------------------------------------------------------------------------
// MAIL and RCPT arguments. RFC 5321 4.1.2:
//   "FROM:" ("<>" / Reverse-path) [SP Mail-parameters]
//   "TO:" ( "<Postmaster@" Domain ">" / "<Postmaster>" / Forward-path ) [SP Rcpt-parameters]
// Accepted more loosely, as servers do: white space after the colon, and a
// path without angle brackets. Inside brackets a quoted local part may hold
// spaces and '>'.
%%{
  machine mail_path;
  alphtype unsigned char;

  action open { addr_begin = p + 1; }
  action close { addr_end = p; path_end = p + 1; }
  action bare_begin { addr_begin = p; }
  action bare_char { addr_end = p + 1; path_end = p + 1; }

  ws = [ \t\r];
  quoted = '"' ( [^"\\] | '\\' any )* '"';
  bracketed = '<' @open ( quoted | [^>"] )* '>' @close;
  bare = ( ( any - [<> \t\r] ) >bare_begin ( any - [ \t\r] )* ) $bare_char;

  main := ( "FROM:"i | "TO:"i ) ws* ( bracketed | bare ) ( ws any* )?;
}%%

%% write data noerror noentry;

// ---------------------------------------------------------------------------
// BDAT arguments. RFC 3030: "BDAT" SP chunk-size [ SP end-marker ]
//   chunk-size = 1*DIGIT, end-marker = "LAST"
%%{
  machine bdat_args;
  alphtype unsigned char;

  action digit {
    const std::uint64_t d = static_cast<std::uint64_t>(fc - '0');
    if (size > (UINT64_MAX - d) / 10) overflow = true;
    size = size * 10 + d;
  }
  action last { last = true; }

  main := digit+ $digit ( [ \t]+ "LAST"i @last )? [ \t]*;
}%%

%% write data noerror noentry;

namespace {

// Each machine runs in a function of its own: Ragel's labels are per function.
void parse_verb(std::string_view line, Command& cmd) {
  const uchar* p = begin_of(line);
  const uchar* pe = p + line.size();
  const uchar* verb_end = nullptr;
  Verb verb = Verb::Other;
  int cs = command_verb_start;
  %%{ machine command_verb; write exec; }%%
  if (cs < command_verb_first_final) return;
  cmd.verb = verb;
  cmd.args = trim(span(verb_end, pe));
}

void parse_path(Command& cmd) {
  const uchar* p = begin_of(cmd.args);
  const uchar* pe = p + cmd.args.size();
  const uchar* addr_begin = nullptr;
  const uchar* addr_end = nullptr;
  const uchar* path_end = nullptr;
  int cs = mail_path_start;
  %%{ machine mail_path; write exec; }%%
  if (cs < mail_path_first_final || addr_begin == nullptr) return;
  cmd.path_ok = true;
  cmd.address = span(addr_begin, addr_end);
  cmd.params = trim(span(path_end, pe));
}

void parse_bdat(Command& cmd) {
  const uchar* p = begin_of(cmd.args);
  const uchar* pe = p + cmd.args.size();
  std::uint64_t size = 0;
  bool overflow = false;
  bool last = false;
  int cs = bdat_args_start;
  %%{ machine bdat_args; write exec; }%%
  if (cs < bdat_args_first_final || overflow) return;
  cmd.chunk_ok = true;
  cmd.chunk_size = size;
  cmd.chunk_last = last;
}

}  // namespace

Command parse_command(std::string_view line) {
  Command cmd;
  parse_verb(line, cmd);
  if (cmd.verb == Verb::Mail || cmd.verb == Verb::Rcpt) parse_path(cmd);
  if (cmd.verb == Verb::Bdat) parse_bdat(cmd);
  return cmd;
}

// ---------------------------------------------------------------------------
// Reply lines. RFC 5321 4.2: Reply-line = *( Reply-code "-" [ textstring ] CRLF )
//   Reply-code [ SP textstring ] CRLF; Reply-code = %x32-35 %x30-35 %x30-39
// Checked here: three digits, then '-', ' ' or the end of the line. The
// text is relayed as it is.
%%{
  machine reply_line;
  alphtype unsigned char;

  action sep { separator = fc; }

  main := digit digit digit ( [\- ] @sep any* )?;
}%%

%% write data noerror noentry;

ReplyLine parse_reply(std::string_view line) {
  ReplyLine r;
  const uchar* p = begin_of(line);
  const uchar* pe = p + line.size();
  int separator = 0;
  int cs = reply_line_start;
  %%{ machine reply_line; write exec; }%%
  if (cs < reply_line_first_final) return r;
  r.ok = true;
  r.code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
  r.separator = separator == '-'   ? ReplySeparator::Continue
                : separator == ' ' ? ReplySeparator::Last
                                   : ReplySeparator::End;
  r.text = line.size() > 4 ? line.substr(4) : std::string_view{};
  return r;
}

// ---------------------------------------------------------------------------
// EHLO keywords. RFC 5321 4.1.1.1: ehlo-line = ehlo-keyword *( SP ehlo-param )
// Only the keywords the helper acts on are told apart. AUTH (RFC 4954 3:
// "AUTH" SP mechanisms) also comes in the old form "AUTH=mechanisms" that
// some servers still send for clients of the first drafts; both are one
// keyword to the helper.
%%{
  machine ehlo_keyword;
  alphtype unsigned char;

  action starttls { keyword = EhloKeyword::StartTls; }
  action chunking { keyword = EhloKeyword::Chunking; }
  action auth { keyword = EhloKeyword::Auth; }

  main := ( "STARTTLS"i @starttls | "CHUNKING"i @chunking | "AUTH"i @auth ) ( [ \t\r] any* )?
        | "AUTH="i @auth any*;
}%%

%% write data noerror noentry;

EhloKeyword parse_ehlo_keyword(std::string_view text) {
  const uchar* p = begin_of(text);
  const uchar* pe = p + text.size();
  EhloKeyword keyword = EhloKeyword::Other;
  int cs = ehlo_keyword_start;
  %%{ machine ehlo_keyword; write exec; }%%
  return cs >= ehlo_keyword_first_final ? keyword : EhloKeyword::Other;
}

// ---------------------------------------------------------------------------
// The DATA body. RFC 5321 4.1.1.4: the body ends at CRLF "." CRLF, where the
// first CRLF may be the one that ended the DATA line. The states say what
// the last bytes were: `start` a CRLF (or the beginning), `cr` a CR not yet
// followed by LF, `lf` a bare LF, `mid` anything else. A dot is only
// interesting right after a line break; then it is "owed" (held back) until
// the next byte or two decide:
//   CRLF . CRLF                    end of the body
//   CRLF . LF, CRLF . CR x         a second dot is sent before it
//   bare CR or LF . CR or LF       a second dot is sent before it
//   anything else                  the dot goes as it is
// In the middle of a line the scanner jumps with memchr to just before the
// next dot that follows a CR or LF: a body costs a memchr, not a state
// transition, per byte.
%%{
  machine data_body;
  alphtype unsigned char;

  action skip {
    const uchar* target = pe;
    const uchar* from = p + 1;
    while (from < pe) {
      const uchar* dot = static_cast<const uchar*>(std::memchr(from, '.', pe - from));
      if (dot == nullptr) break;
      if (dot[-1] == '\r' || dot[-1] == '\n') { target = dot; break; }
      from = dot + 1;
    }
    // Two bytes before the target are enough to know the state there.
    if (target - p > 3) fexec target - 2;
  }
  action owe { owed = p; owing_ = true; }
  action keep {
    if (carried_) { out.push_back(kDot); flushed = p; carried_ = false; }
    owing_ = false;
    fhold;
  }
  action escape {
    if (carried_) { out.push_back(kTwoDots); flushed = p; carried_ = false; }
    else { view(flushed, owed); out.push_back(kDot); flushed = owed; }
    owing_ = false;
    fhold;
  }
  action escape_cr {
    if (carried_) { out.push_back(kTwoDotsCr); flushed = p; carried_ = false; }
    else { view(flushed, owed); out.push_back(kDot); flushed = owed; }
    owing_ = false;
    fhold;
  }
  action done {
    if (carried_) out.push_back(kDotCrLf);
    else view(flushed, p + 1);
    carried_ = false;
    owing_ = false;
    finished_ = true;
    flushed = p + 1;
    fbreak;
  }

  other = any - [.\r\n];

  main := (
    start: ( '.' @owe -> dot_ls | '\r' -> cr | '\n' -> lf | other @skip -> mid ),
    mid: ( '\r' -> cr | '\n' -> lf | ( any - [\r\n] ) @skip -> mid ),
    cr: ( '\n' -> start | '\r' -> cr | '.' @owe -> dot_bare | other @skip -> mid ),
    lf: ( '\n' -> lf | '\r' -> cr | '.' @owe -> dot_bare | other @skip -> mid ),
    dot_ls: ( '\r' -> dot_ls_cr | '\n' @escape -> mid | ( any - [\r\n] ) @keep -> mid ),
    dot_ls_cr: ( '\n' @done -> final | ( any - '\n' ) @escape_cr -> cr ),
    dot_bare: ( [\r\n] @escape -> mid | ( any - [\r\n] ) @keep -> mid )
  );
}%%

%% write data noerror nofinal noentry;

namespace {
constexpr std::string_view kDot = ".";
constexpr std::string_view kTwoDots = "..";
constexpr std::string_view kTwoDotsCr = "..\r";
constexpr std::string_view kDotCrLf = ".\r\n";
}  // namespace

void DataScanner::reset() {
  cs_ = data_body_start;
  finished_ = false;
  carried_ = false;
  owing_ = false;
}

std::size_t DataScanner::scan(std::string_view in, std::vector<std::string_view>& out) {
  if (finished_) return 0;
  const uchar* const base = begin_of(in);
  const uchar* p = base;
  const uchar* pe = base + in.size();
  const uchar* flushed = p;  // first byte not handed out yet
  const uchar* owed = p;     // where the owed bytes begin in this span
  auto view = [&out](const uchar* a, const uchar* b) {
    if (b > a) out.push_back(span(a, b));
  };
  int cs = cs_;
  %%{ machine data_body; write exec; }%%
  cs_ = cs;
  if (finished_) return static_cast<std::size_t>(flushed - base);
  if (owing_) {
    if (!carried_) view(flushed, owed);
    carried_ = true;
  } else {
    view(flushed, pe);
  }
  return in.size();
}

}  // namespace tws
