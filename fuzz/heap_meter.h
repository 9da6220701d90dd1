// A heap meter for the Session target: the program's operator new and
// delete, replaced, count the bytes allocated while a Charge is alive and
// not yet freed. Only what the Session itself allocates is charged (its
// buffers, its FIFO, the actions it returns), not the driver's records of
// the whole conversation, so "the Session's memory stays bounded" can be
// checked as a number.
#pragma once

#include <cstddef>

namespace tws::fuzz::heap {

// Charges allocations to the metered code for its lifetime (not nested).
class Charge {
 public:
  Charge();
  ~Charge();
  Charge(const Charge&) = delete;
  Charge& operator=(const Charge&) = delete;
};

std::size_t live();  // charged bytes still allocated
std::size_t peak();  // most charged bytes allocated at once since reset_peak()
void reset_peak();

}  // namespace tws::fuzz::heap
