// The reply machine and the EHLO keyword machine.
#include <boost/test/unit_test.hpp>

#include <string>

#include "smtp_grammar.h"

using namespace tws;

BOOST_AUTO_TEST_SUITE(reply)

BOOST_AUTO_TEST_CASE(code_and_separator) {
  ReplyLine r = parse_reply("250-mx.example Hello");
  BOOST_TEST(r.ok);
  BOOST_TEST(r.code == 250);
  BOOST_TEST(!r.last());
  BOOST_TEST(r.text == "mx.example Hello");
  r = parse_reply("250 OK");
  BOOST_TEST(r.ok);
  BOOST_TEST(r.last());
  BOOST_TEST(r.text == "OK");
  r = parse_reply("354");
  BOOST_TEST(r.ok);
  BOOST_TEST(r.code == 354);
  BOOST_TEST(r.last());
  BOOST_TEST(r.text.empty());
  r = parse_reply("221 ");
  BOOST_TEST(r.ok);
  BOOST_TEST(r.text.empty());
  r = parse_reply(std::string("250 a\0b\rc", 9));
  BOOST_TEST(r.ok);
  BOOST_TEST(r.text.size() == 5u);
}

BOOST_AUTO_TEST_CASE(malformed_lines) {
  for (const char* bad : {"", "2", "25", "25x", "2500", "250x", "abc", " 250 ok", "250\tok",
                          "-250 ok", "25 ok", "OK"})
    BOOST_TEST(!parse_reply(bad).ok, '"' << bad << '"');
}

BOOST_AUTO_TEST_CASE(long_text_passes) {
  std::string line = "250 " + std::string(70000, 'x');
  ReplyLine r = parse_reply(line);
  BOOST_TEST(r.ok);
  BOOST_TEST(r.text.size() == 70000u);
}

BOOST_AUTO_TEST_CASE(ehlo_keywords) {
  BOOST_TEST(static_cast<int>(parse_ehlo_keyword("STARTTLS")) ==
             static_cast<int>(EhloKeyword::StartTls));
  BOOST_TEST(static_cast<int>(parse_ehlo_keyword("starttls")) ==
             static_cast<int>(EhloKeyword::StartTls));
  BOOST_TEST(static_cast<int>(parse_ehlo_keyword("StartTLS ")) ==
             static_cast<int>(EhloKeyword::StartTls));
  BOOST_TEST(static_cast<int>(parse_ehlo_keyword("CHUNKING")) ==
             static_cast<int>(EhloKeyword::Chunking));
  BOOST_TEST(static_cast<int>(parse_ehlo_keyword("chunking")) ==
             static_cast<int>(EhloKeyword::Chunking));
  for (const char* auth :
       {"AUTH PLAIN LOGIN", "auth", "Auth\tCRAM-MD5", "AUTH=PLAIN LOGIN", "auth=", "AUTH "})
    BOOST_TEST(static_cast<int>(parse_ehlo_keyword(auth)) == static_cast<int>(EhloKeyword::Auth),
               auth);
  for (const char* other :
       {"STARTTLSX", "XSTARTTLS", "START TLS", "SIZE 1000", "PIPELINING", "", "CHUNKINGS",
        "8BITMIME", "AUTHX", "XAUTH PLAIN", "AUTH-PLAIN", "AUT", " AUTH PLAIN"})
    BOOST_TEST(static_cast<int>(parse_ehlo_keyword(other)) == static_cast<int>(EhloKeyword::Other),
               other);
}

BOOST_AUTO_TEST_SUITE_END()
