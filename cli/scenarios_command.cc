// memcg-verify scenarios [DIR] [--model reference|impl|both|kernel|reference,kernel]
//                        [--kernel-src DIR] [--json | --tap]
// Replays every DIR/NAME.jsonl, each in a child process (a model that crashes
// or loops fails that scenario), and checks it against DIR/NAME.expect.json
// (trace/scenario_check.h). Exit 0 when every scenario meets its expectation,
// 1 when one does not, 2 when DIR has no scenario or a scenario has no
// expectation file (or a directory in its place; --json: a report with
// "error" and no rows). --json is one object with a row per scenario; --tap one
// TAP test point per scenario (a scenario the kernel model cannot run is a
// SKIP). -q prints only the rows that did not pass and the summary; -v adds
// each scenario's files and the checks it met.
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/kernel_options.h"
#include "cli/tap.h"
#include "trace/input_file.h"
#include "trace/replay.h"
#include "trace/scenario_check.h"

namespace mv::cli {
namespace {

struct ScenariosOptions {
  std::string dir = "scenarios";
  std::string model = "auto";
  KernelOptions kernel;
  bool json = false;
  bool tap = false;
};

std::string status_text(const trace::ScenarioOutcome& outcome) {
  return !outcome.skipped.empty() ? "skip" : outcome.passed() ? "pass" : "FAIL";
}

nlohmann::ordered_json outcome_json(const trace::ScenarioOutcome& outcome) {
  return {{"name", outcome.name},
          {"status", status_text(outcome)},
          {"exit", outcome.exit},
          {"expected_exit", outcome.expected_exit},
          {"checks", outcome.nr_checks},
          {"verdict", outcome.verdict},
          {"mismatches", outcome.mismatches},
          {"skipped", outcome.skipped}};
}

// -v: where the scenario is and what it pinned (the checks it met).
void print_details(const trace::ScenarioFiles& files, std::size_t width) {
  std::cout << fmt::format("{:<{}}    trace {}, expectation {}\n", "", width, files.trace.string(),
                           files.expect.string());
  for (const auto& [pointer, value] : trace::read_expectation_file(files.expect).checks)
    std::cout << fmt::format("{:<{}}    {} = {}\n", "", width, pointer, value.dump());
}

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
    (options.json || options.tap ? std::cerr : std::cout)
        << fmt::format("kernel model: {}\n", kernel->description());
  }
  // A directory that is not one of scenarios is bad input (exit 2), not a
  // failing subject: said on stderr, and with --json a report that says so
  // too (no rows), with --tap a bail-out.
  auto bad_input = [&](const std::string& why) {
    std::cerr << fmt::format("memcg-verify scenarios: {}\n", why);
    if (options.json)
      std::cout << nlohmann::ordered_json{{"model", trace::model_choice_name(choice)},
                                          {"passed", 0},
                                          {"failed", 0},
                                          {"skipped", 0},
                                          {"scenarios", nlohmann::ordered_json::array()},
                                          {"error", why},
                                          {"exit", 2}}
                       .dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace)
                << "\n";
    if (options.tap) std::cout << fmt::format("Bail out! {}\n", why);
    return 2;
  };
  if (!std::filesystem::is_directory(options.dir)) return bad_input(fmt::format("{}: not a directory", options.dir));
  auto scenarios = trace::find_scenarios(options.dir);
  if (scenarios.empty()) return bad_input(fmt::format("{}: no *.jsonl scenario", options.dir));
  // A scenario without its expectation is a broken directory (usage), not a
  // failing subject; so is a directory where a scenario's file should be.
  for (const auto& files : scenarios) {
    if (auto problem = trace::directory_problem(files.trace, "a trace file"); !problem.empty())
      return bad_input(fmt::format("{}: {}", files.trace.string(), problem));
    if (!std::filesystem::exists(files.expect))
      return bad_input(fmt::format("{}: missing; every scenario needs its expectation "
                                   "(docs/TRACE_FORMAT.md \"Scenarios\")",
                                   files.expect.string()));
    if (auto problem = trace::directory_problem(files.expect, "an expectation file"); !problem.empty())
      return bad_input(fmt::format("{}: {}", files.expect.string(), problem));
  }
  const bool table = !options.json && !options.tap;
  std::size_t width = 8;
  for (const auto& s : scenarios) width = std::max(width, s.name.size());
  if (table)
    std::cout << fmt::format("{:<{}}  {:<6}  {:>4}  {:>6}  {}\n", "scenario", width, "status",
                             "exit", "checks", "replay verdict");
  if (options.tap) std::cout << tap_header(scenarios.size());
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  std::size_t failed = 0, skipped = 0, number = 0;
  for (const auto& files : scenarios) {
    auto outcome = trace::run_scenario(files, choice, kernel);
    ++number;
    const bool skip = !outcome.skipped.empty();
    if (skip) ++skipped;
    else if (!outcome.passed()) ++failed;
    if (options.json) rows.push_back(outcome_json(outcome));
    if (options.tap)
      std::cout << tap_point(number, outcome.passed(), outcome.name, outcome.mismatches,
                             outcome.skipped);
    if (!table || (quiet() && outcome.passed() && !skip)) continue;
    if (skip)
      std::cout << fmt::format("{:<{}}  {:<6}  {:>4}  {:>6}  not run on the kernel model: {}\n",
                               outcome.name, width, "skip", "-", "-", outcome.skipped);
    else
      std::cout << fmt::format("{:<{}}  {:<6}  {:>4}  {:>6}  {}\n", outcome.name, width,
                               status_text(outcome), outcome.exit, outcome.nr_checks,
                               outcome.verdict);
    for (const auto& m : outcome.mismatches)
      std::cout << fmt::format("{:<{}}    {}: {}\n", "", width, files.trace.string(), m);
    if (verbose() && !skip && outcome.passed()) print_details(files, width);
  }
  const std::size_t passed = scenarios.size() - failed - skipped;
  if (options.json)
    std::cout << nlohmann::ordered_json{{"model", trace::model_choice_name(choice)},
                                        {"passed", passed},
                                        {"failed", failed},
                                        {"skipped", skipped},
                                        {"scenarios", rows}}
                     .dump()
              << "\n";
  if (options.tap)
    std::cout << fmt::format("# scenarios (--model {}): {} passed, {} failed, {} skipped\n",
                             trace::model_choice_name(choice), passed, failed, skipped);
  if (table)
    std::cout << fmt::format("scenarios (--model {}): {} passed, {} failed{}\n",
                             trace::model_choice_name(choice), passed, failed,
                             skipped ? fmt::format(", {} skipped", skipped) : "");
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
  auto* json = cmd->add_flag("--json", options->json,
                             "print one JSON object: {model, passed, failed, skipped, scenarios: "
                             "[{name, status, exit, expected_exit, checks, verdict, mismatches, "
                             "skipped}]}");
  cmd->add_flag("--tap", options->tap,
                "print TAP version 13: one test point per scenario (not run on the kernel "
                "model: SKIP)")
      ->excludes(json);
  options->kernel.add_to(cmd);
  run_guarded(cmd, exit_code, [options] { return run_scenarios(*options); });
}

const CommandRegistration registration(add_scenarios);

}  // namespace
}  // namespace mv::cli
