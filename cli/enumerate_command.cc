// memcg-verify enumerate [--depth K] [--cpus N] [--page-size N] [--mutant NAME]
//                        [--no-dedup] [--json] [--out DIR]
// Exhaustive small scope (enumerate/search.h): every operation string up to
// depth K over a small alphabet (enumerate/alphabet.h) after a fixed
// prologue, reference and impl in lock-step, every invariant at every state,
// deduplicated by a canonical state key (the search is over states). Prints
// the strings checked, the distinct states and states/s, and the first
// (shortest) counterexample as a trace (DIR/enumerate-failure.jsonl) that
// `memcg-verify replay --model both` replays. Exit status (docs/DESIGN.md): 0
// every state agrees and holds, 1 a counterexample, 2 usage.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "enumerate/search.h"
#include "properties/failure_trace.h"

namespace mv::cli {
namespace {

using Json = nlohmann::ordered_json;

struct EnumerateOptions {
  std::uint32_t depth = 4;
  std::uint32_t cpus = 2;
  std::uint64_t page_size = 4096;
  std::string mutant;
  bool no_dedup = false;
  bool json = false;
  std::string out_dir = kDefaultOutDir;
};

std::string write_counterexample(const EnumerateOptions& o, const enumerate::Counterexample& c) {
  std::error_code ec;
  std::filesystem::create_directories(o.out_dir, ec);
  const auto path = (std::filesystem::path(o.out_dir) / "enumerate-failure.jsonl").string();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  // The header note says how it was found and how to replay it
  // (docs/TRACE_FORMAT.md; `replay --mutant auto` reads it).
  const auto found_by = fmt::format("memcg-verify enumerate --depth {} --cpus {} --page-size {}{}{}",
                                    o.depth, o.cpus, o.page_size, o.no_dedup ? " --no-dedup" : "",
                                    o.mutant.empty() ? std::string() : " --mutant " + o.mutant);
  out << properties::with_header_note(
      c.trace_jsonl, properties::replay_note(found_by, "both",
                                             o.mutant.empty() ? spec::Mutant::none
                                                              : *spec::parse_mutant(o.mutant)));
  if (!out.flush()) throw std::runtime_error(fmt::format("cannot write {}", path));
  return path;
}

int run_enumerate(const EnumerateOptions& o) {
  enumerate::SearchOptions search;
  search.config.ncpus = o.cpus;
  search.config.page_size_bytes = o.page_size;
  search.depth = o.depth;
  search.dedup = !o.no_dedup;
  if (auto problem = spec::config_problem(search.config); !problem.empty()) {
    std::cerr << fmt::format("memcg-verify enumerate: {}\n", problem);
    return 2;
  }
  if (o.cpus < 2) {
    std::cerr << "memcg-verify enumerate: the alphabet frees and runs on CPU 1: --cpus must be at least 2\n";
    return 2;
  }
  if (!o.mutant.empty()) {
    auto mutant = spec::parse_mutant(o.mutant);
    if (!mutant) {
      std::cerr << fmt::format("memcg-verify enumerate: unknown mutant \"{}\" (memcg-verify "
                               "mutants --list names them)\n", o.mutant);
      return 2;
    }
    search.mutant = *mutant;
  }
  if (!o.json) {
    std::cout << fmt::format("enumerate: every string up to depth {} after the prologue (", o.depth);
    bool first = true;
    for (const auto& l : enumerate::prologue())
      std::cout << (first ? "" : ", ") << l.name, first = false;
    std::cout << fmt::format("); {} cpus, page size {}{}\nalphabet:", o.cpus, o.page_size,
                             o.mutant.empty() ? std::string() : "; mutant " + o.mutant + " in the impl");
    for (const auto& l : enumerate::small_alphabet(search.config)) std::cout << " [" << l.name << "]";
    std::cout << "\n" << std::flush;
  }
  const auto result = enumerate::search(search);
  std::string trace_path;
  if (result.first) trace_path = write_counterexample(o, *result.first);
  const int exit_code = result.violations ? 1 : 0;

  if (o.json) {
    Json levels = Json::array();
    for (const auto& l : result.levels)
      levels.push_back(Json{{"depth", l.depth}, {"sequences", l.sequences}, {"new_states", l.new_states}});
    Json first = nullptr;
    if (result.first) {
      Json letters = Json::array();
      for (const auto& l : result.first->letters) letters.push_back(l);
      first = Json{{"letters", letters},
                   {"line", result.first->failure.line},
                   {"kind", result.first->failure.kind},
                   {"message", result.first->failure.message},
                   {"trace", trace_path}};
    }
    std::cout << Json{{"sequences", result.sequences},
                      {"states", result.states},
                      {"violations", result.violations},
                      {"depth", o.depth},
                      {"dedup", !o.no_dedup},
                      {"alphabet", result.alphabet_size},
                      {"cpus", o.cpus},
                      {"page_size", o.page_size},
                      {"mutant", o.mutant.empty() ? Json(nullptr) : Json(o.mutant)},
                      {"steps", result.steps},
                      {"seconds", result.seconds},
                      {"states_per_second", result.states_per_second()},
                      {"levels", levels},
                      {"first_counterexample", first},
                      {"exit", exit_code}}
                     .dump()
              << "\n";
    return exit_code;
  }
  std::cout << fmt::format("  {:>5}  {:>12}  {:>10}\n", "depth", "sequences", "new states");
  for (const auto& l : result.levels)
    std::cout << fmt::format("  {:>5}  {:>12}  {:>10}\n", l.depth, l.sequences, l.new_states);
  std::cout << fmt::format("{} sequences, {} distinct states, {} steps in {:.1f} s ({:.0f} states/s)\n",
                           result.sequences, result.states, result.steps, result.seconds,
                           result.states_per_second());
  if (result.first) {
    const auto& c = *result.first;
    std::string word;
    for (const auto& l : c.letters) word += (word.empty() ? "" : ", ") + l;
    std::cout << fmt::format("FAILED: {} failing sequence{}; the first (shortest): [{}]\n  line {}: {}: {}\n",
                             result.violations, result.violations == 1 ? "" : "s", word,
                             c.failure.line, c.failure.kind, c.failure.message)
              << fmt::format("trace: {}\nreplay: memcg-verify replay {} --model both{}\n", trace_path,
                             trace_path, o.mutant.empty() ? std::string() : " --mutant " + o.mutant);
    return exit_code;
  }
  std::cout << "OK: every state reached agrees (reference and impl) and every invariant holds\n";
  return exit_code;
}

void add_enumerate(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<EnumerateOptions>();
  auto* cmd = app.add_subcommand(
      "enumerate", "Exhaustive small scope: every operation string up to a depth over a small "
                   "alphabet, deduplicated by state, reference and impl in lock-step, every invariant");
  cmd->add_option("--depth", o->depth, "longest string after the prologue (default 4)");
  cmd->add_option("--cpus", o->cpus, "CPUs (default 2; at least 2)");
  cmd->add_option("--page-size", o->page_size, "PAGE_SIZE in bytes (default 4096)");
  cmd->add_option("--mutant", o->mutant,
                  "inject this bug of the mutant catalog into the impl (the search must find it)");
  cmd->add_flag("--no-dedup", o->no_dedup, "extend every string, not only new states (a search over strings)");
  cmd->add_flag("--json", o->json, "print a JSON summary: {\"sequences\",\"states\",\"violations\",...}");
  cmd->add_option("--out", o->out_dir,
                  fmt::format("directory for enumerate-failure.jsonl (default {})", kDefaultOutDir));
  run_guarded(cmd, exit_code, [o] { return run_enumerate(*o); });
}

const CommandRegistration registration(add_enumerate);

}  // namespace
}  // namespace mv::cli
