// memcg-verify check [--seed N] [--runs N] [--steps N] [--cpus N] [--profile v6.6]
//                    [--page-size N] [--json] [--out DIR] [--reproduce TOKEN]
//                    [--mutant NAME] [--jobs N] [--shard I/N]
//                    [--bench-live [--bench-steps N]]
// A conformance campaign (properties/campaign.h): random operation sequences
// run on the reference and the impl in lock-step, compared after every step,
// every invariant checked on both; a failure is shrunk by RapidCheck, printed
// as a table and written as a trace that `memcg-verify replay --model both`
// replays. Every coverage mark (spec/coverage.h) should be hit: the defaults
// hit every one on any seed; a campaign that misses one did not reach that
// kernel path, and says so. `--mutant NAME` injects a bug of the catalog
// (spec/mutant.h) into the impl: the campaign must then fail (`memcg-verify
// mutants` runs every one). The campaign is cut in chunks
// (properties/campaign_chunks.h) that `--jobs N` runs on N worker processes
// and `--shard I/N` runs a slice of, whose `--json` report `memcg-verify
// merge` (below) combines: the same verdict and totals however it is spread.
// Exit status (docs/DESIGN.md): 0 all holds and every mark was hit, 1 a
// failure, 2 usage, 3 undecided: RapidCheck gave up, or coverage incomplete (a
// mark never hit, named).
//
// Each campaign (each chunk) runs in a watched child process
// (properties/campaign_guard.h): a subject that crashes, aborts or loops (no
// checked step for `--watchdog SEC`, default 30) is found again with the
// subject in a child process and reported as a model failure with its trace,
// exit 1. `--inject-fault segfault|abort|throw|loop` (internal) makes the
// impl do that on its first kernel-stack allocation.
//
// `--subject kernel` (or `--kernel-src DIR`, which implies it) runs the
// kernel's own code (kernel/kernel_subject.h) against the reference instead
// of the impl, each run's kernel model in a child process: a crash or a hang
// of the kernel code is a failure of the subject, shrunk like any other.
//
// Checked-step throughput: `memcg-verify check --bench-live [--seed N]
// [--bench-steps 20000] [--bench-targets 100,1000,10000] [--check-mode
// summary|full] [--subject impl|reference] [--monitor-subject] [--json]` times
// steps at 100, 1,000 and 10,000 live objects (properties/throughput.h).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <iterator>
#include <random>
#include <set>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/kernel_options.h"
#include "cli/tap.h"
#include "trace/input_file.h"
#include "trace/replay.h"
#include "properties/campaign.h"
#include "properties/campaign_chunks.h"
#include "properties/campaign_guard.h"
#include "properties/failure_trace.h"
#include "properties/injected_fault.h"
#include "properties/throughput.h"
#include "spec/coverage.h"
#include "spec/known_bug.h"
#include "spec/profile.h"

