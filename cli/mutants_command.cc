// memcg-verify mutants [--seed N] [--runs N] [--steps N] [--only NAME]...
//                      [--cpus N] [--page-size N] [--invariants-only] [--json]
//                      [--out DIR] [--jobs N] [--list [--markdown | --json]]
// Runs the conformance campaign against every mutant of the catalog
// (spec/mutant.h) injected into the impl, the reference correct, every
// invariant checked on the mutated impl too (properties/mutants.h), and prints
// one row per mutant: killed or survived, by what, the runs, steps and seconds
// to the first failing run, and the length of the shrunk counterexample. Each
// counterexample is written as DIR/mutant-NAME-SEED.jsonl and replayed
// (`replay --model both --mutant NAME`) to check that it fails at the same
// line. Exit status (docs/DESIGN.md): 0 every mutant killed and replayed, 1 a
// mutant survived or its trace does not replay, 2 usage, 3 a campaign could
// not decide. `--list` prints the catalog (`--markdown`: docs/MUTANTS.md;
// `--json`: an array of objects with at least `name` and `kind`, a contract).
// `--kernel` (or `--kernel-src DIR`) mutates the kernel's own code instead:
// each mutant with a kernel version (kernel/kernel_mutants.h) is a patched
// copy of the tree's extracted code, built into its own kernel model and run
// against the correct reference; the others are listed as not applicable.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/kernel_options.h"
#include "kernel/kernel_mutants.h"
#include "kernel/kernel_subject.h"
#include "cli/tap.h"
#include "properties/mutants.h"
#include "properties/worker_pool.h"
#include "spec/mutant.h"
#include "spec/profile.h"

