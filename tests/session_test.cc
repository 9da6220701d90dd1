// Session properties that a transcript cannot show well: bounds, queries
// for the driver, zero-copy body, and logs.
#include <boost/test/unit_test.hpp>

#include <string>

#include "constants.h"
#include "session.h"
#include "transcript.h"

using namespace tws;
using tws::test::Harness;

namespace {

SessionConfig config(ControlProtocol control = ControlProtocol::Current,
                     LogLevel level = LogLevel::Warning) {
  SessionConfig c;
  c.control = control;
  c.log_level = level;
  c.client_address = "192.0.2.1";
  c.session_id = "t";
  return c;
}

// A session past its greeting and EHLO.
void greet(Harness& h) {
  h.child("220 mx ESMTP\r\n");
  h.client("EHLO c\r\n");
  h.child("250-mx\r\n250-PIPELINING\r\n250 CHUNKING\r\n");
  h.to_child.clear();
  h.to_client.clear();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(session)

BOOST_AUTO_TEST_CASE(client_is_not_read_before_the_greeting) {
  Session s(config());
  BOOST_TEST(!s.wants_client());
  BOOST_TEST(s.awaiting_child());
  s.on_child("220 hi\r\n");
  BOOST_TEST(s.wants_client());
  BOOST_TEST(!s.awaiting_child());
}

BOOST_AUTO_TEST_CASE(endless_multiline_reply_is_relayed_in_bounded_memory) {
  Harness h(config(), 0);
  greet(h);
  h.client("HELP\r\n");
  std::string chunk;
  for (int i = 0; i < 1000; ++i) chunk += "214-this reply never ends\r\n";
  for (int i = 0; i < 200; ++i) {
    h.child(chunk);
    BOOST_REQUIRE(h.to_client.size() == chunk.size());
    h.to_client.clear();
  }
  BOOST_TEST(!h.exited);
  h.child("214 end\r\n");
  BOOST_TEST(h.to_client == "214 end\r\n");
}

BOOST_AUTO_TEST_CASE(endless_reply_line_ends_the_session) {
  Harness h(config(), 0);
  greet(h);
  h.client("NOOP\r\n");
  std::string chunk(64 * 1024, 'x');
  h.child("250 ");
  for (int i = 0; i < 8 && !h.exited; ++i) h.child(chunk);
  BOOST_TEST(h.exited);
  BOOST_TEST(h.exit_status == kExitTemporary);
  BOOST_TEST(h.to_client == std::string(reply::kServerBroken));
}

BOOST_AUTO_TEST_CASE(a_64k_reply_line_passes) {
  Harness h(config(), 0);
  greet(h);
  h.client("NOOP\r\n");
  std::string line = "250 " + std::string(65536, 'z') + "\r\n";
  h.child(line);
  BOOST_TEST(!h.exited);
  BOOST_TEST(h.to_client == line);
}

BOOST_AUTO_TEST_CASE(pipelining_is_bounded_by_the_pending_limit) {
  Harness h(config(), 0);
  greet(h);
  std::string noops;
  for (int i = 0; i < 10000; ++i) noops += "NOOP\r\n";
  h.client(noops);
  // Only so many commands are in flight; the rest wait in the driver.
  BOOST_TEST(h.to_child.size() == kMaxPendingCommands * 6);
  BOOST_TEST(!h.session().wants_client());
  // The child answers what it got; every answer lets one more command in.
  std::size_t answered = 0;
  while (answered < 10000 && !h.exited) {
    std::size_t sent = h.to_child.size() / 6;
    BOOST_REQUIRE(sent > answered);
    std::string replies;
    for (; answered < sent; ++answered) replies += "250 ok\r\n";
    h.child(replies);
  }
  BOOST_TEST(!h.exited);
  BOOST_TEST(h.to_child.size() == 10000u * 6);
  BOOST_TEST(h.to_client.size() == 10000u * 8);
  BOOST_TEST(h.session().wants_client());
}

BOOST_AUTO_TEST_CASE(body_bytes_are_views_of_the_input) {
  Session s(config());
  s.on_child("220 hi\r\n");
  s.on_client("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n");
  s.on_child("250 ok\r\n250 ok\r\n354 go\r\n");
  s.actions().clear();
  std::string body(100000, 'b');
  std::size_t n = s.on_client(body);
  BOOST_TEST(n == body.size());
  std::size_t views = 0;
  for (const Action& a : s.actions())
    if (a.kind == Action::Kind::ToChild) {
      BOOST_TEST(!a.is_owned);
      BOOST_TEST((a.bytes().data() >= body.data()));
      BOOST_TEST((a.bytes().data() < body.data() + body.size()));
      ++views;
    }
  BOOST_TEST(views == 1u);
}

BOOST_AUTO_TEST_CASE(auth_data_never_reaches_a_log) {
  Harness h(config(ControlProtocol::None, LogLevel::Trace), 0);
  greet(h);
  h.client("AUTH PLAIN c2VjcmV0AHNlY3JldABzZWNyZXQ=\r\n");
  h.child("535 no\r\n");
  h.client("AUTH LOGIN\r\n");
  h.child("334 VXNlcm5hbWU6\r\n");
  h.client("dXNlcm5hbWU=\r\n");
  h.child("334 UGFzc3dvcmQ6\r\n");
  h.client("cGFzc3dvcmQ=\r\n");
  h.child("235 ok\r\n");
  BOOST_TEST(
      h.to_child ==
      "AUTH PLAIN c2VjcmV0AHNlY3JldABzZWNyZXQ=\r\nAUTH LOGIN\r\ndXNlcm5hbWU=\r\ncGFzc3dvcmQ=\r\n");
  bool saw_auth = false;
  for (const std::string& l : h.logs) {
    BOOST_TEST(l.find("c2VjcmV0") == std::string::npos, l);
    BOOST_TEST(l.find("dXNlcm5hbWU=") == std::string::npos, l);
    BOOST_TEST(l.find("cGFzc3dvcmQ=") == std::string::npos, l);
    if (l.find("AUTH PLAIN [redacted]") != std::string::npos) saw_auth = true;
  }
  BOOST_TEST(saw_auth);
}

BOOST_AUTO_TEST_CASE(auth_initial_response_hidden_whatever_the_white_space) {
  Harness h(config(ControlProtocol::None, LogLevel::Trace), 0);
  greet(h);
  for (const char* line :
       {"auth\r.\rgin dXNlcg==\r\n", "AUTH\tPLAIN\rdXNlcg==\r\n",
        "AUTH PLAINdXNlcg==dXNlcg==dXNlcg==\r\n", "AUTH  \r PLAIN  dXNlcg==\r\n"}) {
    h.client(line);
    h.child("535 no\r\n");
  }
  for (const std::string& l : h.logs) BOOST_TEST(l.find("dXNlcg==") == std::string::npos, l);
}

BOOST_AUTO_TEST_CASE(transaction_log_line) {
  Harness h(config(ControlProtocol::None, LogLevel::Info), 0);
  greet(h);
  h.client("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nRCPT TO:<e@f>\r\nRCPT TO:<bad@x>\r\nDATA\r\n");
  h.child("250 ok\r\n250 ok\r\n250 ok\r\n550 no such user\r\n354 go\r\n");
  h.client("hi\r\n.\r\n");
  h.child("250 OK id=1x\r\n");
  bool found = false;
  for (const std::string& l : h.logs)
    if (l == "mail from=<a@b> to=<c@d>,<e@f> reply=250 OK id=1x tls=no") found = true;
  BOOST_TEST(found);
}

BOOST_AUTO_TEST_CASE(many_recipients_are_counted_not_stored) {
  Harness h(config(ControlProtocol::None, LogLevel::Info), 0);
  greet(h);
  h.client("MAIL FROM:<a@b>\r\n");
  h.child("250 ok\r\n");
  for (int i = 0; i < 1000; ++i) {
    h.client("RCPT TO:<r" + std::to_string(i) + "@x>\r\n");
    h.child("250 ok\r\n");
  }
  h.client("RSET\r\n");
  h.child("250 ok\r\n");
  bool found = false;
  for (const std::string& l : h.logs)
    if (l.find("(+" + std::to_string(1000 - kMaxLoggedRecipients) + " more)") != std::string::npos)
      found = true;
  BOOST_TEST(found);
}

BOOST_AUTO_TEST_CASE(nothing_happens_after_exit) {
  Harness h(config(), 0);
  greet(h);
  h.client("QUIT\r\n");
  h.child("221 bye\r\n");
  BOOST_TEST(h.exited);
  BOOST_TEST(h.exit_status == kExitChildStatus);
  BOOST_TEST(h.session().finished());
  h.client("NOOP\r\n");
  h.child("250 late\r\n");
  h.event("child-eof");
  h.event("client-eof");
  h.event("timeout session");
  BOOST_TEST(h.session().actions().empty());
}

// ---- the TLS policy (-a, -s)

namespace {
SessionConfig policy_config(bool tls_required, LogLevel level = LogLevel::Info) {
  SessionConfig c = config(ControlProtocol::Current, level);
  c.auth_needs_tls = true;
  c.tls_required = tls_required;
  return c;
}
}  // namespace

BOOST_AUTO_TEST_CASE(refused_commands_wait_their_turn_within_the_pending_limit) {
  Harness h(policy_config(true), 0);
  greet(h);
  std::string mails;
  for (int i = 0; i < 10000; ++i) mails += "MAIL FROM:<a@b>\r\n";
  h.client("NOOP\r\n" + mails);
  // The refusals queue behind the NOOP's reply, no more than the limit.
  BOOST_TEST(h.to_child == "NOOP\r\n");
  BOOST_TEST(h.to_client.empty());
  BOOST_TEST(!h.session().wants_client());
  h.child("250 ok\r\n");
  std::string refusals;
  for (int i = 0; i < 10000; ++i) refusals += reply::kTlsRequired;
  BOOST_TEST(h.to_client == "250 ok\r\n" + refusals);
  BOOST_TEST(h.to_child == "NOOP\r\n");
  BOOST_TEST(h.session().wants_client());
}

// The count is the session's last log line, once, whichever way it ends:
// Session::exit() is the one place a session ends.
BOOST_AUTO_TEST_CASE(refusal_count_is_logged_once_when_the_session_ends) {
  for (const char* end : {"quit", "client-eof", "child-eof", "timeout session", "timeout client",
                          "timeout child", "bad reply"}) {
    BOOST_TEST_CONTEXT("ending: " << end) {
      Harness h(policy_config(true), 0);
      greet(h);
      h.client("MAIL FROM:<a@b>\r\nAUTH PLAIN dXNlcjpwYXNzd29yZA==\r\nVRFY x\r\n");
      std::string e = end;
      if (e == "quit") {
        h.client("QUIT\r\n");
        h.child("221 bye\r\n");
      } else if (e == "bad reply") {
        h.client("NOOP\r\n");
        h.child("not smtp\r\n");
      } else if (e == "timeout child") {
        h.client("NOOP\r\n");
        h.event(e);
      } else {
        h.event(e);
      }
      BOOST_TEST(h.exited);
      BOOST_REQUIRE(!h.logs.empty());
      BOOST_TEST(h.logs.back() == "refused before TLS: 3");
      int count = 0;
      for (const std::string& l : h.logs) {
        if (l.find("refused before TLS") != std::string::npos) ++count;
        BOOST_TEST(l.find("dXNlcjpwYXNzd29yZA==") == std::string::npos, l);
      }
      BOOST_TEST(count == 1);
    }
  }
}

BOOST_AUTO_TEST_CASE(refused_auth_never_shows_its_response) {
  for (bool required : {false, true}) {
    Harness h(policy_config(required, LogLevel::Trace), 0);
    greet(h);
    for (const char* line :
         {"auth\r.\rgin dXNlcg==\r\n", "AUTH\tPLAIN\rdXNlcg==\r\n",
          "AUTH PLAINdXNlcg==dXNlcg==dXNlcg==\r\n", "AUTH  \r PLAIN  dXNlcg==\r\n"})
      h.client(line);
    BOOST_TEST(h.to_child.empty());
    std::string want;
    for (int i = 0; i < 4; ++i) want += required ? reply::kTlsRequired : reply::kAuthNeedsTls;
    BOOST_TEST(h.to_client == want);
    for (const std::string& l : h.logs) BOOST_TEST(l.find("dXNlcg==") == std::string::npos, l);
  }
}

BOOST_AUTO_TEST_CASE(tls_required_alone_implies_auth_needs_tls) {
  SessionConfig c = config();
  c.tls_required = true;
  Harness h(c, 0);
  h.child("220 mx\r\n");
  h.client("EHLO c\r\n");
  h.child("250-mx\r\n250 AUTH PLAIN\r\n");
  BOOST_TEST(h.to_client == "220 mx\r\n250-mx\r\n250 STARTTLS\r\n");
}

BOOST_AUTO_TEST_CASE(replies_of_its_own_are_bounded_per_call) {
  // Under -s every empty line is refused at once, with no round trip: one
  // call makes at most kMaxClientOutput of replies and takes no more.
  Session s(policy_config(true, LogLevel::Warning));
  s.on_child("220 mx\r\n");
  s.actions().clear();
  std::string lines(1 << 20, '\n');
  std::size_t took = s.on_client(lines);
  std::size_t out = 0;
  for (const Action& a : s.actions())
    if (a.kind == Action::Kind::ToClient) out += a.bytes().size();
  BOOST_TEST(took < lines.size());
  BOOST_TEST(out >= kMaxClientOutput);
  BOOST_TEST(out < kMaxClientOutput + 128);
  BOOST_TEST(s.wants_client());  // the rest is taken in the next call
  s.actions().clear();
  BOOST_TEST(s.on_client(std::string_view(lines).substr(took)) > 0);
}

// ---- the pregreet test (-p)

namespace {

SessionConfig pregreet_config(int ms, LogLevel level = LogLevel::Info) {
  SessionConfig c = config(ControlProtocol::Current, level);
  c.greet_delay_ms = ms;
  return c;
}

}  // namespace

BOOST_AUTO_TEST_CASE(pregreet_reads_the_client_from_the_start) {
  // Off: nothing is read before the greeting. On: every byte is the
  // test's answer, so the driver must offer it at once.
  Session off(config());
  BOOST_TEST(!off.wants_client());
  Session on(pregreet_config(1000));
  BOOST_TEST(on.wants_client());
  BOOST_TEST(on.pregreet_running());
  BOOST_TEST(on.awaiting_child());
}

BOOST_AUTO_TEST_CASE(pregreet_timer_starts_with_the_first_line_once) {
  Session s(pregreet_config(1500));
  s.on_child("220-mx\r\n");
  int timers = 0;
  for (const Action& a : s.actions())
    if (a.kind == Action::Kind::StartTimer) {
      ++timers;
      BOOST_TEST((a.timer == Timer::Greeting));
      BOOST_TEST(a.millis == 1500);
    }
  BOOST_TEST(timers == 1);
  s.actions().clear();
  s.on_child("220-more\r\n220 last\r\n");
  for (const Action& a : s.actions()) BOOST_TEST((a.kind != Action::Kind::StartTimer));
  BOOST_TEST(s.wants_client());  // still the test's
  BOOST_TEST(!s.awaiting_child());
}

BOOST_AUTO_TEST_CASE(pregreet_log_line_counts_bytes_and_quotes_the_first_line) {
  Harness h(pregreet_config(2000), 0);
  h.child("220 mx\r\n");
  h.session().on_client("EHLO bot.example\r\nMAIL FROM:<a@b>\r\n", 437);
  h.perform();
  BOOST_TEST(h.exited);
  BOOST_TEST(h.exit_status == kExitTemporary);
  BOOST_TEST(!h.abort_child);
  BOOST_TEST(h.to_child.empty());
  BOOST_TEST(h.to_client == "220-mx\r\n" + std::string(reply::kPregreet));
  BOOST_REQUIRE(h.logs.size() == 1u);  // one line, whatever else
  BOOST_TEST(h.logs[0] == "pregreet: 35 bytes after 437 ms: \"EHLO bot.example\"");
}

BOOST_AUTO_TEST_CASE(pregreet_never_logs_credentials) {
  Harness h(pregreet_config(2000), 0);
  h.child("220 mx\r\n");
  h.client("AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n");
  BOOST_REQUIRE(h.logs.size() == 1u);
  BOOST_TEST(h.logs[0].find("AGFsaWNl") == std::string::npos);
  BOOST_TEST(h.logs[0].find("AUTH PLAIN [redacted]") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(pregreet_quotes_binary_safely_and_briefly) {
  Harness h(pregreet_config(2000), 0);
  std::string hello("\x16\x03\x01\x02\x00", 5);
  hello += std::string(5000, 'A');
  h.client(hello);
  BOOST_REQUIRE(h.logs.size() == 1u);
  const std::string& line = h.logs[0];
  BOOST_TEST(line.find("pregreet: 5005 bytes before the greeting: \"\\x16\\x03\\x01\\x02\\x00") ==
             0u);
  BOOST_TEST(line.size() < 2 * kMaxLoggedText);
}

BOOST_AUTO_TEST_CASE(pregreet_waits_for_the_greeting_after_client_eof) {
  // A client that closes before the greeting is not an early talker: the
  // greeting is relayed whole, then the session ends as ClientClosed.
  Harness h(pregreet_config(1000), 0);
  h.session().on_client_eof();
  h.perform();
  BOOST_TEST(!h.exited);
  h.child("220 mx\r\n");
  BOOST_TEST(h.to_client == "220 mx\r\n");
  BOOST_TEST(h.exited);
  BOOST_TEST(h.timers.empty());
}

BOOST_AUTO_TEST_SUITE_END()
