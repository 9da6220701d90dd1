
#line 1 "grammar/smtp.rl"
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

#line 81 "grammar/smtp.rl"



#line 63 "generated/smtp_grammar.cc"
static const unsigned char _command_verb_trans_keys[] = {
	0u, 0u, 65u, 115u, 85u, 117u, 84u, 116u, 72u, 104u, 68u, 100u, 65u, 97u, 84u, 116u, 
	65u, 97u, 84u, 116u, 65u, 97u, 72u, 104u, 76u, 108u, 79u, 111u, 69u, 101u, 76u, 108u, 
	79u, 111u, 65u, 97u, 73u, 105u, 76u, 108u, 79u, 111u, 79u, 111u, 80u, 112u, 85u, 117u, 
	73u, 105u, 84u, 116u, 67u, 115u, 80u, 112u, 84u, 116u, 69u, 101u, 84u, 116u, 84u, 116u, 
	65u, 97u, 82u, 114u, 84u, 116u, 84u, 116u, 76u, 108u, 83u, 115u, 9u, 32u, 0u, 0u, 
	0
};

static const char _command_verb_key_spans[] = {
	0, 51, 33, 33, 33, 33, 33, 33, 
	33, 33, 33, 33, 33, 33, 33, 33, 
	33, 33, 33, 33, 33, 33, 33, 33, 
	33, 33, 49, 33, 33, 33, 33, 33, 
	33, 33, 33, 33, 33, 33, 24, 0
};

static const short _command_verb_index_offsets[] = {
	0, 0, 52, 86, 120, 154, 188, 222, 
	256, 290, 324, 358, 392, 426, 460, 494, 
	528, 562, 596, 630, 664, 698, 732, 766, 
	800, 834, 868, 918, 952, 986, 1020, 1054, 
	1088, 1122, 1156, 1190, 1224, 1258, 1292, 1317
};

static const char _command_verb_indicies[] = {
	0, 2, 1, 3, 4, 1, 1, 
	5, 1, 1, 1, 1, 6, 7, 1, 
	1, 8, 9, 10, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 0, 2, 1, 3, 4, 1, 1, 
	5, 1, 1, 1, 1, 6, 7, 1, 
	1, 8, 9, 10, 1, 11, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 11, 1, 12, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 12, 
	1, 13, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 13, 1, 14, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 14, 1, 15, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 15, 1, 16, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 16, 
	1, 17, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 17, 1, 18, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 18, 1, 19, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 19, 1, 20, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 20, 
	1, 21, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 21, 1, 22, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 22, 1, 23, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 23, 1, 24, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 24, 
	1, 25, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 25, 1, 26, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 26, 1, 27, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 27, 1, 28, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 28, 
	1, 29, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 29, 1, 30, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 30, 1, 31, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 31, 1, 32, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 32, 
	1, 33, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 33, 1, 34, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 34, 1, 35, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 36, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 35, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 36, 1, 37, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 37, 
	1, 38, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 38, 1, 39, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 39, 1, 40, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 40, 1, 41, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 41, 
	1, 42, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 42, 1, 43, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 43, 1, 44, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 44, 1, 45, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 45, 
	1, 46, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 46, 1, 47, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 47, 1, 48, 1, 1, 
	1, 48, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 48, 1, 48, 0
};

static const char _command_verb_trans_targs[] = {
	2, 0, 5, 8, 11, 14, 17, 20, 
	23, 26, 31, 3, 4, 38, 6, 7, 
	38, 9, 10, 38, 12, 13, 38, 15, 
	16, 38, 18, 19, 38, 21, 22, 38, 
	24, 25, 38, 27, 29, 28, 38, 30, 
	38, 32, 33, 34, 35, 36, 37, 38, 
	39
};

