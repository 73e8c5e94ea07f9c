// memcg-verify prove [--only NAME] [--json] [--rlimit N] [--timeout-ms N] [--jobs N]
// Runs the Z3 lemmas of proofs/ (proofs/lemma.h) at every width where each is
// meaningful (LP64, ILP32) and PAGE_SIZE 4K/16K/64K, one row per combination.
// Exit (docs/DESIGN.md): 0 every row proved or refuted as its lemma expects; 1 a
// row refuted, vacuous, or proved where a refutation was expected; 3 a row
// undecided (solver unknown: the row's deterministic Z3 resource budget, --rlimit,
// ran out, or the wall-clock backstop, --timeout-ms, hit); 2 usage (unknown --only name).
#include <chrono>
#include <ctime>
#include <iostream>
#include <limits>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "proofs/lemma.h"

namespace mv::cli {
namespace {

struct ProveOptions {
  std::string only;
  bool json = false;
  proofs::Budget budget;
  unsigned jobs = proofs::default_jobs();
};

std::string invariants_text(const proofs::Lemma& lemma) {
  std::string out;
  for (const auto& id : lemma.invariants) out += (out.empty() ? "" : ",") + id;
  return out;
}

// "proved", "refuted (expected)", or the unexpected outcome in capitals.
std::string verdict_text(const proofs::LemmaRow& row) {
  std::string outcome(proofs::outcome_name(row.result.outcome));
  if (row.as_expected()) return row.expected == proofs::Outcome::proved ? outcome : outcome + " (expected)";
  if (row.result.outcome == proofs::Outcome::unknown) return "UNKNOWN";
  std::string text;
  for (char ch : outcome) text += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return text + fmt::format(" (expected {})", proofs::outcome_name(row.expected));
}

std::string abi_text(const proofs::LemmaRow& row) { return row.config.long_bits == 64 ? "LP64" : "ILP32"; }

nlohmann::json row_json(const proofs::LemmaRow& row) {
  nlohmann::json parts = nlohmann::json::array();
  for (const auto& part : row.result.parts)
    parts.push_back({{"part", part.what}, {"seconds", part.seconds}, {"rlimit", part.rlimit}});
  return {{"lemma", row.lemma->name},
          {"stem", row.lemma->stem},
          {"invariants", row.lemma->invariants},
          {"statement", row.lemma->statement},
          {"bounds", row.lemma->bounds},
          {"long_bits", row.config.long_bits},
          {"page_size", row.config.page.size_bytes},
          {"outcome", proofs::outcome_name(row.result.outcome)},
          {"expected", proofs::outcome_name(row.expected)},
          {"as_expected", row.as_expected()},
          {"seconds", row.result.seconds},
          {"rlimit", row.result.rlimit},
          {"detail", row.result.detail},
          {"parts", parts}};
}

int run_prove(const ProveOptions& options) {
  if (!options.only.empty() && !proofs::find_lemma(options.only)) {
    std::cerr << fmt::format("memcg-verify prove: --only {}: no such lemma; lemmas:\n", options.only);
    for (const auto& lemma : proofs::lemma_registry()) std::cerr << "  " << lemma.name << "\n";
    return 2;
  }
  std::size_t width = 5;
  for (const auto& lemma : proofs::lemma_registry()) width = std::max(width, lemma.name.size());
  if (!options.json) {
    std::cout << fmt::format("{:<{}}  {:<5}  {:>5}  {:<24}  {:>7}  {}\n", "lemma", width, "ABI", "PAGE",
                             "outcome", "seconds", "invariants");
  }
  auto on_row = [&](const proofs::LemmaRow& row) {
    if (options.json) return;
    std::cout << fmt::format("{:<{}}  {:<5}  {:>4}K  {:<24}  {:>7.2f}  {}\n", row.lemma->name, width, abi_text(row),
                             row.config.page.size_bytes / 1024, verdict_text(row), row.result.seconds,
                             invariants_text(*row.lemma));
    // A refutation is the finding: print its counterexample; and why a row failed.
    if (!row.result.detail.empty() &&
        (row.result.outcome == proofs::Outcome::refuted || !row.as_expected()))
      std::cout << fmt::format("{:<{}}    {}\n", "", width, row.result.detail);
    std::cout.flush();
  };
  auto start = std::chrono::steady_clock::now();
  std::clock_t cpu_start = std::clock();
  auto rows = proofs::run_lemmas(options.only, options.budget, options.jobs, on_row);
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  double cpu = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
  int code = proofs::exit_code(rows);

  std::size_t as_expected = 0, undecided = 0;
  const proofs::LemmaRow* slowest = nullptr;
  for (const auto& row : rows) {
    if (row.as_expected()) ++as_expected;
    if (row.result.outcome == proofs::Outcome::unknown) ++undecided;
    if (!slowest || row.result.seconds > slowest->result.seconds) slowest = &row;
  }
  if (options.json) {
    nlohmann::json out{{"rows", nlohmann::json::array()},
                       {"summary",
                        {{"rows", rows.size()},
                         {"as_expected", as_expected},
                         {"undecided", undecided},
                         {"wall_seconds", wall},
                         {"cpu_seconds", cpu},
                         {"jobs", options.jobs},
                         {"timeout_ms", options.budget.timeout_ms},
                         {"rlimit", options.budget.rlimit},
                         {"exit", code}}}};
    for (const auto& row : rows) out["rows"].push_back(row_json(row));
    std::cout << out.dump(2) << "\n";
    return code;
  }
  std::cout << fmt::format("prove: {} rows, {} as expected, {} undecided; {:.1f} s wall, {:.1f} s CPU on {} jobs",
                           rows.size(), as_expected, undecided, wall, cpu, options.jobs);
  if (slowest)
    std::cout << fmt::format("; slowest {} ({}, {}K) {:.2f} s", slowest->lemma->name, abi_text(*slowest),
                             slowest->config.page.size_bytes / 1024, slowest->result.seconds);
  std::cout << "\n";
  return code;
}

void add_prove(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<ProveOptions>();
  auto* cmd = app.add_subcommand(
      "prove", "Run the Z3 lemmas about the charge/uncharge arithmetic (every width and PAGE_SIZE)");
  cmd->add_option("--only", options->only, "run only the lemma NAME");
  cmd->add_flag("--json", options->json, "print one JSON object instead of the table");
  cmd->add_option("--rlimit", options->budget.rlimit,
                  "Z3 resource units per row (deterministic: decides undecided rows)")
      ->check(CLI::Range(std::uint64_t{1}, std::numeric_limits<std::uint64_t>::max()));
  cmd->add_option("--timeout-ms", options->budget.timeout_ms,
                  "wall-clock backstop per row against a hang, in milliseconds")
      ->check(CLI::Range(1u, 3600u * 1000u));
  cmd->add_option("--jobs", options->jobs, "rows decided in parallel (default: 2 cores)")
      ->check(CLI::Range(1u, 64u));
  // An exception here is the solver failing to decide: undecided, not bad input.
  run_guarded(cmd, exit_code, [options] { return run_prove(*options); }, 3);
}

const CommandRegistration registration(add_prove);

}  // namespace
}  // namespace mv::cli