namespace mv::cli {
namespace {

using Json = nlohmann::ordered_json;

struct CheckOptions {
  std::optional<std::uint64_t> seed;
  int runs = properties::kDefaultCheckRuns;
  int steps = properties::kDefaultCheckSteps;
  std::optional<std::uint32_t> cpus;
  std::string profile = "v6.6";
  std::optional<std::uint64_t> page_size;
  bool json = false;
  bool tap = false;
  std::string out_dir = kDefaultOutDir;
  std::string reproduce;
  bool no_shrink = false;
  std::string mutant;
  bool bench_live = false;
  std::uint64_t bench_steps = 20000;
  std::vector<std::uint64_t> bench_targets = {100, 1000, 10000};
  std::string check_mode = "summary";
  std::string subject = "impl";
  bool monitor_subject = false;
  unsigned jobs = 1;
  std::string shard;  // "I/N"
  std::string inject_fault;  // properties/injected_fault.h
  double watchdog_seconds = 30;
  KernelOptions kernel;
  std::shared_ptr<const kernel::KernelSubject> kernel_subject;  // opened by run_check
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
  if (o.kernel_subject) flags += o.kernel.given() ? o.kernel.flags() : " --subject kernel";
  if (!o.inject_fault.empty()) flags += fmt::format(" --inject-fault {}", o.inject_fault);
  return flags;
}

// The marks of the paths `profile` has (spec::mark_applies), with their counts.
Json marks_json(const spec::MarkCounts& marks, std::string_view profile) {
  Json j = Json::object();
  const auto p = spec::parse_profile(profile);
  for (std::size_t i = 0; i < spec::kNrMarks; ++i)
    if (!p || spec::mark_applies(spec::mark_at(i), spec::traits(*p)))
      j[std::string(spec::mark_name(spec::mark_at(i)))] = marks[i];
  return j;
}

// Violations explained by the profile's known kernel bugs: counted, not failures.
Json known_bugs_json(const properties::CampaignStats& stats) {
  Json j = Json::object();
  for (const auto& [id, n] : stats.known_bug_violations) j[id] = n;
  return j;
}

std::string known_bugs_text(const properties::CampaignStats& stats) {
  std::string text;
  for (const auto& [id, n] : stats.known_bug_violations) {
    const spec::KnownBug* bug = spec::find_known_bug(id);
    text += fmt::format("  {} (fixed by {}): {} violations, not failures\n", id,
                        bug ? bug->fix : std::string_view("?"), n);
  }
  return text.empty() ? text : "known kernel bugs of the profile seen:\n" + text;
}

properties::CheckMode check_mode(const CheckOptions& o) {
  return o.check_mode == "full" ? properties::CheckMode::full : properties::CheckMode::summary;
}

spec::Mutant mutant_of(const CheckOptions& o) {
  return o.mutant.empty() ? spec::Mutant::none : *spec::parse_mutant(o.mutant);
}

properties::ModelFactory subject_factory(const CheckOptions& o) {
  if (o.kernel_subject)
    return [subject = o.kernel_subject](const spec::Config& config, const spec::PathTable& paths) {
      return subject->make_model(config, paths);
    };
  // An overlay mutant (overlay/overlay.h) is the subject beside the correct reference.
  auto subject = o.subject != "reference"            ? properties::impl_factory(mutant_of(o))
                 : mutant_of(o) == spec::Mutant::none ? properties::reference_factory()
                                                      : properties::overlay_factory(mutant_of(o));
  if (o.inject_fault.empty()) return subject;
  return properties::with_injected_fault(std::move(subject), *properties::parse_injected_fault(o.inject_fault));
}

// The parameters that define a campaign: shards with equal ones merge.
Json campaign_json(const CheckOptions& o, std::uint64_t seed) {
  return Json{{"seed", seed},
              {"runs", o.runs},
              {"max_steps", o.steps},
              {"cpus", o.cpus ? Json(*o.cpus) : Json(nullptr)},
              {"page_size", o.page_size ? Json(*o.page_size) : Json(nullptr)},
              {"profile", o.profile},
              {"check_mode", o.check_mode},
              {"subject", o.subject},
              {"monitor_subject", o.monitor_subject},
              {"mutant", o.mutant},
              {"no_shrink", o.no_shrink},
              {"chunks", properties::campaign_chunks(o.runs)}};
}

int report_campaign(const CheckOptions& o, std::uint64_t seed, const properties::CampaignResult& result,
                    double wall_seconds, const Json& extra);

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

int run_check(CheckOptions o) {
  if (o.kernel.given()) o.subject = "kernel";
  if (o.subject == "kernel") {
    if (!o.mutant.empty()) {
      std::cerr << "memcg-verify check: a kernel mutant is a patched tree: memcg-verify mutants "
                   "--kernel runs them\n";
      return 2;
    }
    o.kernel_subject = o.kernel.open();
    // The reference runs the tree's profile unless another one was asked for.
    if (o.profile == "v6.6") o.profile = std::string(spec::profile_name(o.kernel_subject->profile()));
  }
  auto profile = spec::parse_profile(o.profile);
  // A profile the impl does not model (docs/DESIGNS.md) runs on the reference
  // alone: a second reference instance is the subject, and the campaign is
  // every invariant on every step.
  const bool reference_alone = profile && o.subject == "impl" && !trace::impl_models(*profile);
  if (reference_alone) o.subject = "reference";
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
  if (!o.mutant.empty() && o.subject == "reference" &&
      !spec::mutant_in_layer(*spec::parse_mutant(o.mutant), spec::kLayerOverlay)) {
    std::cerr << "memcg-verify check: the reference has no mutants (reference/ is the kernel's "
                 "semantics only): --mutant needs --subject impl\n";
    return 2;
  }
  if (!o.mutant.empty() && o.subject == "impl" &&
      spec::mutant_in_layer(*spec::parse_mutant(o.mutant), spec::kLayerOverlay)) {
    std::cerr << fmt::format("memcg-verify check: mutant {} is an overlay of the reference: it runs "
                             "on a profile without impl ({})\n",
                             o.mutant, spec::mutant_info(*spec::parse_mutant(o.mutant)).applies_text);
    return 2;
  }
  if (!o.mutant.empty() && !spec::mutant_applies(*spec::parse_mutant(o.mutant), traits(*profile))) {
    const auto where = spec::mutant_profile(*spec::parse_mutant(o.mutant), *profile);
    std::cerr << fmt::format("memcg-verify check: mutant {} does not change the {} kernel (it "
                             "applies to {}){}\n",
                             o.mutant, o.profile,
                             spec::mutant_info(*spec::parse_mutant(o.mutant)).applies_text,
                             where ? fmt::format("; try --profile {}", spec::profile_name(*where))
                                   : std::string());
    return 2;
  }
  if (o.runs < 1 || o.steps < 1) {
    std::cerr << "memcg-verify check: --runs and --steps must be at least 1\n";
    return 2;
  }
  if (!o.inject_fault.empty() && !properties::parse_injected_fault(o.inject_fault)) {
    std::cerr << fmt::format("memcg-verify check: --inject-fault must be one of {}, got \"{}\"\n",
                             properties::kInjectedFaultNames, o.inject_fault);
    return 2;
  }
  const std::uint64_t seed = o.seed ? *o.seed : (std::uint64_t{std::random_device{}()} << 32 |
                                                std::random_device{}());
  // The seed comes first, whatever happens next (on stderr when stdout is JSON).
  (o.json || o.tap ? std::cerr : std::cout) << fmt::format("seed: {}\n", seed) << std::flush;
  if (reference_alone)
    (o.json || o.tap ? std::cerr : std::cout) << fmt::format(
        "profile {}: the impl does not model it; the reference runs alone\n", o.profile);

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
  campaign.watchdog_seconds = o.watchdog_seconds;
  std::optional<properties::Shard> shard;
  if (!o.shard.empty() && !(shard = properties::parse_shard(o.shard))) {
    std::cerr << fmt::format("memcg-verify check: --shard must be I/N with 0 <= I < N, got \"{}\"\n", o.shard);
    return 2;
  }
  if (o.jobs < 1) {
    std::cerr << "memcg-verify check: --jobs must be at least 1\n";
    return 2;
  }
  const std::size_t chunks = properties::campaign_chunks(o.runs);
  ProgressBar bar(o.reproduce.empty() ? static_cast<int>(chunks) : o.runs);
  campaign.progress = [&bar](std::uint64_t done, const properties::CampaignStats& stats) {
    bar.update(done, stats);
  };
  if (!o.json && !o.tap && !quiet() && o.kernel_subject)
    std::cout << fmt::format("kernel model: {}\n", o.kernel_subject->description());
  if (!o.json && !o.tap && !quiet())
    std::cout << fmt::format("campaign: {} runs of up to {} steps in {} chunk{}{}; {}{}\n", o.runs,
                             o.steps, chunks, chunks == 1 ? "" : "s",
                             shard ? fmt::format(" (shard {}: {} of them)", o.shard,
                                                 properties::shard_chunks(chunks, *shard).size())
                                   : std::string(),
                             config_text(o),
                             o.mutant.empty() ? std::string()
                                              : fmt::format("; mutant {} in the {}", o.mutant,
                                                            o.subject));
  const auto wall_start = std::chrono::steady_clock::now();
  properties::CampaignResult result;
  std::vector<properties::ChunkResult> chunk_results;
  if (!o.reproduce.empty()) {
    // One RapidCheck case, the one the token names (any chunk's).
    result = properties::run_campaign_guarded(campaign);
  } else {
    std::vector<std::size_t> which;
    if (shard) which = properties::shard_chunks(chunks, *shard);
    else for (std::size_t c = 0; c < chunks; ++c) which.push_back(c);
    chunk_results = properties::run_chunks(campaign, which, o.jobs);
    result = properties::merge_chunks(chunk_results, which).result;
  }
  bar.finish();
  if (verbose() && !o.json && !o.tap)
    // -v: each chunk's own verdict, in order (the seed reruns it alone).
    for (const auto& c : chunk_results)
      std::cout << fmt::format("chunk {}: seed {}, {} runs, {} steps: {}\n", c.index,
                               properties::chunk_seed(seed, c.index, chunks), c.result.stats.runs,
                               c.result.stats.steps,
                               !c.problem.empty()     ? "did not report: " + c.problem
                               : c.result.failure     ? std::string("FAILED")
                               : !c.result.error.empty() ? "undecided: " + c.result.error
                                                         : std::string("passed"));
  const double wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  Json extra{{"chunks", chunks}, {"jobs", o.jobs}, {"wall_seconds", wall_seconds}};
  if (shard) {
    Json reports = Json::array();
    for (const auto& c : chunk_results) reports.push_back(properties::chunk_result_json(c));
    extra["shard"] = o.shard;
    extra["campaign"] = campaign_json(o, seed);
    extra["chunk_reports"] = reports;
    // Coverage is the whole campaign's: a shard's marks are judged at merge.
    result.missing_marks.clear();
  }
  return report_campaign(o, seed, result, wall_seconds, extra);
}

// The verdict of a campaign (run here, or merged from shards): the trace of
// its failure written, the summary printed, the exit status.
int report_campaign(const CheckOptions& o, std::uint64_t seed,
                    const properties::CampaignResult& campaign, double wall_seconds,
                    const Json& extra) {
  // Only the marks of paths the profile has count (merged shards report all).
  properties::CampaignResult result = campaign;
  if (auto profile = spec::parse_profile(o.profile))
    std::erase_if(result.missing_marks, [&](spec::Mark m) {
      return !spec::mark_applies(m, spec::traits(*profile));
    });
  std::string trace_path;
  // The model (and the mutant) that reproduce a failure.
  const std::string replay_model = o.kernel_subject            ? "reference,kernel"
                                   : o.subject == "reference" ? "reference"
                                                              : "both";
  if (result.failure) {
    std::filesystem::path dir(o.out_dir);
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    trace_path = (dir / fmt::format("check-failure-{}.jsonl", seed)).string();
    std::ofstream out(trace_path, std::ios::binary | std::ios::trunc);
    // The header note says how it was found and how to replay it
    // (docs/TRACE_FORMAT.md; `replay --mutant auto` reads it).
    out << properties::with_header_note(
        result.failure->trace_jsonl,
        properties::replay_note(fmt::format("memcg-verify check {}: {} at line {}",
                                            rerun_flags(o, seed), result.failure->failure.kind,
                                            result.failure->failure.line),
                                replay_model, mutant_of(o)));
    if (!out.flush()) {
      std::cerr << fmt::format("memcg-verify check: cannot write {}\n", trace_path);
      trace_path.clear();
    }
  }
  // Checked steps per second of wall-clock time: with --jobs N, N processes'.
  const double steps_per_second = wall_seconds > 0 ? result.stats.steps / wall_seconds : 0;
  // A failure outranks everything; "could not decide" and "did not reach every
  // mark" are undecided, never "wrong".
  int exit_code = 0;
  if (result.failure) exit_code = 1;
  else if (!result.error.empty() || !result.missing_marks.empty()) exit_code = 3;
  if (result.failure && trace_path.empty()) exit_code = 2;  // an output not written

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
                 {"kernel", o.kernel_subject ? Json(o.kernel_subject->description()) : Json(nullptr)},
                 {"mutant", o.mutant.empty() ? Json(nullptr) : Json(o.mutant)},
                 {"runs", result.stats.runs},
                 {"steps", result.stats.steps},
                 {"seconds", result.seconds},
                 {"steps_per_second", steps_per_second},
                 {"max_live_objects", result.stats.max_live_objects},
                 // The first failing run, before shrinking: runs and steps up to its end.
                 {"first_failure", result.stats.first_failure_runs
                                       ? Json{{"runs", *result.stats.first_failure_runs},
                                              {"steps", result.stats.first_failure_steps},
                                              {"seconds", result.stats.first_failure_seconds}}
                                       : Json(nullptr)},
                 {"marks", marks_json(result.marks, o.profile)},
                 {"known_bugs", known_bugs_json(result.stats)},
                 {"missing_marks", missing},
                 {"coverage_complete", missing.empty()},
                 {"failures", failures},
                 {"error", result.error.empty() ? Json(nullptr) : Json(result.error)},
                 {"exit", exit_code}};
    for (const auto& [key, value] : extra.items()) summary[key] = value;
    std::cout << summary.dump() << "\n";
    return exit_code;
  }

