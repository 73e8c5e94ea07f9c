// memcg-verify explore [--strategy random|pct|dfs] [--schedules N] [--seed S]
//                      [--depth D] [--preemptions P] [--mutant NAME]
//                      [--harness NAME]... [--random-harnesses N] [--json]
//                      [--out DIR] [--no-shrink]
// memcg-verify explore --replay TOKEN [--json]
// memcg-verify explore --profile P [--mutant NAME] [--schedules N] [--seed S]
//                      [--random-harnesses N] [--json] [--out DIR] [--no-shrink]
// On a profile the impl does not model (v5.2, v5.3, davydov-2014), the
// race search over the reference (explore/race_search.h): race traces of
// small programs, one preemption at a named point each, bounded exhaustive;
// a failure is written as the race trace itself (explore-MUTANT-SEED.jsonl),
// which `replay --model reference --mutant NAME` reproduces. It runs in a
// watched child as well: a race trace the reference does not survive is a
// model failure carrying that trace (--inject-fault tests it there too).
// Interleavings of the impl's hooks build (explore/explore.h): every schedule
// of the harnesses checked by every invariant at every quiescent point, the
// data-race and deadlock detectors, and linearizability against the
// reference. A failure is shrunk, given its schedule token and written as a
// race trace (explore-MUTANT-SEED.jsonl) that `replay --model both` runs.
// The impl cannot take explore down (explore/explore_guard.h): a schedule it
// does not survive (a signal, or no scheduling decision for `--watchdog
// SEC`) is a model failure with its token; `--inject-fault
// segfault|abort|throw|loop` (internal) tests that.
// Exit status (docs/DESIGN.md): 0 nothing found, 1 a failure, 2 usage, 3 every
// schedule was cut by the step limit (nothing decided).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>
#include <set>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/progress_bar.h"
#include "explore/explore.h"
#include "explore/explore_guard.h"
#include "explore/race_search.h"
#include "properties/failure_trace.h"
#include "properties/injected_fault.h"
#include "spec/known_bug.h"
#include "trace/replay.h"

