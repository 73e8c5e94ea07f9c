// memcg-verify designs [--json] [--seed N] [--runs N] [--steps N]
//                      [--claim-runs N] [--profile P]... [--traces DIR]
//                      [--scenarios DIR]
//                      [--matrix FILE] [--doc FILE] [--no-write]
//                      [--render] [--check]
// The design matrix (properties/designs.h): every modeled profile, every
// invariant; the claims' shortest traces under scenarios/designs/, the matrix
// in scenarios/designs/matrix.json and docs/DESIGNS.md rendered from it.
// --render re-renders the doc from the committed matrix without a campaign;
// --check compares that rendering with the committed doc (exit 1 when stale).
#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/generated_file.h"
#include "properties/designs.h"
#include "trace/input_file.h"

namespace mv::cli {
namespace {

struct DesignsCliOptions {
  bool json = false;
  std::uint64_t seed = 1;
  int runs = 300;
  int steps = 120;
  int claim_runs = 1500;
  std::vector<std::string> profiles;
  std::string traces = "scenarios/designs";
  std::string scenarios = "scenarios";
  std::string matrix = "scenarios/designs/matrix.json";
  std::string doc = "docs/DESIGNS.md";
  bool no_write = false;
  bool render = false;
  bool check = false;
};

// --render / --check: the doc from the committed matrix, no campaign.
int render_committed(const DesignsCliOptions& o) {
  bool ok = false;
  const std::string text = read_file(o.matrix, ok);
  if (!ok) {
    const auto problem = trace::directory_problem(o.matrix, "a design matrix");
    std::cerr << fmt::format("memcg-verify designs: {}: {}\n", o.matrix,
                             problem.empty() ? std::string("cannot read") : problem);
    return 2;
  }
  const auto matrix = properties::designs_from_json(nlohmann::ordered_json::parse(text));
  const std::string doc = properties::render_designs_markdown(matrix);
  if (o.check)
    return check_generated(o.doc, doc, " with " + o.matrix,
                           fmt::format("`memcg-verify designs` (or `memcg-verify designs --render` "
                                       "from {})", o.matrix));
  return write_generated("designs", o.doc, doc);
}

int run_designs_command(const DesignsCliOptions& o) {
  if (o.render || o.check) return render_committed(o);
  properties::DesignsOptions options;
  options.seed = o.seed;
  options.runs = o.runs;
  options.max_steps = o.steps;
  options.claim_runs = o.claim_runs;
  options.trace_dir = o.no_write ? std::string() : o.traces;
  options.scenario_dir = o.scenarios;
  for (const auto& name : o.profiles) {
    auto p = spec::parse_profile(name);
    if (!p) {
      std::cerr << fmt::format("memcg-verify designs: unknown profile \"{}\"\n", name);
      return 2;
    }
    options.only.push_back(*p);
  }
  // Progress on stderr (the matrix takes minutes), with the seconds so far.
  const auto start = std::chrono::steady_clock::now();
  if (!o.json)
    options.progress = [start](const std::string& line) {
      const std::chrono::duration<double> t = std::chrono::steady_clock::now() - start;
      std::cerr << fmt::format("[{:7.1f} s] {}\n", t.count(), line);
    };
  const auto result = properties::run_designs(options);
  const auto json = properties::designs_json(result);
  if (o.json)
    std::cout << json.dump() << "\n";
  else
    std::cout << fmt::format("seed: {}\n", result.seed) << properties::designs_table(result);
  // The matrix and the doc describe every profile: a run restricted with
  // --profile writes only its traces.
  if (!o.no_write && o.profiles.empty()) {
    if (!write_file(o.matrix, json.dump(2) + "\n") ||
        !write_file(o.doc, properties::render_designs_markdown(result))) {
      std::cerr << fmt::format("memcg-verify designs: cannot write {} or {}\n", o.matrix, o.doc);
      return 2;
    }
    if (!o.json) std::cout << fmt::format("wrote {} and {}\n", o.matrix, o.doc);
  }
  return result.exit_code();
}

void add_designs(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<DesignsCliOptions>();
  auto* cmd = app.add_subcommand(
      "designs", "The design matrix: every modeled profile against every invariant (docs/DESIGNS.md)");
  cmd->add_flag("--json", o->json, "print the matrix as JSON");
  cmd->add_option("--seed", o->seed, "the campaigns' seed")->capture_default_str();
  cmd->add_option("--runs", o->runs, "runs of each profile's campaign")->capture_default_str();
  cmd->add_option("--steps", o->steps, "largest run length (RapidCheck's max size)")
      ->capture_default_str();
  cmd->add_option("--claim-runs", o->claim_runs, "budget of the search for each claim's trace")
      ->capture_default_str();
  cmd->add_option("--scenarios", o->scenarios,
                  "bundled scenarios: one that shows a claim the search did not find stands in "
                  "(empty: none)")
      ->capture_default_str();
  cmd->add_option("--profile", o->profiles, "only these profiles (repeatable)");
  cmd->add_option("--traces", o->traces, "where the claims' traces go")->capture_default_str();
  cmd->add_option("--matrix", o->matrix, "the matrix JSON to write (or, with --render/--check, read)")
      ->capture_default_str();
  cmd->add_option("--doc", o->doc, "the document to write or check")->capture_default_str();
  cmd->add_flag("--no-write", o->no_write, "write no trace, matrix or doc");
  cmd->add_flag("--render", o->render, "only render the doc from the committed matrix");
  cmd->add_flag("--check", o->check, "compare the doc rendered from the matrix with the file");
  run_guarded(cmd, exit_code, [o] { return run_designs_command(*o); });
}

const CommandRegistration registration(add_designs);

}  // namespace
}  // namespace mv::cli