  if (o.tap) {
    // One test point: the campaign. Undecided (exit 3) is a skip, not a failure.
    std::vector<std::string> reasons;
    std::string skip;
    if (result.failure) {
      const auto& f = *result.failure;
      reasons.push_back(fmt::format("{} cpus, page size {}: line {}: {}: {}", f.config.ncpus,
                                    f.config.page_size_bytes, f.failure.line, f.failure.kind,
                                    f.failure.message));
      if (!trace_path.empty())
        reasons.push_back(fmt::format("replay: memcg-verify replay {} --mutant auto", trace_path));
    } else if (!result.error.empty()) {
      skip = result.error;
    } else if (!result.missing_marks.empty()) {
      skip = "coverage marks never hit:";
      for (auto m : result.missing_marks) skip += fmt::format(" {}", spec::mark_name(m));
    }
    std::cout << tap_header(1) << fmt::format("# seed: {}\n", seed)
              << tap_point(1, exit_code != 1, fmt::format("check {}", rerun_flags(o, seed)), reasons,
                           skip);
    return exit_code;
  }
  if (result.failure) {
    const auto& f = *result.failure;
    std::cout << fmt::format("FAILED: {} cpus, page size {}: line {}: {}: {}\n", f.config.ncpus,
                             f.config.page_size_bytes, f.failure.line, f.failure.kind,
                             f.failure.message)
              << fmt::format("shrunk sequence ({} operations):\n", f.nr_steps)
              << (quiet() ? std::string() : f.table);
    if (!trace_path.empty())
      std::cout << fmt::format("trace: {}\nreplay: memcg-verify replay {} --model {}{}\n",
                               trace_path, trace_path, replay_model,
                               o.kernel_subject ? o.kernel.flags()
                               : o.mutant.empty() ? std::string()
                                                  : fmt::format(" --mutant {}", o.mutant));
    std::cout << fmt::format("rerun: memcg-verify check {}\n", rerun_flags(o, seed))
              << fmt::format("rapidcheck: memcg-verify check {} --reproduce '{}'\n",
                             rerun_flags(o, seed), result.reproduce_token);
    return exit_code;
  }
  if (!result.error.empty()) {
    std::cout << "UNDECIDED: " << result.error << "\n";
    return exit_code;
  }
  if (!quiet()) {
    std::cout << fmt::format("{} runs, {} steps in {:.1f} s ({:.0f} steps/s{}), up to {} live objects\n",
                             result.stats.runs, result.stats.steps, wall_seconds, steps_per_second,
                             o.jobs > 1 ? fmt::format(" on {} jobs", o.jobs) : std::string(),
                             result.stats.max_live_objects);
    std::cout << known_bugs_text(result.stats);
    std::cout << "coverage marks:\n";
    const Json marks = marks_json(result.marks, o.profile);  // items() needs a live object
    for (const auto& [name, count] : marks.items())
      std::cout << fmt::format("  {:<28} {:>10}\n", name, count.get<std::uint64_t>());
  }
  if (!result.missing_marks.empty()) {
    std::string names;
    for (auto m : result.missing_marks) names += fmt::format("{}{}", names.empty() ? "" : ", ", spec::mark_name(m));
    std::cout << fmt::format(
        "INCOMPLETE: no failure, but coverage marks never hit: {}. The campaign did not reach "
        "those kernel paths: run more (--runs, --steps; the defaults reach every mark)\n",
        names);
    return exit_code;
  }
  std::cout << fmt::format("OK: the {} conforms to the reference and every invariant holds on every step\n",
                           o.subject);
  return exit_code;
}

