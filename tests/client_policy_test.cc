// Per-client policy from the environment: each variable's readings, the
// malformed values (a line naming the variable, the stricter reading), and
// how a client's variables lie over the command line's choices.
#include "client_policy.h"

#include "constants.h"

#include <boost/test/unit_test.hpp>

#include <map>
#include <string>
#include <vector>

using namespace tws;

namespace {

// An environment of our own: no real one is read.
struct Env {
  std::map<std::string, std::string> vars;
  std::vector<std::string> problems;
  ClientPolicy read() {
    problems.clear();
    return read_client_policy({[](const void* self, const char* name) -> const char* {
                                 const auto& known = static_cast<const Env*>(self)->vars;
                                 auto it = known.find(name);
                                 return it == known.end() ? nullptr : it->second.c_str();
                               },
                               this},
                              &problems);
  }
};

bool holds(const std::vector<std::string>& lines, const std::string& text) {
  for (const auto& l : lines)
    if (l.find(text) != std::string::npos) return true;
  return false;
}

SessionPolicy options(bool starttls, bool tls_required, bool auth_needs_tls, bool greylist) {
  SessionPolicy s;
  s.starttls = starttls;
  s.tls_required = tls_required;
  s.auth_needs_tls = auth_needs_tls || tls_required;  // -s implies -a
  s.greylist = greylist;
  return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(client_policy)

BOOST_AUTO_TEST_CASE(nothing_set_changes_nothing) {
  Env e;
  e.vars = {{"TCPREMOTEIP", "192.0.2.1"}, {"PATH", "/bin"}};
  ClientPolicy p = e.read();
  BOOST_TEST(!p.trusted);
  BOOST_TEST(!p.no_tls);
  BOOST_TEST(!p.tls_required.has_value());
  BOOST_TEST(!p.auth_needs_tls.has_value());
  BOOST_TEST(!p.greylist.has_value());
  BOOST_TEST(e.problems.empty());
  std::vector<std::string> notes;
  for (bool a : {false, true})
    for (bool s : {false, true})
      for (bool g : {false, true}) {
        SessionPolicy in = options(true, s, a, g);
        SessionPolicy out = apply_client_policy(in, p, &notes);
        BOOST_TEST(out.starttls);
        BOOST_TEST(out.tls_required == in.tls_required);
        BOOST_TEST(out.auth_needs_tls == in.auth_needs_tls);
        BOOST_TEST(out.greylist == in.greylist);
      }
  BOOST_TEST(notes.empty());
}

BOOST_AUTO_TEST_CASE(relayclient_any_value_means_trusted_and_not_greylisted) {
  for (const char* value : {"", "@example.org", "0", "garbage\x01"}) {
    Env e;
    e.vars = {{"RELAYCLIENT", value}};
    ClientPolicy p = e.read();
    BOOST_TEST(p.trusted);
    BOOST_TEST(e.problems.empty());
    std::vector<std::string> notes;
    SessionPolicy out = apply_client_policy(options(true, false, false, true), p, &notes);
    BOOST_TEST(!out.greylist);
    BOOST_TEST(out.starttls);
    BOOST_TEST(notes.empty());
  }
}

BOOST_AUTO_TEST_CASE(greylist_switch_wins_over_relayclient_and_the_option) {
  Env e;
  std::vector<std::string> notes;
  e.vars = {{"RELAYCLIENT", ""}, {"GREYLIST", "1"}};
  BOOST_TEST(apply_client_policy(options(true, false, false, true), e.read(), &notes).greylist);
  e.vars = {{"GREYLIST", "0"}};
  BOOST_TEST(!apply_client_policy(options(true, false, false, true), e.read(), &notes).greylist);
  e.vars = {{"GREYLIST", ""}};
  BOOST_TEST(apply_client_policy(options(true, false, false, true), e.read(), &notes).greylist);
  BOOST_TEST(notes.empty());
  // Without -g there is no server to ask: said, and not greylisted.
  e.vars = {{"GREYLIST", "1"}};
  BOOST_TEST(!apply_client_policy(options(true, false, false, false), e.read(), &notes).greylist);
  BOOST_TEST(holds(notes, "GREYLIST: no greylist server (-g)"));
}

// What the switch `name` reads as when it is set to `value`.
std::optional<bool> read_switch(Env& e, const char* name, const char* value) {
  e.vars = {{name, value}};
  ClientPolicy p = e.read();
  std::string_view n(name);
  return n == "REQUIRETLS" ? p.tls_required : n == "FORCETLS" ? p.auth_needs_tls : p.greylist;
}

BOOST_AUTO_TEST_CASE(switches_read_empty_and_1_as_on_0_as_off) {
  for (const char* name : {"REQUIRETLS", "FORCETLS", "GREYLIST"}) {
    for (auto [value, want] : {std::pair{"", true}, {"1", true}, {"0", false}}) {
      Env e;
      std::optional<bool> got = read_switch(e, name, value);
      BOOST_TEST_CONTEXT(name << "=\"" << value << "\"") {
        BOOST_TEST(got.has_value());
        BOOST_TEST(*got == want);
        BOOST_TEST(e.problems.empty());
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(malformed_switches_are_named_and_read_as_on) {
  for (const char* name : {"REQUIRETLS", "FORCETLS", "GREYLIST"}) {
    for (const char* value : {"no", "off", "2", " 0", "0 ", "yes\n", "00"}) {
      Env e;
      std::optional<bool> got = read_switch(e, name, value);
      BOOST_TEST_CONTEXT(name << "=\"" << value << "\"") {
        BOOST_TEST(got.value_or(false));
        BOOST_TEST(e.problems.size() == 1u);
        BOOST_TEST(holds(e.problems, std::string(name) + "=\""));
        BOOST_TEST(holds(e.problems, "read as on"));
      }
    }
  }
  // The value is logged printable and bounded.
  Env e;
  e.vars = {{"FORCETLS", std::string(5000, 'x') + "\x1b"}};
  e.read();
  BOOST_TEST(e.problems.size() == 1u);
  BOOST_TEST(e.problems[0].size() < 400u);
  BOOST_TEST(e.problems[0].find('\x1b') == std::string::npos);
}

BOOST_AUTO_TEST_CASE(notls_any_value_means_no_starttls_other_values_said) {
  for (const char* value : {"", "1"}) {
    Env e;
    e.vars = {{"NOTLS", value}};
    BOOST_TEST(e.read().no_tls);
    BOOST_TEST(e.problems.empty());
  }
  Env e;
  e.vars = {{"NOTLS", "0"}};
  BOOST_TEST(e.read().no_tls);  // dotls's reading: set is set
  BOOST_TEST(holds(e.problems, "NOTLS=\"0\""));
  BOOST_TEST(holds(e.problems, "read as set"));
  std::vector<std::string> notes;
  SessionPolicy out = apply_client_policy(options(true, false, false, false), e.read(), &notes);
  BOOST_TEST(!out.starttls);
  BOOST_TEST(notes.empty());
}

BOOST_AUTO_TEST_CASE(notls_under_tls_required_wins_and_says_so) {
  Env e;
  e.vars = {{"NOTLS", ""}};
  std::vector<std::string> notes;
  // -s: the client can never do TLS, so TLS is not required of it; -a,
  // which -s implies, still keeps AUTH out of clear text.
  SessionPolicy out = apply_client_policy(options(true, true, false, false), e.read(), &notes);
  BOOST_TEST(!out.starttls);
  BOOST_TEST(!out.tls_required);
  BOOST_TEST(out.auth_needs_tls);
  BOOST_TEST(holds(notes, "NOTLS: no STARTTLS for this client, so TLS is not required of it"));
  BOOST_TEST(holds(notes, "NOTLS: AUTH is refused for this client"));
  // The same with REQUIRETLS set for it too; FORCETLS=0 lets AUTH through.
  notes.clear();
  e.vars = {{"NOTLS", ""}, {"REQUIRETLS", "1"}, {"FORCETLS", "0"}};
  out = apply_client_policy(options(true, false, false, false), e.read(), &notes);
  BOOST_TEST(!out.starttls);
  BOOST_TEST(!out.tls_required);
  BOOST_TEST(!out.auth_needs_tls);
  BOOST_TEST(notes.size() == 1u);
}

BOOST_AUTO_TEST_CASE(tls_policy_per_client_in_either_direction) {
  Env e;
  std::vector<std::string> notes;
  // "Every client but this one": -s on the command line, REQUIRETLS=0 here.
  e.vars = {{"REQUIRETLS", "0"}};
  SessionPolicy out = apply_client_policy(options(true, true, false, false), e.read(), &notes);
  BOOST_TEST(!out.tls_required);
  BOOST_TEST(out.auth_needs_tls);  // -s's -a stays unless FORCETLS=0
  e.vars = {{"REQUIRETLS", "0"}, {"FORCETLS", "0"}};
  out = apply_client_policy(options(true, true, false, false), e.read(), &notes);
  BOOST_TEST(!out.tls_required);
  BOOST_TEST(!out.auth_needs_tls);
  // "Only this one": no option, REQUIRETLS set; it implies FORCETLS.
  e.vars = {{"REQUIRETLS", ""}, {"FORCETLS", "0"}};
  out = apply_client_policy(options(true, false, false, false), e.read(), &notes);
  BOOST_TEST(out.tls_required);
  BOOST_TEST(out.auth_needs_tls);
  e.vars = {{"FORCETLS", "1"}};
  out = apply_client_policy(options(true, false, false, false), e.read(), &notes);
  BOOST_TEST(!out.tls_required);
  BOOST_TEST(out.auth_needs_tls);
  BOOST_TEST(notes.empty());
  // REQUIRETLS with no TLS front: kept (the stricter reading), and said.
  e.vars = {{"REQUIRETLS", "1"}};
  out = apply_client_policy(options(false, false, false, false), e.read(), &notes);
  BOOST_TEST(out.tls_required);
  BOOST_TEST(holds(notes, "REQUIRETLS: no TLS front"));
}

BOOST_AUTO_TEST_CASE(greetdelay_sets_the_wait_and_wins_over_relayclient) {
  std::vector<std::string> notes;
  SessionPolicy p_option;
  p_option.greet_delay = 4;
  Env e;
  e.vars = {{"RELAYCLIENT", ""}};
  BOOST_TEST(apply_client_policy(p_option, e.read(), &notes).greet_delay == 0);
  e.vars = {{"RELAYCLIENT", ""}, {"GREETDELAY", "7"}};
  BOOST_TEST(apply_client_policy(p_option, e.read(), &notes).greet_delay == 7);
  e.vars = {{"GREETDELAY", "0"}};
  BOOST_TEST(apply_client_policy(p_option, e.read(), &notes).greet_delay == 0);
  e.vars = {{"GREETDELAY", "300"}};
  BOOST_TEST(apply_client_policy(SessionPolicy{}, e.read(), &notes).greet_delay == 300);
  BOOST_TEST(notes.empty());
  // Malformed: said, and read as the test on with -p's wait, or the default.
  for (const char* bad : {"", "301", "5s", "-1"}) {
    e.vars = {{"GREETDELAY", bad}};
    ClientPolicy c = e.read();
    BOOST_TEST_CONTEXT(bad) {
      BOOST_TEST(e.problems.size() == 1u);
      BOOST_TEST(holds(e.problems, "GREETDELAY=\""));
      BOOST_TEST(apply_client_policy(p_option, c, &notes).greet_delay == 4);
      BOOST_TEST(apply_client_policy(SessionPolicy{}, c, &notes).greet_delay == kDefaultGreetDelay);
    }
  }
}

BOOST_AUTO_TEST_CASE(every_row_is_read_and_named) {
  // A row's reader runs for its variable and for no other.
  for (const ClientVariable& v : kClientVariables) {
    Env e;
    e.vars = {{std::string(v.name), "1"}};
    ClientPolicy p = e.read();
    bool changed =
        p.trusted || p.no_tls || p.tls_required || p.auth_needs_tls || p.greylist || p.greet_delay;
    BOOST_TEST_CONTEXT(v.name) {
      BOOST_TEST(changed);
      BOOST_TEST(!v.meaning.empty());
      BOOST_TEST(!v.values.empty());
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
