// Monitor::check_delta against Monitor::check on hand-built state sequences,
// one per way a check anchored at one entity reads another
// (spec/incremental_state.h "affected"): in each, the second state changes
// only the entity read, so the violation moves only if check_delta follows
// that link. Random runs with random corruptions check the same equality at
// scale (tests/properties_incremental_test.cc); these make each link fail on
// its own when it is missing.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "spec/incremental_state.h"
#include "spec/invariants.h"
#include "spec/snapshot_delta.h"

namespace mv::spec {
namespace {

// root, /a (memcg 1, objcg 1) with task t0, /a/b (memcg 2, objcg 2); 2 CPUs,
// nothing charged. Consistent: no invariant fires.
Snapshot base() {
  Snapshot s;
  s.config.ncpus = 2;
  s.cgroups = {
      CgroupSnap{.id = 0, .path = 0},
      CgroupSnap{.id = 1, .path = 1, .parent = 0, .css_refs = 4, .objcg = 1, .nr_tasks = 1},
      CgroupSnap{.id = 2, .path = 2, .parent = 1, .css_refs = 2, .objcg = 2},
  };
  s.objcgs = {ObjcgSnap{.id = 1, .origin = 1, .memcg = 1, .refs = 1},
              ObjcgSnap{.id = 2, .origin = 2, .memcg = 2, .refs = 1}};
  s.stocks = {StockSnap{.cpu = 0}, StockSnap{.cpu = 1}};
  s.tasks = {TaskSnap{0, 1, 0}};
  return s;
}

// Checks every state of `states` both ways (each step a quiesce) and expects
// the same violations; returns the number of steps with any.
int expect_same(const std::vector<Snapshot>& states, const std::string& what) {
  Monitor full(states[0].config), delta(states[0].config);
  IncrementalState state(SnapshotStore::of(states[0]).value());
  const Op quiesce = Quiesce{};
  int with_violations = 0;
  for (std::size_t k = 0; k < states.size(); ++k) {
    const Op* op = k ? &quiesce : nullptr;
    std::vector<ObjectSnap> created = states[0].objects;
    if (k) {
      auto d = snapshot_delta(state.store(), states[k]);
      EXPECT_TRUE(d && state.apply(*d)) << what << ": step " << k << " is no delta";
      if (d) created = d->objects;
      EXPECT_FALSE(state.affected().everything) << what << ": step " << k << " rebuilt the state";
    }
    auto expected = full.check(Step{k ? &states[k - 1] : nullptr, op, Errno::ok, &states[k]});
    auto found = delta.check_delta(op, Errno::ok, state, created);
    EXPECT_EQ(found, expected) << what << ": step " << k;
    with_violations += expected.empty() ? 0 : 1;
  }
  return with_violations;
}

TEST(SpecIncremental, TheBaseStateIsClean) {
  Snapshot s = base();
  Monitor m(s.config);
  EXPECT_EQ(m.check(Step{nullptr, nullptr, Errno::ok, &s}), std::vector<Violation>{});
}

TEST(SpecIncremental, AMemcgFreedUnderItsTasksShowsAtTheTasks) {
  // INV-NO-UAF's task section reads the task's memcg.
  Snapshot freed = base();
  freed.cgroups[1].state = CgroupState::freed;
  EXPECT_GT(expect_same({base(), freed, base()}, "task in a freed memcg"), 0);
}

TEST(SpecIncremental, AParentFreedShowsAtItsChildren) {
  Snapshot freed = base();
  freed.cgroups[1].state = CgroupState::freed;
  freed.tasks.clear();
  Snapshot start = base();
  start.tasks.clear();
  start.cgroups[1].css_refs = 3;
  EXPECT_GT(expect_same({start, freed, start}, "parent freed"), 0);
}

TEST(SpecIncremental, AMemcgObjcgChangedShowsAtTheObjcgBornThere) {
  // INV-REPARENT: an active objcg must be memcg->objcg of its origin; only
  // /a's objcg pointer changes.
  Snapshot moved = base();
  moved.cgroups[1].objcg = 2;
  EXPECT_GT(expect_same({base(), moved, base()}, "memcg->objcg moved"), 0);
}

TEST(SpecIncremental, AnObjcgStateChangedShowsAtTheMemcgPointingAtIt) {
  // INV-REPARENT's memcg->objcg check and INV-NO-UAF read the objcg's state.
  Snapshot killed = base();
  killed.objcgs[0].state = ObjcgState::reparented;
  EXPECT_GT(expect_same({base(), killed, base()}, "memcg->objcg reparented"), 0);
}

TEST(SpecIncremental, AnAncestorOfflinedMovesTheExpectedTargetOfObjcgsBornBelow) {
  // /a/b offlined with its objcg 2 reparented past /a to the root: wrong
  // (expected /a) until /a is offlined too; only /a changes.
  Snapshot past = base();
  past.cgroups[2].offlined = true;
  past.cgroups[2].objcg = std::nullopt;
  past.cgroups[2].css_refs = 1;
  past.objcgs[1].state = ObjcgState::reparented;
  past.objcgs[1].memcg = 0;
  past.objcgs[1].refs = 0;
  Snapshot above_offlined = past;
  above_offlined.cgroups[1].offlined = true;
  EXPECT_GT(expect_same({past, above_offlined, past}, "ancestor offlined"), 0);
}

TEST(SpecIncremental, ADyingChildPinnedShowsAtItsDyingParent) {
  // INV-NO-PIN: dying /a and dying /a/b, offlined; /a/b is pinned by a task
  // (then not), so /a's verdict follows /a/b's although /a does not change.
  Snapshot dying = base();
  dying.tasks.clear();
  for (MemcgId id : {1, 2}) {
    dying.cgroups[id].state = CgroupState::dying;
    dying.cgroups[id].offlined = true;
    dying.cgroups[id].objcg = std::nullopt;
    dying.objcgs[id - 1].state = ObjcgState::released;
    dying.objcgs[id - 1].refs = 0;
  }
  dying.cgroups[1].css_refs = 1;  // its dying child
  dying.cgroups[2].css_refs = 1;  // unexplained: pinned
  Snapshot with_task = dying;
  with_task.cgroups[2].css_refs = 1;
  with_task.tasks = {TaskSnap{0, 2, 0}};  // now explained, but a task pins it
  Snapshot explained = dying;
  explained.cgroups[2].css_refs = 0;  // not pinned: css_free pending is not modeled; refs 0 is reported
  EXPECT_GT(expect_same({dying, with_task, dying}, "dying child"), 0);
}

TEST(SpecIncremental, AStockSlotMovedShowsAtTheMemcgsItCachesAndTheirAncestors) {
  // INV-REF-BALANCE counts the slot as a holder; INV-PAGE-CONSERVATION sums
  // it over the ancestors.
  Snapshot stocked = base();
  stocked.stocks[1].page_stock = {PageStockSlot{2, 5}};
  EXPECT_GT(expect_same({base(), stocked, base()}, "page stock"), 0);
}

TEST(SpecIncremental, AGuardedInvariantCatchesUpWithWhatChangedWhileItWasOff) {
  // INV-NO-PIN runs only with no pending work: /a/b dies while work is
  // pending, and the verdict must appear once the work is done.
  Snapshot pending = base();
  pending.pending_work = 1;
  Snapshot died = pending;
  died.cgroups[2].state = CgroupState::dying;  // still holds its ID ref: pinned
  Snapshot done = died;
  done.pending_work = 0;
  EXPECT_GT(expect_same({base(), pending, died, done, base()}, "pending work"), 0);
}

TEST(SpecIncremental, AnEventIsReportedOnceAtItsStep) {
  Snapshot event = base();
  event.events = {Event{EventKind::css_ref_underflow, 1, -1}};
  Snapshot later = event;
  later.cgroups[2].watermark_pages = 1;
  EXPECT_EQ(expect_same({base(), event, later}, "event"), 1);
}

}  // namespace
}  // namespace mv::spec
