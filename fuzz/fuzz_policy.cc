// Fuzz target: the greylist answer codec. The input is a policy server's
// answer (and whatever follows it), fed to PolicyAnswerReader in pieces
// whose sizes come from the first byte; the action decoder also gets the
// whole input as an action value.
//
// Invariants:
// - the reader reaches the same status after the same bytes however they
//   are cut, and takes nothing after the end of the answer;
// - Done exactly at the first empty line ("\n\n", or a lone "\n" first),
//   Invalid exactly when kMaxPolicyAnswer bytes pass without one;
// - a verdict to defer or reject carries one well-formed reply line
//   (three digits, 4xx to defer, 5xx to reject, one CRLF at the end, no
//   other CR, LF or NUL, text bounded by kMaxPolicyReplyText); pass and
//   failure carry none;
// - the answer to one request never leaks into the next (reset()).
#include <string>
#include <string_view>

#include "constants.h"
#include "fuzz_target.h"
#include "policy.h"
#include "smtp_grammar.h"

namespace {

using tws::PolicyAnswerReader;
using tws::PolicyVerdict;
using tws::fuzz::check;

void check_verdict(const PolicyVerdict& v) {
  using K = PolicyVerdict::Kind;
  if (v.kind == K::Pass || v.kind == K::Failure) {
    check(v.reply.empty(), "policy: a reply with a pass or a failure");
    return;
  }
  std::string_view r(v.reply);
  check(r.size() >= 5 && r.substr(r.size() - 2) == "\r\n", "policy: reply without CRLF");
  std::string_view line = r.substr(0, r.size() - 2);
  check(line.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos,
        "policy: CR, LF or NUL inside the reply");
  tws::ReplyLine p = tws::parse_reply(line);
  check(p.ok && p.last(), "policy: reply is not one final reply line");
  check(p.code / 100 == (v.kind == K::Defer ? 4 : 5),
        "policy: reply class differs from the verdict");
  check(line.size() <= 3 + 1 + 6 + tws::kMaxPolicyReplyText, "policy: reply text not bounded");
}

// Where the reader must stop: the first "\n\n", or a "\n" that opens the
// answer; 0 when there is none.
std::size_t answer_end(std::string_view in) {
  if (!in.empty() && in[0] == '\n') return 1;
  std::size_t at = in.find("\n\n");
  return at == std::string_view::npos ? 0 : at + 2;
}

}  // namespace

TWS_FUZZ_TARGET(policy) {
  if (size == 0) return 0;
  unsigned seed = data[0];
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);

  // Whole, then in pieces of 1 + (seed-driven) bytes.
  PolicyAnswerReader whole;
  std::size_t whole_used = 0;
  PolicyAnswerReader::Status whole_status = whole.feed(in, &whole_used);

  PolicyAnswerReader pieces;
  PolicyAnswerReader::Status status = PolicyAnswerReader::Status::NeedMore;
  std::size_t taken = 0;
  while (taken < in.size() && status == PolicyAnswerReader::Status::NeedMore) {
    seed = seed * 1103515245u + 12345u;
    std::size_t piece = 1 + (seed >> 16) % 17;
    std::size_t used = 0;
    std::string_view part = in.substr(taken, piece);
    status = pieces.feed(part, &used);
    check(used <= part.size(), "policy: took more than it was given");
    check(status != PolicyAnswerReader::Status::NeedMore || used == part.size(),
          "policy: needs more but left bytes");
    taken += used;
  }
  check(status == whole_status && taken == whole_used, "policy: the cut changes the result");

  std::size_t end = answer_end(in);
  bool fits = end != 0 && end <= tws::kMaxPolicyAnswer;
  if (fits) {
    check(whole_status == PolicyAnswerReader::Status::Done && whole_used == end,
          "policy: the answer's end not found where it is");
  } else if (in.size() > tws::kMaxPolicyAnswer) {
    check(whole_status == PolicyAnswerReader::Status::Invalid,
          "policy: an over-long answer accepted");
  } else {
    check(whole_status == PolicyAnswerReader::Status::NeedMore,
          "policy: an unfinished answer ended");
  }

  if (whole_status == PolicyAnswerReader::Status::Done) {
    PolicyVerdict v = whole.verdict();
    check_verdict(v);
    PolicyVerdict w = pieces.verdict();
    check(v.kind == w.kind && v.reply == w.reply, "policy: verdict depends on the cut");
    // The next answer on a reused connection starts clean.
    whole.reset();
    std::size_t used = 0;
    if (whole.feed("action=DUNNO\n\n", &used) == PolicyAnswerReader::Status::Done)
      check(whole.verdict().kind == PolicyVerdict::Kind::Pass, "policy: an old answer leaked");
    else
      check(false, "policy: a clean answer after reset() not read");
  }

  check_verdict(tws::decode_policy_action(in));
  return 0;
}
