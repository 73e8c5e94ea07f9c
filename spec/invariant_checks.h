// Internal to spec/: what each invariant file (spec/inv_*.cc) gives the
// registry in spec/invariants.cc: its statement and its checker.
//
// A checker looks at the state through a StateView (spec/state_view.h) and
// walks it in sections: each section is one loop over memcgs, objcgs, tasks
// or the live objects' totals (its anchors), or one piece of per-step work.
// Every violation belongs to the anchor being evaluated when it is reported.
// A full check (Monitor::check) evaluates every anchor; the incremental check
// (Monitor::check_delta) evaluates only the anchors a step may have affected
// and keeps the violations of the others from the last time they were
// evaluated, so both report the same violations in the same order. For that,
// a section's anchor may depend on other entities only in the ways
// spec/incremental_state.cc's Affected lists (its subtree, its parent and
// children, the entities it points at and that point at it).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "spec/invariants.h"
#include "spec/state_view.h"

namespace mv::spec {

enum class AnchorKind : std::uint8_t { memcg, objcg, task, step };

// One loop of a checker: a number unique in its file, in the order the file
// runs them (the order of the violations), and whether its violations hold
// for the step only (a step invariant's: not kept from step to step).
struct Section {
  std::uint8_t number;
  bool step_only = false;
};

// Where an incremental check keeps the violations (Monitor::check_delta); a
// full check has none and appends them as they come.
class AnchorSink {
 public:
  virtual ~AnchorSink() = default;
  // The anchors of `kind` to evaluate in this section, sorted; nullptr: all.
  virtual const std::vector<std::uint32_t>* begin_section(Section section, AnchorKind kind) = 0;
  virtual void begin_anchor(std::uint32_t id) = 0;  // the violations that follow are its
  virtual void add(Violation violation) = 0;
};

// Collects one invariant's violations.
class Report {
 public:
  Report(std::string_view id, std::vector<Violation>& out, AnchorSink* sink = nullptr)
      : id_(id), out_(out), sink_(sink) {}
  void add(std::string message) { add({std::string(id_), std::move(message)}); }
  // A violation of a named clause of the invariant, on `subject` (see
  // Violation::clause).
  void add(std::string_view clause, std::uint32_t subject, std::string message) {
    add({std::string(id_), std::move(message), std::string(clause), subject});
  }
  AnchorSink* sink() const { return sink_; }

 private:
  void add(Violation violation) {
    if (sink_)
      sink_->add(std::move(violation));
    else
      out_.push_back(std::move(violation));
  }

  std::string_view id_;
  std::vector<Violation>& out_;
  AnchorSink* sink_;
};

// Everything a checker may look at for one step.
struct CheckContext {
  const Op* op;    // nullptr for the initial state
  Errno result;
  const StateView& after;
  const PriorView* before;  // nullptr for the initial state
  const ProfileTraits& traits;
  PageSize page;
  std::uint32_t ncpus;
  const Monitor::History& history;  // already updated for this step's op and objects
  const PathTable* paths;           // optional

  // "/a (memcg 1)" with a path table, else "memcg 1".
  std::string memcg_name(const CgroupSnap& cg) const;
  std::string memcg_name(MemcgId id, const PriorView& view) const;

  // The sections (see the top of this file). Each runs fn on its anchors in id order.
  template <class Fn>
  void each_memcg(Report& report, Section section, Fn fn) const {
    each(report, section, AnchorKind::memcg, after.cgroups(),
         [&](std::uint32_t id) { return after.memcg(id); }, fn);
  }
  template <class Fn>
  void each_objcg(Report& report, Section section, Fn fn) const {
    each(report, section, AnchorKind::objcg, after.objcgs(),
         [&](std::uint32_t id) { return after.objcg(id); }, fn);
  }
  // The live tasks.
  template <class Fn>
  void each_task(Report& report, Section section, Fn fn) const {
    const auto* ids = begin(report, section, AnchorKind::task);
    if (!ids) return after.each_task([&](const TaskSnap& t) { anchor(report, t.key), fn(t); });
    for (auto key : *ids)
      if (const TaskSnap* t = after.task(key)) anchor(report, key), fn(*t);
  }
  // The objcgs (memcgs) that live objects hold, with their totals: anchored
  // at the objcg (memcg), whether it exists or not.
  template <class Fn>
  void each_objcg_total(Report& report, Section section, Fn fn) const {
    each_total(report, section, AnchorKind::objcg, after.object_totals().by_objcg(), fn);
  }
  template <class Fn>
  void each_memcg_total(Report& report, Section section, Fn fn) const {
    each_total(report, section, AnchorKind::memcg, after.object_totals().by_memcg(), fn);
  }
  // Work done on every step, anchored at nothing (events, stocks, the op).
  template <class Fn>
  void every_step(Report& report, Section section, Fn fn) const {
    section.step_only = true;
    begin(report, section, AnchorKind::step);
    anchor(report, 0);
    fn();
  }

 private:
  static const std::vector<std::uint32_t>* begin(Report& report, Section section, AnchorKind kind) {
    return report.sink() ? report.sink()->begin_section(section, kind) : nullptr;
  }
  static void anchor(Report& report, std::uint32_t id) {
    if (report.sink()) report.sink()->begin_anchor(id);
  }
  template <class Entry, class Lookup, class Fn>
  void each(Report& report, Section section, AnchorKind kind, const std::vector<Entry>& all,
            Lookup lookup, Fn fn) const {
    const auto* ids = begin(report, section, kind);
    if (!ids) {
      for (const Entry& e : all) anchor(report, e.id), fn(e);
      return;
    }
    for (auto id : *ids)
      if (const Entry* e = lookup(id)) anchor(report, id), fn(*e);
  }
  template <class Map, class Fn>
  void each_total(Report& report, Section section, AnchorKind kind, const Map& totals, Fn fn) const {
    const auto* ids = begin(report, section, kind);
    if (!ids) {
      for (const auto& [id, t] : totals) anchor(report, id), fn(id, t);
      return;
    }
    for (auto id : *ids)
      if (auto it = totals.find(id); it != totals.end()) anchor(report, id), fn(id, it->second);
  }
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
InvariantDef caches_bounded_invariant();     // spec/inv_caches_bounded.cc

// Profile lists shared by several invariants.
std::vector<Profile> all_profile_ids();
std::vector<Profile> objcg_profile_ids();  // v5.10 and later
// The objcg profiles older than `first_excluded`.
std::vector<Profile> objcg_profile_ids_before(Profile first_excluded);
// Profiles that reparent something on offline: objcgs, or (v5.3) kmem_caches.
std::vector<Profile> reparenting_profile_ids();
// Profiles with per-memcg kmem_caches: v5.2, v5.3, davydov-2014.
std::vector<Profile> memcg_cache_profile_ids();

// New events since the last step (cumulative events: Monitor::History).
std::vector<Event> new_events(const CheckContext& ctx);

}  // namespace mv::spec
