// The extractor: cuts the kernel model's definitions out of a kernel tree by
// name (kernel/extract/manifest.h lists them) and writes them as the build
// tree's generated sources of the kernel model (kernel/c/model.c includes
// them). It runs at build time (CMake, the default tree) and at run time
// (`--kernel-src DIR`, kernel mutants); nothing it reads is ever committed.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "kernel/extract/manifest.h"

namespace mv::kernel::extract {

// The tree's version, from the VERSION/PATCHLEVEL/SUBLEVEL/EXTRAVERSION lines
// of its top Makefile.
struct TreeVersion {
  int version = 0;
  int patchlevel = 0;
  int sublevel = 0;
  std::string extraversion;
  std::string text() const;          // "6.1.192"
  std::string profile_name() const;  // "v6.1": the generation, without the sublevel
  int code() const { return (version << 16) + (patchlevel << 8) + (sublevel > 255 ? 255 : sublevel); }
};

// Throws std::runtime_error naming what is missing when DIR is not a kernel
// tree (no Makefile, or no VERSION/PATCHLEVEL in it).
TreeVersion read_tree_version(const std::filesystem::path& tree);

struct Extracted {
  TreeVersion version;
  std::string tree_h;    // version macros of the tree
  std::string types_h;   // types and macros, in source order
  std::string objects_h; // file-scope objects (DEFINE_PER_CPU, locks, globals)
  std::string protos_h;  // forward declarations of every extracted function
  std::string code_c;    // the function definitions (and generated wrappers)
  std::vector<std::string> names;  // "mm/memcontrol.c: refill_obj_stock", in output order
};

// Reads every file the manifest names from `tree`, cuts the definitions out,
// applies `patches` (a mutant or slip as text substitutions) and builds the
// generated sources. Throws std::runtime_error with a message that names the
// file and the missing definition (or the patch whose text is not found).
Extracted extract_tree(const std::filesystem::path& tree, const std::vector<TextPatch>& patches = {});

// Writes the generated files into `dir` (kernel_tree.h, kernel_types.h,
// kernel_objects.h, kernel_protos.h, kernel_code.c), rewriting only those whose
// contents changed, so a rebuild recompiles only when the tree changed.
void write_extracted(const Extracted& extracted, const std::filesystem::path& dir);

// One digest of the generated sources (for caching a tree's build).
std::string digest_of(const Extracted& extracted);

}  // namespace mv::kernel::extract
