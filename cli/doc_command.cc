// memcg-verify doc [--out docs/INVARIANTS.md] [--check]
// Writes the invariants document generated from the executable spec
// (spec::render_invariants_markdown) with the lemmas that support each
// invariant; --check only compares and exits 1 when the file is stale.
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/lemma_index.h"
#include "spec/invariants.h"

namespace mv::cli {
namespace {

struct DocOptions {
  std::string out = "docs/INVARIANTS.md";
  bool check = false;
};

int run_doc(const DocOptions& options) {
  auto text = spec::render_invariants_markdown(lemmas_by_invariant());
  if (options.out == "-") {
    std::cout << text;
    return 0;
  }
  if (options.check) {
    std::ifstream in(options.out, std::ios::binary);
    std::string current{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (in && current == text) {
      std::cout << fmt::format("{} is up to date\n", options.out);
      return 0;
    }
    std::cerr << fmt::format(
        "{} is {}: regenerate it with `memcg-verify doc --out {}` (from a build that links the "
        "proofs) and commit it\n",
        options.out, in ? "stale" : "missing", options.out);
    return 1;
  }
  std::ofstream out(options.out, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) {
    std::cerr << fmt::format("memcg-verify doc: cannot write {}\n", options.out);
    return 2;
  }
  std::cout << fmt::format("wrote {}\n", options.out);
  return 0;
}

void add_doc(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<DocOptions>();
  auto* cmd = app.add_subcommand("doc", "Generate docs/INVARIANTS.md from the executable spec");
  cmd->add_option("--out", options->out, "where to write it (- for stdout)");
  cmd->add_flag("--check", options->check, "compare only; exit 1 when the file is stale");
  run_guarded(cmd, exit_code, [options] { return run_doc(*options); });
}

const CommandRegistration registration(add_doc);

}  // namespace
}  // namespace mv::cli
