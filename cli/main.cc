// memcg-verify: the command line over every layer.
#include <CLI/CLI.hpp>

#include "cli/commands.h"

namespace mv::cli {
std::vector<CommandAdder>& command_adders() {
  static std::vector<CommandAdder> adders;
  return adders;
}
}  // namespace mv::cli

int main(int argc, char** argv) {
  CLI::App app{"memcg-verify: specification, models and verification of Linux memcg kmem accounting"};
  app.require_subcommand(1);
  int exit_code = 0;
  for (auto adder : mv::cli::command_adders()) adder(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int parse_code = app.exit(e);
    return parse_code == 0 ? 0 : 2;  // usage errors are exit 2 (docs/DESIGN.md)
  }
  return exit_code;
}
