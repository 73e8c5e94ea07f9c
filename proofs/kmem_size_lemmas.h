// Lemmas about how many bytes an accounted allocation charges
// (arith/kmem_size.h): the sizes the kernel passes to obj_cgroup_charge stay
// below the 2^32 truncation of consume_obj_stock (obj_cgroup_charge_exact), so
// that limit of the kernel's types is latent, not reachable.
// Kernel: mm/slab.h, mm/percpu.c, mm/percpu-internal.h (x86_64 constants).
#pragma once

#include <fmt/core.h>

#include <cstdint>
#include <vector>

#include "proofs/kernel_arith.h"
#include "proofs/lemma.h"

namespace mv::proofs {

// pcpu_alloc refuses `size > PCPU_MIN_UNIT_SIZE` (32 KiB).
inline constexpr std::uint64_t kPcpuMinUnitSizeBytes = 32 * 1024;
// NR_CPUS upper bound on x86_64 (CONFIG_MAXSMP: 8192): num_possible_cpus() <= it.
inline constexpr std::uint32_t kPossibleCpusMax = 8192;
// KMALLOC_MAX_CACHE_SIZE under SLUB: 1 << (PAGE_SHIFT + 1), order-1 slabs.
inline std::uint64_t kmalloc_max_cache_bytes(const LemmaConfig& c) { return c.page.size_bytes * 2; }

// pcpu_obj_full_size (v5.17+) after pcpu_alloc's ALIGN(size, 4): the aligned
// size covers the request by less than 4 bytes, the full size is exactly
// aligned * ncpus + aligned / 4 * 8 and stays below 2^32, so
// obj_cgroup_charge's split and consume_obj_stock see it exactly.
// Likewise a slab object's obj_full_size (size + 8) for the largest kmalloc cache.
template <class Arith = KernelArith>
LemmaResult kmem_charge_sizes_exact(const LemmaConfig& c) {
  return run_at_width(c, [&]<class D>() {
    std::vector<Obligation> obligations;
    const std::uint64_t limit_32 = std::uint64_t{1} << 32;
    for (std::uint32_t ncpus : {1u, 2u, 4u, 64u, kPossibleCpusMax}) {
      auto size = D::var64(fmt::format("pcpu_size_{}", ncpus));
      auto aligned = Arith::template pcpu_aligned_size<D>(size);
      auto full = Arith::template pcpu_obj_full_size<D>(aligned, ncpus);
      auto assumptions = z3::uge(wide(size), wide_lit(1)) && z3::ule(wide(size), wide_lit(kPcpuMinUnitSizeBytes));
      auto expected_full = wide(aligned) * wide_lit(ncpus) + z3::lshr(wide(aligned), wide_lit(2)) * wide_lit(8);
      auto claim = all_of({
          z3::uge(wide(aligned), wide(size)),
          z3::ult(wide(aligned) - wide(size), wide_lit(4)),
          (wide(aligned) & wide_lit(3)) == wide_lit(0),
          wide(full) == expected_full,
          z3::ult(wide(full), wide_lit(limit_32)),
      });
      auto explain = [=](const z3::model& m) {
        return fmt::format("percpu size={} on {} possible CPUs: aligned={} full={} (expected {})",
                           model_value(m, size), ncpus, model_value(m, aligned), model_value(m, full),
                           model_value(m, expected_full));
      };
      obligations.push_back({fmt::format("percpu, {} CPUs", ncpus), assumptions, claim, explain, std::nullopt});
    }
    auto object = D::var64("slab_object_size");
    auto full = Arith::template slab_obj_full_size<D>(object);
    auto assumptions = z3::uge(wide(object), wide_lit(1)) && z3::ule(wide(object), wide_lit(kmalloc_max_cache_bytes(c)));
    auto claim = wide(full) == wide(object) + wide_lit(8) && z3::ult(wide(full), wide_lit(limit_32));
    auto explain = [=](const z3::model& m) {
      return fmt::format("slab object size={}: obj_full_size={}", model_value(m, object), model_value(m, full));
    };
    obligations.push_back({"slab", assumptions, claim, explain, std::nullopt});
    return obligations;
  });
}

// __memcg_kmem_charge_page / memcg_charge_kernel_stack: an order-n kmem page
// charges 1 << n pages, i.e. (1 << n) * PAGE_SIZE bytes, for every order the
// page allocator serves (< MAX_ORDER = 11); a kernel stack's page count times
// PAGE_SIZE is THREAD_SIZE.
template <class Arith = KernelArith>
LemmaResult kmem_page_bytes_exact(const LemmaConfig& c) {
  return run_at_width(c, [&]<class D>() {
    std::vector<z3::expr> claims;
    for (std::uint32_t order = 0; order < 11; ++order) {
      auto pages = Arith::template kmem_page_nr_pages<D>(order);
      auto bytes = Arith::template kmem_pages_bytes<D>(pages, c.page);
      claims.push_back(wide(pages) == wide_lit(std::uint64_t{1} << order));
      claims.push_back(wide(bytes) == wide_lit((std::uint64_t{1} << order) * c.page.size_bytes));
    }
    auto stack_pages = D::lit32(arith::kernel_stack_nr_pages(c.page));
    auto stack_bytes = Arith::template kmem_pages_bytes<D>(stack_pages, c.page);
    std::uint64_t thread_size = std::max<std::uint64_t>(arith::kThreadSizeMinBytes, c.page.size_bytes);
    claims.push_back(wide(stack_bytes) == wide_lit(thread_size));
    auto explain = [=](const z3::model& m) {
      return fmt::format("kernel stack: {} pages charge {} bytes, THREAD_SIZE {}",
                         arith::kernel_stack_nr_pages(c.page), model_value(m, stack_bytes), thread_size);
    };
    return std::vector<Obligation>{{"", z3_context().bool_val(true), all_of(claims), explain, std::nullopt}};
  });
}

}  // namespace mv::proofs
