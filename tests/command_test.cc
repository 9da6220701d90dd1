// The command machine: verbs, MAIL/RCPT paths and BDAT sizes.
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <string>

#include "smtp_grammar.h"

using namespace tws;
namespace bdata = boost::unit_test::data;

namespace {
struct VerbCase {
  const char* line;
  Verb verb;
  const char* args;
};
std::ostream& operator<<(std::ostream& os, const VerbCase& c) {
  return os << '"' << c.line << '"';
}

const VerbCase kVerbs[] = {
    {"EHLO client.example", Verb::Ehlo, "client.example"},
    {"ehlo client.example", Verb::Ehlo, "client.example"},
    {"eHlO x", Verb::Ehlo, "x"},
    {"EHLO", Verb::Ehlo, ""},
    {"EHLO\r", Verb::Ehlo, ""},
    {"EHLO\tx", Verb::Ehlo, "x"},
    {"EHLOX", Verb::Other, ""},
    {"EHL", Verb::Other, ""},
    {"HELO a", Verb::Helo, "a"},
    {"MAIL FROM:<a@b>", Verb::Mail, "FROM:<a@b>"},
    {"mail from:<a@b>", Verb::Mail, "from:<a@b>"},
    {"RCPT TO:<c@d>", Verb::Rcpt, "TO:<c@d>"},
    {"DATA", Verb::Data, ""},
    {"data", Verb::Data, ""},
    {"DATA ", Verb::Data, ""},
    {"DATAX", Verb::Other, ""},
    {"BDAT 10 LAST", Verb::Bdat, "10 LAST"},
    {"STARTTLS", Verb::StartTls, ""},
    {"starttls", Verb::StartTls, ""},
    {"StartTLS   ", Verb::StartTls, ""},
    {"STARTTLS x", Verb::StartTls, "x"},
    {"STARTTLSX", Verb::Other, ""},
    {"STARTTL", Verb::Other, ""},
    {"RSET", Verb::Rset, ""},
    {"NOOP hi", Verb::Noop, "hi"},
    {"QUIT", Verb::Quit, ""},
    {"quit", Verb::Quit, ""},
    {"AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q=", Verb::Auth, "PLAIN dGVzdAB0ZXN0AHRlc3Q="},
    {"VRFY postmaster", Verb::Other, ""},
    {"HELP", Verb::Other, ""},
    {"", Verb::Other, ""},
    {" EHLO x", Verb::Other, ""},
};
}  // namespace

BOOST_AUTO_TEST_SUITE(command)

BOOST_DATA_TEST_CASE(verbs_are_matched_whole_and_without_case, bdata::make(kVerbs), c) {
  Command cmd = parse_command(c.line);
  BOOST_TEST(static_cast<int>(cmd.verb) == static_cast<int>(c.verb));
  if (c.verb != Verb::Other) BOOST_TEST(cmd.args == c.args);
}

BOOST_AUTO_TEST_CASE(nul_inside_a_verb_is_not_that_verb) {
  BOOST_TEST(static_cast<int>(parse_command(std::string("DA\0TA", 5)).verb) ==
             static_cast<int>(Verb::Other));
  BOOST_TEST(static_cast<int>(parse_command(std::string("\0EHLO x", 7)).verb) ==
             static_cast<int>(Verb::Other));
  Command c = parse_command(std::string("EHLO a\0b", 8));
  BOOST_TEST(static_cast<int>(c.verb) == static_cast<int>(Verb::Ehlo));
}

struct PathCase {
  const char* line;
  bool ok;
  const char* address;
  const char* params;
};
std::ostream& operator<<(std::ostream& os, const PathCase& c) {
  return os << '"' << c.line << '"';
}

const PathCase kPaths[] = {
    {"MAIL FROM:<a@b.example>", true, "a@b.example", ""},
    {"mail from:<a@b.example>", true, "a@b.example", ""},
    {"MAIL FROM: <a@b.example>", true, "a@b.example", ""},
    {"MAIL FROM:  <a@b.example>", true, "a@b.example", ""},
    {"MAIL FROM:<>", true, "", ""},
    {"MAIL FROM: <>", true, "", ""},
    {"MAIL FROM:<a@b> SIZE=100 BODY=8BITMIME", true, "a@b", "SIZE=100 BODY=8BITMIME"},
    {"MAIL FROM: <a@b> SIZE=100 BODY=8BITMIME", true, "a@b", "SIZE=100 BODY=8BITMIME"},
    {"MAIL FROM:<> SIZE=5", true, "", "SIZE=5"},
    {"MAIL FROM:a@b", true, "a@b", ""},
    {"MAIL FROM:a@b SIZE=7", true, "a@b", "SIZE=7"},
    {"MAIL FROM:<\"john doe\"@b.example>", true, "\"john doe\"@b.example", ""},
    {"MAIL FROM:<\"a>b\"@c>", true, "\"a>b\"@c", ""},
    {"MAIL FROM:<a@b", false, "", ""},
    {"MAIL TO:<a@b>", true, "a@b", ""},
    {"MAIL <a@b>", false, "", ""},
    {"MAIL FROM:", false, "", ""},
    {"RCPT TO:<c@d.example>", true, "c@d.example", ""},
    {"rcpt to:<c@d.example>", true, "c@d.example", ""},
    {"RCPT TO: <c@d.example> NOTIFY=NEVER", true, "c@d.example", "NOTIFY=NEVER"},
    {"RCPT TO:<Postmaster>", true, "Postmaster", ""},
    {"RCPT TO:<@relay.example:c@d.example>", true, "@relay.example:c@d.example", ""},
    {"RCPT TO:<c@d>junk", false, "", ""},
    {"RCPT TO:<c@d>\r", true, "c@d", ""},
};

BOOST_DATA_TEST_CASE(mail_and_rcpt_addresses, bdata::make(kPaths), c) {
  Command cmd = parse_command(c.line);
  BOOST_TEST(cmd.path_ok == c.ok);
  if (c.ok) {
    BOOST_TEST(cmd.address == c.address);
    BOOST_TEST(cmd.params == c.params);
  }
}

BOOST_AUTO_TEST_CASE(bdat_sizes) {
  Command c = parse_command("BDAT 1000");
  BOOST_TEST(c.chunk_ok);
  BOOST_TEST(c.chunk_size == 1000u);
  BOOST_TEST(!c.chunk_last);
  c = parse_command("bdat 0 last");
  BOOST_TEST(c.chunk_ok);
  BOOST_TEST(c.chunk_size == 0u);
  BOOST_TEST(c.chunk_last);
  c = parse_command("BDAT 18446744073709551615 LAST");
  BOOST_TEST(c.chunk_ok);
  BOOST_TEST(c.chunk_size == 18446744073709551615ull);
  c = parse_command("BDAT 9223372036854775808");
  BOOST_TEST(c.chunk_ok);
  BOOST_TEST(c.chunk_size == 9223372036854775808ull);
  for (const char* bad : {"BDAT", "BDAT x", "BDAT -1", "BDAT 18446744073709551616", "BDAT 10 LASTX",
                          "BDAT 10 FIRST", "BDAT 1 2", "BDAT 0x10"})
    BOOST_TEST(!parse_command(bad).chunk_ok, bad);
}

BOOST_AUTO_TEST_SUITE_END()
