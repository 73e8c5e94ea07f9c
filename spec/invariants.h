// The invariant registry: ids (a contract, docs/DESIGN.md), precise statements, the
// kernel functions they come from, the profiles they hold in, and the
// executable checkers over snapshots. docs/INVARIANTS.md is generated from it.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "spec/object_totals.h"
#include "spec/operation.h"
#include "spec/profile.h"
#include "spec/snapshot.h"

namespace mv::spec {

class IncrementalState;  // spec/incremental_state.h

struct InvariantInfo {
  std::string_view id;              // "INV-PAGE-CONSERVATION"
  std::string_view title;           // one line
  std::string_view statement;       // one precise paragraph (Markdown)
  std::string_view kernel_sources;  // functions and kernel versions it comes from
  std::string_view profile_notes;   // how it applies per profile (documented exceptions)
  std::vector<Profile> profiles;    // profiles in which it is checked
};

const std::vector<InvariantInfo>& invariant_registry();
const InvariantInfo* find_invariant(std::string_view id);

struct Violation {
  std::string invariant;  // an id from the registry
  std::string message;    // what is wrong, in kernel terms
  // Which part of the invariant fired ("offline_obj_stock"; empty when the
  // checker names none) and what it fired on (a CPU, memcg or objcg id), so
  // that a known kernel bug can say precisely which violations it explains.
  std::string clause;
  std::optional<std::uint32_t> subject;
  // The id of the profile's known kernel bug that explains this violation
  // (spec/known_bug.h); empty when none does.
  std::string known_bug;
  // The id of the profile's design claim that covers this violation
  // (spec/design_claims.h): the design's documented result, which the design
  // matrix shows; empty when none does.
  std::string design_claim;
  bool known() const { return !known_bug.empty(); }
  bool expected() const { return !design_claim.empty(); }
  // Explained violations (a known kernel bug, a design's result) fail no verdict.
  bool explained() const { return known() || expected(); }
  bool operator==(const Violation&) const = default;
};

// The violations that fail a verdict: those neither a known kernel bug nor a
// design claim explains.
std::vector<Violation> unexplained(const std::vector<Violation>& violations);

// One step of a run as the checkers see it.
struct Step {
  const Snapshot* before = nullptr;  // nullptr for the initial state
  const Op* op = nullptr;            // nullptr for the initial state
  Errno result = Errno::ok;
  const Snapshot* after = nullptr;
};

// Checks the invariants of one run, step after step. It keeps the little
// history the step invariants need (events already reported, largest charge).
class Monitor {
 public:
  // `paths`, when given, must outlive the monitor; messages then name memcgs
  // by path as well as by id ("/a (memcg 1)").
  explicit Monitor(const Config& config, const PathTable* paths = nullptr);
  Monitor(const Monitor& other);
  Monitor(Monitor&& other) noexcept;
  Monitor& operator=(Monitor other) noexcept;
  ~Monitor();
  // Every invariant checked in the configuration's profile.
  std::vector<Violation> check(const Step& step);
  // Only the invariant `id` (tests use it to show one invariant firing); nothing
  // if `id` is not checked in this profile; std::invalid_argument if unknown.
  std::vector<Violation> check_only(std::string_view id, const Step& step);
  // The same checks from a summary of the step, at a cost independent of the
  // number of live objects: `step.before` and `step.after` without their
  // objects (Snapshot::objects empty), `after_objects` the totals of the live
  // objects after the step (ObjectTotals::of(after.objects) for the full
  // snapshot, kept up to date by the caller with add/remove), `created` the
  // objects the step allocated (History::largest_charged_bytes). Violated
  // invariants are the same as check() finds on the full snapshots; a message
  // that would name live objects one by one counts them instead.
  std::vector<Violation> check_summary(const Step& step, const ObjectTotals& after_objects,
                                       const std::vector<ObjectSnap>& created);
  // The same checks as check(), at the cost of what one step changed: `state`
  // has just applied the step's changes (IncrementalState::apply; for the
  // initial state, `op` null, nothing applied yet), and only the anchors it
  // lists as affected are evaluated, every other one keeping the violations
  // it had (spec/invariant_checks.h). Returns exactly what check() returns on
  // the full snapshots before and after the step, in the same order
  // (tests/spec_incremental_test.cc). `created`: the objects the step made or
  // changed (SnapshotDelta::objects). A monitor runs either this or the others
  // for a whole run.
  std::vector<Violation> check_delta(const Op* op, Errno result, const IncrementalState& state,
                                     const std::vector<ObjectSnap>& created);

  // What the step invariants remember of the run so far. Updated by every
  // check: largest_charged_bytes and forced_charge_seen before the checkers
  // run (they cover the step's own op), events_reported after.
  struct History {
    std::size_t events_reported = 0;          // Snapshot::events is cumulative
    std::uint64_t largest_charged_bytes = 0;  // largest slab/percpu charge seen on a live object
    bool forced_charge_seen = false;          // an alloc with nofail ran: usage may exceed max
    // The obj stock of each CPU taken offline, as it was when
    // memcg_hotplug_cpu_dead ran (spec/known_bug.cc: hotplug_obj_stock_leak).
    struct ObjStockAtOffline {
      std::optional<ObjcgId> cached_objcg;
      std::uint32_t nr_bytes = 0;
    };
    std::map<Cpu, ObjStockAtOffline> offline_obj_stocks;
    // The run interleaves operations (memcg-verify explore, a race trace):
    // the states only an interleaving reaches are documented where an
    // invariant says so.
    bool concurrent = false;
    std::uint64_t max_online_memcgs = 0;      // most non-root memcgs online at once (INV-CACHES-BOUNDED)
  };
  void set_concurrent() { history_.concurrent = true; }
  const History& history() const { return history_; }

 private:
  std::vector<Violation> run(const Step& step, std::string_view only,
                             const ObjectTotals* after_objects = nullptr,
                             const std::vector<ObjectSnap>* created = nullptr);
  struct DeltaCache;  // check_delta's violations per anchor (spec/invariants.cc)
  struct Indexes;     // run()'s indexes of the snapshots, kept for their storage
  Config config_;
  const PathTable* paths_ = nullptr;
  History history_;
  std::unique_ptr<DeltaCache> cache_;
  std::unique_ptr<Indexes> indexes_;  // not copied: made again on first use
};

// Whether `info` is checked in `profile`.
bool checked_in(const InvariantInfo& info, Profile profile);

// docs/INVARIANTS.md. lemmas_by_invariant maps an invariant id to the Z3 lemmas
// (proofs/) that support it; the spec layer does not depend on proofs.
std::string render_invariants_markdown(
    const std::map<std::string, std::vector<std::string>, std::less<>>& lemmas_by_invariant);

}  // namespace mv::spec