static const char _command_verb_trans_actions[] = {
	0, 0, 0, 0, 0, 0, 0, 0, 
	0, 0, 0, 0, 0, 1, 0, 0, 
	2, 0, 0, 3, 0, 0, 4, 0, 
	0, 5, 0, 0, 6, 0, 0, 7, 
	0, 0, 8, 0, 0, 0, 9, 0, 
	10, 0, 0, 0, 0, 0, 0, 11, 
	0
};

static const int command_verb_start = 1;
static const int command_verb_first_final = 38;


#line 84 "grammar/smtp.rl"

// ---------------------------------------------------------------------------
// MAIL and RCPT arguments. RFC 5321 4.1.2:
//   "FROM:" ("<>" / Reverse-path) [SP Mail-parameters]
//   "TO:" ( "<Postmaster@" Domain ">" / "<Postmaster>" / Forward-path ) [SP Rcpt-parameters]
// Accepted more loosely, as servers do: white space after the colon, and a
// path without angle brackets. Inside brackets a quoted local part may hold
// spaces and '>'.

#line 107 "grammar/smtp.rl"



#line 289 "generated/smtp_grammar.cc"
static const unsigned char _mail_path_trans_keys[] = {
	0u, 0u, 70u, 116u, 82u, 114u, 79u, 111u, 77u, 109u, 58u, 58u, 9u, 62u, 34u, 62u, 
	34u, 92u, 0u, 0u, 79u, 111u, 9u, 32u, 0u, 0u, 9u, 32u, 0
};

static const char _mail_path_key_spans[] = {
	0, 47, 33, 33, 33, 1, 54, 29, 
	59, 0, 33, 24, 0, 24
};

static const short _mail_path_index_offsets[] = {
	0, 0, 48, 82, 116, 150, 152, 207, 
	237, 297, 298, 332, 357, 358
};

static const char _mail_path_indicies[] = {
	0, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 2, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 0, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 2, 
	1, 3, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 3, 1, 4, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 4, 1, 5, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 5, 1, 6, 
	1, 6, 7, 7, 7, 6, 7, 7, 
	7, 7, 7, 7, 7, 7, 7, 7, 
	7, 7, 7, 7, 7, 7, 7, 7, 
	6, 7, 7, 7, 7, 7, 7, 7, 
	7, 7, 7, 7, 7, 7, 7, 7, 
	7, 7, 7, 7, 7, 7, 7, 7, 
	7, 7, 7, 7, 8, 7, 1, 7, 
	10, 9, 9, 9, 9, 9, 9, 9, 
	9, 9, 9, 9, 9, 9, 9, 9, 
	9, 9, 9, 9, 9, 9, 9, 9, 
	9, 9, 9, 9, 11, 9, 9, 10, 
	10, 10, 10, 10, 10, 10, 10, 10, 
	10, 10, 10, 10, 10, 10, 10, 10, 
	10, 10, 10, 10, 10, 10, 10, 10, 
	10, 10, 10, 10, 10, 10, 10, 10, 
	10, 10, 10, 10, 10, 10, 10, 10, 
	10, 10, 10, 10, 10, 10, 10, 10, 
	10, 10, 10, 10, 10, 10, 10, 10, 
	12, 10, 10, 5, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 5, 1, 14, 13, 13, 
	13, 14, 13, 13, 13, 13, 13, 13, 
	13, 13, 13, 13, 13, 13, 13, 13, 
	13, 13, 13, 13, 14, 13, 14, 14, 
	1, 1, 1, 14, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 14, 1, 
	0
};

static const char _mail_path_trans_targs[] = {
	2, 0, 10, 3, 4, 5, 6, 11, 
	7, 7, 8, 13, 9, 11, 12
};

static const char _mail_path_trans_actions[] = {
	0, 0, 0, 0, 0, 0, 0, 1, 
	2, 0, 0, 3, 0, 4, 0
};

static const int mail_path_start = 1;
static const int mail_path_first_final = 11;


#line 110 "grammar/smtp.rl"

