// The mutant catalog (spec/mutant.h) as changes to the kernel's own code:
// each mutant that a few text substitutions in the extracted definitions can
// express is a list of patches the extractor applies in the build tree (never
// to a tree on disk), and a kernel model built from them. The others say why
// not. The patches are written against the 6.1 and 6.6 text of these
// functions, which agree; on another tree a patch whose text is missing is
// an error naming it.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "kernel/extract/manifest.h"
#include "spec/mutant.h"

namespace mv::kernel {

struct KernelMutant {
  spec::Mutant mutant = spec::Mutant::none;
  std::vector<extract::TextPatch> patches;  // empty when not expressible
  std::string_view not_expressible;         // why, when there are no patches
};

// Every mutant of the catalog (none excluded), in the catalog's order.
const std::vector<KernelMutant>& kernel_mutants();
const KernelMutant& kernel_mutant(spec::Mutant mutant);

}  // namespace mv::kernel
