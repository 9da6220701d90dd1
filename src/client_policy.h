// Per-client policy from the environment the ucspi tools set: tcprules
// (tcpserver -x rules.cdb), s6-tcpserver-access and their kin put
// variables into the environment of the program they run, chosen by the
// client's address, and the helper gets them through tlswrapper. Here they
// are read (one row of kClientVariables a variable, which the manual's
// ENVIRONMENT lists) and then laid over the command line's choices. Pure
// code: the environment comes through a getenv-like lookup, so every rule
// is tested without one.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tws {

// What one client's variables say. A switch left unset (nullopt) leaves
// the command line's choice.
struct ClientPolicy {
  bool trusted = false;                // RELAYCLIENT: no greylisting, no pregreet test
  bool no_tls = false;                 // NOTLS: no STARTTLS
  std::optional<bool> tls_required;    // REQUIRETLS: -s for this client
  std::optional<bool> auth_needs_tls;  // FORCETLS: -a for this client
  std::optional<bool> greylist;        // GREYLIST: -g for this client
  // GREETDELAY: -p for this client, in seconds; malformed: the test on,
  // with -p's wait or kDefaultGreetDelay.
  std::optional<int> greet_delay;
  bool greet_delay_malformed = false;
};

// One variable: its name, what it takes and means (as the manual says it),
// how a set value is read, and how a malformed one is. `read` returns
// false for a malformed value, having taken the reading `otherwise` says
// (the stricter one).
struct ClientVariable {
  std::string_view name;
  std::string_view what;  // in a few words, for -h
  std::string_view values;
  std::string_view meaning;
  std::string_view otherwise;
  bool (*read)(std::string_view value, ClientPolicy* policy);
};

extern const std::span<const ClientVariable> kClientVariables;

// getenv-like: the value, or null when the variable is unset.
// A plain function and its context, not std::function: that would pull the
// C++ runtime's type information into the binary, and every session would
// pay the dynamic loader for its relocations.
struct EnvironmentLookup {
  const char* (*find)(const void* context, const char* name);
  const void* context = nullptr;
  const char* operator()(const char* name) const { return find(context, name); }
};

// Reads every row of kClientVariables. Each malformed value adds a line to
// *problems naming the variable and the reading taken.
ClientPolicy read_client_policy(const EnvironmentLookup& lookup,
                                std::vector<std::string>* problems);

// What a session runs with.
struct SessionPolicy {
  bool starttls = false;  // a TLS front offers STARTTLS to this client
  bool tls_required = false;
  bool auth_needs_tls = false;
  bool greylist = false;
  int greet_delay = 0;  // the pregreet test's wait, seconds (0: off)
};

// The command line's choices (starttls: there is a TLS front; greylist:
// -g) with this client's variables laid over them: the variable, being
// about this client, wins, in either direction. Conflicts are settled as
// the manual's ENVIRONMENT says and each adds a line to *notes.
SessionPolicy apply_client_policy(SessionPolicy options, const ClientPolicy& client,
                                  std::vector<std::string>* notes);

}  // namespace tws