// ---------------------------------------------------------------------------
// BDAT arguments. RFC 3030: "BDAT" SP chunk-size [ SP end-marker ]
//   chunk-size = 1*DIGIT, end-marker = "LAST"

#line 126 "grammar/smtp.rl"



#line 375 "generated/smtp_grammar.cc"
static const unsigned char _bdat_args_trans_keys[] = {
	0u, 0u, 48u, 57u, 65u, 97u, 83u, 115u, 84u, 116u, 9u, 57u, 9u, 108u, 9u, 32u, 
	0
};

static const char _bdat_args_key_spans[] = {
	0, 10, 33, 33, 33, 49, 100, 24
};

static const short _bdat_args_index_offsets[] = {
	0, 0, 11, 45, 79, 113, 163, 264
};

static const char _bdat_args_indicies[] = {
	0, 0, 0, 0, 0, 0, 0, 
	0, 0, 0, 1, 2, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 2, 1, 3, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 3, 1, 
	4, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	4, 1, 5, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 5, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 0, 0, 0, 0, 0, 0, 0, 
	0, 0, 0, 1, 5, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 5, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 6, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 6, 
	1, 7, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	7, 1, 0
};

static const char _bdat_args_trans_targs[] = {
	5, 0, 3, 4, 7, 6, 2, 7
};

static const char _bdat_args_trans_actions[] = {
	1, 0, 0, 0, 2, 0, 0, 0
};

static const int bdat_args_start = 1;
static const int bdat_args_first_final = 5;


#line 129 "grammar/smtp.rl"

