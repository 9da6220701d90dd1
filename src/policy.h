// The greylist policy codec: the Postfix policy delegation protocol as
// postgrey speaks it. A request is a block of name=value lines ended by an
// empty line; so is the answer, whose `action=` decides. Pure code: the
// connection to the server belongs to the driver.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "action.h"

namespace tws {

struct PolicyQuery {
  std::string_view client_address;  // TCPREMOTEIP
  std::string_view client_name;     // TCPREMOTEHOST, or "unknown"
  std::string_view helo_name;
  std::string_view sender;     // bare address, empty for the null sender
  std::string_view recipient;  // bare address
  std::string_view instance;   // one value per transaction
  std::string_view size;       // SIZE= of MAIL, digits, or empty
  bool esmtp = true;
};

// The request block, or an empty string when none may be sent: without a
// valid client address (postgrey 1.37 dies on an empty one) it is a lookup
// failure. Values are cleaned of CR, LF and NUL.
std::string policy_request(const PolicyQuery& q);

// The value of SIZE= among MAIL's ESMTP parameters, or empty.
std::string_view size_parameter(std::string_view params);

// Reads one answer up to and including its empty line, with a bound on its
// size. Feed bytes as they come; what follows the answer is not consumed.
class PolicyAnswerReader {
 public:
  enum class Status { NeedMore, Done, Invalid };
  // Takes bytes from `in`, sets *used to how many it took.
  Status feed(std::string_view in, std::size_t* used);
  // After Done: the verdict the answer's action= gives.
  PolicyVerdict verdict() const;
  void reset() { text_.clear(); }

 private:
  std::string text_;
};

// Decodes one action value ("DUNNO", "DEFER_IF_PERMIT text", "450 text" ...).
PolicyVerdict decode_policy_action(std::string_view action);

}  // namespace tws
