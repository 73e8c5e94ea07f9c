#include "spec/profile.h"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

namespace mv::spec {

const std::vector<ProfileTraits>& all_profiles() {
  // Sources: docs/KERNEL.md sections 2 and 4 to 9.
  static const std::vector<ProfileTraits> profiles = {
      {Profile::v5_2, "v5.2", 32, ObjRefillRule::drain_whole_stock,
       KmemPageCharging::memcg_css_ref, false, false, false, 1, false},
      {Profile::v5_3, "v5.3", 32, ObjRefillRule::drain_whole_stock,
       KmemPageCharging::memcg_css_ref, false, false, false, 1, false},
      {Profile::v5_10, "v5.10", 32, ObjRefillRule::drain_whole_stock,
       KmemPageCharging::memcg_css_ref, true, false, false, 1, false},
      // v6.6 with the stable backport of 9f01b4954490 (obj stock drained on
      // CPU hotplug): the bug catalog's entry is then a mutant, not the baseline.
      {Profile::v6_6, "v6.6", 64, ObjRefillRule::uncharge_whole_pages,
       KmemPageCharging::through_objcg, false, true, true, 1, true},
      {Profile::v6_16, "v6.16", 64, ObjRefillRule::uncharge_whole_pages,
       KmemPageCharging::through_objcg, false, true, true, 7, false},
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

std::string config_problem(const Config& config) {
  if (!traits(config.profile).modeled)
    return fmt::format("profile {} has no model yet (modeled: v6.6)", profile_name(config.profile));
  if (config.ncpus == 0 || config.ncpus > kMaxCpus)
    return fmt::format("cpus must be between 1 and {}, got {}", kMaxCpus, config.ncpus);
  if (!PageSize::valid(config.page_size_bytes))
    return fmt::format("page_size must be a power of two between 4096 and 65536, got {}",
                       config.page_size_bytes);
  return {};
}

}  // namespace mv::spec
