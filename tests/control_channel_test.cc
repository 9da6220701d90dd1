// The TLS front's control channel: which front is chosen from what the
// process is given, and the UCSPI-TLS answer's end and names.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <array>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "control_channel.h"

using namespace tws;

namespace {
using namespace std::string_literals;

std::string negotiated(const std::string& answer, bool* complete) {
  return negotiated_from_answer(answer, complete);
}
}  // namespace

BOOST_AUTO_TEST_SUITE(control_channel)

BOOST_AUTO_TEST_CASE(ucspi_answer_names_protocol_and_cipher) {
  bool complete = false;
  // s6's answer, with an unset entry (no '=').
  std::string s6 =
      "SSL_PROTOCOL=TLSv1.3\0SSL_CIPHER=TLS_AES_256_GCM_SHA384\0SSL_TLS_SNI_SERVERNAME=mx\0"
      "SSL_PEER_CERT_HASH\0SSL_PEER_CERT_SUBJECT\0\0"s;
  BOOST_TEST(negotiated(s6, &complete) == "TLSv1.3/TLS_AES_256_GCM_SHA384");
  BOOST_TEST(complete);
  // Cut anywhere before the final NUL: not complete yet.
  for (std::size_t n = 0; n + 1 < s6.size(); ++n) {
    negotiated(s6.substr(0, n), &complete);
    BOOST_TEST(!complete, "complete after " << n << " bytes");
  }
  // Values with newlines (sslserver sends PEM certificates); the order of
  // entries does not matter.
  std::string ssl =
      "SSL_SESSION_ID=ab\0SSL_SERVER_CERT=-----BEGIN\nCERT\n-----END\n\0SSL_CIPHER=ECDHE-ECDSA-"
      "CHACHA20-POLY1305\0SSL_PROTOCOL=TLSv1.2\0\0"s;
  BOOST_TEST(negotiated(ssl, &complete) == "TLSv1.2/ECDHE-ECDSA-CHACHA20-POLY1305");
  BOOST_TEST(complete);
  // An empty answer is one NUL; one without the names gives nothing.
  BOOST_TEST(negotiated("\0"s, &complete).empty());
  BOOST_TEST(complete);
  BOOST_TEST(negotiated("SSL_X=1\0\0"s, &complete).empty());
  BOOST_TEST(complete);
}

BOOST_AUTO_TEST_CASE(front_chosen_from_what_is_given) {
  int sv[2], in[2], out[2];
  BOOST_REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  BOOST_REQUIRE(pipe(in) == 0);
  BOOST_REQUIRE(pipe(out) == 0);
  std::string c = std::to_string(sv[0]), r = std::to_string(in[0]), w = std::to_string(out[1]);
  {
    ControlChannel ch;
    ch.detect(c.c_str(), r.c_str(), w.c_str());
    BOOST_TEST(static_cast<int>(ch.protocol()) == static_cast<int>(ControlProtocol::Ucspi));
    std::array<int, 4> kept = ch.descriptors();
    std::sort(kept.begin(), kept.end());
    std::array<int, 4> want = {-1, sv[0], in[0], out[1]};
    std::sort(want.begin(), want.end());
    BOOST_TEST(kept == want);
    BOOST_TEST(ch.answer_fd() == sv[0]);
    BOOST_TEST(ch.handshake_on_client_fds());
    BOOST_TEST((fcntl(sv[0], F_GETFD) & FD_CLOEXEC) != 0);
  }  // the channel closes what it took
  BOOST_TEST(fcntl(sv[0], F_GETFD) == -1);
  // Variables naming closed descriptors, or not numbers: not UCSPI-TLS.
  for (const char* bad : {"", "x3", "99999999", "-1"}) {
    ControlChannel ch;
    ch.detect(bad, r.c_str(), w.c_str());
    BOOST_TEST(static_cast<int>(ch.protocol()) != static_cast<int>(ControlProtocol::Ucspi));
  }
  ControlChannel none;
  none.detect(nullptr, nullptr, nullptr);
  BOOST_TEST(!none.handshake_on_client_fds());
  close(sv[1]);
  close(in[1]);
  close(out[0]);
}

BOOST_AUTO_TEST_SUITE_END()