void add_check(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<CheckOptions>();
  // What a user needs in the first section of --help; the benchmark and the
  // internals in their own.
  const std::string bench = "Benchmark (checked-step throughput)";
  const std::string internal = "Internal (measuring the checker itself)";
  auto* cmd = app.add_subcommand(
      "check", "Conformance campaign: random operation sequences on the reference and the impl "
               "in lock-step, every invariant on every step, failures shrunk and written as traces");
  cmd->add_option("--seed", o->seed, "campaign seed (default: random, always printed)")
      ->check(kSeedDigits);
  cmd->add_option("--runs", o->runs,
                  fmt::format("number of random runs (default {})", properties::kDefaultCheckRuns));
  cmd->add_option("--steps", o->steps,
                  fmt::format("at most N operations per run (RapidCheck's size grows over the "
                              "runs; default {})",
                              properties::kDefaultCheckSteps));
  cmd->add_option("--cpus", o->cpus, "CPUs (default: 1-4, drawn per run)");
  cmd->add_option("--profile", o->profile, "kernel profile (default v6.6, the one modeled)");
  cmd->add_option("--page-size", o->page_size, "PAGE_SIZE in bytes (default: 4K, 16K or 64K per run)");
  auto* json = cmd->add_flag("--json", o->json, "print a JSON summary (the seed line then goes to stderr)");
  cmd->add_flag("--tap", o->tap, "print TAP version 13: one test point, the campaign (the seed on stderr)")
      ->excludes(json);
  cmd->add_option("--out", o->out_dir,
                  fmt::format("directory for check-failure-SEED.jsonl (default {})", kDefaultOutDir));
  cmd->add_option("--reproduce", o->reproduce,
                  "run only the failing case of a RapidCheck token printed by an earlier failure "
                  "(with the same other options)");
  cmd->add_flag("--no-shrink", o->no_shrink, "report the first failing sequence unshrunk")
      ->group(internal);
  cmd->add_option("--mutant", o->mutant,
                  "inject this bug of the mutant catalog (spec/mutant.h, `memcg-verify mutants "
                  "--list`) into the subject; the reference stays correct");
  cmd->add_flag("--bench-live", o->bench_live,
                "measure checked steps/s at 100, 1000 and 10000 live objects instead")
      ->group(bench);
  cmd->add_option("--bench-steps", o->bench_steps, "timed steps per point of --bench-live (default 20000)")
      ->group(bench);
  cmd->add_option("--check-mode", o->check_mode,
                  "summary (default: snapshots without objects plus the step's object, invariants "
                  "from kept totals, full check at the end of every run) or full (full snapshots "
                  "every step)")
      ->check(CLI::IsMember({"summary", "full"}))
      ->group(internal);
  cmd->add_flag("--monitor-subject", o->monitor_subject,
                "also run a second invariant Monitor on the impl's snapshots (redundant: they are "
                "compared equal to the reference's first)")
      ->group(internal);
  cmd->add_option("--subject", o->subject,
                  "impl (default), kernel (the kernel's own code, default tree or --kernel-src), or "
                  "reference: the reference against itself, to measure the checking alone")
      ->check(CLI::IsMember({"impl", "kernel", "reference"}));
  o->kernel.add_to(cmd);
  cmd->add_option("--jobs", o->jobs,
                  "worker processes (default 1); the report is the same whatever N, for a seed");
  cmd->add_option("--watchdog", o->watchdog_seconds,
                  "seconds a campaign may go without a checked step before its subject counts as "
                  "looping: the run is then found again with the subject in a child process and "
                  "reported as a failure (default 30)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--inject-fault", o->inject_fault,
                  "make the subject segfault, abort, throw or loop on its first kernel-stack "
                  "allocation (testing the checker: the campaign must fail with the trace, exit 1)")
      ->group(internal);
  cmd->add_option("--shard", o->shard,
                  "run only shard I of N (chunks c with c % N == I) and print its report "
                  "(--json: what `memcg-verify merge` combines)");
  cmd->add_option("--bench-targets", o->bench_targets,
                  "live-object targets of --bench-live (default 100,1000,10000)")
      ->delimiter(',')
      ->group(bench);
  run_guarded(cmd, exit_code, [o] { return run_check(*o); });
}

