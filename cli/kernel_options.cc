#include "cli/kernel_options.h"

#include <chrono>

namespace mv::cli {

void KernelOptions::add_to(CLI::App* cmd) {
  cmd->add_option("--kernel-src", kernel_src,
                  "kernel tree whose own code is the kernel model (default: the tree this build was "
                  "configured with, Debian's linux-source-6.1); built on demand, cached by content");
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
  o.in_process = in_process;
  o.limits.step_timeout = std::chrono::milliseconds(static_cast<long long>(step_timeout_seconds * 1000));
  return kernel::KernelSubject::open(o);
}

}  // namespace mv::cli
