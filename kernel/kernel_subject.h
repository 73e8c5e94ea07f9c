// The kernel model as the commands use it: which tree (the build's default,
// or `--kernel-src DIR` built on demand, optionally patched), loaded once per
// process and never booted in it, and the factory of kernel models over it,
// each in a child process of its own (kernel/isolated_model.h).
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kernel/extract/manifest.h"
#include "kernel/isolated_model.h"
#include "spec/model.h"
#include "spec/profile.h"

namespace mv::kernel {

class KernelModule;

struct KernelSubjectOptions {
  std::optional<std::filesystem::path> kernel_src;  // else the build's default tree
  std::vector<extract::TextPatch> patches;          // a kernel mutant or a test's slip
  IsolationLimits limits;
  bool in_process = false;  // no isolation: a crash of the kernel code is a crash here
};

class KernelSubject {
 public:
  // Builds (or finds in the cache) and loads the tree's kernel model. Throws
  // std::runtime_error with a message for the user: no kernel model in this
  // build, not a kernel tree, a missing definition, a compile error.
  static std::shared_ptr<const KernelSubject> open(const KernelSubjectOptions& options);

  const std::string& tree_version() const { return tree_version_; }  // "6.1.192"
  const std::string& tree_profile() const { return tree_profile_; }  // "v6.1"
  const std::filesystem::path& tree_path() const { return tree_path_; }
  const std::filesystem::path& module_path() const { return module_path_; }
  // The profile the reference runs against this tree: the tree's own when
  // the spec has it, else the nearest modeled one (profile_note says so).
  spec::Profile profile() const { return profile_; }
  const std::string& profile_note() const { return profile_note_; }
  // "Linux 6.1.192 from /usr/src/... (profile v6.1)"
  std::string description() const;

  // Makes a kernel model over `paths` (isolated unless in_process).
  std::unique_ptr<spec::Model> make_model(const spec::Config& config, const spec::PathTable& paths) const;

 private:
  KernelSubject() = default;
  std::shared_ptr<KernelModule> module_;  // pristine: only children boot it
  std::string tree_version_, tree_profile_;
  std::filesystem::path tree_path_, module_path_;
  spec::Profile profile_ = spec::Profile::v6_6;
  std::string profile_note_;
  IsolationLimits limits_;
  bool in_process_ = false;
};

}  // namespace mv::kernel
