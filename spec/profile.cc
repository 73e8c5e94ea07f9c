#include "spec/profile.h"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

namespace mv::spec {

const std::vector<ProfileTraits>& all_profiles() {
  // Sources: docs/KERNEL.md sections 2 and 4 to 9, docs/MODEL-v6.6.md (v6.1,
  // v6.6). v6.1 and v6.6 were read side by side
  // (docs/MODEL-v6.6.md "v6.1"): in these functions they differ only in the
  // stack error path.
  static const std::vector<ProfileTraits> profiles = {
      {.profile = Profile::v5_2, .name = "v5.2", .kernel_tree = "",
       .charge_batch_pages = 32, .obj_refill = ObjRefillRule::drain_whole_stock,
       .kmem_pages = KmemPageCharging::memcg_css_ref, .reparented_objcg_holds_css = false,
       .hotplug_drains_obj_stock = false, .percpu_charges_objcg_pointers = false,
       .page_stock_slots = 1, .stack_uncharge_on_error = StackUnchargeOnError::every_page,
       .modeled = false},
      {.profile = Profile::v5_3, .name = "v5.3", .kernel_tree = "",
       .charge_batch_pages = 32, .obj_refill = ObjRefillRule::drain_whole_stock,
       .kmem_pages = KmemPageCharging::memcg_css_ref, .reparented_objcg_holds_css = false,
       .hotplug_drains_obj_stock = false, .percpu_charges_objcg_pointers = false,
       .page_stock_slots = 1, .stack_uncharge_on_error = StackUnchargeOnError::every_page,
       .modeled = false},
      {.profile = Profile::v5_10, .name = "v5.10", .kernel_tree = "",
       .charge_batch_pages = 32, .obj_refill = ObjRefillRule::drain_whole_stock,
       .kmem_pages = KmemPageCharging::memcg_css_ref, .reparented_objcg_holds_css = true,
       .hotplug_drains_obj_stock = false, .percpu_charges_objcg_pointers = false,
       .page_stock_slots = 1, .stack_uncharge_on_error = StackUnchargeOnError::every_page,
       .modeled = false},
      // Debian's linux-source-6.1 (6.1.192): no 9f01b4954490.
      {.profile = Profile::v6_1, .name = "v6.1", .kernel_tree = "6.1.192 (Debian linux-source-6.1)",
       .charge_batch_pages = 64, .obj_refill = ObjRefillRule::uncharge_whole_pages,
       .kmem_pages = KmemPageCharging::through_objcg, .reparented_objcg_holds_css = false,
       .hotplug_drains_obj_stock = false, .percpu_charges_objcg_pointers = true,
       .page_stock_slots = 1, .stack_uncharge_on_error = StackUnchargeOnError::every_page,
       .modeled = true},
      // 6.6.57 as released: memcg_hotplug_cpu_dead drains only the page stock.
      {.profile = Profile::v6_6, .name = "v6.6", .kernel_tree = "6.6.57",
       .charge_batch_pages = 64, .obj_refill = ObjRefillRule::uncharge_whole_pages,
       .kmem_pages = KmemPageCharging::through_objcg, .reparented_objcg_holds_css = false,
       .hotplug_drains_obj_stock = false, .percpu_charges_objcg_pointers = true,
       .page_stock_slots = 1, .stack_uncharge_on_error = StackUnchargeOnError::charged_pages,
       .modeled = true},
      // v6.6 with 9f01b4954490 applied, as 6.6.y took it in 6.6.90: the
      // profile where the unfixed hotplug callback is a mutant
      // (hotplug_drains_page_stock_only) until v6.16 is modeled.
      {.profile = Profile::v6_6_hotplug_fix, .name = "v6.6+9f01b4954490",
       .kernel_tree = "6.6.57 with 9f01b4954490 applied",
       .charge_batch_pages = 64, .obj_refill = ObjRefillRule::uncharge_whole_pages,
       .kmem_pages = KmemPageCharging::through_objcg, .reparented_objcg_holds_css = false,
       .hotplug_drains_obj_stock = true, .percpu_charges_objcg_pointers = true,
       .page_stock_slots = 1, .stack_uncharge_on_error = StackUnchargeOnError::charged_pages,
       .modeled = true},
      {.profile = Profile::v6_16, .name = "v6.16", .kernel_tree = "",
       .charge_batch_pages = 64, .obj_refill = ObjRefillRule::uncharge_whole_pages,
       .kmem_pages = KmemPageCharging::through_objcg, .reparented_objcg_holds_css = false,
       .hotplug_drains_obj_stock = true, .percpu_charges_objcg_pointers = true,
       .page_stock_slots = 7, .stack_uncharge_on_error = StackUnchargeOnError::charged_pages,
       .modeled = false},
  };
  return profiles;
}

const ProfileTraits& traits(Profile profile) {
  const auto& profiles = all_profiles();
  auto it = std::find_if(profiles.begin(), profiles.end(),
                         [&](const ProfileTraits& t) { return t.profile == profile; });
  if (it == profiles.end()) throw std::logic_error("unknown profile");
  return *it;
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
