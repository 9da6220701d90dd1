// The conformance vectors of tests/vectors/, each replayed three ways: as
// written, one byte at a time, and cut into 7-byte pieces. A session must
// behave the same however its bytes are split across reads.
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "transcript.h"

namespace bdata = boost::unit_test::data;
using tws::test::Case;

namespace {
const std::vector<Case>& vectors() {
  static const std::vector<Case> cases = tws::test::load_cases(TWS_VECTORS_DIR);
  return cases;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(transcript)

BOOST_AUTO_TEST_CASE(there_are_vectors) {
  BOOST_TEST(vectors().size() >= 100u);
}

BOOST_DATA_TEST_CASE(replay, bdata::make(vectors()) * bdata::make({0, 1, 7}), vector, split) {
  for (const std::string& f : tws::test::run_case(vector, static_cast<std::size_t>(split)))
    BOOST_ERROR(f);
}

BOOST_AUTO_TEST_SUITE_END()
