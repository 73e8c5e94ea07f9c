// Internal to spec/: what each invariant file (spec/inv_*.cc) gives the
// registry in spec/invariants.cc: its statement and its checker.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "spec/invariants.h"
#include "spec/snapshot_index.h"

namespace mv::spec {

// Everything a checker may look at for one step.
struct CheckContext {
  const Step& step;
  const SnapshotIndex& after;
  const SnapshotIndex* before;  // nullptr for the initial state
  const ProfileTraits& traits;
  PageSize page;
  std::uint32_t ncpus;
  const Monitor::History& history;  // already updated for this step's op and objects
  const PathTable* paths;           // optional

  // "/a (memcg 1)" with a path table, else "memcg 1".
  std::string memcg_name(const CgroupSnap& cg) const;
  std::string memcg_name(MemcgId id, const SnapshotIndex& index) const;
};

// Collects one invariant's violations.
class Report {
 public:
  Report(std::string_view id, std::vector<Violation>& out) : id_(id), out_(out) {}
  void add(std::string message) { out_.push_back({std::string(id_), std::move(message)}); }
  // A violation of a named clause of the invariant, on `subject` (see
  // Violation::clause).
  void add(std::string_view clause, std::uint32_t subject, std::string message) {
    out_.push_back({std::string(id_), std::move(message), std::string(clause), subject});
  }

 private:
  std::string_view id_;
  std::vector<Violation>& out_;
};

using Checker = void (*)(const CheckContext& ctx, Report& report);

struct InvariantDef {
  InvariantInfo info;
  Checker check;
};

// One per file, in registry order.
InvariantDef page_conservation_invariant();  // spec/inv_page_conservation.cc
InvariantDef byte_conservation_invariant();  // spec/inv_byte_conservation.cc
InvariantDef ref_balance_invariant();        // spec/inv_ref_balance.cc
InvariantDef no_pin_invariant();             // spec/inv_no_pin.cc
InvariantDef stock_bounds_invariant();       // spec/inv_stock_bounds.cc
InvariantDef no_underflow_invariant();       // spec/inv_no_underflow.cc
InvariantDef release_aligned_invariant();    // spec/inv_release_aligned.cc
InvariantDef limit_invariant();              // spec/inv_limit.cc
InvariantDef no_uaf_invariant();             // spec/inv_no_uaf.cc
InvariantDef reparent_invariant();           // spec/inv_reparent.cc

// Profile lists shared by several invariants.
std::vector<Profile> all_profile_ids();
std::vector<Profile> objcg_profile_ids();  // v5.10 and later
// The objcg profiles older than `first_excluded`.
std::vector<Profile> objcg_profile_ids_before(Profile first_excluded);

// New events since the last step (Snapshot::events is cumulative).
std::vector<Event> new_events(const CheckContext& ctx);

}  // namespace mv::spec