namespace mv::cli {
namespace {

using Json = nlohmann::ordered_json;

struct ExploreCliOptions {
  std::string strategy = "random";
  std::uint64_t schedules = 1000;
  std::optional<std::uint64_t> seed;
  std::uint32_t depth = 3;
  std::uint32_t preemptions = 2;
  std::string mutant;
  std::vector<std::string> harnesses;
  std::uint64_t random_harnesses = 0;
  bool json = false;
  std::string out_dir = kDefaultOutDir;
  bool no_shrink = false;
  std::string replay;
  bool log = false;
  bool list = false;
  std::string profile;  // a profile without impl: the race search over the reference
  double watchdog_seconds = 30;
  std::string inject_fault;  // properties/injected_fault.h (internal: tests the guard)
};

Json failure_json(const explore::Failure& f, const std::string& trace_path) {
  return Json{{"harness", f.harness},
              {"kind", f.kind},
              {"invariant", f.what.empty() ? Json(nullptr) : Json(f.what)},
              {"message", f.message},
              {"step", f.step},
              {"token", f.token},
              {"ops", f.ops},
              {"preemptions", f.preemptions},
              {"original_token", f.original_token},
              {"original_ops", f.original_ops},
              {"original_preemptions", f.original_preemptions},
              {"race_trace", f.race_trace},
              {"trace_reproduces", f.trace_reproduces},
              {"trace_verdict", f.trace_verdict},
              {"trace_path", trace_path.empty() ? Json(nullptr) : Json(trace_path)},
              {"trace", f.trace_jsonl}};
}

// What a replayed schedule did: a failure or none, after `steps` decisions.
int print_replay(const ExploreCliOptions& o, const explore::Token& token,
                 const std::optional<explore::Failure>& failure, std::size_t steps,
                 const std::set<std::string>& known_bugs = {}) {
  if (o.json) {
    Json out{{"token", o.replay},
             {"harness", token.harness},
             {"mutant", spec::mutant_name(token.mutant)},
             {"steps", steps},
             {"known_bugs", known_bugs},
             {"failure", failure ? failure_json(*failure, {}) : Json(nullptr)},
             {"exit", failure ? 1 : 0}};
    std::cout << out.dump() << "\n";
    return failure ? 1 : 0;
  }
  for (const auto& id : known_bugs) {
    const spec::KnownBug* bug = spec::find_known_bug(id);
    std::cout << fmt::format("known kernel bug {} ({}, fixed by {}): not a failure\n", id,
                             bug ? bug->invariant : "?", bug ? bug->fix : "?");
  }
  if (failure) {
    std::cout << fmt::format("FAILED: {} at scheduling point {} of {}: {}\n", failure->kind,
                             failure->step, token.harness, failure->message);
  } else {
    std::cout << fmt::format("OK: the schedule of {} ran {} scheduling points without a failure\n",
                             token.harness, steps);
  }
  return failure ? 1 : 0;
}

// --inject-fault into `fault` (none when not given); false, after saying
// so, when it names no fault.
bool parse_fault(const ExploreCliOptions& o, properties::InjectedFault& fault) {
  if (o.inject_fault.empty()) return true;
  auto parsed = properties::parse_injected_fault(o.inject_fault);
  if (!parsed) {
    std::cerr << fmt::format("memcg-verify explore: --inject-fault must be one of {}, got \"{}\"\n",
                             properties::kInjectedFaultNames, o.inject_fault);
    return false;
  }
  fault = *parsed;
  return true;
}

// The replay runs in a watched child (explore/explore_guard.h): a schedule
// the impl does not survive is a model failure at the decision it died at.
int run_replay(const ExploreCliOptions& o) {
  auto token = explore::parse_token(o.replay);
  if (!token) {
    std::cerr << fmt::format("memcg-verify explore: not a schedule token: \"{}\"\n", o.replay);
    return 2;
  }
  auto harness = explore::harness_named(token->harness);
  if (!harness) {
    std::cerr << fmt::format("memcg-verify explore: the token names no harness: \"{}\"\n", token->harness);
    return 2;
  }
  auto fault = properties::InjectedFault::none;
  if (!parse_fault(o, fault)) return 2;
  auto end = explore::run_watched_command(
      [&] {
        auto r = explore::replay_token(*token, 12, fault);
        if (o.log) std::cout << explore::schedule_log(*harness, r.run);
        return print_replay(o, *token, r.failure, r.run.decisions.size(), r.known_bugs);
      },
      o.watchdog_seconds);
  if (!end.crashed) return end.exit_code;
  return print_replay(o, *token,
                      explore::crash_failure(*harness, token->mutant, end.what, end.schedule,
                                             end.decisions, end.preemptions),
                      end.decisions);
}

int print_harnesses() {
  for (const auto& h : explore::harness_catalog()) {
    std::cout << fmt::format("{:<24} {}, {} CPUs, {} set-up + {} operations: {}\n", h.name,
                             spec::profile_name(h.config.profile), h.config.ncpus, h.setup.size(),
                             h.nr_ops(), h.about);
  }
  std::cout << "random-SEED              v6.6, a random harness (--random-harnesses N adds N of them)\n";
  return 0;
}

std::string write_trace(const ExploreCliOptions& o, const explore::Failure& f, std::uint64_t seed) {
  std::error_code ec;
  std::filesystem::create_directories(o.out_dir, ec);
  auto path = (std::filesystem::path(o.out_dir) /
               fmt::format("explore-{}-{}.jsonl", o.mutant.empty() ? "none" : o.mutant, seed))
                  .string();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << f.trace_jsonl;
  if (!out.flush()) {
    std::cerr << fmt::format("memcg-verify explore: cannot write {}\n", path);
    return {};
  }
  return path;
}

std::string write_trace_text(const ExploreCliOptions& o, const std::string& text, std::uint64_t seed) {
  explore::Failure f;
  f.trace_jsonl = text;
  return write_trace(o, f, seed);
}

// The search's result when a trace took its process down: that trace is the
// failure, not shrunk (every try would end so again).
explore::RaceSearchResult crashed_race_search(const explore::RaceGuardedEnd& end) {
  explore::RaceFailure f;
  f.program = end.program;
  f.kind = "model_failure";
  f.message = fmt::format(
      "the reference's process {} replaying this race trace (replay {} of the search, run in a "
      "child process; not shrunk: every try would end so again){}",
      end.what, end.replays, end.truncated ? "; the trace is cut at 64 KiB" : "");
  f.trace_jsonl = end.trace_jsonl;
  f.verdict = "not replayed here: it took the process down";
  std::size_t lines = std::count(f.trace_jsonl.begin(), f.trace_jsonl.end(), '\n');
  f.ops = f.original_ops = lines > 0 ? lines - 1 : 0;
  explore::RaceSearchResult result;
  result.schedules = result.schedule_of_failure = end.replays;
  result.failure = std::move(f);
  return result;
}

// Prints the race search's verdict (text or JSON) and writes its failing
// trace; its exit code.
int report_race_search(const ExploreCliOptions& o, const explore::RaceSearchOptions& options,
                       std::uint64_t seed, const explore::RaceSearchResult& result) {
  const double per_second = result.seconds > 0 ? result.schedules / result.seconds : 0;
  std::string trace_path;
  if (result.failure) {
    const auto& f = *result.failure;
    const std::string note = properties::replay_note(
        fmt::format("memcg-verify explore --profile {} --seed {}{}: {} in program {} at line {}",
                    o.profile, seed, o.mutant.empty() ? "" : " --mutant " + o.mutant, f.kind,
                    f.program, f.line),
        "reference", options.mutant);
    trace_path = write_trace_text(o, properties::with_header_note(f.trace_jsonl, note), seed);
  }
  const int exit_code = result.failure ? 1 : 0;
  if (o.json) {
    Json programs = Json::array();
    for (const auto& p : result.programs)
      programs.push_back(Json{{"name", p.name},
                              {"schedules", p.schedules},
                              {"infeasible", p.infeasible},
                              {"complete", p.complete}});
    Json failures = Json::array();
    if (result.failure) {
      const auto& f = *result.failure;
      failures.push_back(Json{{"harness", f.program},
                              {"kind", f.kind},
                              {"invariant", f.what.empty() ? Json(nullptr) : Json(f.what)},
                              {"message", f.message},
                              {"line", f.line},
                              {"ops", f.ops},
                              {"original_ops", f.original_ops},
                              {"preemptions", 1},
                              {"race_trace", true},
                              {"trace_reproduces", f.reproduces},
                              {"trace_verdict", f.verdict},
                              {"trace_path", trace_path.empty() ? Json(nullptr) : Json(trace_path)},
                              {"trace", f.trace_jsonl}});
    }
    Json out{{"strategy", "race-traces"},
             {"profile", o.profile},
             {"seed", seed},
             {"preemption_bound", 1},
             {"mutant", o.mutant.empty() ? "none" : o.mutant},
             {"schedules", result.schedules},
             {"schedules_budget", o.schedules},
             {"infeasible", result.infeasible},
             {"schedule_of_failure", result.failure ? Json(result.schedule_of_failure) : Json(nullptr)},
             {"seconds", result.seconds},
             {"schedules_per_second", per_second},
             {"search_complete", result.search_complete},
             {"harnesses", programs},
             {"failures", failures},
             {"exit", exit_code}};
    std::cout << out.dump() << "\n";
    return exit_code;
  }
  if (result.failure) {
    const auto& f = *result.failure;
    std::cout << fmt::format("FAILED after {} schedules ({:.2f} s): {} in program {}{}\n  {}\n",
                             result.schedule_of_failure, result.seconds, f.kind, f.program,
                             f.line ? fmt::format(", at line {}", f.line) : std::string(),
                             f.message);
    std::cout << fmt::format("  shrunk: {} -> {} operation lines\n", f.original_ops, f.ops);
    if (!trace_path.empty())
      std::cout << fmt::format("  race trace: {} (replay --model reference{}: {})\n", trace_path,
                               o.mutant.empty() ? "" : " --mutant " + o.mutant, f.verdict);
    return exit_code;
  }
  std::cout << fmt::format("OK: no failure in {} schedules ({:.2f} s, {:.0f} schedules/s; {} "
                           "candidates infeasible){}\n",
                           result.schedules, result.seconds, per_second, result.infeasible,
                           result.search_complete ? "; the bounded search is complete" : "");
  for (const auto& p : result.programs)
    std::cout << fmt::format("  {:<22} {:>8} schedules{}\n", p.name, p.schedules,
                             p.complete ? " (search complete)" : "");
  return exit_code;
}

// explore --profile P: the race search over the reference of a profile the
// impl does not model.
int run_race_search(const ExploreCliOptions& o, spec::Profile profile) {
  explore::RaceSearchOptions options;
  options.profile = profile;
  if (!o.mutant.empty()) {
    auto m = spec::parse_mutant(o.mutant);
    if (!m || !spec::mutant_in_layer(*m, spec::kLayerOverlay) ||
        !spec::mutant_applies(*m, spec::traits(profile))) {
      std::cerr << fmt::format("memcg-verify explore: \"{}\" is no overlay mutant of profile {} "
                               "(`memcg-verify mutants --list`: layer overlay, its profiles)\n",
                               o.mutant, o.profile);
      return 2;
    }
    options.mutant = *m;
  }
  if (o.schedules < 1) {
    std::cerr << "memcg-verify explore: --schedules must be at least 1\n";
    return 2;
  }
  if (!o.harnesses.empty()) {
    std::cerr << "memcg-verify explore: --harness names an impl harness; with --profile the "
                 "built-in race programs run (and --random-harnesses N random ones)\n";
    return 2;
  }
  const std::uint64_t seed =
      o.seed ? *o.seed : (std::uint64_t{std::random_device{}()} << 32 | std::random_device{}());
  (o.json ? std::cerr : std::cout) << fmt::format("seed: {}\n", seed) << std::flush;
  options.seed = seed;
  options.schedules = o.schedules;
  options.random_programs = o.random_harnesses;
  options.shrink = !o.no_shrink;
  if (!parse_fault(o, options.fault)) return 2;
  const std::size_t nr_programs = explore::race_programs(profile).size() + o.random_harnesses;
  if (!o.json)
    std::cout << fmt::format("explore: race traces over the {} reference (one preemption at a named "
                             "point, bounded exhaustive), up to {} schedules over {} programs{}\n",
                             o.profile, o.schedules, nr_programs,
                             o.mutant.empty() ? "" : fmt::format(", mutant {} (an overlay)", o.mutant))
              << std::flush;
  // The search in a watched child: a race trace the reference does not
  // survive ends it as a model failure with that trace, never as a crash.
  auto end = explore::run_watched_race_command(
      [&](const explore::RaceReplayHook& keep) {
        ProgressLine bar(o.schedules);
        options.progress = [&](std::uint64_t done, std::uint64_t total) {
          bar.update(done, fmt::format("{}/{} schedules", done, total));
        };
        options.before_replay = keep;
        auto result = explore::race_search(options);
        bar.finish();
        return report_race_search(o, options, seed, result);
      },
      o.watchdog_seconds);
  if (!end.crashed) return end.exit_code;
  return report_race_search(o, options, seed, crashed_race_search(end));
}


// Explores with `options` and prints the verdict: the text or the JSON summary.
int explore_and_report(const ExploreCliOptions& o, explore::ExploreOptions options, std::uint64_t seed) {
  const std::string strategy_text =
      options.strategy.kind == explore::StrategyKind::pct   ? fmt::format("pct (depth {})", o.depth)
      : options.strategy.kind == explore::StrategyKind::dfs ? fmt::format("dfs (at most {} preemptions)", o.preemptions)
                                            : std::string("random walk");
  if (!o.json)
    std::cout << fmt::format("explore: {}, up to {} schedules over {} harnesses{}{}\n", strategy_text,
                             o.schedules,
                             (options.harnesses.empty() ? explore::harness_catalog().size()
                                                        : options.harnesses.size()) +
                                 o.random_harnesses,
                             o.random_harnesses ? " (random ones included)" : "",
                             o.mutant.empty() ? "" : fmt::format(", mutant {} in the impl", o.mutant))
              << std::flush;
  ProgressLine bar(o.schedules);
  const auto started = std::chrono::steady_clock::now();
  options.progress = [&](std::uint64_t done, std::uint64_t total) {
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    bar.update(done, fmt::format("{}/{} schedules, {:.0f}/s", done, total, s > 0 ? done / s : 0.0));
  };
  auto result = explore::explore(options);
  bar.finish();
  const double per_second = result.seconds > 0 ? result.schedules / result.seconds : 0;
  std::string trace_path;
  if (result.failure && !result.failure->trace_jsonl.empty()) trace_path = write_trace(o, *result.failure, seed);
  int exit_code = result.failure ? 1 : 0;
  if (!result.failure && result.schedules > 0 && result.step_limited == result.schedules) exit_code = 3;

  if (o.json) {
    Json harnesses = Json::array();
    for (const auto& h : result.harnesses)
      harnesses.push_back(Json{{"name", h.name}, {"schedules", h.schedules}, {"complete", h.complete}});
    Json failures = Json::array();
    if (result.failure) failures.push_back(failure_json(*result.failure, trace_path));
    Json known = Json::array();
    for (const auto& [id, seen] : result.known_bugs) {
      const spec::KnownBug* bug = spec::find_known_bug(id);
      known.push_back(Json{{"id", id},
                           {"fix", bug ? std::string(bug->fix) : std::string()},
                           {"invariant", bug ? std::string(bug->invariant) : std::string()},
                           {"schedules", seen.schedules},
                           {"harness", seen.harness},
                           {"token", seen.token}});
    }
    Json out{{"strategy", o.strategy},
             {"seed", seed},
             {"depth", o.depth},
             {"preemption_bound", o.preemptions},
             {"mutant", o.mutant.empty() ? "none" : o.mutant},
             {"schedules", result.schedules},
             {"schedules_budget", o.schedules},
             {"schedule_of_failure", result.failure ? Json(result.schedule_of_failure) : Json(nullptr)},
             {"seconds", result.seconds},
             {"schedules_per_second", per_second},
             {"search_complete", result.search_complete},
             {"step_limited", result.step_limited},
             {"pruned", result.pruned},
             {"linearizability_checked", result.linearizability_checked},
             {"harnesses", harnesses},
             {"known_bugs", known},
             {"failures", failures},
             {"exit", exit_code}};
    std::cout << out.dump() << "\n";
    return exit_code;
  }
  // Known kernel bugs first: they explain violations, fail nothing.
  for (const auto& [id, seen] : result.known_bugs) {
    const spec::KnownBug* bug = spec::find_known_bug(id);
    std::cout << fmt::format("known kernel bug {} ({}, fixed by {}) in {} schedules of {}; first: "
                             "memcg-verify explore --replay {}\n",
                             id, bug ? bug->invariant : "?", bug ? bug->fix : "?", seen.schedules,
                             seen.harness, seen.token);
  }
  if (result.failure) {
    const auto& f = *result.failure;
    std::cout << fmt::format("FAILED after {} schedules ({:.2f} s): {} in harness {}, at scheduling "
                             "point {}\n  {}\n",
                             result.schedule_of_failure, result.seconds, f.kind, f.harness, f.step,
                             f.message);
    std::cout << fmt::format("  shrunk: {} -> {} operations, {} -> {} preemptions\n", f.original_ops,
                             f.ops, f.original_preemptions, f.preemptions);
    std::cout << fmt::format("  token: {}\n  rerun: memcg-verify explore --replay {}{}\n", f.token, f.token,
                             o.inject_fault.empty() ? "" : " --inject-fault " + o.inject_fault);
    if (!trace_path.empty())
      std::cout << fmt::format("  {}: {}{}\n", f.race_trace ? "race trace" : "trace (no race trace: see the token)",
                               trace_path,
                               f.race_trace ? fmt::format(" (replay --model both --mutant {}: {})",
                                                          o.mutant.empty() ? "none" : o.mutant,
                                                          f.trace_verdict)
                                            : "");
    return exit_code;
  }
  std::cout << fmt::format("OK: no failure in {} schedules ({:.2f} s, {:.0f} schedules/s); "
                           "linearizability checked on {}{}{}\n",
                           result.schedules, result.seconds, per_second,
                           result.linearizability_checked,
                           result.search_complete ? "; the bounded search is complete" : "",
                           result.step_limited ? fmt::format("; {} schedules cut by the step limit (undecided)", result.step_limited) : "");
  for (const auto& h : result.harnesses)
    std::cout << fmt::format("  {:<22} {:>8} schedules{}\n", h.name, h.schedules,
                             h.complete ? " (search complete)" : "");
  return exit_code;
}

int run_explore(ExploreCliOptions o) {
  if (o.list) return print_harnesses();
  // An overlay mutant lives on a reference-only profile: its race search.
  if (auto m = spec::parse_mutant(o.mutant);
      o.profile.empty() && m && spec::mutant_in_layer(*m, spec::kLayerOverlay)) {
    auto where = spec::mutant_profile(*m, spec::Profile::v5_2);
    if (where) {
      o.profile = std::string(spec::profile_name(*where));
      if (!o.json)
        std::cout << fmt::format("mutant {} is an overlay of the {} reference: --profile {}\n",
                                 o.mutant, o.profile, o.profile);
    }
  }
  if (!o.profile.empty()) {
    auto profile = spec::parse_profile(o.profile);
    if (!profile || !spec::traits(*profile).modeled) {
      std::cerr << fmt::format("memcg-verify explore: unknown or unmodeled profile \"{}\"\n", o.profile);
      return 2;
    }
    if (trace::impl_models(*profile)) {
      std::cerr << fmt::format("memcg-verify explore: the impl models {}: explore interleaves it "
                               "without --profile (each harness names its profile: --list); "
                               "--profile is for the profiles that run on the reference only\n",
                               o.profile);
      return 2;
    }
    return run_race_search(o, *profile);
  }
  if (!o.replay.empty()) return run_replay(o);
  explore::ExploreOptions options;
  auto kind = explore::parse_strategy(o.strategy);
  if (!kind) {
    std::cerr << fmt::format("memcg-verify explore: unknown strategy \"{}\" (random, pct, dfs)\n",
                             o.strategy);
    return 2;
  }
  if (o.schedules < 1 || o.depth < 1) {
    std::cerr << "memcg-verify explore: --schedules and --depth must be at least 1\n";
    return 2;
  }
  if (!o.mutant.empty()) {
    auto m = spec::parse_mutant(o.mutant);
    if (!m || !spec::mutant_in_layer(*m, spec::kLayerImpl)) {
      std::cerr << fmt::format(
          "memcg-verify explore: unknown mutant \"{}\" (`memcg-verify mutants --list`)\n", o.mutant);
      return 2;
    }
    options.mutant = *m;
  }
  for (const auto& name : o.harnesses) {
    auto h = explore::harness_named(name);
    if (!h) {
      std::cerr << fmt::format(
          "memcg-verify explore: unknown harness \"{}\" (`memcg-verify explore --list`)\n", name);
      return 2;
    }
    options.harnesses.push_back(std::move(*h));
  }
  const std::uint64_t seed =
      o.seed ? *o.seed : (std::uint64_t{std::random_device{}()} << 32 | std::random_device{}());
  (o.json ? std::cerr : std::cout) << fmt::format("seed: {}\n", seed) << std::flush;
  options.strategy.kind = *kind;
  options.strategy.seed = seed;
  options.strategy.depth = o.depth;
  options.strategy.preemption_bound = o.preemptions;
  options.schedules = o.schedules;
  options.random_harnesses = o.random_harnesses;
  options.shrink = !o.no_shrink;
  if (!parse_fault(o, options.fault)) return 2;
  options.watchdog_seconds = o.watchdog_seconds;
  // The exploration in a watched child; one the impl did not survive again,
  // every schedule in a child of its own, to find the schedule.
  auto end = explore::run_watched_command([&] { return explore_and_report(o, options, seed); },
                                          o.watchdog_seconds);
  if (!end.crashed) return end.exit_code;
  std::cerr << fmt::format("memcg-verify explore: the exploring process {}; exploring again from seed "
                           "{} with every schedule in a child process of its own\n",
                           end.what, seed);
  options.isolate_schedules = true;
  return explore_and_report(o, options, seed);
}

void add_explore(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<ExploreCliOptions>();
  auto* cmd = app.add_subcommand(
      "explore", "Explore interleavings of the per-CPU impl: every invariant at quiescent points, "
                 "data races, deadlocks, linearizability; failures shrunk, tokens and race traces");
  cmd->add_option("--strategy", o->strategy, "random (default), pct or dfs")
      ->check(CLI::IsMember({"random", "pct", "dfs"}));
  cmd->add_option("--schedules", o->schedules, "schedules to run over all harnesses (default 1000)");
  cmd->add_option("--seed", o->seed, "seed of the strategy (default: random, always printed)")
      ->check(kSeedDigits);
  cmd->add_option("--depth", o->depth, "pct: the bug depth d, d-1 priority change points (default 3)");
  cmd->add_option("--preemptions", o->preemptions,
                  "dfs: preemptions per schedule, at most (default 2)");
  cmd->add_option("--mutant", o->mutant, "inject this bug of the mutant catalog into the impl");
  cmd->add_option("--harness", o->harnesses,
                  "explore only this harness (repeatable; `--list`; default: every built-in one)");
  cmd->add_option("--random-harnesses", o->random_harnesses,
                  "add N random harnesses drawn from the seed (default 0)");
  cmd->add_flag("--json", o->json, "print a JSON summary (the seed line then goes to stderr)");
  cmd->add_option("--out", o->out_dir, "directory for explore-MUTANT-SEED.jsonl (default memcg-verify-out)");
  cmd->add_flag("--no-shrink", o->no_shrink, "report the first failing schedule unshrunk");
  cmd->add_option("--replay", o->replay, "rerun the schedule of a token printed by a failure");
  cmd->add_flag("--log", o->log, "with --replay: print what the schedule did, switch by switch");
  cmd->add_flag("--list", o->list, "list the built-in harnesses");
  cmd->add_option("--profile", o->profile,
                  "a profile the impl does not model (v5.2, v5.3, davydov-2014): search the "
                  "race traces of small programs over its reference (one preemption at a named "
                  "point, bounded exhaustive); --mutant then names an overlay mutant");
  cmd->add_option("--watchdog", o->watchdog_seconds,
                  "a schedule that makes no scheduling decision for this many seconds is stopped as "
                  "a model failure (default 30)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--inject-fault", o->inject_fault,
                  "internal: the impl segfaults, aborts, throws or loops on its first operation after "
                  "a harness's set-up (testing the guard: explore must fail with the schedule's "
                  "token, exit 1)")
      ->group("Internal (testing explore itself)");
  run_guarded(cmd, exit_code, [o] { return run_explore(*o); });
}

const CommandRegistration registration(add_explore);

}  // namespace
}  // namespace mv::cli
