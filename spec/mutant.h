// The mutant catalog: named, deliberately wrong versions of the modeled
// kernel code, re-injected at run time to prove that the verification suite
// catches them (`memcg-verify mutants`, tests/properties_mutants_test.cc).
// Each is either a real upstream bug (one of the bug catalog below, with the
// commit that fixed it), a classic arithmetic slip, or the canary (broken so
// obviously that a campaign must kill it at once). The catalog also lists the
// historical bugs that the sequential v6.6 model cannot express, and why.
//
// The impl is built with one mutant (impl::make_impl_model(config, paths,
// mutant)); Mutant::none is the correct model. The reference has none. Arithmetic slips are templates over the arithmetic
// domain too (arith/slips.h), so the one arithmetic source still holds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "spec/profile.h"

namespace mv::spec {

enum class Mutant : std::uint8_t {
  none,
  canary,
  // Historical bugs (kernel_bug_catalog()).
  stock_without_css_ref,
  free_without_uncharge,
  root_skipped_on_uncharge,
  percpu_without_metadata,
  hotplug_drains_page_stock_only,
  dual_obj_stock,
  double_uncharge_unclamped,
  // Classic slips.
  double_uncharge,
  refill_obj_stock_at_page_size,
  refill_stock_at_batch,
  drain_split_wrong_mask,
  charged_bytes_not_cleared,
  old_objcg_not_put,
  charge_split_no_round_up,
  rollback_misses_level,
  // Races: only an interleaving of CPUs kills them (memcg-verify explore).
  flush_required_double_read,
  css_get_not_tryget,
  requeued_work_read_unlocked,
  // A race of the reference-only profiles (an overlay, overlay/overlay.h).
  cache_put_before_alloc,
  // A historical bug of a reference-only profile (an overlay).
  stock_cached_unreferenced,
  // A slip of v6.16's multi-memcg page stock.
  evicted_slot_not_drained,
};

inline constexpr std::size_t kNrMutants = 23;  // including none

// interleaving: a race, killed by `memcg-verify explore` only; every
// sequential run of the mutated model is correct.
enum class MutantKind : std::uint8_t { historical, slip, canary, interleaving };

// Where a mutant can be injected (a bit set). The reference has no mutant
// hooks (reading reference/ shows only the kernel's semantics): a mutant lives
// in the impl, or, for the profiles the impl does not model (v5.2, v5.3,
// davydov-2014, ...), in an overlay (overlay/overlay.h): the reference with
// the operations of one kernel path rebuilt from the reference's own
// functions, the mutated step among them. A campaign where only invariants
// may kill puts the mutated impl in the reference's seat
// (properties/conformance.h).
enum MutantLayer : std::uint8_t { kLayerImpl = 1, kLayerOverlay = 2 };

struct MutantInfo {
  std::optional<Mutant> mutant;       // nullopt: not expressible in the v6.6 model
  std::string_view name;              // "stock_without_css_ref"
  MutantKind kind;
  std::string_view commit;            // the upstream fix ("d1b2cf6cb84a"), or a description of it
  std::string_view bug;               // one line: what was (or would be) wrong
  std::string_view function;          // the kernel function(s) it breaks
  std::string_view description;       // what the mutant does in the model
  std::uint8_t layers = 0;            // MutantLayer bits; 0 when not expressible
  std::string_view not_expressible;   // why, when mutant is nullopt
  // The profiles whose kernel the mutant changes; nullptr: every profile. A
  // mutant that reverts a fix applies only where the profile has the fix
  // (elsewhere it is the kernel as released).
  bool (*applies)(const ProfileTraits& traits) = nullptr;
  std::string_view applies_text;      // "profiles with 9f01b4954490", when applies is set
};

// Every catalog entry: the expressible mutants in enum order, then the entries
// the model cannot express.
const std::vector<MutantInfo>& mutant_catalog();
// The entry of an expressible mutant (none has an entry too).
const MutantInfo& mutant_info(Mutant mutant);
std::string_view mutant_name(Mutant mutant);
std::string_view mutant_kind_name(MutantKind kind);
std::optional<Mutant> parse_mutant(std::string_view name);
// Every expressible mutant a sequential campaign kills (`memcg-verify
// mutants`): all but none and the interleaving ones, in enum order (impl
// mutants and overlays).
std::vector<Mutant> all_mutants();
// The mutants of kind interleaving, in enum order; with a layer, only those
// injected there (explore's impl harnesses: kLayerImpl).
std::vector<Mutant> interleaving_mutants();
std::vector<Mutant> interleaving_mutants(MutantLayer layer);
bool mutant_in_layer(Mutant mutant, MutantLayer layer);
// Whether the mutant changes the kernel of this profile.
bool mutant_applies(Mutant mutant, const ProfileTraits& traits);
// The profile to run the mutant on: `preferred` if it applies there, else the
// first modeled profile it applies to; nullopt if none.
std::optional<Profile> mutant_profile(Mutant mutant, Profile preferred);
// "impl", "overlay"
std::string mutant_layers_text(std::uint8_t layers);
// A real upstream bug in the modeled code: the bug catalog (docs/MUTANTS.md
// "Bug catalog"). Every historical mutant re-injects one of these, and every
// one is re-injected by a mutant or has a catalog entry saying why it cannot be.
struct KernelBug {
  std::string_view fix;       // the upstream commit that fixed it ("d1b2cf6cb84a")
  std::string_view title;     // that commit's subject
  std::string_view author;
  std::string_view landed;    // where the fix landed ("v5.10-rc, 5.9.y")
  std::string_view function;  // the kernel function(s) that were wrong
  std::string_view bug;       // what was wrong and what it did
  std::vector<std::string_view> entries;  // the mutant catalog entries for it, by name
};
const std::vector<KernelBug>& kernel_bug_catalog();

// docs/MUTANTS.md.
std::string render_mutants_markdown();

}  // namespace mv::spec
