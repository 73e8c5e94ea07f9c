// Subcommands register themselves: each cli/<name>_command.cc defines one
// adder and a static CommandRegistration, so layers add commands without
// touching main.cc. An adder sets `exit_code` from its callback (DESIGN.md:
// 0 holds, 1 subject wrong, 2 bad input or usage, 3 undecided).
#pragma once

#include <vector>

namespace CLI {
class App;
}

namespace mv::cli {

using CommandAdder = void (*)(CLI::App& app, int& exit_code);

std::vector<CommandAdder>& command_adders();

struct CommandRegistration {
  explicit CommandRegistration(CommandAdder adder) { command_adders().push_back(adder); }
};

}  // namespace mv::cli
