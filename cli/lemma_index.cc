#include "cli/lemma_index.h"

#ifdef MV_HAVE_PROOFS
#include "proofs/lemma.h"
#endif

namespace mv::cli {

// Weak, so that a strong definition elsewhere in the executable still wins.
__attribute__((weak)) LemmaIndex lemmas_by_invariant() {
#ifdef MV_HAVE_PROOFS
  return proofs::lemmas_by_invariant();
#else
  return {};  // a build without proofs/: the document says no lemma is linked
#endif
}

}  // namespace mv::cli
