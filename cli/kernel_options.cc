#include "cli/kernel_options.h"

#include <chrono>
#include <stdexcept>

#include <fmt/format.h>

#include "kernel/kernel_mutants.h"

namespace mv::cli {

void KernelOptions::add_to(CLI::App* cmd) {
  cmd->add_option("--kernel-src", kernel_src,
                  "kernel tree whose own code is the kernel model (default: the tree this build was "
                  "configured with, Debian's linux-source-6.1); built on demand, cached by content");
  cmd->add_option("--kernel-mutant", kernel_mutant,
                  "the kernel tree with this mutant of the catalog applied to its code as a patch "
                  "(memcg-verify mutants --list --kernel says which have one)");
  cmd->add_option("--step-timeout", step_timeout_seconds,
                  "seconds a kernel model step may take before it counts as a hang (default 5)")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--kernel-in-process", in_process,
                "run the kernel model in this process (debugging; a crash of the kernel code is "
                "then a crash of memcg-verify)");
}

std::shared_ptr<const kernel::KernelSubject> KernelOptions::open(
    std::vector<kernel::extract::TextPatch> patches) const {
  kernel::KernelSubjectOptions o;
  if (!kernel_src.empty()) o.kernel_src = kernel_src;
  o.patches = std::move(patches);
  if (!kernel_mutant.empty()) {
    auto mutant = spec::parse_mutant(kernel_mutant);
    if (!mutant || *mutant == spec::Mutant::none)
      throw std::runtime_error(fmt::format("unknown mutant \"{}\" (memcg-verify mutants --list names them)",
                                           kernel_mutant));
    const auto& km = kernel::kernel_mutant(*mutant);
    if (km.patches.empty())
      throw std::runtime_error(fmt::format("mutant {} has no kernel version: {}", kernel_mutant,
                                           km.not_expressible));
    o.patches.insert(o.patches.end(), km.patches.begin(), km.patches.end());
  }
  o.in_process = in_process;
  o.limits.step_timeout = std::chrono::milliseconds(static_cast<long long>(step_timeout_seconds * 1000));
  return kernel::KernelSubject::open(o);
}

std::string KernelOptions::flags() const {
  std::string out;
  if (!kernel_src.empty()) out += fmt::format(" --kernel-src {}", kernel_src);
  if (!kernel_mutant.empty()) out += fmt::format(" --kernel-mutant {}", kernel_mutant);
  return out;
}

}  // namespace mv::cli
