// The command line: forms, ranges, and what is refused.
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "options.h"

using namespace tws;

namespace {
bool parse(std::vector<std::string> words, Options* o, std::string* err) {
  words.insert(words.begin(), "tlswrapper-smtp");
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  return parse_options(static_cast<int>(words.size()), argv.data(), o, err);
}
}  // namespace

BOOST_AUTO_TEST_SUITE(options)

BOOST_AUTO_TEST_CASE(defaults) {
  Options o;
  std::string err;
  BOOST_TEST(parse({"exim4", "-bs"}, &o, &err));
  BOOST_TEST(o.verbosity == 1);
  BOOST_TEST(o.session_timeout == 600);
  BOOST_TEST(o.io_timeout == 15);
  BOOST_TEST(o.jail_dir == "/var/lib/tlswrapper/empty");
  BOOST_TEST(o.prog.size() == 2u);
  BOOST_TEST(o.prog[1] == "-bs");  // prog's own options are its own
}

BOOST_AUTO_TEST_CASE(attached_separate_grouped) {
  Options o;
  std::string err;
  BOOST_TEST(
      parse({"-T2", "-t", "30", "-vv", "-u", "qmaild", "-J/j", "-j", "jailer", "prog"}, &o, &err));
  BOOST_TEST(o.io_timeout == 2);
  BOOST_TEST(o.session_timeout == 30);
  BOOST_TEST(o.verbosity == 3);
  BOOST_TEST(o.child_user == "qmaild");
  BOOST_TEST(o.jail_dir == "/j");
  BOOST_TEST(o.jail_user == "jailer");
  Options q;
  BOOST_TEST(parse({"-vvvvvv", "-qvT", "5", "prog"}, &q, &err));
  BOOST_TEST(q.verbosity == 1);  // -q then -v
  BOOST_TEST(q.io_timeout == 5);
}

BOOST_AUTO_TEST_CASE(verbosity_stops_at_three_v) {
  Options o;
  std::string err;
  BOOST_TEST(parse({"-vvvvvvv", "prog"}, &o, &err));
  BOOST_TEST(o.verbosity == 4);
}

BOOST_AUTO_TEST_CASE(double_dash_ends_options) {
  Options o;
  std::string err;
  BOOST_TEST(parse({"-v", "--", "-prog", "-x"}, &o, &err));
  BOOST_TEST(o.prog.size() == 2u);
  BOOST_TEST(o.prog[0] == "-prog");
}

BOOST_AUTO_TEST_CASE(tls_policy_flags) {
  Options none, a, s, both;
  std::string err;
  BOOST_TEST(parse({"prog"}, &none, &err));
  BOOST_TEST(!none.auth_needs_tls);
  BOOST_TEST(!none.tls_required);
  BOOST_TEST(parse({"-a", "prog"}, &a, &err));
  BOOST_TEST(a.auth_needs_tls);
  BOOST_TEST(!a.tls_required);
  BOOST_TEST(parse({"-vs", "prog", "-a"}, &s, &err));
  BOOST_TEST(s.tls_required);
  BOOST_TEST(s.auth_needs_tls);     // -s implies -a
  BOOST_TEST(s.prog.size() == 2u);  // prog's -a is its own
  BOOST_TEST(parse({"-as", "prog"}, &both, &err));
  BOOST_TEST(both.tls_required);
  BOOST_TEST(both.auth_needs_tls);
}

BOOST_AUTO_TEST_CASE(pregreet_wait) {
  Options o;
  std::string err;
  BOOST_TEST(o.greet_delay == 0);  // off unless asked
  BOOST_TEST(parse({"-p", "2", "prog"}, &o, &err));
  BOOST_TEST(o.greet_delay == 2);
  BOOST_TEST(parse({"-p0", "prog"}, &o, &err));
  BOOST_TEST(o.greet_delay == 0);
  BOOST_TEST(parse({"-p", "300", "prog"}, &o, &err));
  BOOST_TEST(o.greet_delay == 300);
  for (const char* bad : {"301", "-1", "1.5", "2s", "", "99999999999"}) {
    Options r;
    BOOST_TEST(!parse({"-p", bad, "prog"}, &r, &err));
    BOOST_TEST(!err.empty());
  }
  int v = 7;
  BOOST_TEST(!greet_delay_seconds(" 1", &v));
  BOOST_TEST(v == 7);  // untouched when refused
}

BOOST_AUTO_TEST_CASE(refused) {
  for (std::vector<std::string> bad :
       std::vector<std::vector<std::string>>{{},
                                             {"-v"},
                                             {"-x", "prog"},
                                             {"-t", "0", "prog"},
                                             {"-t", "86401", "prog"},
                                             {"-T", "1x", "prog"},
                                             {"-T", "-1", "prog"},
                                             {"-T"},
                                             {"-t", "99999999999999999999", "prog"},
                                             {"-u", "", "prog"},
                                             {"--"}}) {
    Options o;
    std::string err;
    BOOST_TEST(!parse(bad, &o, &err));
    BOOST_TEST(!err.empty());
  }
  Options o;
  std::string err;
  BOOST_TEST(parse({"-t", "86400", "-T", "1", "prog"}, &o, &err));
}

BOOST_AUTO_TEST_CASE(help_needs_no_program_and_lists_every_option) {
  Options o;
  std::string err;
  BOOST_TEST(parse({"-h"}, &o, &err));
  BOOST_TEST(o.help);
  Options grouped;
  BOOST_TEST(parse({"-vh"}, &grouped, &err));
  BOOST_TEST(grouped.help);
  Options none;
  BOOST_TEST(parse({"exim4"}, &none, &err));
  BOOST_TEST(!none.help);
  std::string help = help_text();
  BOOST_TEST(help.rfind("usage: tlswrapper-smtp [-hqvcCas] ", 0) == 0u);
  for (const char* opt :
       {"-h", "-q", "-v", "-t", "-T", "-u", "-g", "-C", "-c", "-a", "-s", "-J", "-j"})
    BOOST_TEST(help.find(std::string("\n  ") + opt + " ") != std::string::npos, opt);
}

BOOST_AUTO_TEST_SUITE_END()