namespace mv::cli {
namespace {

using Json = nlohmann::ordered_json;

struct MutantsOptions {
  std::optional<std::uint64_t> seed;
  int runs = 1000;
  int steps = 100;
  std::vector<std::string> only;
  std::optional<std::uint32_t> cpus;
  std::optional<std::uint64_t> page_size;
  bool invariants_only = false;
  bool json = false;
  bool tap = false;
  std::string out_dir = kDefaultOutDir;
  bool list = false;
  bool markdown = false;
  unsigned jobs = 1;
  bool kernel = false;
  double watchdog_seconds = 30;
  KernelOptions kernel_options;
};

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const std::size_t mid = values.size() / 2;
  return values.size() % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

// The catalog entry as JSON: every field of spec::MutantInfo, and the upstream
// fix of the bug catalog it re-injects (null for none).
Json catalog_entry_json(const spec::MutantInfo& info) {
  Json layers = Json::array();
  if (info.layers) {
    const std::string text = spec::mutant_layers_text(info.layers);  // "impl, reference"
    for (std::size_t start = 0; start < text.size();) {
      const auto comma = text.find(", ", start);
      layers.push_back(text.substr(start, comma - start));
      start = comma == std::string::npos ? text.size() : comma + 2;
    }
  }
  Json fixes = nullptr;
  for (const auto& bug : spec::kernel_bug_catalog())
    if (std::find(bug.entries.begin(), bug.entries.end(), info.name) != bug.entries.end())
      fixes = std::string(bug.fix);
  auto text_or_null = [](std::string_view text) { return text.empty() ? Json(nullptr) : Json(text); };
  return Json{{"name", info.name},
              {"kind", spec::mutant_kind_name(info.kind)},
              {"expressible", info.mutant.has_value()},
              {"layers", layers},
              {"commit", text_or_null(info.commit)},
              {"bug_catalog_fix", fixes},
              {"function", text_or_null(info.function)},
              {"bug", text_or_null(info.bug)},
              {"description", text_or_null(info.description)},
              {"not_expressible", text_or_null(info.not_expressible)}};
}

// The kernel versions of the mutants: the patches, or why there is none.
int print_kernel_list() {
  for (const auto& km : kernel::kernel_mutants()) {
    if (km.mutant == spec::Mutant::none) continue;
    std::cout << spec::mutant_name(km.mutant) << "\n";
    if (km.patches.empty()) std::cout << fmt::format("    not expressible: {}\n", km.not_expressible);
    for (const auto& p : km.patches)
      std::cout << fmt::format("    {} {}: \"{}\" -> \"{}\"\n", p.file, p.chunk, p.from, p.to);
  }
  return 0;
}

int print_list(const MutantsOptions& o) {
  if (o.kernel) return print_kernel_list();
  if (o.markdown) {
    std::cout << spec::render_mutants_markdown();
    return 0;
  }
  if (o.json) {
    Json list = Json::array();
    for (const auto& info : spec::mutant_catalog())
      if (info.mutant != spec::Mutant::none) list.push_back(catalog_entry_json(info));
    std::cout << list.dump() << "\n";
    return 0;
  }
  // One row per entry; the upstream fix in full on its own line (it is often
  // a commit id with its subject, or a description).
  // The layers (impl, reference, overlay, kernel) say where --mutant injects
  // it; the first two columns stay the name and the kind (scripts read them).
  std::cout << fmt::format("{:<32} {:<12} {:<26} {}\n", "mutant", "kind", "layers", "kernel function");
  for (const auto& info : spec::mutant_catalog()) {
    if (info.mutant == spec::Mutant::none) continue;
    const std::string layers = info.layers ? spec::mutant_layers_text(info.layers) : "-";
    std::cout << fmt::format("{:<32} {:<12} {:<26} {}\n", info.name, spec::mutant_kind_name(info.kind),
                             layers, info.function);
    if (!info.commit.empty()) std::cout << fmt::format("    fix: {}\n", info.commit);
    if (!info.mutant) std::cout << fmt::format("    not expressible: {}\n", info.not_expressible);
  }
  return 0;
}

struct Row {
  properties::MutantResult result;
  std::string trace_path;
  bool replayed = false;
  std::string replay_problem;
  std::string not_applicable;  // --kernel: why the tree has no version of it
};

std::string status_text(const Row& row) {
  if (!row.not_applicable.empty()) return "n/a";
  if (!row.result.error.empty()) return "UNDECIDED";
  if (!row.result.killed) return "SURVIVED";
  return row.replayed ? "killed" : "killed*";
}

void print_header() {
  std::cout << fmt::format("{:<31} {:<10} {:<9} {:>5} {:>7} {:>8} {:>6}  {}\n", "mutant", "kind",
                           "result", "runs", "steps", "seconds", "shrunk", "killed by")
            << std::string(120, '-') << "\n";
}

void print_row(const Row& row) {
  const auto& r = row.result;
  const auto& info = spec::mutant_info(r.mutant);
  // A mutant run on another profile than the campaign's says so.
  const std::string on = r.profile == spec::Profile::v6_6
                             ? std::string()
                             : fmt::format(" [on {}]", spec::profile_name(r.profile));
  if (!row.not_applicable.empty())
    std::cout << fmt::format("{:<31} {:<10} {:<9} {:>5} {:>7} {:>8} {:>6}  {}\n", info.name,
                             spec::mutant_kind_name(info.kind), status_text(row), "-", "-", "-", "-",
                             row.not_applicable);
  else if (r.killed)
    std::cout << fmt::format("{:<31} {:<10} {:<9} {:>5} {:>7} {:>8.3f} {:>6}  {}{}\n", info.name,
                             spec::mutant_kind_name(info.kind), status_text(row), r.runs_to_kill,
                             r.steps_to_kill, r.seconds_to_kill, r.shrunk_steps,
                             properties::killed_by_text(r), on);
  else
    std::cout << fmt::format("{:<31} {:<10} {:<9} {:>5} {:>7} {:>8.3f} {:>6}  {}\n", info.name,
                             spec::mutant_kind_name(info.kind), status_text(row), r.runs, r.steps,
                             r.seconds, "-", r.error.empty() ? "-" : r.error);
  std::cout << std::flush;
}

Json row_json(const Row& row) {
  const auto& r = row.result;
  const auto& info = spec::mutant_info(r.mutant);
  Json invariants = Json::array();
  for (const auto& id : r.invariants) invariants.push_back(id);
  return Json{{"mutant", info.name},
              {"kind", spec::mutant_kind_name(info.kind)},
              {"profile", spec::profile_name(r.profile)},
              {"commit", info.commit},
              {"function", info.function},
              {"killed", r.killed},
              {"error", r.error.empty() ? Json(nullptr) : Json(r.error)},
              {"killed_by", properties::killed_by_text(r)},
              {"failure_kind", r.kind},
              {"failure", r.message},
              {"failure_line", r.failure ? Json(r.failure->failure.line) : Json(nullptr)},
              {"invariants", invariants},
              {"runs_to_kill", r.runs_to_kill},
              {"steps_to_kill", r.steps_to_kill},
              {"seconds_to_kill", r.seconds_to_kill},
              {"shrunk_steps", r.shrunk_steps},
              {"runs", r.runs},
              {"steps", r.steps},
              {"seconds", r.seconds},
              {"trace", row.trace_path.empty() ? Json(nullptr) : Json(row.trace_path)},
              {"replayed", row.replayed},
              {"replay_problem", row.replay_problem.empty() ? Json(nullptr) : Json(row.replay_problem)},
              {"reproduce", r.reproduce_token},
              {"not_applicable", row.not_applicable.empty() ? Json(nullptr) : Json(row.not_applicable)}};
}

std::string write_trace(const MutantsOptions& o, const Row& row, std::uint64_t seed) {
  std::filesystem::path dir(o.out_dir);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  auto path = (dir / fmt::format("mutant-{}-{}.jsonl", spec::mutant_name(row.result.mutant), seed))
                  .string();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << row.result.failure->trace_jsonl;
  if (!out.flush()) {
    std::cerr << fmt::format("memcg-verify mutants: cannot write {}\n", path);
    return {};
  }
  return path;
}

int run_mutants(MutantsOptions o) {
  if (o.kernel_options.given()) o.kernel = true;
  if (o.list) return print_list(o);
  if (o.kernel && o.invariants_only) {
    std::cerr << "memcg-verify mutants: --invariants-only puts the mutated impl in the reference's "
                 "seat too; with --kernel the reference stays correct\n";
    return 2;
  }
  std::vector<spec::Mutant> mutants;
  if (o.only.empty()) {
    mutants = spec::all_mutants();
  } else {
    for (const auto& name : o.only) {
      auto m = spec::parse_mutant(name);
      if (!m || *m == spec::Mutant::none) {
        std::cerr << fmt::format("memcg-verify mutants: unknown mutant \"{}\" (--list names them)\n",
                                 name);
        return 2;
      }
      mutants.push_back(*m);
    }
  }
  if (o.runs < 1 || o.steps < 1) {
    std::cerr << "memcg-verify mutants: --runs and --steps must be at least 1\n";
    return 2;
  }
  spec::Config probe;
  probe.ncpus = o.cpus.value_or(4);
  probe.page_size_bytes = o.page_size.value_or(4096);
  if (auto problem = spec::config_problem(probe); !problem.empty()) {
    std::cerr << fmt::format("memcg-verify mutants: {}\n", problem);
    return 2;
  }
  const std::uint64_t seed = o.seed ? *o.seed : (std::uint64_t{std::random_device{}()} << 32 |
                                                std::random_device{}());
  (o.json || o.tap ? std::cerr : std::cout) << fmt::format("seed: {}\n", seed) << std::flush;
  if (!o.json && !o.tap) {
    std::cout << fmt::format(
        "mutant campaign: each mutant in the {}{}, up to {} runs of up to {} steps; runs, steps "
        "and seconds to the first failing run, shrunk = operations in the shrunk "
        "counterexample\n",
        o.kernel ? "kernel's code" : "impl",
        o.invariants_only ? ", and in the reference's seat (only invariants can kill)" : ", the reference correct",
        o.runs, o.steps);
    print_header();
  }

  properties::MutantCampaignOptions campaign;
  campaign.seed = seed;
  campaign.runs = o.runs;
  campaign.max_steps = o.steps;
  campaign.configs = properties::ConfigChoice{spec::Profile::v6_6, o.cpus, o.page_size};
  campaign.invariants_only = o.invariants_only;
  campaign.watchdog_seconds = o.watchdog_seconds;

  // One task per mutant, on --jobs worker processes; rows are printed in
  // catalog order as soon as every row before them is in.
  std::vector<std::size_t> tasks(mutants.size());
  for (std::size_t i = 0; i < tasks.size(); ++i) tasks[i] = i;
  std::vector<std::optional<Row>> done(mutants.size());
  std::size_t printed = 0;
  properties::run_tasks(
      tasks, o.jobs,
      [&](std::size_t i) {
        Row row;
        row.result.mutant = mutants[i];
        auto mutant_campaign = campaign;
        // --kernel: the mutant's kernel model, the tree with its patches,
        // built (or found in the cache) here; a mutant without a kernel
        // version is not applicable.
        if (o.kernel) {
          KernelOptions mutated = o.kernel_options;
          mutated.kernel_mutant = std::string(spec::mutant_name(mutants[i]));
          try {
            const auto& km = kernel::kernel_mutant(mutants[i]);
            if (km.patches.empty()) throw std::runtime_error(std::string(km.not_expressible));
            mutant_campaign.kernel = mutated.open();
            mutant_campaign.kernel_flags = mutated.flags();
            mutant_campaign.configs.profile = mutant_campaign.kernel->profile();
          } catch (const std::exception& e) {
            row.not_applicable = e.what();
          }
        }
        if (row.not_applicable.empty()) {
          row.result = properties::run_mutant_campaign(mutants[i], mutant_campaign);
          if (row.result.killed) {
            row.trace_path = write_trace(o, row, seed);
            row.replayed = properties::replay_reproduces(row.result, o.invariants_only, &row.replay_problem,
                                                         mutant_campaign.kernel);
          }
        }
        return Json{{"result", properties::mutant_result_json(row.result)},
                    {"trace", row.trace_path},
                    {"replayed", row.replayed},
                    {"replay_problem", row.replay_problem},
                    {"not_applicable", row.not_applicable}}
            .dump();
      },
      [&](const properties::TaskOutput& out) {
        Row row;
        if (out.ok) {
          const auto j = Json::parse(out.text);
          row.result = properties::mutant_result_from_json(j.at("result"));
          row.trace_path = j.at("trace");
          row.replayed = j.at("replayed");
          row.replay_problem = j.at("replay_problem");
          row.not_applicable = j.value("not_applicable", "");
        } else {
          row.result.mutant = mutants[out.task];
          row.result.error = out.problem;
        }
        done[out.task] = std::move(row);
        while (printed < done.size() && done[printed]) {
          if (!o.json && !o.tap && (!quiet() || !done[printed]->result.killed)) print_row(*done[printed]);
          ++printed;
        }
        return true;
      });
  std::vector<Row> rows;
  for (auto& row : done) rows.push_back(std::move(*row));

  std::size_t killed = 0, survived = 0, undecided = 0, not_replayed = 0, unwritten = 0;
  std::vector<double> steps, seconds, shrunk;
  for (const auto& row : rows) {
    const auto& r = row.result;
    if (!row.not_applicable.empty()) continue;
    if (!r.error.empty()) ++undecided;
    else if (!r.killed) ++survived;
    if (!r.killed) continue;
    ++killed;
    if (!row.replayed) ++not_replayed;
    if (row.trace_path.empty()) ++unwritten;  // write_trace said why
    steps.push_back(static_cast<double>(r.steps_to_kill));
    seconds.push_back(r.seconds_to_kill);
    shrunk.push_back(static_cast<double>(r.shrunk_steps));
  }
  int exit_code = 0;
  if (survived || not_replayed) exit_code = 1;
  else if (undecided) exit_code = 3;
  // An output that could not be written is exit 2, whatever the campaign found
  // (docs/DESIGN.md).
  if (unwritten) exit_code = 2;

  if (o.json) {
    Json list = Json::array();
    for (const auto& row : rows) list.push_back(row_json(row));
    std::cout << Json{{"seed", seed},
                      {"runs", o.runs},
                      {"steps", o.steps},
                      {"invariants_only", o.invariants_only},
                      {"mutants", list},
                      {"killed", killed},
                      {"survived", survived},
                      {"undecided", undecided},
                      {"not_replayed", not_replayed},
                      {"unwritten", unwritten},
                      {"median_steps_to_kill", median(steps)},
                      {"median_seconds_to_kill", median(seconds)},
                      {"median_shrunk_steps", median(shrunk)},
                      {"exit", exit_code}}
                     .dump()
              << "\n";
    return exit_code;
  }
  if (o.tap) {
    // One test point per mutant: killed (and replayed) is ok, survived or not
    // replayed is not ok, a campaign that could not run is skipped.
    std::cout << tap_header(rows.size()) << fmt::format("# seed: {}\n", seed);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto& r = rows[i].result;
      const bool undecided_row = !r.killed && !r.error.empty();
      std::vector<std::string> reasons;
      if (!r.killed) reasons.push_back(fmt::format("survived {} runs, {} steps", r.runs, r.steps));
      else if (!rows[i].replayed) reasons.push_back("its counterexample does not replay: " + rows[i].replay_problem);
      std::cout << tap_point(i + 1, (r.killed && rows[i].replayed) || undecided_row,
                             spec::mutant_name(r.mutant), reasons, undecided_row ? r.error : std::string());
    }
    return exit_code;
  }
  std::cout << fmt::format(
      "{} of {} mutants killed; median to kill: {:.0f} steps, {:.3f} s; median shrunk "
      "counterexample: {:.0f} operations\n",
      killed, rows.size(), median(steps), median(seconds), median(shrunk));
  if (killed && !quiet())
    std::cout << fmt::format(
        "counterexamples: {}/mutant-NAME-{}.jsonl; replay one: memcg-verify replay FILE {}\n",
        o.out_dir, seed,
        o.kernel ? fmt::format("--model reference,kernel{} --kernel-mutant NAME",
                               o.kernel_options.kernel_src.empty()
                                   ? std::string()
                                   : " --kernel-src " + o.kernel_options.kernel_src)
                 : fmt::format("--mutant auto (its header note says --model {} --mutant NAME)",
                               o.invariants_only ? "impl" : "both"));
  for (const auto& row : rows)
    if (row.result.killed && !row.replayed)
      std::cout << fmt::format("FAILED: the counterexample of {} does not replay: {}\n",
                               spec::mutant_name(row.result.mutant), row.replay_problem);
  if (unwritten)
    std::cout << fmt::format("FAILED: {} counterexample{} could not be written to {}\n", unwritten,
                             unwritten == 1 ? "" : "s", o.out_dir);
  if (survived)
    std::cout << fmt::format("FAILED: {} mutant{} survived (more --runs or --steps, or a generator "
                             "bias toward its path?)\n",
                             survived, survived == 1 ? "" : "s");
  else if (undecided)
    std::cout << "UNDECIDED: a campaign could not run to a verdict\n";
  else if (!not_replayed)
    std::cout << "OK: every mutant was killed and its shrunk counterexample replays\n";
  return exit_code;
}

void add_mutants(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<MutantsOptions>();
  auto* cmd = app.add_subcommand(
      "mutants", "Mutant campaign: the conformance campaign against every catalogued bug injected "
                 "into the impl; fails if one survives");
  cmd->add_option("--seed", o->seed, "seed of every mutant's campaign (default: random, printed)")
      ->check(kSeedDigits);
  cmd->add_option("--runs", o->runs, "runs per mutant before it counts as a survivor (default 1000)");
  cmd->add_option("--steps", o->steps, "at most N operations per run (default 100)");
  cmd->add_option("--only", o->only, "only this mutant (repeatable)");
  cmd->add_option("--cpus", o->cpus, "CPUs (default: 1-4, drawn per run)");
  cmd->add_option("--page-size", o->page_size, "PAGE_SIZE in bytes (default: 4K, 16K or 64K per run)");
  cmd->add_flag("--invariants-only", o->invariants_only,
                "put the mutated impl in the reference's seat too (the reference has no mutants), so "
                "that only the invariants can kill it (replay the traces with --model impl)");
  cmd->add_flag("--json", o->json,
                "print a JSON summary (the seed line then goes to stderr); with --list: the catalog "
                "as a JSON array");
  cmd->add_option("--out", o->out_dir,
                  fmt::format("directory for mutant-NAME-SEED.jsonl (default {})", kDefaultOutDir));
  cmd->add_option("--jobs", o->jobs,
                  "worker processes, one mutant each at a time (default 1); the table is the same "
                  "whatever N");
  cmd->add_flag("--tap", o->tap, "print TAP version 13, one test point per mutant (the seed on stderr)");
  cmd->add_flag("--list", o->list, "print the mutant catalog and exit");
  cmd->add_flag("--markdown", o->markdown, "with --list: docs/MUTANTS.md");
  cmd->add_flag("--kernel", o->kernel,
                "mutate the kernel's own code (the default tree, or --kernel-src) instead of the "
                "impl: each mutant with a kernel version is a patched tree");
  cmd->add_option("--watchdog", o->watchdog_seconds,
                  "seconds a mutant's campaign may go without a checked step before the mutated "
                  "subject counts as looping (a model failure, with its trace; default 30)")
      ->check(CLI::PositiveNumber);
  o->kernel_options.add_to(cmd);
  run_guarded(cmd, exit_code, [o] { return run_mutants(*o); });
}

const CommandRegistration registration(add_mutants);

}  // namespace
}  // namespace mv::cli
