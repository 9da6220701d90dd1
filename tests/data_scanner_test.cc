// The DATA scanner against a plain reference: same output, same end, for
// hand-picked bodies and for random ones cut at random places.
#include <boost/test/unit_test.hpp>

#include <random>
#include <string>
#include <vector>

#include "body_reference.h"
#include "smtp_grammar.h"

using namespace tws;

namespace {

using test::Scanned;

Scanned scan_in_pieces(const std::string& in, const std::vector<std::size_t>& cuts) {
  DataScanner s;
  Scanned r;
  std::size_t at = 0;
  std::vector<std::string_view> pieces;
  for (std::size_t k = 0; k <= cuts.size() && !s.finished(); ++k) {
    std::size_t end = k < cuts.size() ? cuts[k] : in.size();
    if (end < at) continue;
    pieces.clear();
    std::size_t n = s.scan(std::string_view(in).substr(at, end - at), pieces);
    for (auto p : pieces) r.out += p;
    at += n;
    r.consumed = at;
  }
  r.finished = s.finished();
  return r;
}

void expect_same(const std::string& body, const std::vector<std::size_t>& cuts) {
  Scanned want = test::reference_body(body);
  Scanned got = scan_in_pieces(body, cuts);
  BOOST_TEST(got.finished == want.finished);
  // Unfinished, both hold back the same undecided dot (and CR).
  BOOST_TEST(got.out == want.out);
  BOOST_TEST(got.consumed == (want.finished ? want.consumed : body.size()));
}

std::string all(const std::string& in) {
  return scan_in_pieces(in, {}).out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(data_scanner)

BOOST_AUTO_TEST_CASE(ends_at_crlf_dot_crlf_only) {
  BOOST_TEST(all("hello\r\n.\r\nQUIT\r\n") == "hello\r\n.\r\n");
  BOOST_TEST(scan_in_pieces("hello\r\n.\r\nQUIT\r\n", {}).consumed == 10u);
  BOOST_TEST(scan_in_pieces(".\r\n", {}).finished);  // empty body: the DATA line's CRLF counts
  BOOST_TEST(!scan_in_pieces("a\n.\nb", {}).finished);
  BOOST_TEST(!scan_in_pieces("a\r.\rb", {}).finished);
  BOOST_TEST(!scan_in_pieces("a\n.\r\nb", {}).finished);
  BOOST_TEST(!scan_in_pieces("a\r\n.\nb", {}).finished);
}

BOOST_AUTO_TEST_CASE(bare_line_break_dots_are_escaped) {
  BOOST_TEST(all("a\n.\nb") == "a\n..\nb");
  BOOST_TEST(all("a\r.\rb") == "a\r..\rb");
  BOOST_TEST(all("a\n.\r\nb") == "a\n..\r\nb");
  BOOST_TEST(all("a\r\n.\nb") == "a\r\n..\nb");
  BOOST_TEST(all("a\r\n.\rb") == "a\r\n..\rb");
  BOOST_TEST(all(".\nb") == "..\nb");
}

BOOST_AUTO_TEST_CASE(ordinary_bytes_pass_untouched) {
  std::string body = "dot-stuffed:\r\n..x\r\n..\r\nNUL \0 and 8-bit \xff\xfe\r\n";
  body += std::string(70000, 'y') + "\r\n.x\r\n.\r\n";
  BOOST_TEST(all(body) == body);
}

BOOST_AUTO_TEST_CASE(every_split_of_the_terminator) {
  std::string body = "line\r\n.\r\n";
  for (std::size_t a = 0; a <= body.size(); ++a)
    for (std::size_t b = a; b <= body.size(); ++b) expect_same(body, {a, b});
  std::string tricky = "x\r\n.\r.\r\n.\n\r\n.\r\n";
  for (std::size_t a = 0; a <= tricky.size(); ++a)
    for (std::size_t b = a; b <= tricky.size(); ++b) expect_same(tricky, {a, b});
}

BOOST_AUTO_TEST_CASE(one_byte_at_a_time) {
  std::string body = "a\r\n..b\r\n.\n.\r.x\r\n.\r\r\n.\r\n";
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < body.size(); ++i) cuts.push_back(i);
  expect_same(body, cuts);
}

BOOST_AUTO_TEST_CASE(random_bodies_random_cuts) {
  std::mt19937 rng(20261124);
  const char alphabet[] = {'\r', '\n', '.', 'a', '\0'};
  for (int round = 0; round < 20000; ++round) {
    std::size_t len = rng() % 24;
    std::string body;
    for (std::size_t i = 0; i < len; ++i) body += alphabet[rng() % sizeof alphabet];
    std::vector<std::size_t> cuts;
    std::size_t at = 0;
    while (at < len) {
      at += 1 + rng() % 5;
      if (at < len) cuts.push_back(at);
    }
    expect_same(body, cuts);
    if (round % 1000 == 0) BOOST_TEST_MESSAGE("round " << round);
  }
}

BOOST_AUTO_TEST_CASE(long_lines_with_dots_skip_correctly) {
  // Lines with dots in the middle exercise the memchr skip.
  std::string body;
  for (int i = 0; i < 2000; ++i) body += "word. another.word.\r\n..stuffed.\r\n";
  body += "\n.\n.\r\n";  // a smuggling attempt at the end, then the real end
  body += "\r\n.\r\n";
  expect_same(body, {});
  expect_same(body, {1000, 1001, 1002, 30000});
}

BOOST_AUTO_TEST_SUITE_END()
