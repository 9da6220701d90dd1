// The engine's test module: one executable, one suite per component, each
// suite registered with ctest on its own (CMakeLists.txt).
#define BOOST_TEST_MODULE tlswrapper_smtp_engine
#include <boost/test/unit_test.hpp>
