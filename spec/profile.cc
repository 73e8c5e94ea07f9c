#include "spec/profile.h"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

namespace mv::spec {

const std::vector<ProfileTraits>& all_profiles() {
  // Each value is read off the kernel source named in `kernel`; docs/DESIGNS.md
  // describes the designs and what the design matrix finds for each.
  static const std::vector<ProfileTraits> profiles = {
      {.profile = Profile::v5_2,
       .name = "v5.2",
       .kernel_tree = "v5.2.1: mm/memcontrol.c, mm/slab_common.c, mm/slub.c, mm/slab.h, kernel/fork.c",
       .charge_batch_pages = 32,
       .slab = SlabCharging::memcg_cache_pages,
       .stock_refs = StockCssRefs::per_page,
       .try_charge_skips_root = true,
       .kmem_uncharge_refills_stock = false,
       .percpu_accounted = false,
       .obj_refill = ObjRefillRule::drain_whole_stock,
       .mod_objcg_state_uses_stock = false,
       .kmem_pages = KmemPageCharging::memcg_css_ref,
       .reparented_objcg_holds_css = false,
       .hotplug_drains_obj_stock = false,
       .percpu_charges_objcg_pointers = false,
       .page_stock_slots = 1,
       .stack_uncharge_on_error = StackUnchargeOnError::every_page,
       .split_stocks = false,
       .objcg_refs_from_memcg_and_task = false,
       .modeled = true},
      {.profile = Profile::v5_3,
       .name = "v5.3",
       .kernel_tree = "v5.4.286 (the v5.3 design of seed 000, with the 4.19.y/5.4.y stock reference "
                 "fix): mm/memcontrol.c, mm/slab_common.c, mm/slub.c, mm/slab.h",
       .charge_batch_pages = 32,
       .slab = SlabCharging::reparented_cache_pages,
       .stock_refs = StockCssRefs::per_page_and_cached,
       .try_charge_skips_root = true,
       .kmem_uncharge_refills_stock = false,
       .percpu_accounted = false,
       .obj_refill = ObjRefillRule::drain_whole_stock,
       .mod_objcg_state_uses_stock = false,
       .kmem_pages = KmemPageCharging::memcg_css_ref,
       .reparented_objcg_holds_css = false,
       .hotplug_drains_obj_stock = false,
       .percpu_charges_objcg_pointers = false,
       .page_stock_slots = 1,
       .stack_uncharge_on_error = StackUnchargeOnError::every_page,
       .split_stocks = false,
       .objcg_refs_from_memcg_and_task = false,
       .modeled = true},
      {.profile = Profile::davydov_2014,
       .name = "davydov-2014",
       .kernel_tree = "Vladimir Davydov, \"memcg: reuse per cgroup kmem caches\" (8 patches on "
                 "v3.18-rc2-mmotm, Nov 2014, not merged); page charging as in v5.2",
       .charge_batch_pages = 32,
       .slab = SlabCharging::recharged_cache_pages,
       .stock_refs = StockCssRefs::per_page,
       .try_charge_skips_root = true,
       .kmem_uncharge_refills_stock = false,
       .percpu_accounted = false,
       .obj_refill = ObjRefillRule::drain_whole_stock,
       .mod_objcg_state_uses_stock = false,
       .kmem_pages = KmemPageCharging::memcg_css_ref,
       .reparented_objcg_holds_css = false,
       .hotplug_drains_obj_stock = false,
       .percpu_charges_objcg_pointers = false,
       .page_stock_slots = 1,
       .stack_uncharge_on_error = StackUnchargeOnError::every_page,
       .split_stocks = false,
       .objcg_refs_from_memcg_and_task = false,
       .modeled = true},
      {.profile = Profile::v5_10,
       .name = "v5.10",
       .kernel_tree = "v5.10.13 (5.10.y: eefbfa7fd678, 2f7659a31473 and 3de7d4f25a74 backported): "
                 "mm/memcontrol.c, mm/slab.h, mm/percpu.c, kernel/fork.c",
       .charge_batch_pages = 32,
       .slab = SlabCharging::objcg_bytes,
       .stock_refs = StockCssRefs::cached,
       .try_charge_skips_root = true,
       .kmem_uncharge_refills_stock = true,
       .percpu_accounted = true,
       .obj_refill = ObjRefillRule::drain_whole_stock,
       .mod_objcg_state_uses_stock = false,
       .kmem_pages = KmemPageCharging::memcg_css_ref,
       .reparented_objcg_holds_css = true,
       .hotplug_drains_obj_stock = false,
       .percpu_charges_objcg_pointers = false,
       .page_stock_slots = 1,
       .stack_uncharge_on_error = StackUnchargeOnError::every_page,
       .split_stocks = false,
       .objcg_refs_from_memcg_and_task = false,
       .modeled = true},
      // Debian's linux-source-6.1 (6.1.192): no 9f01b4954490; in these functions
      // it differs from v6.6 only in the stack error path (docs/MODEL-v6.6.md).
      {.profile = Profile::v6_1,
       .name = "v6.1",
       .kernel_tree = "6.1.192 (Debian linux-source-6.1)",
       .charge_batch_pages = 64,
       .slab = SlabCharging::objcg_bytes,
       .stock_refs = StockCssRefs::cached,
       .try_charge_skips_root = false,
       .kmem_uncharge_refills_stock = true,
       .percpu_accounted = true,
       .obj_refill = ObjRefillRule::uncharge_whole_pages,
       .mod_objcg_state_uses_stock = true,
       .kmem_pages = KmemPageCharging::through_objcg,
       .reparented_objcg_holds_css = false,
       .hotplug_drains_obj_stock = false,
       .percpu_charges_objcg_pointers = true,
       .page_stock_slots = 1,
       .stack_uncharge_on_error = StackUnchargeOnError::every_page,
       .split_stocks = false,
       .objcg_refs_from_memcg_and_task = false,
       .modeled = true},
      // 6.6.57 as released: memcg_hotplug_cpu_dead drains only the page stock.
      {.profile = Profile::v6_6,
       .name = "v6.6",
       .kernel_tree = "v6.6.57: mm/memcontrol.c, mm/page_counter.c, mm/slab.h, mm/percpu.c, "
                 "kernel/fork.c (docs/MODEL-v6.6.md)",
       .charge_batch_pages = 64,
       .slab = SlabCharging::objcg_bytes,
       .stock_refs = StockCssRefs::cached,
       .try_charge_skips_root = false,
       .kmem_uncharge_refills_stock = true,
       .percpu_accounted = true,
       .obj_refill = ObjRefillRule::uncharge_whole_pages,
       .mod_objcg_state_uses_stock = true,
       .kmem_pages = KmemPageCharging::through_objcg,
       .reparented_objcg_holds_css = false,
       .hotplug_drains_obj_stock = false,
       .percpu_charges_objcg_pointers = true,
       .page_stock_slots = 1,
       .stack_uncharge_on_error = StackUnchargeOnError::charged_pages,
       .split_stocks = false,
       .objcg_refs_from_memcg_and_task = false,
       .modeled = true},
      // v6.6 with 9f01b4954490 applied, as 6.6.y took it in 6.6.90: the profile
      // where the unfixed hotplug callback is a mutant (hotplug_drains_page_stock_only).
      {.profile = Profile::v6_6_hotplug_fix,
       .name = "v6.6+9f01b4954490",
       .kernel_tree = "6.6.57 with 9f01b4954490 applied",
       .charge_batch_pages = 64,
       .slab = SlabCharging::objcg_bytes,
       .stock_refs = StockCssRefs::cached,
       .try_charge_skips_root = false,
       .kmem_uncharge_refills_stock = true,
       .percpu_accounted = true,
       .obj_refill = ObjRefillRule::uncharge_whole_pages,
       .mod_objcg_state_uses_stock = true,
       .kmem_pages = KmemPageCharging::through_objcg,
       .reparented_objcg_holds_css = false,
       .hotplug_drains_obj_stock = true,
       .percpu_charges_objcg_pointers = true,
       .page_stock_slots = 1,
       .stack_uncharge_on_error = StackUnchargeOnError::charged_pages,
       .split_stocks = false,
       .objcg_refs_from_memcg_and_task = false,
       .modeled = true},
      {.profile = Profile::v6_16,
       .name = "v6.16",
       .kernel_tree = "v6.18.19 for the functions v6.16 introduced (multi-memcg stock f735eebe55f8, "
                 "separate obj stock c80509ef65e4/3523dd7af413): mm/memcontrol.c, mm/slub.c, "
                 "mm/percpu.c, kernel/fork.c",
       .charge_batch_pages = 64,
       .slab = SlabCharging::objcg_bytes,
       .stock_refs = StockCssRefs::cached,
       .try_charge_skips_root = false,
       .kmem_uncharge_refills_stock = true,
       .percpu_accounted = true,
       .obj_refill = ObjRefillRule::uncharge_whole_pages,
       .mod_objcg_state_uses_stock = true,
       .kmem_pages = KmemPageCharging::through_objcg,
       .reparented_objcg_holds_css = false,
       .hotplug_drains_obj_stock = true,
       .percpu_charges_objcg_pointers = true,
       .page_stock_slots = 7,
       .stack_uncharge_on_error = StackUnchargeOnError::charged_pages,
       .split_stocks = true,
       .objcg_refs_from_memcg_and_task = true,
       .modeled = true},
  };
  return profiles;
}

const ProfileTraits& traits(Profile profile) {
  // By value, built once: the checkers and the models ask on every step.
  static const std::vector<const ProfileTraits*> by_value = [] {
    std::vector<const ProfileTraits*> table;
    for (const auto& t : all_profiles()) {
      const auto i = static_cast<std::size_t>(t.profile);
      if (table.size() <= i) table.resize(i + 1, nullptr);
      table[i] = &t;
    }
    return table;
  }();
  const auto i = static_cast<std::size_t>(profile);
  if (i >= by_value.size() || !by_value[i]) throw std::logic_error("unknown profile");
  return *by_value[i];
}

std::optional<Profile> parse_profile(std::string_view name) {
  for (const auto& t : all_profiles())
    if (t.name == name) return t.profile;
  return std::nullopt;
}

std::string_view profile_name(Profile profile) { return traits(profile).name; }

std::vector<Profile> modeled_profiles() {
  std::vector<Profile> out;
  for (const auto& t : all_profiles())
    if (t.modeled) out.push_back(t.profile);
  return out;
}

std::string modeled_profile_names() {
  std::string names;
  for (Profile p : modeled_profiles())
    names += fmt::format("{}{}", names.empty() ? "" : ", ", profile_name(p));
  return names;
}

std::string config_problem(const Config& config) {
  if (!traits(config.profile).modeled)
    return fmt::format("profile {} has no model yet (modeled: {})", profile_name(config.profile),
                       modeled_profile_names());
  if (config.ncpus == 0 || config.ncpus > kMaxCpus)
    return fmt::format("cpus must be between 1 and {}, got {}", kMaxCpus, config.ncpus);
  if (!PageSize::valid(config.page_size_bytes))
    return fmt::format("page_size must be a power of two between 4096 and 65536, got {}",
                       config.page_size_bytes);
  return {};
}

}  // namespace mv::spec
