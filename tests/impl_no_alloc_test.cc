// The charge hot path allocates no heap memory: this binary replaces the
// global operator new/delete with counting versions and runs 100k charge +
// uncharge pairs on the byte-stock hit path (and 100k on the page-stock path)
// between two reads of the counter.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "impl/kmem.h"
#include "impl/system.h"

namespace {
std::atomic<std::uint64_t> g_allocations{0};
}

void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
void* operator new(std::size_t size, std::align_val_t align) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  std::size_t a = static_cast<std::size_t>(align);
  if (void* p = std::aligned_alloc(a, (size + a - 1) / a * a)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size, std::align_val_t align) { return operator new(size, align); }
// GCC sees `new TestClass` (our operator new, malloc) freed here by free()
// after inlining and calls it mismatched: it is the pair this file defines.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace mv::impl {
namespace {

constexpr int kPairs = 100000;

class NoAlloc : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.ncpus = 4;
    a_ = *paths_.intern("/a");
    sys_ = std::make_unique<System>(config_, paths_);
    ASSERT_EQ(sys_->mkdir(cpu(), a_), spec::Errno::ok);
    ASSERT_EQ(sys_->spawn(cpu(), task_, a_, 0), spec::Errno::ok);
  }
  Cpu& cpu() { return sys_->cpu(0); }
  spec::Config config_;
  spec::PathTable paths_;
  spec::PathKey a_ = 0;
  std::unique_ptr<System> sys_;
  Task task_;
};

TEST_F(NoAlloc, CountingIsLive) {
  // The counter sees allocations made in this binary (mkdir allocates a memcg).
  std::uint64_t before = g_allocations.load();
  ASSERT_EQ(sys_->mkdir(cpu(), *paths_.intern("/b")), spec::Errno::ok);
  EXPECT_GT(g_allocations.load(), before);
}

TEST_F(NoAlloc, ByteStockHitPathAllocatesNothing) {
  Object obj;
  ASSERT_EQ(slab_alloc(cpu(), task_, obj, 64, false), spec::Errno::ok);  // warm the stocks
  slab_free(cpu(), obj);
  std::uint64_t before = g_allocations.load();
  for (int i = 0; i < kPairs; ++i) {
    if (slab_alloc(cpu(), task_, obj, 64, false) != spec::Errno::ok) FAIL();
    slab_free(cpu(), obj);
  }
  std::uint64_t after = g_allocations.load();
  EXPECT_EQ(after - before, 0u) << "heap allocations on " << kPairs << " hit-path pairs";
  EXPECT_EQ(sys_->snapshot().cgroups.at(1).usage_pages, 64);
}

TEST_F(NoAlloc, PageStockPathAllocatesNothing) {
  // 4000-byte objects (4008 charged): most charges miss the byte stock and
  // take a page from the page stock; frees give whole pages back to it.
  Object objs[2];
  for (auto& o : objs) ASSERT_EQ(slab_alloc(cpu(), task_, o, 4000, false), spec::Errno::ok);
  for (auto& o : objs) slab_free(cpu(), o);
  std::uint64_t before = g_allocations.load();
  for (int i = 0; i < kPairs; ++i) {
    for (auto& o : objs)
      if (slab_alloc(cpu(), task_, o, 4000, false) != spec::Errno::ok) FAIL();
    for (auto& o : objs) slab_free(cpu(), o);
  }
  EXPECT_EQ(g_allocations.load() - before, 0u);
  EXPECT_TRUE(sys_->snapshot().events.empty());
}

}  // namespace
}  // namespace mv::impl
