#include "cli/lemma_index.h"

namespace mv::cli {

// Weak: replaced by the proofs layer's definition when it is linked.
__attribute__((weak)) LemmaIndex lemmas_by_invariant() { return {}; }

}  // namespace mv::cli