// memcg-verify merge REPORT... [--json] [--out DIR]: the shard reports of one
// campaign (`check --shard I/N --json`) merged into the verdict and totals the
// unsplit campaign has (properties/campaign_chunks.h). Exit status as check's;
// 2 when the reports are not shards of one campaign, 3 when a chunk that
// counts is missing.
struct MergeOptions {
  std::vector<std::string> reports;
  bool json = false;
  std::string out_dir = kDefaultOutDir;
};

int run_merge(const MergeOptions& m) {
  std::optional<Json> campaign;
  std::vector<properties::ChunkResult> chunks;
  std::set<std::string> shards;
  double wall_seconds = 0;
  for (const auto& path : m.reports) {
    if (auto problem = trace::directory_problem(path, "a shard report"); !problem.empty()) {
      std::cerr << fmt::format("memcg-verify merge: {}: {}\n", path, problem);
      return 2;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      std::cerr << fmt::format("memcg-verify merge: {}: cannot read\n", path);
      return 2;
    }
    Json report;
    try {
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      report = Json::parse(text);
      if (!report.contains("campaign") || !report.contains("chunk_reports") || !report.contains("shard"))
        throw std::runtime_error("not a shard report (memcg-verify check --shard I/N --json)");
      if (campaign && report.at("campaign") != *campaign)
        throw std::runtime_error(fmt::format("another campaign than {}: {}", m.reports.front(),
                                             report.at("campaign").dump()));
      if (!shards.insert(report.at("shard").get<std::string>()).second)
        throw std::runtime_error(fmt::format("shard {} given twice", report.at("shard").get<std::string>()));
      campaign = report.at("campaign");
      for (const auto& c : report.at("chunk_reports")) chunks.push_back(properties::chunk_result_from_json(c));
      wall_seconds += report.at("wall_seconds").get<double>();
    } catch (const std::exception& e) {
      std::cerr << fmt::format("memcg-verify merge: {}: {}\n", path, e.what());
      return 2;
    }
  }
  CheckOptions o;
  const auto& c = *campaign;
  const std::uint64_t seed = c.at("seed");
  o.runs = c.at("runs");
  o.steps = c.at("max_steps");
  if (!c.at("cpus").is_null()) o.cpus = c.at("cpus").get<std::uint32_t>();
  if (!c.at("page_size").is_null()) o.page_size = c.at("page_size").get<std::uint64_t>();
  o.profile = c.at("profile");
  o.check_mode = c.at("check_mode");
  o.subject = c.at("subject");
  o.monitor_subject = c.at("monitor_subject");
  o.mutant = c.at("mutant");
  o.no_shrink = c.at("no_shrink");
  o.json = m.json;
  o.out_dir = m.out_dir;
  const std::size_t nr_chunks = c.at("chunks");
  std::vector<std::size_t> all(nr_chunks);
  for (std::size_t i = 0; i < nr_chunks; ++i) all[i] = i;
  properties::MergedCampaign merged;
  try {
    merged = properties::merge_chunks(std::move(chunks), all);
  } catch (const std::exception& e) {
    std::cerr << fmt::format("memcg-verify merge: {}\n", e.what());
    return 2;
  }
  (o.json ? std::cerr : std::cout) << fmt::format("seed: {}\n", seed) << std::flush;
  if (!o.json)
    std::cout << fmt::format("merged: {} shard report{} of a campaign of {} runs of up to {} steps in {} "
                             "chunks; {} chunks count (up to the first failure)\n",
                             m.reports.size(), m.reports.size() == 1 ? "" : "s", o.runs, o.steps,
                             nr_chunks, merged.chunks_counted);
  Json missing = Json::array();
  for (auto i : merged.missing) missing.push_back(i);
  return report_campaign(o, seed, merged.result, wall_seconds,
                         Json{{"chunks", nr_chunks},
                              {"shards", m.reports.size()},
                              {"chunks_counted", merged.chunks_counted},
                              {"missing_chunks", missing},
                              {"wall_seconds", wall_seconds}});
}

void add_merge(CLI::App& app, int& exit_code) {
  auto m = std::make_shared<MergeOptions>();
  auto* cmd = app.add_subcommand(
      "merge", "Merge the shard reports of one campaign (check --shard I/N --json) into its verdict and totals");
  cmd->add_option("REPORT", m->reports, "shard reports (JSON files)")->required();
  cmd->add_flag("--json", m->json, "print the merged JSON summary");
  cmd->add_option("--out", m->out_dir,
                  fmt::format("directory for check-failure-SEED.jsonl (default {})", kDefaultOutDir));
  run_guarded(cmd, exit_code, [m] { return run_merge(*m); });
}

const CommandRegistration registration(add_check);
const CommandRegistration merge_registration(add_merge);

}  // namespace
}  // namespace mv::cli
