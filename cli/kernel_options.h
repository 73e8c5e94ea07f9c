// The options every command that can run the kernel model takes:
//   --kernel-src DIR      the kernel tree (default: the build's default tree)
//   --kernel-mutant NAME  that tree with a mutant of the catalog as a patch of
//                         its code (kernel/kernel_mutants.h)
//   --step-timeout SEC    a kernel model step that has not answered by then is a hang
//   --kernel-in-process   no child process (debugging: a crash is then ours)
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "kernel/kernel_subject.h"

namespace mv::cli {

struct KernelOptions {
  std::string kernel_src;
  std::string kernel_mutant;
  double step_timeout_seconds = 5;
  bool in_process = false;

  void add_to(CLI::App* cmd);
  // Whether the options ask for the kernel model.
  bool given() const { return !kernel_src.empty() || !kernel_mutant.empty(); }
  // The flags that name this kernel model again (for replay hints).
  std::string flags() const;
  // Builds or loads the kernel model (throws std::runtime_error for the user).
  std::shared_ptr<const kernel::KernelSubject> open(std::vector<kernel::extract::TextPatch> patches = {}) const;
};

}  // namespace mv::cli