namespace {

// Each machine runs in a function of its own: Ragel's labels are per function.
void parse_verb(std::string_view line, Command& cmd) {
  const uchar* p = begin_of(line);
  const uchar* pe = p + line.size();
  const uchar* verb_end = nullptr;
  Verb verb = Verb::Other;
  int cs = command_verb_start;
  
#line 449 "generated/smtp_grammar.cc"
	{
	int _slen;
	int _trans;
	const unsigned char *_keys;
	const char *_inds;
	if ( p == pe )
		goto _test_eof;
	if ( cs == 0 )
		goto _out;
_resume:
	_keys = _command_verb_trans_keys + (cs<<1);
	_inds = _command_verb_indicies + _command_verb_index_offsets[cs];

	_slen = _command_verb_key_spans[cs];
	_trans = _inds[ _slen > 0 && _keys[0] <=(*p) &&
		(*p) <= _keys[1] ?
		(*p) - _keys[0] : _slen ];

	cs = _command_verb_trans_targs[_trans];

	if ( _command_verb_trans_actions[_trans] == 0 )
		goto _again;

	switch ( _command_verb_trans_actions[_trans] ) {
	case 4:
#line 64 "grammar/smtp.rl"
	{ verb = Verb::Ehlo; verb_end = p + 1; }
	break;
	case 5:
#line 65 "grammar/smtp.rl"
	{ verb = Verb::Helo; verb_end = p + 1; }
	break;
	case 6:
#line 66 "grammar/smtp.rl"
	{ verb = Verb::Mail; verb_end = p + 1; }
	break;
	case 9:
#line 67 "grammar/smtp.rl"
	{ verb = Verb::Rcpt; verb_end = p + 1; }
	break;
	case 3:
#line 68 "grammar/smtp.rl"
	{ verb = Verb::Data; verb_end = p + 1; }
	break;
	case 2:
#line 69 "grammar/smtp.rl"
	{ verb = Verb::Bdat; verb_end = p + 1; }
	break;
	case 11:
#line 70 "grammar/smtp.rl"
	{ verb = Verb::StartTls; verb_end = p + 1; }
	break;
	case 10:
#line 71 "grammar/smtp.rl"
	{ verb = Verb::Rset; verb_end = p + 1; }
	break;
	case 7:
#line 72 "grammar/smtp.rl"
	{ verb = Verb::Noop; verb_end = p + 1; }
	break;
	case 8:
#line 73 "grammar/smtp.rl"
	{ verb = Verb::Quit; verb_end = p + 1; }
	break;
	case 1:
#line 74 "grammar/smtp.rl"
	{ verb = Verb::Auth; verb_end = p + 1; }
	break;
#line 506 "generated/smtp_grammar.cc"
	}

_again:
	if ( cs == 0 )
		goto _out;
	if ( ++p != pe )
		goto _resume;
	_test_eof: {}
	_out: {}
	}

#line 139 "grammar/smtp.rl"

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
  
#line 529 "generated/smtp_grammar.cc"
	{
	int _slen;
	int _trans;
	const unsigned char *_keys;
	const char *_inds;
	if ( p == pe )
		goto _test_eof;
	if ( cs == 0 )
		goto _out;
_resume:
	_keys = _mail_path_trans_keys + (cs<<1);
	_inds = _mail_path_indicies + _mail_path_index_offsets[cs];

	_slen = _mail_path_key_spans[cs];
	_trans = _inds[ _slen > 0 && _keys[0] <=(*p) &&
		(*p) <= _keys[1] ?
		(*p) - _keys[0] : _slen ];

	cs = _mail_path_trans_targs[_trans];

	if ( _mail_path_trans_actions[_trans] == 0 )
		goto _again;

	switch ( _mail_path_trans_actions[_trans] ) {
	case 2:
#line 96 "grammar/smtp.rl"
	{ addr_begin = p + 1; }
	break;
	case 3:
#line 97 "grammar/smtp.rl"
	{ addr_end = p; path_end = p + 1; }
	break;
	case 4:
#line 99 "grammar/smtp.rl"
	{ addr_end = p + 1; path_end = p + 1; }
	break;
	case 1:
#line 98 "grammar/smtp.rl"
	{ addr_begin = p; }
#line 99 "grammar/smtp.rl"
	{ addr_end = p + 1; path_end = p + 1; }
	break;
#line 566 "generated/smtp_grammar.cc"
	}

_again:
	if ( cs == 0 )
		goto _out;
	if ( ++p != pe )
		goto _resume;
	_test_eof: {}
	_out: {}
	}

#line 152 "grammar/smtp.rl"

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
  
#line 590 "generated/smtp_grammar.cc"
	{
	int _slen;
	int _trans;
	const unsigned char *_keys;
	const char *_inds;
	if ( p == pe )
		goto _test_eof;
	if ( cs == 0 )
		goto _out;
_resume:
	_keys = _bdat_args_trans_keys + (cs<<1);
	_inds = _bdat_args_indicies + _bdat_args_index_offsets[cs];

	_slen = _bdat_args_key_spans[cs];
	_trans = _inds[ _slen > 0 && _keys[0] <=(*p) &&
		(*p) <= _keys[1] ?
		(*p) - _keys[0] : _slen ];

	cs = _bdat_args_trans_targs[_trans];

	if ( _bdat_args_trans_actions[_trans] == 0 )
		goto _again;

	switch ( _bdat_args_trans_actions[_trans] ) {
	case 1:
#line 118 "grammar/smtp.rl"
	{
    const std::uint64_t d = static_cast<std::uint64_t>((*p) - '0');
    if (size > (UINT64_MAX - d) / 10) overflow = true;
    size = size * 10 + d;
  }
	break;
	case 2:
#line 123 "grammar/smtp.rl"
	{ last = true; }
	break;
#line 624 "generated/smtp_grammar.cc"
	}

_again:
	if ( cs == 0 )
		goto _out;
	if ( ++p != pe )
		goto _resume;
	_test_eof: {}
	_out: {}
	}

#line 166 "grammar/smtp.rl"

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

#line 195 "grammar/smtp.rl"



#line 658 "generated/smtp_grammar.cc"
static const unsigned char _reply_line_trans_keys[] = {
	0u, 0u, 48u, 57u, 48u, 57u, 48u, 57u, 32u, 45u, 0u, 0u, 0
};

static const char _reply_line_key_spans[] = {
	0, 10, 10, 10, 14, 0
};

static const char _reply_line_index_offsets[] = {
	0, 0, 11, 22, 33, 48
};

static const char _reply_line_indicies[] = {
	0, 0, 0, 0, 0, 0, 0, 
	0, 0, 0, 1, 2, 2, 2, 2, 
	2, 2, 2, 2, 2, 2, 1, 3, 
	3, 3, 3, 3, 3, 3, 3, 3, 
	3, 1, 4, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 4, 
	1, 5, 0
};

static const char _reply_line_trans_targs[] = {
	2, 0, 3, 4, 5, 5
};

static const char _reply_line_trans_actions[] = {
	0, 0, 0, 0, 1, 0
};

static const int reply_line_start = 1;
static const int reply_line_first_final = 4;


#line 198 "grammar/smtp.rl"

ReplyLine parse_reply(std::string_view line) {
  ReplyLine r;
  const uchar* p = begin_of(line);
  const uchar* pe = p + line.size();
  int separator = 0;
  int cs = reply_line_start;
  
#line 698 "generated/smtp_grammar.cc"
	{
	int _slen;
	int _trans;
	const unsigned char *_keys;
	const char *_inds;
	if ( p == pe )
		goto _test_eof;
	if ( cs == 0 )
		goto _out;
_resume:
	_keys = _reply_line_trans_keys + (cs<<1);
	_inds = _reply_line_indicies + _reply_line_index_offsets[cs];

	_slen = _reply_line_key_spans[cs];
	_trans = _inds[ _slen > 0 && _keys[0] <=(*p) &&
		(*p) <= _keys[1] ?
		(*p) - _keys[0] : _slen ];

	cs = _reply_line_trans_targs[_trans];

	if ( _reply_line_trans_actions[_trans] == 0 )
		goto _again;

	switch ( _reply_line_trans_actions[_trans] ) {
	case 1:
#line 192 "grammar/smtp.rl"
	{ separator = (*p); }
	break;
#line 725 "generated/smtp_grammar.cc"
	}

_again:
	if ( cs == 0 )
		goto _out;
	if ( ++p != pe )
		goto _resume;
	_test_eof: {}
	_out: {}
	}

#line 205 "grammar/smtp.rl"

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

#line 232 "grammar/smtp.rl"



#line 754 "generated/smtp_grammar.cc"
static const unsigned char _ehlo_keyword_trans_keys[] = {
	0u, 0u, 65u, 115u, 85u, 117u, 84u, 116u, 72u, 104u, 72u, 104u, 85u, 117u, 78u, 110u, 
	75u, 107u, 73u, 105u, 78u, 110u, 71u, 103u, 84u, 116u, 65u, 97u, 82u, 114u, 84u, 116u, 
	84u, 116u, 76u, 108u, 83u, 115u, 9u, 61u, 0u, 0u, 9u, 32u, 0
};

static const char _ehlo_keyword_key_spans[] = {
	0, 51, 33, 33, 33, 33, 33, 33, 
	33, 33, 33, 33, 33, 33, 33, 33, 
	33, 33, 33, 53, 0, 24
};

static const short _ehlo_keyword_index_offsets[] = {
	0, 0, 52, 86, 120, 154, 188, 222, 
	256, 290, 324, 358, 392, 426, 460, 494, 
	528, 562, 596, 630, 684, 685
};

static const char _ehlo_keyword_indicies[] = {
	0, 1, 2, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 3, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 0, 1, 2, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 3, 1, 4, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 4, 1, 5, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 5, 
	1, 6, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 6, 1, 7, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 7, 1, 8, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 8, 1, 9, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 9, 
	1, 10, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 10, 1, 11, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 11, 1, 12, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 12, 1, 13, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 13, 
	1, 14, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 14, 1, 15, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 15, 1, 16, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 16, 1, 17, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 17, 
	1, 18, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 18, 1, 19, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 19, 1, 20, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 20, 1, 21, 
	1, 1, 1, 21, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 21, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 22, 1, 21, 21, 1, 
	1, 1, 21, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 1, 1, 1, 
	1, 1, 1, 1, 1, 21, 1, 0
};

static const char _ehlo_keyword_trans_targs[] = {
	2, 0, 5, 12, 3, 4, 19, 6, 
	7, 8, 9, 10, 11, 21, 13, 14, 
	15, 16, 17, 18, 21, 20, 20
};

static const char _ehlo_keyword_trans_actions[] = {
	0, 0, 0, 0, 0, 0, 1, 0, 
	0, 0, 0, 0, 0, 2, 0, 0, 
	0, 0, 0, 0, 3, 0, 1
};

static const int ehlo_keyword_start = 1;
static const int ehlo_keyword_first_final = 19;


#line 235 "grammar/smtp.rl"

EhloKeyword parse_ehlo_keyword(std::string_view text) {
  const uchar* p = begin_of(text);
  const uchar* pe = p + text.size();
  EhloKeyword keyword = EhloKeyword::Other;
  int cs = ehlo_keyword_start;
  
#line 885 "generated/smtp_grammar.cc"
	{
	int _slen;
	int _trans;
	const unsigned char *_keys;
	const char *_inds;
	if ( p == pe )
		goto _test_eof;
	if ( cs == 0 )
		goto _out;
_resume:
	_keys = _ehlo_keyword_trans_keys + (cs<<1);
	_inds = _ehlo_keyword_indicies + _ehlo_keyword_index_offsets[cs];

	_slen = _ehlo_keyword_key_spans[cs];
	_trans = _inds[ _slen > 0 && _keys[0] <=(*p) &&
		(*p) <= _keys[1] ?
		(*p) - _keys[0] : _slen ];

	cs = _ehlo_keyword_trans_targs[_trans];

	if ( _ehlo_keyword_trans_actions[_trans] == 0 )
		goto _again;

	switch ( _ehlo_keyword_trans_actions[_trans] ) {
	case 3:
#line 226 "grammar/smtp.rl"
	{ keyword = EhloKeyword::StartTls; }
	break;
	case 2:
#line 227 "grammar/smtp.rl"
	{ keyword = EhloKeyword::Chunking; }
	break;
	case 1:
#line 228 "grammar/smtp.rl"
	{ keyword = EhloKeyword::Auth; }
	break;
#line 918 "generated/smtp_grammar.cc"
	}

_again:
	if ( cs == 0 )
		goto _out;
	if ( ++p != pe )
		goto _resume;
	_test_eof: {}
	_out: {}
	}

#line 241 "grammar/smtp.rl"

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

#line 314 "grammar/smtp.rl"



#line 948 "generated/smtp_grammar.cc"
static const unsigned char _data_body_trans_keys[] = {
	0u, 0u, 10u, 46u, 10u, 13u, 10u, 46u, 10u, 46u, 10u, 13u, 10u, 13u, 10u, 10u, 
	0u, 0u, 0
};

static const char _data_body_key_spans[] = {
	0, 37, 4, 37, 37, 4, 4, 1, 
	0
};

static const unsigned char _data_body_index_offsets[] = {
	0, 0, 38, 43, 81, 119, 124, 129, 
	131
};

static const char _data_body_indicies[] = {
	1, 0, 0, 2, 0, 0, 0, 
	0, 0, 0, 0, 0, 0, 0, 0, 
	0, 0, 0, 0, 0, 0, 0, 0, 
	0, 0, 0, 0, 0, 0, 0, 0, 
	0, 0, 0, 0, 0, 3, 0, 1, 
	0, 0, 2, 0, 1, 0, 0, 2, 
	0, 0, 0, 0, 0, 0, 0, 0, 
	0, 0, 0, 0, 0, 0, 0, 0, 
	0, 0, 0, 0, 0, 0, 0, 0, 
	0, 0, 0, 0, 0, 0, 0, 0, 
	4, 0, 5, 0, 0, 2, 0, 0, 
	0, 0, 0, 0, 0, 0, 0, 0, 
	0, 0, 0, 0, 0, 0, 0, 0, 
	0, 0, 0, 0, 0, 0, 0, 0, 
	0, 0, 0, 0, 0, 0, 4, 0, 
	7, 6, 6, 7, 6, 7, 6, 6, 
	8, 6, 10, 9, 11, 0
};

static const char _data_body_trans_targs[] = {
	2, 3, 4, 6, 5, 1, 2, 2, 
	7, 4, 8, 0
};

static const char _data_body_trans_actions[] = {
	1, 0, 0, 2, 2, 0, 3, 4, 
	0, 5, 6, 0
};

static const int data_body_start = 1;


#line 317 "grammar/smtp.rl"

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
  
#line 1021 "generated/smtp_grammar.cc"
	{
	int _slen;
	int _trans;
	const unsigned char *_keys;
	const char *_inds;
	if ( p == pe )
		goto _test_eof;
	if ( cs == 0 )
		goto _out;
_resume:
	_keys = _data_body_trans_keys + (cs<<1);
	_inds = _data_body_indicies + _data_body_index_offsets[cs];

	_slen = _data_body_key_spans[cs];
	_trans = _inds[ _slen > 0 && _keys[0] <=(*p) &&
		(*p) <= _keys[1] ?
		(*p) - _keys[0] : _slen ];

	cs = _data_body_trans_targs[_trans];

	if ( _data_body_trans_actions[_trans] == 0 )
		goto _again;

	switch ( _data_body_trans_actions[_trans] ) {
	case 1:
#line 263 "grammar/smtp.rl"
	{
    const uchar* target = pe;
    const uchar* from = p + 1;
    while (from < pe) {
      const uchar* dot = static_cast<const uchar*>(std::memchr(from, '.', pe - from));
      if (dot == nullptr) break;
      if (dot[-1] == '\r' || dot[-1] == '\n') { target = dot; break; }
      from = dot + 1;
    }
    // Two bytes before the target are enough to know the state there.
    if (target - p > 3) {p = (( target - 2))-1;}
  }
	break;
	case 2:
#line 275 "grammar/smtp.rl"
	{ owed = p; owing_ = true; }
	break;
	case 3:
#line 276 "grammar/smtp.rl"
	{
    if (carried_) { out.push_back(kDot); flushed = p; carried_ = false; }
    owing_ = false;
    p--;
  }
	break;
	case 4:
#line 281 "grammar/smtp.rl"
	{
    if (carried_) { out.push_back(kTwoDots); flushed = p; carried_ = false; }
    else { view(flushed, owed); out.push_back(kDot); flushed = owed; }
    owing_ = false;
    p--;
  }
	break;
	case 5:
#line 287 "grammar/smtp.rl"
	{
    if (carried_) { out.push_back(kTwoDotsCr); flushed = p; carried_ = false; }
    else { view(flushed, owed); out.push_back(kDot); flushed = owed; }
    owing_ = false;
    p--;
  }
	break;
	case 6:
#line 293 "grammar/smtp.rl"
	{
    if (carried_) out.push_back(kDotCrLf);
    else view(flushed, p + 1);
    carried_ = false;
    owing_ = false;
    finished_ = true;
    flushed = p + 1;
    {p++; goto _out; }
  }
	break;
#line 1096 "generated/smtp_grammar.cc"
	}

_again:
	if ( cs == 0 )
		goto _out;
	if ( ++p != pe )
		goto _resume;
	_test_eof: {}
	_out: {}
	}

#line 343 "grammar/smtp.rl"

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
