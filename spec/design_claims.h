// What each design does to the invariants, as documented: the claims of the
// seeds (the mailing-list posts docs/DESIGNS.md summarizes) and what the
// models show where a claim does not hold as stated. (The kernel bugs a
// profile's code really has are spec/known_bug.h's.) A violation that a claim
// of its profile covers is that design's result, not a bug of the
// model: replay and check report it as expected and it does not fail a verdict;
// `memcg-verify designs` shows it as the design's outcome. Any other violation
// fails. A claim covers violations precisely: one invariant, one named clause
// of it (Violation::clause), never "any violation of INV-X".
#pragma once

#include <string_view>
#include <vector>

#include "spec/invariants.h"
#include "spec/profile.h"

namespace mv::spec {

struct DesignClaim {
  std::string_view id;         // "v5.2-slab-pages-pin"
  Profile profile;
  std::string_view invariant;  // "INV-NO-PIN"
  std::string_view clause;     // Violation::clause: "slab-page"
  std::string_view source;     // "seed 000", "seed 004", "the model", a commit
  std::string_view claim;      // what the source says, in one or two sentences
  std::string_view fixed_by;   // the design or commit that removed it
};

const std::vector<DesignClaim>& design_claims();
const DesignClaim* find_design_claim(std::string_view id);
// The claims of one profile, in catalog order.
std::vector<const DesignClaim*> design_claims_of(Profile profile);
// The claim of `profile` that covers `violation`, if any.
const DesignClaim* claim_covering(Profile profile, const Violation& violation);
// Sets Violation::design_claim on every violation a claim of the profile covers.
void mark_design_claims(Profile profile, std::vector<Violation>& violations);

// A design as docs/DESIGNS.md presents it.
struct DesignInfo {
  Profile profile;
  std::string_view title;    // "per-memcg kmem_caches, pages charged with css references"
  std::string_view seed;     // the seed(s) it comes from
  std::string_view design;   // what it does, in a few sentences
  std::string_view claimed;  // what its seed (or its author) claimed
};
const DesignInfo& design_info(Profile profile);

}  // namespace mv::spec
