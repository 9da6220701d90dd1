// The heap meter (see heap_meter.h). Every allocation of the program gets
// a 16-byte header holding its size and whether it was charged, so a
// delete anywhere credits the right account. Sanitizers still see every
// block: the bytes come from malloc.
#include "heap_meter.h"

#include <cstdint>
#include <cstdlib>
#include <new>

namespace tws::fuzz::heap {

namespace {

bool g_charging = false;
std::size_t g_live = 0;
std::size_t g_peak = 0;

struct alignas(16) Header {
  std::size_t size;
  std::size_t charged;
};

void* allocate(std::size_t n) {
  auto* h = static_cast<Header*>(std::malloc(sizeof(Header) + n));
  if (h == nullptr) return nullptr;
  h->size = n;
  h->charged = g_charging ? 1 : 0;
  if (g_charging) {
    g_live += n;
    if (g_live > g_peak) g_peak = g_live;
  }
  return h + 1;
}

void release(void* p) {
  if (p == nullptr) return;
  Header* h = static_cast<Header*>(p) - 1;
  if (h->charged) g_live -= h->size;
  std::free(h);
}

void* allocate_or_throw(std::size_t n) {
  void* p = allocate(n);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

}  // namespace

Charge::Charge() {
  g_charging = true;
}
Charge::~Charge() {
  g_charging = false;
}
std::size_t live() {
  return g_live;
}
std::size_t peak() {
  return g_peak;
}
void reset_peak() {
  g_peak = g_live;
}

}  // namespace tws::fuzz::heap

using tws::fuzz::heap::allocate;
using tws::fuzz::heap::allocate_or_throw;
using tws::fuzz::heap::release;

void* operator new(std::size_t n) {
  return allocate_or_throw(n);
}
void* operator new[](std::size_t n) {
  return allocate_or_throw(n);
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  return allocate(n);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  return allocate(n);
}
void operator delete(void* p) noexcept {
  release(p);
}
void operator delete[](void* p) noexcept {
  release(p);
}
void operator delete(void* p, std::size_t) noexcept {
  release(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  release(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  release(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  release(p);
}
