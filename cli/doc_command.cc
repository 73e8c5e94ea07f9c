// memcg-verify doc [--out FILE [--check]]
// Prints the invariants document generated from the executable spec
// (spec::render_invariants_markdown) with the lemmas that support each
// invariant: to stdout, or to FILE with --out (docs/INVARIANTS.md is
// `doc --out docs/INVARIANTS.md`); --check only compares with FILE and exits 1
// when it is stale.
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/generated_file.h"
#include "cli/lemma_index.h"
#include "spec/invariants.h"

namespace mv::cli {
namespace {

struct DocOptions {
  std::string out;  // empty or "-": stdout
  bool check = false;
};

int run_doc(const DocOptions& options) {
  if (options.check && (options.out.empty() || options.out == "-")) {
    std::cerr << "memcg-verify doc: --check needs --out FILE, the file to compare\n";
    return 2;
  }
  auto text = spec::render_invariants_markdown(lemmas_by_invariant());
  if (options.out.empty() || options.out == "-") {
    std::cout << text;
    return 0;
  }
  if (options.check)
    return check_generated(options.out, text, "",
                           fmt::format("`memcg-verify doc --out {}` (from a build that links the "
                                       "proofs)", options.out));
  return write_generated("doc", options.out, text);
}

void add_doc(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<DocOptions>();
  auto* cmd = app.add_subcommand(
      "doc", "Print the invariants document (docs/INVARIANTS.md) generated from the executable spec");
  cmd->add_option("--out", options->out,
                  "write it to this file instead of stdout (docs/INVARIANTS.md: --out "
                  "docs/INVARIANTS.md)");
  cmd->add_flag("--check", options->check,
                "with --out FILE: compare only; exit 1 when the file is stale");
  run_guarded(cmd, exit_code, [options] { return run_doc(*options); });
}

const CommandRegistration registration(add_doc);

}  // namespace
}  // namespace mv::cli
