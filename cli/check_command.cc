// memcg-verify check [--seed N] [--runs N] [--steps N] [--cpus N] [--profile v6.6]
//                    [--page-size N] [--json] [--out DIR] [--reproduce TOKEN]
//                    [--mutant NAME] [--bench-live [--bench-steps N]]
// A conformance campaign (properties/campaign.h): random operation sequences
// run on the reference and the impl in lock-step, compared after every step,
// every invariant checked on both; a failure is shrunk by RapidCheck, printed
// as a table and written as a trace that `memcg-verify replay --model both`
// replays. Every coverage mark (spec/coverage.h) must be hit. `--mutant NAME`
// injects a bug of the catalog (spec/mutant.h) into the impl: the campaign
// must then fail (`memcg-verify mutants` runs every one). Exit status
// (docs/DESIGN.md): 0 all holds, 1 a failure or a mark never hit, 2 usage, 3 RapidCheck
// gave up.
//
// Checked-step throughput: `memcg-verify check --bench-live [--seed N]
// [--bench-steps 20000] [--bench-targets 100,1000,10000] [--check-mode
// summary|full] [--subject impl|reference] [--monitor-subject] [--json]` times
// steps at 100, 1,000 and 10,000 live objects (properties/throughput.h).
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "properties/campaign.h"
#include "properties/throughput.h"
#include "spec/coverage.h"
#include "spec/profile.h"

namespace mv::cli {
namespace {

using Json = nlohmann::ordered_json;

struct CheckOptions {
  std::optional<std::uint64_t> seed;
  int runs = 100;
  int steps = 100;
  std::optional<std::uint32_t> cpus;
  std::string profile = "v6.6";
  std::optional<std::uint64_t> page_size;
  bool json = false;
  std::string out_dir = ".";
  std::string reproduce;
  bool no_shrink = false;
  std::string mutant;
  bool bench_live = false;
  std::uint64_t bench_steps = 20000;
  std::vector<std::uint64_t> bench_targets = {100, 1000, 10000};
  std::string check_mode = "summary";
  std::string subject = "impl";
  bool monitor_subject = false;
};

// A progress bar on stderr, only when stderr is a terminal (never in CI logs).
class ProgressBar {
 public:
  explicit ProgressBar(int total) : total_(total), enabled_(isatty(STDERR_FILENO) == 1) {}
  void update(std::uint64_t runs, const properties::CampaignStats& stats) {
    if (!enabled_) return;
    // Redraw once per percent, not once per run.
    const std::uint64_t percent = total_ > 0 ? runs * 100 / static_cast<std::uint64_t>(total_) : 100;
    if (percent == shown_percent_ && runs != static_cast<std::uint64_t>(total_)) return;
    shown_percent_ = percent;
    const int width = 30;
    int filled = total_ > 0 ? static_cast<int>(width * std::min<std::uint64_t>(runs, total_) / total_) : width;
    std::cerr << fmt::format("\r[{:#<{}}{:.<{}}] {}/{} runs, {} steps", "", filled, "",
                             width - filled, runs, total_, stats.steps)
              << std::flush;
  }
  void finish() {
    if (enabled_) std::cerr << "\r" << std::string(72, ' ') << "\r" << std::flush;
  }

