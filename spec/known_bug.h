// Known kernel bugs: bugs a profile's kernel really has, so that its model
// reproduces them and the invariants they break fire on it. A violation that
// one of the profile's known bugs explains is reported as known, with the
// upstream fix that removes it, and does not fail a verdict; every other
// violation does. A bug explains violations precisely (an invariant, one of
// its clauses, and a test on the state), never "any violation of INV-X", so
// that it cannot hide an unrelated break of the same invariant.
#pragma once

#include <string_view>
#include <vector>

#include "spec/invariants.h"
#include "spec/profile.h"

namespace mv::spec {

struct CheckContext;

struct KnownBug {
  std::string_view id;          // "hotplug_obj_stock_leak"
  std::string_view title;       // one line: what goes wrong
  std::string_view fix;         // the upstream commit that fixes it: "9f01b4954490"
  std::string_view fix_detail;  // its subject and where it landed
  std::string_view function;    // the kernel function that has the bug
  std::string_view invariant;   // the invariant it breaks
  std::string_view clause;      // the clause of that invariant (Violation::clause)
  std::string_view explains;    // exactly which violations it explains, in words
  // Whether a profile's kernel has the bug.
  bool (*present)(const ProfileTraits& traits);
  // Whether it explains `violation` (of `invariant` and `clause`) on this step.
  bool (*matches)(const CheckContext& ctx, const Violation& violation);
};

const std::vector<KnownBug>& known_bug_catalog();
const KnownBug* find_known_bug(std::string_view id);
// The known bugs of a profile, in catalog order.
std::vector<const KnownBug*> known_bugs(const ProfileTraits& traits);
// Sets Violation::known_bug on every violation a bug of the profile explains.
void mark_known_bugs(const CheckContext& ctx, std::vector<Violation>& violations);

}  // namespace mv::spec
