// Subcommands register themselves: each cli/<name>_command.cc defines one
// adder and a static CommandRegistration, so layers add commands without
// touching main.cc. An adder sets `exit_code` from its callback (docs/DESIGN.md:
// 0 holds, 1 subject wrong, 2 bad input or usage, 3 undecided).
#pragma once

#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace mv::cli {

using CommandAdder = void (*)(CLI::App& app, int& exit_code);

// Where a command writes the files it produces (counterexample traces) unless
// --out says otherwise: a run folder, not the current directory itself, so
// that a run does not scatter files where the user stands.
inline constexpr const char* kDefaultOutDir = "memcg-verify-out";

std::vector<CommandAdder>& command_adders();

// A seed is digits only: CLI11 reads "-1" into an unsigned as 2^64 - 1.
inline const CLI::Validator kSeedDigits(
    [](std::string& text) {
      return !text.empty() && text.find_first_not_of("0123456789") == std::string::npos
                 ? std::string()
                 : "a seed is a non-negative integer, got \"" + text + "\"";
    },
    "UINT");

// `memcg-verify --version` (the project's VERSION in CMakeLists.txt).
#ifdef MV_VERSION
inline constexpr const char* kVersion = MV_VERSION;
#else
inline constexpr const char* kVersion = "unknown";
#endif

// The global --quiet / --verbose: how much a command prints on stdout besides
// its verdict. It never changes what is checked or the exit status.
enum class Verbosity { quiet, normal, verbose };
Verbosity& verbosity();
inline bool quiet() { return verbosity() == Verbosity::quiet; }
inline bool verbose() { return verbosity() == Verbosity::verbose; }

struct CommandRegistration {
  explicit CommandRegistration(CommandAdder adder) { command_adders().push_back(adder); }
};

// Runs a subcommand's body as its callback: its return value is the exit code,
// and an exception becomes `memcg-verify NAME: what` with exit_on_exception
// (2 for bad input by default) instead of a crash.
template <class Run>
void run_guarded(CLI::App* cmd, int& exit_code, Run run, int exit_on_exception = 2) {
  std::string name = cmd->get_name();
  cmd->callback([name, run, exit_on_exception, &exit_code] {
    try {
      exit_code = run();
    } catch (const std::exception& e) {
      std::cerr << "memcg-verify " << name << ": " << e.what() << "\n";
      exit_code = exit_on_exception;
    }
  });
}

}  // namespace mv::cli
