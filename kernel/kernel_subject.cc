#include "kernel/kernel_subject.h"

#include <stdexcept>

#include <fmt/format.h>

#include "kernel/kernel_model.h"
#include "kernel/tree_build.h"

namespace mv::kernel {

namespace fs = std::filesystem;

std::shared_ptr<const KernelSubject> KernelSubject::open(const KernelSubjectOptions& options) {
  std::shared_ptr<KernelSubject> s(new KernelSubject());
  s->limits_ = options.limits;
  s->in_process_ = options.in_process;
  if (options.kernel_src || !options.patches.empty()) {
    const fs::path tree = options.kernel_src ? *options.kernel_src : default_kernel_tree();
    if (tree.empty())
      throw std::runtime_error("this build has no default kernel tree to patch; give --kernel-src DIR");
    auto built = build_kernel_model(tree, options.patches);
    s->module_path_ = built.module;
  } else {
    s->module_path_ = default_kernel_model();
    if (s->module_path_.empty())
      throw std::runtime_error(
          "this build has no kernel model (no kernel tree when CMake configured: scripts/install-deps.sh "
          "installs linux-source-6.1); give --kernel-src DIR");
  }
  s->module_ = KernelModule::load(s->module_path_, /*fresh=*/false);
  s->tree_version_ = s->module_->tree_version();
  s->tree_profile_ = s->module_->tree_profile();
  s->tree_path_ = s->module_->tree_path();
  auto profile = spec::parse_profile(s->tree_profile_);
  if (profile && spec::traits(*profile).modeled) {
    s->profile_ = *profile;
  } else {
    s->profile_ = spec::Profile::v6_6;
    s->profile_note_ = fmt::format("the reference has no {} profile: it runs as v6.6", s->tree_profile_);
  }
  return s;
}

std::string KernelSubject::description() const {
  return fmt::format("Linux {} from {} (profile {}{}{})", tree_version_, tree_path_.string(),
                     tree_profile_, profile_note_.empty() ? "" : "; ", profile_note_);
}

std::unique_ptr<spec::Model> KernelSubject::make_model(const spec::Config& config,
                                                       const spec::PathTable& paths) const {
  if (in_process_) return make_kernel_model(KernelModule::load(module_path_, /*fresh=*/true), config, paths);
  // The child boots the pristine module this process loaded (never booted here).
  auto module = module_;
  ChildFactory in_child = [module](const spec::Config& c, const spec::PathTable& p) {
    return make_kernel_model(module, c, p);
  };
  return make_isolated_model(in_child, config, paths, "kernel", limits_);
}

}  // namespace mv::kernel