 private:
  int total_;
  bool enabled_;
  std::uint64_t shown_percent_ = ~std::uint64_t{0};
};

std::string config_text(const CheckOptions& o) {
  return fmt::format("cpus {}, page size {}, profile {}",
                     o.cpus ? std::to_string(*o.cpus) : std::string("1-4"),
                     o.page_size ? std::to_string(*o.page_size) : std::string("4K/16K/64K"),
                     o.profile);
}

// The options that reproduce this campaign, for the failure message.
std::string rerun_flags(const CheckOptions& o, std::uint64_t seed) {
  std::string flags = fmt::format("--seed {} --runs {} --steps {}", seed, o.runs, o.steps);
  if (o.cpus) flags += fmt::format(" --cpus {}", *o.cpus);
  if (o.page_size) flags += fmt::format(" --page-size {}", *o.page_size);
  if (o.profile != "v6.6") flags += fmt::format(" --profile {}", o.profile);
  if (!o.mutant.empty()) flags += fmt::format(" --mutant {}", o.mutant);
  return flags;
}

Json marks_json(const spec::MarkCounts& marks) {
  Json j = Json::object();
  for (std::size_t i = 0; i < spec::kNrMarks; ++i) j[std::string(spec::mark_name(spec::mark_at(i)))] = marks[i];
  return j;
}

properties::CheckMode check_mode(const CheckOptions& o) {
  return o.check_mode == "full" ? properties::CheckMode::full : properties::CheckMode::summary;
}

spec::Mutant mutant_of(const CheckOptions& o) {
  return o.mutant.empty() ? spec::Mutant::none : *spec::parse_mutant(o.mutant);
}

properties::ModelFactory subject_factory(const CheckOptions& o) {
  return o.subject == "reference" ? properties::reference_factory(mutant_of(o))
                                  : properties::impl_factory(mutant_of(o));
}

int run_bench(const CheckOptions& o, const spec::Config& config, std::uint64_t seed) {
  auto points = properties::measure_throughput(config, seed, o.bench_targets, o.bench_steps,
                                               check_mode(o), subject_factory(o), o.monitor_subject);
  Json rows = Json::array();
  bool failed = false;
  if (!o.json)
    std::cout << fmt::format("checked steps (reference + {}, {} check: compared, every invariant on "
                             "both), {} cpus, page size {}:\n",
                             o.subject, o.check_mode, config.ncpus, config.page_size_bytes)
              << fmt::format("  {:>8}  {:>10}  {:>8}  {:>12}  {:>10}  {:>6}  {:>6}\n", "target",
                             "mean live", "steps", "steps/s", "us/step", "memcgs", "objcgs");
  for (const auto& p : points) {
    failed |= p.failed;
    if (o.json) {
      rows.push_back(Json{{"target_live_objects", p.target_live_objects},
                          {"mean_live_objects", p.mean_live_objects},
                          {"steps", p.steps},
                          {"seconds", p.seconds},
                          {"steps_per_second", p.steps_per_second()},
                          {"micros_per_step", p.micros_per_step()},
                          {"memcgs", p.memcgs},
                          {"objcgs", p.objcgs},
                          {"failure", p.failed ? Json(p.failure) : Json(nullptr)}});
    } else {
      std::cout << fmt::format("  {:>8}  {:>10.0f}  {:>8}  {:>12.0f}  {:>10.2f}  {:>6}  {:>6}\n",
                               p.target_live_objects, p.mean_live_objects, p.steps,
                               p.steps_per_second(), p.micros_per_step(), p.memcgs, p.objcgs);
      if (p.failed) std::cout << "    FAILED: " << p.failure << "\n";
    }
  }
  // The bar: the cost per step at the largest target within 1.5x of the smallest.
  const double ratio = points.size() >= 2 && points.front().micros_per_step() > 0
                           ? points.back().micros_per_step() / points.front().micros_per_step()
                           : 0;
  if (o.json)
    std::cout << Json{{"seed", seed}, {"bench_live", rows}, {"cost_ratio_last_to_first", ratio}}.dump()
              << "\n";
  else if (points.size() >= 2)
    std::cout << fmt::format("  cost per step at {} live objects / at {}: {:.2f}x\n",
                             points.back().target_live_objects, points.front().target_live_objects,
                             ratio);
  return failed ? 1 : 0;
}

int run_check(const CheckOptions& o) {
  auto profile = spec::parse_profile(o.profile);
  if (!profile) {
    std::cerr << fmt::format("memcg-verify check: unknown profile \"{}\"\n", o.profile);
    return 2;
  }
  spec::Config probe;
  probe.profile = *profile;
  probe.ncpus = o.cpus.value_or(4);
  probe.page_size_bytes = o.page_size.value_or(4096);
  if (auto problem = spec::config_problem(probe); !problem.empty()) {
    std::cerr << fmt::format("memcg-verify check: {}\n", problem);
    return 2;
  }
  if (!o.mutant.empty() && !spec::parse_mutant(o.mutant)) {
    std::cerr << fmt::format("memcg-verify check: unknown mutant \"{}\" (memcg-verify mutants "
                             "--list names them)\n", o.mutant);
    return 2;
  }
  if (o.runs < 1 || o.steps < 1) {
    std::cerr << "memcg-verify check: --runs and --steps must be at least 1\n";
    return 2;
  }
  const std::uint64_t seed = o.seed ? *o.seed : (std::uint64_t{std::random_device{}()} << 32 |
                                                std::random_device{}());
  // The seed comes first, whatever happens next (on stderr when stdout is JSON).
  (o.json ? std::cerr : std::cout) << fmt::format("seed: {}\n", seed) << std::flush;

  if (o.bench_live) {
    spec::Config config = probe;
    config.ncpus = o.cpus.value_or(2);
    return run_bench(o, config, seed);
  }

  properties::CampaignOptions campaign;
  campaign.seed = seed;
  campaign.runs = o.runs;
  campaign.max_steps = o.steps;
  campaign.shrink = !o.no_shrink;
  campaign.reproduce = o.reproduce;
  campaign.configs = properties::ConfigChoice{*profile, o.cpus, o.page_size};
  campaign.mode = check_mode(o);
  campaign.subject = subject_factory(o);
  campaign.subject_name = o.subject;
  campaign.monitor_subject = o.monitor_subject;
  ProgressBar bar(o.runs);
  campaign.progress = [&bar](std::uint64_t runs, const properties::CampaignStats& stats) {
    bar.update(runs, stats);
  };
  if (!o.json)
    std::cout << fmt::format("campaign: {} runs of up to {} steps; {}{}\n", o.runs, o.steps + 1,
                             config_text(o),
                             o.mutant.empty() ? std::string()
                                              : fmt::format("; mutant {} in the {}", o.mutant,
                                                            o.subject));
  auto result = properties::run_campaign(campaign);
  bar.finish();

  std::string trace_path;
  if (result.failure) {
    std::filesystem::path dir(o.out_dir);
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    trace_path = (dir / fmt::format("check-failure-{}.jsonl", seed)).string();
    std::ofstream out(trace_path, std::ios::binary | std::ios::trunc);
    out << result.failure->trace_jsonl;
    if (!out.flush()) {
      std::cerr << fmt::format("memcg-verify check: cannot write {}\n", trace_path);
      trace_path.clear();
    }
  }
  const double steps_per_second = result.seconds > 0 ? result.stats.steps / result.seconds : 0;
  int exit_code = 0;
  if (!result.error.empty() && !result.failure) exit_code = 3;
  else if (result.failure || !result.missing_marks.empty()) exit_code = 1;

  if (o.json) {
    Json failures = Json::array();
    if (result.failure) {
      const auto& f = *result.failure;
      failures.push_back(Json{{"line", f.failure.line},
                              {"kind", f.failure.kind},
                              {"message", f.failure.message},
                              {"cpus", f.config.ncpus},
                              {"page_size", f.config.page_size_bytes},
                              {"steps", f.nr_steps},
                              {"trace", trace_path},
                              {"reproduce", result.reproduce_token}});
    }
    Json missing = Json::array();
    for (auto m : result.missing_marks) missing.push_back(std::string(spec::mark_name(m)));
    Json summary{{"seed", seed},
                 {"profile", o.profile},
                 {"check_mode", o.check_mode},
                 {"subject", o.subject},
                 {"mutant", o.mutant.empty() ? Json(nullptr) : Json(o.mutant)},
                 {"runs", result.stats.runs},
                 {"steps", result.stats.steps},
                 {"seconds", result.seconds},
                 {"steps_per_second", steps_per_second},
                 {"max_live_objects", result.stats.max_live_objects},
                 {"marks", marks_json(result.marks)},
                 {"missing_marks", missing},
                 {"failures", failures},
                 {"error", result.error.empty() ? Json(nullptr) : Json(result.error)},
                 {"exit", exit_code}};
    std::cout << summary.dump() << "\n";
    return exit_code;
  }

  if (result.failure) {
    const auto& f = *result.failure;
    std::cout << fmt::format("FAILED: {} cpus, page size {}: line {}: {}: {}\n", f.config.ncpus,
                             f.config.page_size_bytes, f.failure.line, f.failure.kind,
                             f.failure.message)
              << fmt::format("shrunk sequence ({} operations):\n", f.nr_steps) << f.table;
    if (!trace_path.empty())
      std::cout << fmt::format("trace: {}\nreplay: memcg-verify replay {} --model both{}\n",
                               trace_path, trace_path,
                               o.mutant.empty() ? std::string()
                                                : fmt::format(" --mutant {}", o.mutant));
    std::cout << fmt::format("rerun: memcg-verify check {}\n", rerun_flags(o, seed))
              << fmt::format("rapidcheck: memcg-verify check {} --reproduce '{}'\n",
                             rerun_flags(o, seed), result.reproduce_token);
    return exit_code;
  }
  if (exit_code == 3) {
    std::cout << "UNDECIDED: " << result.error << "\n";
    return exit_code;
  }
  std::cout << fmt::format("{} runs, {} steps in {:.1f} s ({:.0f} steps/s), up to {} live objects\n",
                           result.stats.runs, result.stats.steps, result.seconds, steps_per_second,
                           result.stats.max_live_objects);
  std::cout << "coverage marks:\n";
  for (std::size_t i = 0; i < spec::kNrMarks; ++i)
    std::cout << fmt::format("  {:<28} {:>10}\n", spec::mark_name(spec::mark_at(i)), result.marks[i]);
  if (!result.missing_marks.empty()) {
    std::string names;
    for (auto m : result.missing_marks) names += fmt::format("{}{}", names.empty() ? "" : ", ", spec::mark_name(m));
    std::cout << fmt::format("FAILED: coverage marks never hit: {} (more runs or steps?)\n", names);
    return exit_code;
  }
  std::cout << "OK: the impl conforms to the reference and every invariant holds on every step\n";
  return exit_code;
}

void add_check(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<CheckOptions>();
  auto* cmd = app.add_subcommand(
      "check", "Conformance campaign: random operation sequences on the reference and the impl "
               "in lock-step, every invariant on every step, failures shrunk and written as traces");
  cmd->add_option("--seed", o->seed, "campaign seed (default: random, always printed)");
  cmd->add_option("--runs", o->runs, "number of random runs (default 100)");
  cmd->add_option("--steps", o->steps,
                  "largest run size: RapidCheck's size grows to N over the runs and a run has 1 "
                  "to size+1 operations (default 100)");
  cmd->add_option("--cpus", o->cpus, "CPUs (default: 1-4, drawn per run)");
  cmd->add_option("--profile", o->profile, "kernel profile (default v6.6, the one modeled)");
  cmd->add_option("--page-size", o->page_size, "PAGE_SIZE in bytes (default: 4K, 16K or 64K per run)");
  cmd->add_flag("--json", o->json, "print a JSON summary (the seed line then goes to stderr)");
  cmd->add_option("--out", o->out_dir, "directory for check-failure-SEED.jsonl (default .)");
  cmd->add_option("--reproduce", o->reproduce,
                  "run only the failing case of a RapidCheck token printed by an earlier failure "
                  "(with the same other options)");
  cmd->add_flag("--no-shrink", o->no_shrink, "report the first failing sequence unshrunk");
  cmd->add_option("--mutant", o->mutant,
                  "inject this bug of the mutant catalog (spec/mutant.h, `memcg-verify mutants "
                  "--list`) into the subject; the reference stays correct");
  cmd->add_flag("--bench-live", o->bench_live,
                "measure checked steps/s at 100, 1000 and 10000 live objects instead");
  cmd->add_option("--bench-steps", o->bench_steps, "timed steps per point of --bench-live (default 20000)");
  cmd->add_option("--check-mode", o->check_mode,
                  "summary (default: snapshots without objects plus the step's object, invariants "
                  "from kept totals, full check at the end of every run) or full (full snapshots "
                  "every step)")
      ->check(CLI::IsMember({"summary", "full"}));
  cmd->add_flag("--monitor-subject", o->monitor_subject,
                "also run a second invariant Monitor on the impl's snapshots (redundant: they are "
                "compared equal to the reference's first)");
  cmd->add_option("--subject", o->subject,
                  "impl (default), or reference: the reference against itself, to measure the "
                  "checking alone")
      ->check(CLI::IsMember({"impl", "reference"}));
  cmd->add_option("--bench-targets", o->bench_targets,
                  "live-object targets of --bench-live (default 100,1000,10000)")
      ->delimiter(',');
  run_guarded(cmd, exit_code, [o] { return run_check(*o); });
}

const CommandRegistration registration(add_check);

}  // namespace
}  // namespace mv::cli
