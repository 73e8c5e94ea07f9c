// memcg-verify simulate [--profile P[,P...]] [--workload seed000|seed004|kmem_dead|seed003]
//   [--days N] [--iterations N] [--seed N] [--cpus N] [--baseline P]
//   [--json] [--csv FILE] [--svg FILE]
// A long-horizon workload on the reference model of each profile
// (docs/SIMULATE.md): per simulated day (seed000) or per 100 iterations
// (seed004) the dying cgroups and the memory they hold, beside the seed's
// claim for the profile's design. Exit status (docs/DESIGN.md): 0 every claim
// that applies holds, 1 a claim fails or the model refused or failed, 2 usage.
#include <algorithm>
#include <filesystem>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/commands.h"
#include "properties/failure_trace.h"
#include "sim/claims.h"
#include "sim/machine.h"
#include "sim/report.h"
#include "sim/workload.h"

namespace mv::cli {
namespace {

struct SimulateOptions {
  std::vector<std::string> profiles;
  std::string workload = "seed000";
  std::uint32_t days = 7;
  std::uint32_t iterations = 500;
  std::uint64_t seed = 1;
  std::uint32_t cpus = 8;
  std::string baseline;
  bool json = false;
  std::string csv_path;
  std::string svg_path;
  std::string out_dir = kDefaultOutDir;
  std::string command;  // as the user typed it: printed under the plot
};

std::vector<spec::Profile> chosen_profiles(const SimulateOptions& o) {
  std::vector<spec::Profile> profiles;
  if (o.profiles.empty()) {
    for (const auto& t : spec::all_profiles())
      if (t.modeled) profiles.push_back(t.profile);
    return profiles;
  }
  for (const auto& name : o.profiles) {
    auto p = spec::parse_profile(name);
    if (!p) throw std::invalid_argument(fmt::format("unknown profile \"{}\"", name));
    if (!spec::traits(*p).modeled)
      throw std::invalid_argument(spec::config_problem(spec::Config{*p}));
    profiles.push_back(*p);
  }
  return profiles;
}

void write_file(const std::string& path, const std::string& text) {
  if (path == "-") {
    std::cout << text;
    return;
  }
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error(fmt::format("{}: cannot write", path));
}

// gnuplot (Debian: gnuplot-nox, which scripts/install-deps.sh installs) draws
// the SVG from the script on its standard input.
void draw_svg(const std::string& script) {
  FILE* gp = popen("gnuplot", "w");
  if (!gp) throw std::runtime_error("cannot run gnuplot");
  std::fwrite(script.data(), 1, script.size(), gp);
  int status = pclose(gp);
  if (status != 0)
    throw std::runtime_error(
        "gnuplot failed (is it installed? Debian package gnuplot-nox, scripts/install-deps.sh)");
}

// The run is deterministic: repeated with its operations recorded, it fails
// at the same operation, and the trace up to it goes to
// OUT/simulate-failure-PROFILE-SEED.jsonl with the replay note of check.
void write_failure_trace(const SimulateOptions& o, sim::SimOptions so) {
  so.record_trace = true;
  std::string trace;
  try {
    sim::simulate(so);
  } catch (const sim::SimError& e) {
    trace = e.trace_jsonl;
  }
  if (trace.empty()) {
    std::cerr << fmt::format("the repeated run did not fail: rerun with {}\n", o.command);
    return;
  }
  std::filesystem::path dir(o.out_dir);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  std::string name(spec::profile_name(so.profile));
  for (char& c : name)
    if (c == '+') c = '_';
  const auto path = (dir / fmt::format("simulate-failure-{}-{}.jsonl", name, so.seed)).string();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << properties::with_header_note(
      trace, properties::replay_note(o.command, "reference", spec::Mutant::none));
  if (!out.flush()) {
    std::cerr << fmt::format("memcg-verify simulate: cannot write {}\n", path);
    return;
  }
  std::cerr << fmt::format("the trace of the run up to the failure: {}\nreplay: memcg-verify replay {} --model reference\n", path, path);
}

int run_simulate(const SimulateOptions& o) {
  auto workload = sim::parse_workload(o.workload);
  if (!workload) {
    std::cerr << fmt::format("memcg-verify simulate: unknown workload \"{}\" (known: {})\n",
                             o.workload, sim::kWorkloadNames);
    return 2;
  }
  const auto profiles = chosen_profiles(o);
  std::size_t baseline = profiles.size() - 1;
  if (!o.baseline.empty()) {
    auto p = spec::parse_profile(o.baseline);
    auto it = p ? std::find(profiles.begin(), profiles.end(), *p) : profiles.end();
    if (it == profiles.end())
      throw std::invalid_argument(fmt::format("--baseline {} is not one of the profiles run", o.baseline));
    baseline = static_cast<std::size_t>(it - profiles.begin());
  }
  const bool stdout_is_data = o.json || o.csv_path == "-";
  (stdout_is_data ? std::cerr : std::cout) << fmt::format("seed: {}\n", o.seed) << std::flush;

  std::vector<sim::RunReport> runs;
  for (auto profile : profiles) {
    sim::SimOptions so;
    so.profile = profile;
    so.workload = *workload;
    so.days = o.days;
    so.iterations = o.iterations;
    so.seed = o.seed;
    so.cpus = o.cpus;
    try {
      auto result = sim::simulate(so);
      auto claim = sim::check_claim(result);
      runs.push_back(sim::RunReport{std::move(result), std::move(claim)});
    } catch (const sim::SimError& e) {
      std::cerr << "memcg-verify simulate: " << e.what() << "\n";
      write_failure_trace(o, so);
      return 1;
    }
  }
  const std::string csv = sim::runs_csv(runs, baseline);
  if (!o.csv_path.empty()) write_file(o.csv_path, csv);
  if (!o.svg_path.empty()) draw_svg(sim::gnuplot_script(runs, csv, o.svg_path, o.command));
  if (o.json)
    std::cout << sim::runs_json(runs, baseline).dump() << "\n";
  else if (o.csv_path != "-")
    std::cout << (quiet() ? sim::claims_text(runs) : sim::runs_table(runs, baseline));
  bool failed = false;
  for (const auto& run : runs) failed |= run.claim.outcome == sim::ClaimOutcome::fails;
  return failed ? 1 : 0;
}

void add_simulate(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<SimulateOptions>();
  auto* cmd = app.add_subcommand(
      "simulate",
      "Long-horizon workload on the reference model of each profile: dying cgroups per "
      "simulated day beside the seeds' claims (docs/SIMULATE.md)");
  cmd->add_option("--profile", o->profiles,
                  "profile(s) to run, comma-separated or repeated (default: every modeled one)")
      ->delimiter(',');
  cmd->add_option("--workload", o->workload, "seed000 (periodic jobs, default), seed004 (the "
                  "kernel-stack loop), kmem_dead (the selftest's dead cgroups) or seed003 (kmem "
                  "caches against the cgroups online at once)");
  cmd->add_option("--days", o->days, "simulated days (seed000; default 7)")
      ->check(CLI::Range(1u, 366u));
  cmd->add_option("--iterations", o->iterations, "loop iterations (seed004), children (kmem_dead) or jobs (seed003); default 500")
      ->check(CLI::Range(1u, 100000u));
  cmd->add_option("--seed", o->seed, "the workload's seed (default 1)");
  cmd->add_option("--cpus", o->cpus, "possible CPUs of the simulated machine (default 8)")
      ->check(CLI::Range(1u, spec::kMaxCpus));
  cmd->add_option("--baseline", o->baseline,
                  "profile the memory difference is taken against (default: the last one run)");
  cmd->add_flag("--json", o->json, "print the JSON report (docs/DESIGN.md) instead of the table");
  cmd->add_option("--csv", o->csv_path, "write one CSV row per profile and sample (- for stdout)");
  cmd->add_option("--svg", o->svg_path, "draw the curves with gnuplot into this SVG file");
  cmd->add_option("--out", o->out_dir,
                  fmt::format("directory for simulate-failure-PROFILE-SEED.jsonl, the trace of a run "
                              "the model failed (default {})", kDefaultOutDir));
  run_guarded(cmd, exit_code, [o, cmd] {
    std::string command = "memcg-verify simulate";
    for (const auto* opt : cmd->get_options()) {
      if (opt->get_name() == "--help" || opt->count() == 0) continue;
      if (opt->get_name() == "--csv" || opt->get_name() == "--svg" || opt->get_name() == "--out") continue;
      command += " " + opt->get_name();
      if (opt->get_expected_min() > 0) command += " " + fmt::format("{}", fmt::join(opt->results(), ","));
    }
    o->command = command;
    return run_simulate(*o);
  });
}

const CommandRegistration registration(add_simulate);

}  // namespace
}  // namespace mv::cli
