// The kernel's own code as a model: a compiled kernel model (a shared object
// built from one kernel tree: kernel/c/model.c over the tree's extracted
// definitions) behind spec::Model, producing the same canonical snapshot as
// reference/ and impl/. The adapter does what the cgroup core and the trace
// driver do around the memory controller (paths, tasks, the checks that
// give EEXIST, ENOENT, EBUSY); every accounting step is the tree's code.
//
// In this process, a model is one fresh copy of the shared object (its
// globals are the kernel's). A kernel model that crashes or loops takes its
// process with it: run it through kernel/isolated_model.h, which is what
// every command does.
#pragma once

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "spec/model.h"

struct mvk_api;

namespace mv::kernel {

// A kernel BUG, a shim assertion or a loop of the kernel model: the subject
// is wrong (a model failure, exit 1), never the checker.
class KernelFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One loaded copy of a compiled kernel model.
class KernelModule {
 public:
  // Loads `path`. With `fresh`, from a private copy, so that this process
  // can boot one more model (each copy has its own kernel globals).
  // Throws std::runtime_error if it cannot be loaded or is not a kernel model.
  static std::shared_ptr<KernelModule> load(const std::filesystem::path& path, bool fresh = true);
  ~KernelModule();
  KernelModule(const KernelModule&) = delete;
  KernelModule& operator=(const KernelModule&) = delete;

  const mvk_api& api() const { return *api_; }
  const std::filesystem::path& path() const { return path_; }
  std::string tree_version() const;  // "6.1.192"
  std::string tree_profile() const;  // "v6.1"
  std::string tree_path() const;

 private:
  KernelModule() = default;
  void* handle_ = nullptr;
  const mvk_api* api_ = nullptr;
  std::filesystem::path path_;
};

// A kernel model booted in this process on `module` (which must not have
// booted one before). `paths` must outlive it.
std::unique_ptr<spec::Model> make_kernel_model(std::shared_ptr<KernelModule> module,
                                               const spec::Config& config,
                                               const spec::PathTable& paths);

// The kernel WARNs a kernel model has hit so far (empty for other models).
std::vector<std::string> kernel_warnings(const spec::Model& model);

}  // namespace mv::kernel
