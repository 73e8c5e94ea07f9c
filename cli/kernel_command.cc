// memcg-verify kernel [--kernel-src DIR] [--kernel-mutant NAME] [--list] [--json]
// Builds (or finds) the kernel model of a tree and says what it is: the
// tree's version and the profile the reference runs against it, the compiled
// model's file; with --list, every definition the extractor takes from the
// tree, by file (docs/KERNEL-CHANGE.md). Exit 0, or 2 when the tree is not
// usable (the reason on stderr: no kernel model in this build, not a tree, a
// missing definition, a compile error).
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/kernel_options.h"
#include "kernel/extract/manifest.h"

namespace mv::cli {
namespace {

using Json = nlohmann::ordered_json;

struct KernelCommandOptions {
  KernelOptions kernel;
  bool list = false;
  bool json = false;
};

int run_kernel(const KernelCommandOptions& o) {
  auto subject = o.kernel.open();
  const auto& files = kernel::extract::manifest();
  if (o.json) {
    Json manifest = Json::array();
    for (const auto& f : files)
      manifest.push_back(Json{{"file", f.path}, {"all", f.all}, {"names", f.names}, {"why", f.why}});
    std::cout << Json{{"tree", subject->tree_path().string()},
                      {"version", subject->tree_version()},
                      {"tree_profile", subject->tree_profile()},
                      {"profile", spec::profile_name(subject->profile())},
                      {"profile_note", subject->profile_note()},
                      {"module", subject->module_path().string()},
                      {"manifest", manifest},
                      {"wrapped", kernel::extract::wrapped_functions()}}
                     .dump()
              << "\n";
    return 0;
  }
  std::cout << fmt::format("kernel model: {}\nmodule: {}\n", subject->description(),
                           subject->module_path().string());
  if (!o.list) return 0;
  for (const auto& f : files) {
    std::cout << fmt::format("\n{} ({})\n", f.path, f.why);
    if (f.all) std::cout << "  every definition\n";
    for (const auto& name : f.names) std::cout << "  " << name << "\n";
  }
  std::cout << "\nobserved at their boundaries (renamed, called from a generated wrapper):\n";
  for (const auto& name : kernel::extract::wrapped_functions()) std::cout << "  " << name << "\n";
  return 0;
}

void add_kernel(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<KernelCommandOptions>();
  auto* cmd = app.add_subcommand(
      "kernel", "Build (or find) the kernel model of a tree and say what it is: version, profile, "
                "what the extractor takes from it (--list)");
  o->kernel.add_to(cmd);
  cmd->add_flag("--list", o->list, "every definition taken from the tree, by file");
  cmd->add_flag("--json", o->json, "print it as JSON");
  run_guarded(cmd, exit_code, [o] { return run_kernel(*o); });
}

const CommandRegistration registration(add_kernel);

}  // namespace
}  // namespace mv::cli
