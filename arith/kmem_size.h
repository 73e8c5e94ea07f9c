// How many bytes or pages one accounted allocation charges, per kind.
// Written once for every domain; the constants are the x86_64 kernel's.
#pragma once

#include "arith/domain.h"

namespace mv::arith {

// sizeof(struct obj_cgroup *) on a 64-bit kernel.
inline constexpr std::uint64_t kObjcgPointerBytes = 8;
// PCPU_MIN_ALLOC_SIZE = 1 << PCPU_MIN_ALLOC_SHIFT (2), mm/percpu-internal.h.
inline constexpr unsigned kPcpuMinAllocShift = 2;
// THREAD_SIZE on x86_64 and arm64 (16 KiB), raised to PAGE_SIZE on arm64 when
// PAGE_SIZE is larger (THREAD_SHIFT = PAGE_SHIFT under CONFIG_VMAP_STACK).
inline constexpr std::uint64_t kThreadSizeMinBytes = 16384;

// mm/slab.h obj_full_size (v5.9+): `s->size + sizeof(struct obj_cgroup *)`,
// charged once per object by memcg_slab_pre_alloc_hook.
template <class D>
typename D::u64 slab_obj_full_size(typename D::u64 object_size_bytes) {
  return object_size_bytes + D::lit64(kObjcgPointerBytes);
}

// mm/percpu.c pcpu_alloc aligns the size to PCPU_MIN_ALLOC_SIZE before the
// memcg pre-alloc hook: `size = ALIGN(size, PCPU_MIN_ALLOC_SIZE)`.
template <class D>
typename D::u64 pcpu_aligned_size(typename D::u64 size_bytes) {
  auto mask = D::lit64((std::uint64_t{1} << kPcpuMinAllocShift) - 1);
  return (size_bytes + mask) & ~mask;
}

// mm/percpu-internal.h pcpu_obj_full_size (v5.17+, 8c57c07741bf): `size *
// num_possible_cpus() + size / PCPU_MIN_ALLOC_SIZE * sizeof(struct obj_cgroup *)`.
// Offline CPUs are still possible CPUs: ncpus counts them.
template <class D>
typename D::u64 pcpu_obj_full_size(typename D::u64 aligned_size_bytes, std::uint32_t ncpus) {
  return aligned_size_bytes * D::lit64(ncpus) +
         (aligned_size_bytes >> kPcpuMinAllocShift) * D::lit64(kObjcgPointerBytes);
}

// pcpu_obj_full_size as v5.9-v5.16 computed it (3c7be18ac9a0): `size *
// num_possible_cpus()`, without the obj_cgroup pointers 8c57c07741bf added.
template <class D>
typename D::u64 pcpu_obj_full_size_v5_9(typename D::u64 aligned_size_bytes, std::uint32_t ncpus) {
  return aligned_size_bytes * D::lit64(ncpus);
}

// __memcg_kmem_charge_page(page, gfp, order): `1 << order` pages, one objcg ref.
template <class D>
typename D::u32 kmem_page_nr_pages(std::uint32_t order) {
  return D::lit32(std::uint32_t{1} << order);
}

// kernel/fork.c memcg_charge_kernel_stack (CONFIG_VMAP_STACK): THREAD_SIZE /
// PAGE_SIZE order-0 pages, each charged by memcg_kmem_charge_page and each
// holding its own objcg reference.
constexpr std::uint32_t kernel_stack_nr_pages(PageGeometry page) {
  auto thread_size = page.size_bytes > kThreadSizeMinBytes ? page.size_bytes : kThreadSizeMinBytes;
  return static_cast<std::uint32_t>(thread_size >> page.shift);
}

// Bytes of `nr_pages` whole pages (a kmem page or stack object's charged size):
// `nr_pages << PAGE_SHIFT` in unsigned long.
template <class D>
typename D::u64 kmem_pages_bytes(typename D::u32 nr_pages, PageGeometry page) {
  return D::zext(nr_pages) << page.shift;
}

}  // namespace mv::arith
