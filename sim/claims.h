// The seeds' claims, as checks on a run's curve. A claim is about a design,
// not about a profile's name: which claim a profile's run is held to follows
// from the design its traits describe (what the seed says of that design).
// The claims are about the curve's shape and ratio, never the production
// numbers of the seeds, which depend on traffic the workloads do not have.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "sim/workload.h"

namespace mv::sim {

enum class ClaimOutcome : std::uint8_t { holds, fails, not_claimed };
std::string_view claim_outcome_name(ClaimOutcome outcome);  // "holds", "fails", "not claimed"

struct Claim {
  std::string source;     // "seed 000 (Roman Gushchin, 2019)"
  std::string design;     // what the seed calls the design: "original", "patched", ...
  std::string statement;  // the claim, for this design
  ClaimOutcome outcome = ClaimOutcome::not_claimed;
  std::string measured;   // what the run shows, in the claim's terms
  std::optional<double> ratio;  // seed000: last day / day 1 (none when day 1 is 0)
};

// seed 000: without slab reparenting the number of dying cgroups "grows almost
// linearly and doesn't show any signs of plateauing" (here: the last day at
// least 3x day 1, and still growing over the last three days); with it "the
// number stabilizes" (the last day within 2x of day 1). The seed's curves:
// 362 on day 1 to 1,560 on day 7 (4.3x), and 46 to 69 (1.5x).
// seed 004: on a kernel that charges kernel stacks to the memcg directly,
// N iterations leave N dying cgroups; after the fix, none.
// seed 003: with caches reused by the next memcg, the caches of one root never
// outnumber the memcgs online at once; without, they do.
Claim check_claim(const SimResult& run);

}  // namespace mv::sim
