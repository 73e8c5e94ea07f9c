// Kernel profiles: one kernel generation's semantics each. The invariants are
// stated once (spec/invariants.h); a profile's traits say which parts of the
// model differ, so a new profile is a new traits value, not a copy of a model.
// reference/ and impl/ branch on these traits where a kernel function differs
// between generations (docs/DESIGNS.md lists the designs).
#pragma once

#include <bit>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mv::spec {

// Ordered by kernel version (spec/holders.cc compares them); davydov-2014 (a design posted against 3.18, never
// merged) sits with the other designs that predate the v5.9 objcg.
enum class Profile : std::uint8_t {
  v5_2, v5_3, davydov_2014, v5_10, v6_1, v6_6, v6_6_hotplug_fix, v6_16
};

// How slab objects are charged.
enum class SlabCharging : std::uint8_t {
  // <= v5.2: per-memcg kmem_caches created on first use; a slab page of a
  // memcg cache is charged whole to the cache's memcg (page->mem_cgroup, one
  // css reference per page from try_charge) until it is freed empty.
  memcg_cache_pages,
  // v5.3-v5.8 (seed 000, fb2f2b0adb98): the same pages, but their css
  // references move to the cache's percpu_ref; a cache holds one css
  // reference and is reparented on rmdir.
  reparented_cache_pages,
  // Davydov 2014 (seed 003, posted, not merged): caches indexed by a reusable
  // kmemcg_id, never destroyed; slab pages charged to the allocating memcg and
  // recharged to it when it allocates from a page charged to another.
  recharged_cache_pages,
  // v5.9+ (the slab controller, 10befea91b61): objects charged in bytes
  // through an obj_cgroup; slab pages themselves are not charged.
  objcg_bytes,
};

// The css references behind the per-CPU page stock.
enum class StockCssRefs : std::uint8_t {
  per_page,             // <= v5.8: try_charge's css_get_many covers every stocked page; none for `cached`
  per_page_and_cached,  // 4.19.y/5.4.y after GONG Ruiqi's 2024 fix: both
  cached,               // v5.9+ (1a3e1f40962c): one for the cached memcg, none per page
};

// How refill_obj_stock treats bytes past PAGE_SIZE.
enum class ObjRefillRule : std::uint8_t {
  drain_whole_stock,       // v5.9-v5.13: `if (nr_bytes > PAGE_SIZE) drain_obj_stock()`
  uncharge_whole_pages,    // v5.14+: allow_uncharge, keep the objcg cached
};

// How non-slab kmem pages (kmem page allocations, kernel stacks) are charged.
enum class KmemPageCharging : std::uint8_t {
  memcg_css_ref,  // <= v5.12: page->mem_cgroup holds a css reference (pins dying memcgs)
  through_objcg,  // v5.13+ (b4e0b68fbd9d): page holds an objcg reference
};

// How memcg_charge_kernel_stack (kernel/fork.c) undoes a stack whose page i
// failed to charge. Both give back exactly pages 0..i-1: the failed page and
// the pages after it have no memcg_data, and memcg_kmem_uncharge_page skips
// such a page.
enum class StackUnchargeOnError : std::uint8_t {
  every_page,     // v6.1: memcg_kmem_uncharge_page on all THREAD_SIZE / PAGE_SIZE pages
  charged_pages,  // v6.6: only the nr_charged pages charged so far
};

