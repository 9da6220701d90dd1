// Per-client policy from the environment (see client_policy.h).
#include "client_policy.h"

#include <iterator>

#include "constants.h"
#include "decimal.h"
#include "log_text.h"

namespace tws {

namespace {

// qmail's switches: set with no value (tcprules' VAR="") or "1" is on,
// "0" is off. Anything else is malformed and read as `stricter`.
bool read_switch(std::string_view value, std::optional<bool>* out, bool stricter) {
  if (value.empty() || value == "1") {
    *out = true;
    return true;
  }
  if (value == "0") {
    *out = false;
    return true;
  }
  *out = stricter;
  return false;
}

constexpr ClientVariable kVariables[] = {
    {"RELAYCLIENT", "trusted: not greylisted, no pregreet test", "set, any value",
     "a client the admin trusts (qmail-smtpd's relay permission, whose value qmail appends to "
     "recipients): it is not greylisted and not put to the pregreet test",
     "",
     [](std::string_view, ClientPolicy* p) {
       p->trusted = true;
       return true;
     }},
    {"NOTLS", "no STARTTLS", "set (empty or 1)",
     "no STARTTLS for this client (the name dotls reads): the session runs as if no TLS front "
     "were there",
     "set, as dotls reads any value",
     [](std::string_view v, ClientPolicy* p) {
       // dotls reads any value as set; another value may be meant as
       // "no", which it is not: said in a log line.
       p->no_tls = true;
       return v.empty() || v == "1";
     }},
    {"REQUIRETLS", "TLS required (-s)", "empty or 1: on; 0: off",
     "TLS required (-s) for this client, or not (the name qmail-smtpd's STARTTLS patches read)",
     "on",
     [](std::string_view v, ClientPolicy* p) { return read_switch(v, &p->tls_required, true); }},
    {"FORCETLS", "AUTH only inside TLS (-a)", "empty or 1: on; 0: off",
     "AUTH only inside TLS (-a) for this client, or not (the qmail-tls force-tls patch's name: "
     "FORCETLS=0 allows AUTH without TLS)",
     "on",
     [](std::string_view v, ClientPolicy* p) { return read_switch(v, &p->auth_needs_tls, true); }},
    {"GREYLIST", "greylisting (-g)", "empty or 1: on; 0: off",
     "greylisting (-g) for this client, or not; it wins over RELAYCLIENT", "on",
     [](std::string_view v, ClientPolicy* p) { return read_switch(v, &p->greylist, true); }},
    {"GREETDELAY", "the pregreet wait (-p)", "0 to 300 seconds",
     "the pregreet test's wait for this client in place of -p, 0 turning it off (the name "
     "qmail's greeting-delay programs read); it wins over RELAYCLIENT",
     "the test on, with -p's wait (6 s when -p is off)",
     [](std::string_view v, ClientPolicy* p) {
       long seconds = 0;
       if (parse_decimal(v, kMaxGreetDelay, &seconds)) {
         p->greet_delay = static_cast<int>(seconds);
         return true;
       }
       p->greet_delay_malformed = true;
       return false;
     }},
};

}  // namespace

const std::span<const ClientVariable> kClientVariables(kVariables, std::size(kVariables));

ClientPolicy read_client_policy(const EnvironmentLookup& lookup,
                                std::vector<std::string>* problems) {
  ClientPolicy policy;
  for (const ClientVariable& v : kClientVariables) {
    const char* value = lookup(std::string(v.name).c_str());
    if (value == nullptr) continue;
    if (!v.read(value, &policy))
      problems->push_back(std::string(v.name) + "=\"" + printable(value, kMaxLoggedText) +
                          "\" is not " + std::string(v.values) + ": read as " +
                          std::string(v.otherwise));
  }
  return policy;
}

SessionPolicy apply_client_policy(SessionPolicy options, const ClientPolicy& client,
                                  std::vector<std::string>* notes) {
  SessionPolicy s = options;
  // A variable about one test (GREYLIST, GREETDELAY) wins over RELAYCLIENT,
  // which turns off every test it is not named with.
  if (client.trusted) s.greylist = false;
  if (client.greylist) {
    if (*client.greylist && !options.greylist)
      notes->push_back("GREYLIST: no greylist server (-g): not greylisted");
    s.greylist = *client.greylist && options.greylist;
  }
  if (client.trusted) s.greet_delay = 0;
  if (client.greet_delay) s.greet_delay = *client.greet_delay;
  if (client.greet_delay_malformed)
    s.greet_delay = options.greet_delay > 0 ? options.greet_delay : kDefaultGreetDelay;
  // REQUIRETLS implies FORCETLS as -s implies -a (the options carry that
  // already), unless FORCETLS is set for the client too.
  if (client.tls_required) s.tls_required = *client.tls_required;
  if (client.auth_needs_tls)
    s.auth_needs_tls = *client.auth_needs_tls;
  else if (client.tls_required.value_or(false))
    s.auth_needs_tls = true;
  if (client.no_tls) {
    // NOTLS names a client that cannot do TLS: requiring it would refuse
    // all its mail, which is not what NOTLS asks for.
    if (s.tls_required) {
      s.tls_required = false;
      notes->push_back("NOTLS: no STARTTLS for this client, so TLS is not required of it");
    }
    if (s.auth_needs_tls)
      notes->push_back(
          "NOTLS: AUTH is refused for this client (AUTH only inside TLS; FORCETLS=0 allows it)");
    s.starttls = false;
  } else if (!s.starttls && s.tls_required) {
    notes->push_back("REQUIRETLS: no TLS front, so no mail can be accepted from this client");
  }
  // TLS required refuses AUTH before TLS whatever FORCETLS says (the
  // Session reads -s so too).
  if (s.tls_required) s.auth_needs_tls = true;
  return s;
}

}  // namespace tws
