// What the kernel model takes from a kernel tree, by file and by name: every
// definition of the accounting code the model runs as the kernel wrote it.
// Everything else the code calls is a shim (kernel/shim/), and why is said
// there. The list is the one reviewed place that says "this is the kernel's
// code": docs/KERNEL-CHANGE.md prints it (memcg-verify kernel --list).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mv::kernel::extract {

struct FileSelection {
  std::string path;                // relative to the tree's top
  bool all = false;                // every definition of the file
  // Else these (functions, "struct tag", macros, objects); "a|b" is one
  // definition that generations name differently (whichever the tree has);
  // "a?" one that only some generations have.
  std::vector<std::string> names;
  std::string why;                 // one line: what of the model this is
};

// The files and names, in the order the generated sources list them.
const std::vector<FileSelection>& manifest();

// Every file the extractor reads (the top Makefile and the manifest's files):
// what the build unpacks from a source tarball.
std::vector<std::string> tree_files();

// Functions whose definition is renamed `mvk_kernel_NAME` at extraction; a
// generated wrapper NAME calls it between the glue's hooks
// `mvk_before_NAME(args)` and `mvk_after_NAME([ret,] args)`. This is where the
// adapter observes the kernel at a real boundary (the ghost charged_pages,
// objcg creation and release), never by recomputing what an invariant
// compares.
const std::vector<std::string>& wrapped_functions();

// A change to the extracted text: in the definition named `chunk` of `file`,
// the first occurrence of `from` (matched token by token) becomes `to`.
// Kernel mutants (kernel/kernel_mutants.h) and tests are lists of these.
struct TextPatch {
  std::string file;
  std::string chunk;
  std::string from;
  std::string to;
};

}  // namespace mv::kernel::extract
