// memcg-verify invariants [--json] and memcg-verify profiles [--json]: what
// the tool checks and for which kernel generations, listed from the
// executable spec (spec/invariants.h, spec/profile.h), the same source
// docs/INVARIANTS.md is generated from.
#include <iostream>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "spec/invariants.h"
#include "spec/profile.h"

namespace mv::cli {
namespace {

using Json = nlohmann::ordered_json;

std::string profile_list(const std::vector<spec::Profile>& profiles) {
  std::string out;
  for (auto p : profiles) out += fmt::format("{}{}", out.empty() ? "" : ",", spec::profile_name(p));
  return out;
}

int run_invariants(bool json) {
  const auto& registry = spec::invariant_registry();
  if (json) {
    Json list = Json::array();
    for (const auto& inv : registry) {
      Json profiles = Json::array();
      for (auto p : inv.profiles) profiles.push_back(spec::profile_name(p));
      list.push_back(Json{{"id", inv.id},
                          {"title", inv.title},
                          {"profiles", profiles},
                          {"kernel_sources", inv.kernel_sources}});
    }
    std::cout << list.dump() << "\n";
    return 0;
  }
  std::size_t width = 2;
  for (const auto& inv : registry) width = std::max(width, inv.id.size());
  for (const auto& inv : registry)
    std::cout << fmt::format("{:<{}}  {}  [{}]\n", inv.id, width, inv.title, profile_list(inv.profiles));
  std::cout << fmt::format("{} invariants (docs/INVARIANTS.md states each precisely)\n", registry.size());
  return 0;
}

int run_profiles(bool json) {
  const auto& profiles = spec::all_profiles();
  if (json) {
    Json list = Json::array();
    for (const auto& t : profiles)
      list.push_back(Json{{"name", t.name},
                          {"modeled", t.modeled},
                          {"charge_batch_pages", t.charge_batch_pages},
                          {"page_stock_slots", t.page_stock_slots}});
    std::cout << list.dump() << "\n";
    return 0;
  }
  for (const auto& t : profiles)
    std::cout << fmt::format("{:<8} {}\n", t.name,
                             t.modeled ? "modeled: replay, check, scenarios run it"
                                       : "stated only: no model runs it yet");
  return 0;
}

void add_catalogs(CLI::App& app, int& exit_code) {
  auto invariants_json = std::make_shared<bool>(false);
  auto* invariants = app.add_subcommand("invariants", "List the invariants (ids, titles, the profiles each is checked in)");
  invariants->add_flag("--json", *invariants_json, "one JSON array of {id, title, profiles, kernel_sources}");
  run_guarded(invariants, exit_code, [invariants_json] { return run_invariants(*invariants_json); });

  auto profiles_json = std::make_shared<bool>(false);
  auto* profiles = app.add_subcommand("profiles", "List the kernel profiles and which ones a model runs");
  profiles->add_flag("--json", *profiles_json, "one JSON array of {name, modeled, ...}");
  run_guarded(profiles, exit_code, [profiles_json] { return run_profiles(*profiles_json); });
}

const CommandRegistration registration(add_catalogs);

}  // namespace
}  // namespace mv::cli
