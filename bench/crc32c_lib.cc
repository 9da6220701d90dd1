// crc32c.h with a C interface, loaded by soak.py through ctypes so that the
// Python client computes the same CRC-32C as the sink, at the instruction's
// speed:
//
//   uint32_t bench_crc32c(uint32_t crc, const void* data, size_t n)
//
// crc is the value so far (0 to start), the result the value after the n
// bytes, so a body can be checked in pieces.
#include "crc32c.h"

extern "C" __attribute__((visibility("default"))) std::uint32_t bench_crc32c(std::uint32_t crc,
                                                                             const void* data,
                                                                             std::size_t n) {
  // The class keeps the inverted state; value() inverts it back.
  bench::Crc32c c = bench::Crc32c::resume(crc);
  c.update(data, n);
  return c.value();
}
