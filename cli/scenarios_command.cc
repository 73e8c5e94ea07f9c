// memcg-verify scenarios [DIR] [--model reference|impl|both|kernel|reference,kernel]
//                        [--kernel-src DIR]
// Replays every DIR/NAME.jsonl and checks it against DIR/NAME.expect.json
// (trace/scenario_check.h). Exit 0 when every scenario meets its expectation,
// 1 when one does not, 2 when DIR has no scenario.
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/kernel_options.h"
#include "trace/replay.h"
#include "trace/scenario_check.h"

namespace mv::cli {
namespace {

struct ScenariosOptions {
  std::string dir = "scenarios";
  std::string model = "auto";
  KernelOptions kernel;
};

int run_scenarios(const ScenariosOptions& options) {
  // auto: lock-step with the impl when this build has it, so the verdict
  // covers conformance too.
  auto choice = options.model == "auto"
                    ? (trace::impl_available() ? trace::ModelChoice::both
                                               : trace::ModelChoice::reference)
                    : trace::parse_model_choice(options.model).value_or(trace::ModelChoice::reference);
  if (trace::uses_impl(choice) && !trace::impl_available()) {
    std::cerr << "memcg-verify scenarios: this build has no impl model; use --model reference\n";
    return 2;
  }
  if (options.kernel.given() && !trace::uses_kernel(choice)) {
    std::cerr << "memcg-verify scenarios: --kernel-src needs --model kernel or reference,kernel\n";
    return 2;
  }
  std::shared_ptr<const kernel::KernelSubject> kernel;
  if (trace::uses_kernel(choice)) {
    kernel = options.kernel.open();
    std::cout << fmt::format("kernel model: {}\n", kernel->description());
  }
  if (!std::filesystem::is_directory(options.dir)) {
    std::cerr << fmt::format("memcg-verify scenarios: {}: not a directory\n", options.dir);
    return 2;
  }
  auto scenarios = trace::find_scenarios(options.dir);
  if (scenarios.empty()) {
    std::cerr << fmt::format("memcg-verify scenarios: {}: no *.jsonl scenario\n", options.dir);
    return 2;
  }
  std::size_t width = 8;
  for (const auto& s : scenarios) width = std::max(width, s.name.size());
  std::cout << fmt::format("{:<{}}  {:<6}  {:>4}  {:>6}  {}\n", "scenario", width, "status",
                           "exit", "checks", "replay verdict");
  std::size_t failed = 0, skipped = 0;
  for (const auto& files : scenarios) {
    auto outcome = trace::run_scenario(files, choice, kernel);
    if (!outcome.skipped.empty()) {
      ++skipped;
      std::cout << fmt::format("{:<{}}  {:<6}  {:>4}  {:>6}  not run on the kernel model: {}\n",
                               outcome.name, width, "skip", "-", "-", outcome.skipped);
      continue;
    }
    if (!outcome.passed()) ++failed;
    std::cout << fmt::format("{:<{}}  {:<6}  {:>4}  {:>6}  {}\n", outcome.name, width,
                             outcome.passed() ? "pass" : "FAIL", outcome.exit, outcome.nr_checks,
                             outcome.verdict);
    for (const auto& m : outcome.mismatches)
      std::cout << fmt::format("{:<{}}    {}: {}\n", "", width, files.trace.string(), m);
  }
  std::cout << fmt::format("scenarios (--model {}): {} passed, {} failed{}\n",
                           trace::model_choice_name(choice), scenarios.size() - failed - skipped,
                           failed, skipped ? fmt::format(", {} skipped", skipped) : "");
  return failed == 0 ? 0 : 1;
}

void add_scenarios(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<ScenariosOptions>();
  auto* cmd = app.add_subcommand(
      "scenarios", "Replay every DIR/NAME.jsonl and check it against DIR/NAME.expect.json");
  cmd->add_option("DIR", options->dir, "scenario directory (default: scenarios)");
  cmd->add_option("--model", options->model,
                  "auto (default: both when the impl is built, else reference), reference, "
                  "impl, both, kernel (the kernel's own code) or reference,kernel")
      ->check(CLI::IsMember({"auto", "reference", "impl", "both", "kernel", "reference,kernel"}));
  options->kernel.add_to(cmd);
  run_guarded(cmd, exit_code, [options] { return run_scenarios(*options); });
}

const CommandRegistration registration(add_scenarios);

}  // namespace
}  // namespace mv::cli
