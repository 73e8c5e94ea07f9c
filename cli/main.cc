// memcg-verify: the command line over every layer.
#include <iostream>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.h"

namespace mv::cli {
std::vector<CommandAdder>& command_adders() {
  static std::vector<CommandAdder> adders;
  return adders;
}

Verbosity& verbosity() {
  static Verbosity level = Verbosity::normal;
  return level;
}

namespace {

// "check, merge, ...": the commands, in --help's order.
std::string command_names(const CLI::App& app) {
  std::string names;
  for (const auto* sub : app.get_subcommands({}))
    names += fmt::format("{}{}", names.empty() ? "" : ", ", sub->get_name());
  return names;
}

// The first argument that is not an option, when it names no command.
const char* unknown_command(const CLI::App& app, int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.starts_with("-")) continue;
    for (const auto* sub : app.get_subcommands({}))
      if (sub->check_name(std::string(arg))) return nullptr;
    return argv[i];
  }
  return nullptr;
}

}  // namespace
}  // namespace mv::cli

int main(int argc, char** argv) {
  using namespace mv::cli;
  CLI::App app{"memcg-verify: specification, models and verification of Linux memcg kmem accounting"};
  app.require_subcommand(1);
  app.fallthrough();  // -q/-v after the command name too
  app.set_version_flag("--version", std::string("memcg-verify ") + kVersion);
  bool quiet = false, verbose = false;
  auto* quiet_flag = app.add_flag(
      "-q,--quiet", quiet,
      "print only the verdict: replay its verdict line, check no tables, scenarios and mutants "
      "only what did not pass; the exit status is the same");
  app.add_flag("-v,--verbose", verbose,
               "print more: check each chunk's verdict and seed, scenarios each scenario's files "
               "and the checks it met")
      ->excludes(quiet_flag);
  app.parse_complete_callback([&] {
    verbosity() = quiet ? Verbosity::quiet : verbose ? Verbosity::verbose : Verbosity::normal;
  });
  int exit_code = 0;
  for (auto adder : command_adders()) adder(app, exit_code);
  if (const char* name = unknown_command(app, argc, argv)) {
    std::cerr << fmt::format("memcg-verify: unknown command \"{}\"; the commands are: {} "
                             "(memcg-verify --help)\n",
                             name, command_names(app));
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int parse_code = app.exit(e);
    return parse_code == 0 ? 0 : 2;  // usage errors are exit 2 (docs/DESIGN.md)
  }
  return exit_code;
}
