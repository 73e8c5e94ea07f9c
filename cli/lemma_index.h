// Which Z3 lemmas (proofs/) support which invariant, for docs/INVARIANTS.md.
// The CLI declares it; the default (cli/lemma_index.cc) is a weak, empty map
// so that `doc` works in a build without proofs. The proofs layer overrides it
// with a strong definition of this same function, in an object file the
// executable always links (cli/prove_command.cc, or a proofs/ file that
// prove_command.cc already needs: a static library member that nothing else
// references is never pulled in to override a weak symbol).
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
