#include "sim/claims.h"

#include <algorithm>

#include <fmt/format.h>

#include "spec/holders.h"

namespace mv::sim {
namespace {

// The slab designs seed 000 compares: slab pages that pin the memcg they are
// charged to until they are freed ("original": v5.2), and slab memory
// reparented when the cgroup is removed ("patched": the v5.3 caches, and the
// v5.9 objcg that replaced them). Anything else the seed does not describe.
enum class SlabDesign { original, patched, other };

SlabDesign slab_design(const spec::ProfileTraits& traits) {
  if (spec::profile_has_objcg(traits)) return SlabDesign::patched;
  switch (traits.profile) {
    case spec::Profile::v5_2: return SlabDesign::original;
    case spec::Profile::v5_3: return SlabDesign::patched;
    default: return SlabDesign::other;
  }
}

constexpr std::string_view kSeed000 = "seed 000 (Roman Gushchin, \"mm: reparent slab memory on cgroup removal\", 2019)";
constexpr std::string_view kSeed004 = "seed 004 (Muchun Song, \"Use obj_cgroup APIs to charge kmem pages\", 2021)";

Claim seed000_claim(const SimResult& run) {
  Claim c;
  c.source = std::string(kSeed000);
  const auto& s = run.samples;
  auto design = slab_design(spec::traits(run.options.profile));
  c.design = design == SlabDesign::original ? "original (no slab reparenting)"
             : design == SlabDesign::patched ? "patched (slab memory reparented)"
                                             : "not one seed 000 compares";
  if (design == SlabDesign::original)
    c.statement = "dying cgroups grow without a plateau: the last day at least 3x day 1, and "
                  "still growing over the last three days (seed: 362 -> 1,560 in 7 days, 4.3x)";
  else if (design == SlabDesign::patched)
    c.statement = "dying cgroups stabilize: the last day within 2x of day 1 (seed: 46 -> 69, 1.5x)";
  else
    c.statement = "none";
  if (s.size() < 4) {
    c.measured = fmt::format("{} days: the claim needs at least 4", s.size());
    return c;
  }
  const auto first = s.front().measure.dying, last = s.back().measure.dying;
  const auto before = s[s.size() - 4].measure.dying;
  if (first > 0) c.ratio = static_cast<double>(last) / first;
  c.measured = fmt::format("day 1: {}, day {}: {}, day {}: {}", first, s.size() - 3, before,
                           s.size(), last);
  if (c.ratio) c.measured += fmt::format(" ({:.2f}x)", *c.ratio);
  if (design == SlabDesign::original)
    c.outcome = first > 0 && last >= 3 * first && last > before ? ClaimOutcome::holds
                                                               : ClaimOutcome::fails;
  else if (design == SlabDesign::patched)
    c.outcome = last <= 2 * first ? ClaimOutcome::holds : ClaimOutcome::fails;
  return c;
}

Claim seed004_claim(const SimResult& run) {
  Claim c;
  c.source = std::string(kSeed004);
  const auto n = run.options.iterations;
  const bool direct = spec::objects_hold_memcg_directly(spec::traits(run.options.profile));
  c.design = direct ? "kmem pages charged to the memcg directly (before the fix)"
                    : "kmem pages charged through objcg (the fix)";
  c.statement = direct ? fmt::format("{} iterations leave {} dying cgroups", n, n)
                       : fmt::format("{} iterations leave no dying cgroup", n);
  const auto dying = run.final.dying;
  c.measured = fmt::format("{} dying after {} iterations", dying, n);
  if (run.after_exit)
    c.measured += fmt::format(", {} once the sleeps exited", run.after_exit->dying);
  c.outcome = (direct ? dying >= n : dying == 0) ? ClaimOutcome::holds : ClaimOutcome::fails;
  return c;
}

constexpr std::string_view kSeed003 = "seed 003 (Vladimir Davydov, \"memcg: reuse per cgroup kmem caches\", 2014)";

// seed 003: "The number of per cgroup caches of the same kind cannot be
// greater than the maximal number of online kmem active memory cgroups that
// have ever existed simultaneously. Currently it is unlimited". The design
// with reused caches is held to the bound at every sample; the caches that
// live as long as a removed memcg's objects (the merged designs of the time)
// to exceeding it once objects outlive their jobs.
Claim seed003_claim(const SimResult& run) {
  Claim c;
  c.source = std::string(kSeed003);
  const auto& traits = spec::traits(run.options.profile);
  const bool reused = traits.slab == spec::SlabCharging::recharged_cache_pages;
  std::uint32_t most = 0, bound = 0;
  bool within = true;
  for (const auto& s : run.samples) {
    most = std::max(most, s.measure.memcg_caches);
    bound = s.measure.max_online;
    within &= s.measure.memcg_caches <= s.measure.max_online;
  }
  c.measured = fmt::format("at most {} memcg caches of one root cache, {} cgroups online at once",
                           most, bound);
  if (!traits.has_memcg_caches()) {
    c.design = "no per-memcg kmem caches (objects charged through objcg)";
    c.statement = "none";
  } else if (reused) {
    c.design = "caches reused by the next memcg (the patch set)";
    c.statement = "the caches of one root never outnumber the cgroups online at once";
    c.outcome = within ? ClaimOutcome::holds : ClaimOutcome::fails;
  } else {
    c.design = "caches live while a removed memcg's objects do (\"currently\")";
    c.statement = "the number of caches is unlimited: more caches of one root than cgroups ever "
                  "online at once, once objects outlive their jobs";
    c.outcome = !within ? ClaimOutcome::holds : ClaimOutcome::fails;
  }
  return c;
}

constexpr std::string_view kKselftest = "kselftest test_kmem_dead_cgroups (tools/testing/selftests/cgroup/test_kmem.c)";

Claim kmem_dead_claim(const SimResult& run) {
  Claim c;
  c.source = std::string(kKselftest);
  auto design = slab_design(spec::traits(run.options.profile));
  const auto n = run.options.iterations;
  const auto dying = run.final.dying;
  c.measured = fmt::format("{} of {} removed children dying", dying, n);
  if (design == SlabDesign::original) {
    c.design = "original (no slab reparenting)";
    c.statement = fmt::format("the test fails: the {} children stay dying while their dentries live", n);
    c.outcome = dying >= n ? ClaimOutcome::holds : ClaimOutcome::fails;
  } else if (design == SlabDesign::patched) {
    c.design = "patched (slab memory reparented)";
    c.statement = "the test passes: no dying child once the kernel settled";
    c.outcome = dying == 0 ? ClaimOutcome::holds : ClaimOutcome::fails;
  } else {
    c.design = "not one the test was written for";
    c.statement = "none";
  }
  return c;
}

}  // namespace

std::string_view claim_outcome_name(ClaimOutcome outcome) {
  switch (outcome) {
    case ClaimOutcome::holds: return "holds";
    case ClaimOutcome::fails: return "fails";
    case ClaimOutcome::not_claimed: return "not claimed";
  }
  return "?";
}

Claim check_claim(const SimResult& run) {
  switch (run.options.workload) {
    case Workload::seed000: return seed000_claim(run);
    case Workload::seed004: return seed004_claim(run);
    case Workload::kmem_dead: return kmem_dead_claim(run);
    case Workload::seed003: return seed003_claim(run);
  }
  return {};
}

}  // namespace mv::sim
