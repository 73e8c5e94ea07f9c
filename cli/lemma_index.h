// Which Z3 lemmas (proofs/) support which invariant, for docs/INVARIANTS.md.
// cli/lemma_index.cc answers from proofs::lemmas_by_invariant() when the build
// has the proofs (MV_HAVE_PROOFS, set by CMake when proofs/*.cc exist), else
// with an empty map, so that `doc` works in a build without proofs.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace mv::cli {

using LemmaIndex = std::map<std::string, std::vector<std::string>, std::less<>>;

// invariant id ("INV-BYTE-CONSERVATION") -> lemma names
LemmaIndex lemmas_by_invariant();

}  // namespace mv::cli
