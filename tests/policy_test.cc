// The greylist policy codec.
#include <boost/test/unit_test.hpp>

#include <string>

#include "constants.h"
#include "policy.h"

using namespace tws;

BOOST_AUTO_TEST_SUITE(policy)

BOOST_AUTO_TEST_CASE(request_has_every_attribute) {
  PolicyQuery q;
  q.client_address = "192.0.2.1";
  q.client_name = "";
  q.helo_name = "client.example";
  q.sender = "a@b.example";
  q.recipient = "c@d.example";
  q.instance = "abc.0";
  q.size = "100";
  std::string r = policy_request(q);
  BOOST_TEST(r ==
             "request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n"
             "client_address=192.0.2.1\nclient_name=unknown\nhelo_name=client.example\n"
             "sender=a@b.example\nrecipient=c@d.example\ninstance=abc.0\nsize=100\n\n");
}

BOOST_AUTO_TEST_CASE(values_never_carry_line_breaks) {
  PolicyQuery q;
  q.client_address = "2001:db8::1";
  q.helo_name = std::string_view("a\r\nrecipient=evil\0x", 20);
  q.esmtp = false;
  std::string r = policy_request(q);
  BOOST_TEST(r.find("helo_name=arecipient=evilx\n") != std::string::npos);
  BOOST_TEST(r.find("protocol_name=SMTP\n") != std::string::npos);
  BOOST_TEST(r.find('\0') == std::string::npos);
  BOOST_TEST(r.find("\nsize=") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(no_request_without_a_client_address) {
  PolicyQuery q;
  BOOST_TEST(policy_request(q).empty());
  q.client_address = "not an address";
  BOOST_TEST(policy_request(q).empty());
}

BOOST_AUTO_TEST_CASE(size_parameter_found_without_case) {
  BOOST_TEST(size_parameter("SIZE=100 BODY=8BITMIME") == "100");
  BOOST_TEST(size_parameter("BODY=8BITMIME size=42") == "42");
  BOOST_TEST(size_parameter("BODY=8BITMIME").empty());
  BOOST_TEST(size_parameter("SIZE=12x").empty());
  BOOST_TEST(size_parameter("").empty());
}

BOOST_AUTO_TEST_CASE(actions_decode) {
  using K = PolicyVerdict::Kind;
  for (const char* pass :
       {"DUNNO", "OK", "PREPEND X-Greylist: delayed", "WARN x", "INFO y", "dunno"})
    BOOST_TEST(static_cast<int>(decode_policy_action(pass).kind) == static_cast<int>(K::Pass),
               pass);
  PolicyVerdict v = decode_policy_action("DEFER_IF_PERMIT Greylisted, see http://x/");
  BOOST_TEST(static_cast<int>(v.kind) == static_cast<int>(K::Defer));
  BOOST_TEST(v.reply == "450 4.7.1 Greylisted, see http://x/\r\n");
  v = decode_policy_action("DEFER_IF_PERMIT");
  BOOST_TEST(v.reply == std::string(reply::kGreylisted));
  v = decode_policy_action("451 4.7.1 Try later");
  BOOST_TEST(static_cast<int>(v.kind) == static_cast<int>(K::Defer));
  BOOST_TEST(v.reply == "451 4.7.1 Try later\r\n");
  v = decode_policy_action("REJECT go away");
  BOOST_TEST(static_cast<int>(v.kind) == static_cast<int>(K::Reject));
  BOOST_TEST(v.reply == "550 5.7.1 go away\r\n");
  v = decode_policy_action("554");
  BOOST_TEST(static_cast<int>(v.kind) == static_cast<int>(K::Reject));
  BOOST_TEST(v.reply.substr(0, 4) == "554 ");
  for (const char* bad : {"", "garbage", "250 ok", "6xx", "45", "DEFERRED"})
    BOOST_TEST(static_cast<int>(decode_policy_action(bad).kind) == static_cast<int>(K::Failure),
               bad);
}

BOOST_AUTO_TEST_CASE(answers_read_to_the_empty_line_in_pieces) {
  PolicyAnswerReader r;
  std::string answer = "action=DEFER_IF_PERMIT Greylisted\n\nnext";
  std::size_t used = 0;
  BOOST_TEST(static_cast<int>(r.feed(answer.substr(0, 10), &used)) ==
             static_cast<int>(PolicyAnswerReader::Status::NeedMore));
  BOOST_TEST(used == 10u);
  BOOST_TEST(static_cast<int>(r.feed(answer.substr(10), &used)) ==
             static_cast<int>(PolicyAnswerReader::Status::Done));
  BOOST_TEST(answer.substr(10 + used) == "next");
  BOOST_TEST(static_cast<int>(r.verdict().kind) == static_cast<int>(PolicyVerdict::Kind::Defer));
}

BOOST_AUTO_TEST_CASE(oversized_and_garbage_answers_fail) {
  PolicyAnswerReader r;
  std::size_t used = 0;
  std::string big = "action=DUNNO " + std::string(kMaxPolicyAnswer, 'x');
  BOOST_TEST(static_cast<int>(r.feed(big, &used)) ==
             static_cast<int>(PolicyAnswerReader::Status::Invalid));
  PolicyAnswerReader g;
  BOOST_TEST(static_cast<int>(g.feed("hello\n\n", &used)) ==
             static_cast<int>(PolicyAnswerReader::Status::Done));
  BOOST_TEST(static_cast<int>(g.verdict().kind) == static_cast<int>(PolicyVerdict::Kind::Failure));
  PolicyAnswerReader two;
  two.feed("action=DUNNO\naction=REJECT\n\n", &used);
  BOOST_TEST(static_cast<int>(two.verdict().kind) ==
             static_cast<int>(PolicyVerdict::Kind::Failure));
}

BOOST_AUTO_TEST_SUITE_END()