struct ProfileTraits {
  Profile profile;
  std::string_view name;                 // "v6.6"
  // The kernel tree the profile was read from (its Makefile version).
  std::string_view kernel_tree;
  std::uint32_t charge_batch_pages;      // MEMCG_CHARGE_BATCH
  SlabCharging slab;
  StockCssRefs stock_refs;
  // try_charge() returns 0 for the root memcg (up to v5.13 for every charge;
  // the objcg path charges the root from c5c8b16b596e, v5.14).
  bool try_charge_skips_root;
  // __memcg_kmem_uncharge gives pages to refill_stock (3de7d4f25a74, v5.10.11
  // and v5.11) instead of page_counter_uncharge.
  bool kmem_uncharge_refills_stock;
  bool percpu_accounted;                 // v5.9+ (3c7be18ac9a0): percpu memory is charged
  ObjRefillRule obj_refill;
  // mod_objcg_state caches the objcg in the per-CPU byte stock (68ac5b3c8db2,
  // v5.14); before, it only updated the lruvec stat.
  bool mod_objcg_state_uses_stock;
  KmemPageCharging kmem_pages;
  bool reparented_objcg_holds_css;       // v5.9-v5.13: one css ref on objcg->memcg
  // memcg_hotplug_cpu_dead drains the dead CPU's obj stock too: 9f01b4954490
  // (v6.15-rc1; in stable from 6.6.90). Without it the stock's bytes and its
  // objcg reference stay on the dead CPU (spec/known_bug.h).
  bool hotplug_drains_obj_stock;
  bool percpu_charges_objcg_pointers;    // 8c57c07741bf (v5.17+)
  std::uint32_t page_stock_slots;        // 1; 7 from v6.16 (NR_MEMCG_STOCK)
  StackUnchargeOnError stack_uncharge_on_error;
  // v6.16 (c80509ef65e4, 3523dd7af413): the obj stock is its own per-CPU
  // struct with its own lock, drain work and FLUSHING bit; local_trylock paths
  // (51339d99c013, v6.15); the uncharge side skips the root memcg.
  bool split_stocks;
  // v6.7+ ("mm: kmem: make memcg keep a reference to the original objcg",
  // "add direct objcg pointer to task_struct"): memcg->orig_objcg and
  // current->objcg each hold an objcg reference.
  bool objcg_refs_from_memcg_and_task;
  bool modeled;                          // a reference model exists for it

  bool has_objcg() const { return slab == SlabCharging::objcg_bytes; }
  bool has_memcg_caches() const { return slab != SlabCharging::objcg_bytes; }
};

const std::vector<ProfileTraits>& all_profiles();
const ProfileTraits& traits(Profile profile);
std::optional<Profile> parse_profile(std::string_view name);
std::string_view profile_name(Profile profile);
// The modeled profiles, in version order ("v6.1, v6.6, ...").
std::vector<Profile> modeled_profiles();
std::string modeled_profile_names();

// PAGE_SIZE and PAGE_SHIFT of one configuration, as the spec states them.
// Deliberately not arith::PageGeometry: the spec computes what it checks on
// its own, so a slip in the arithmetic under test (arith/) cannot hide in the
// check as well, and spec/ depends on no other layer (docs/DESIGN.md).
struct PageSize {
  std::uint64_t size_bytes;
  unsigned shift;

  // A power of two from 4K (the smallest PAGE_SIZE Linux has) to 64K.
  static constexpr bool valid(std::uint64_t size_bytes) {
    return size_bytes >= 4096 && size_bytes <= 65536 && std::has_single_bit(size_bytes);
  }
  static constexpr PageSize of(std::uint64_t size_bytes) {
    return {size_bytes, static_cast<unsigned>(std::countr_zero(size_bytes))};
  }
  constexpr std::uint64_t mask() const { return size_bytes - 1; }
};

// One replay's configuration: the trace header.
struct Config {
  Profile profile = Profile::v6_6;
  std::uint32_t ncpus = 4;
  std::uint64_t page_size_bytes = 4096;

  PageSize page() const { return PageSize::of(page_size_bytes); }
  const ProfileTraits& profile_traits() const { return traits(profile); }
};

// Largest CPU count a trace may ask for (the impl's per-CPU arrays are fixed).
inline constexpr std::uint32_t kMaxCpus = 64;

// Empty when the configuration is usable, else why not.
std::string config_problem(const Config& config);

}  // namespace mv::spec
