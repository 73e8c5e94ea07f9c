// Building the kernel model of a tree at run time (`--kernel-src DIR`, kernel
// mutants): the extractor cuts the tree's definitions out into a cache
// directory, and the C compiler the project was configured with builds
// kernel/c/model.c over them into a shared object. A tree whose generated
// sources, compiler, flags and our glue and shims are unchanged is not
// compiled again (the cache is keyed by their digests). The default tree's model is built by CMake the same way.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "kernel/extract/extract.h"

namespace mv::kernel {

struct Toolchain {
  std::string c_compiler;
  std::vector<std::string> c_flags;  // the same flags CMake builds the default tree with
  std::filesystem::path source_dir;  // the project's top (kernel/c, kernel/shim)
  std::filesystem::path cache_dir;   // where built models are kept
};

// The toolchain this build was configured with; the cache is $MV_KERNEL_CACHE
// if set, else kernel-cache/ in the build tree.
Toolchain configured_toolchain();
// The digest of what a built model depends on besides the tree: the
// compiler, its flags, the glue and shims under source_dir (part of the key).
std::string toolchain_digest(const Toolchain& toolchain);

struct BuiltModel {
  std::filesystem::path module;       // the shared object
  extract::TreeVersion version;
  std::string digest;
  bool from_cache = false;
  std::vector<std::string> names;     // what was extracted
};

// Extracts, patches and compiles. Throws std::runtime_error with the
// extractor's message (a missing definition, a patch that does not apply) or
// the compiler's first errors.
BuiltModel build_kernel_model(const std::filesystem::path& tree,
                              const std::vector<extract::TextPatch>& patches = {},
                              const Toolchain& toolchain = configured_toolchain());

// The default tree's model built with this build (empty when the build had
// no kernel tree).
std::filesystem::path default_kernel_model();
// The tree the default model was built from ("" when none).
std::filesystem::path default_kernel_tree();

}  // namespace mv::kernel
