// Kernel profiles: one kernel generation's semantics each. The invariants are
// stated once (spec/invariants.h); a profile's traits say which parts of the
// model differ, so a new profile is a new traits value, not a copy of a model.
#pragma once

#include <bit>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mv::spec {

// Ordered by kernel version (spec/holders.cc compares them).
enum class Profile : std::uint8_t { v5_2, v5_3, v5_10, v6_1, v6_6, v6_6_hotplug_fix, v6_16 };

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
  ObjRefillRule obj_refill;
  KmemPageCharging kmem_pages;
  bool reparented_objcg_holds_css;       // v5.9-v5.13: one css ref on objcg->memcg
  // memcg_hotplug_cpu_dead drains the dead CPU's obj stock too: 9f01b4954490
  // (v6.15-rc1; in stable from 6.6.90). Without it the stock's bytes and its
  // objcg reference stay on the dead CPU (spec/known_bug.h).
  bool hotplug_drains_obj_stock;
  bool percpu_charges_objcg_pointers;    // 8c57c07741bf (v5.17+)
  std::uint32_t page_stock_slots;        // 1; 7 from v6.16 (NR_MEMCG_STOCK)
  StackUnchargeOnError stack_uncharge_on_error;
  bool modeled;                          // a reference model exists for it
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
