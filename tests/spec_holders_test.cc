// Holder enumeration per profile (spec/holders.h): who holds a css or objcg
// reference in v5.2, v5.10 and v6.6.
#include <gtest/gtest.h>

#include "spec/holders.h"
#include "spec/snapshot_index.h"

namespace mv::spec {
namespace {

// /a (memcg 1) online with one task; CPU 0 stocks 5 pages for /a; objcg 1 is
// /a's; objcg 2 (from a removed child) was reparented to /a; one kmem page
// object holds /a directly and one slab object holds objcg 2.
Snapshot sample(Profile profile) {
  Snapshot s;
  s.config.profile = profile;
  s.config.ncpus = 2;
  CgroupSnap root;
  CgroupSnap a{.id = 1, .path = 1, .parent = 0, .objcg = 1};
  CgroupSnap child{.id = 2, .path = 2, .parent = 1, .state = CgroupState::freed, .offlined = true};
  s.cgroups = {root, a, child};
  ObjcgSnap own{.id = 1, .origin = 1, .memcg = 1};
  ObjcgSnap reparented{.id = 2, .origin = 2, .memcg = 1, .state = ObjcgState::reparented};
  s.objcgs = {own, reparented};
  StockSnap cpu0;
  cpu0.page_stock = {PageStockSlot{1, 5}};
  cpu0.cached_objcg = 2;
  StockSnap cpu1;
  cpu1.cpu = 1;
  s.stocks = {cpu0, cpu1};
  ObjectSnap stack;
  stack.key = 0;
  stack.kind = AllocKind::stack;
  stack.charged_bytes = 16384;
  stack.memcg = 1;
  stack.nr_kmem_pages = 4;
  ObjectSnap slab;
  slab.key = 1;
  slab.charged_bytes = 72;
  slab.objcg = 2;
  s.objects = {stack, slab};
  s.tasks = {TaskSnap{0, 1, 0}};
  return s;
}

TEST(Holders, V66CountsTheCachedMemcgOnceAndNoObjcgOrDirectPage) {
  Snapshot s = sample(Profile::v6_6);
  SnapshotIndex index(s);
  auto css = css_holders(index, traits(Profile::v6_6));
  ASSERT_TRUE(css.count(1));
  EXPECT_FALSE(css.count(2)) << "freed memcgs have no holders";
  const CssHolders& a = css.at(1);
  EXPECT_EQ(a.base_refs, 1);
  EXPECT_EQ(a.id_refs, 1);
  EXPECT_EQ(a.child_refs, 0) << "the freed child no longer holds its parent";
  EXPECT_EQ(a.task_refs, 1);
  ASSERT_EQ(a.page_stocks.size(), 1u);
  EXPECT_EQ(a.page_stocks[0].refs, 1);
  EXPECT_TRUE(a.objects.empty());
  EXPECT_TRUE(a.objcgs.empty());
  EXPECT_EQ(a.total(), 4);

  auto objcgs = objcg_holders(index);
  EXPECT_EQ(objcgs.at(1).total(), 1);  // the initial ref
  const ObjcgHolders& two = objcgs.at(2);
  EXPECT_EQ(two.initial_refs, 0);  // killed at reparenting
  EXPECT_EQ(two.obj_stocks, std::vector<Cpu>{0});
  EXPECT_EQ(two.total(), 2);  // the slab object + CPU 0's obj stock
}

// kill_css's css_get and the confirm reference of percpu_ref_kill_and_confirm
// are held from rmdir until the offline; a killed objcg holds the confirm
// reference until its switch's RCU callback.
TEST(Holders, TheKillHoldsReferencesUntilTheOfflineAndTheSwitch) {
  Snapshot s = sample(Profile::v6_6);
  s.cgroups[1].state = CgroupState::dying;
  s.tasks.clear();
  s.objects.pop_back();
  s.stocks[0].cached_objcg.reset();
  s.objcgs[1].switch_pending = true;
  SnapshotIndex index(s);
  const auto holders = css_holders(index, traits(Profile::v6_6));
  const CssHolders& a = holders.at(1);
  EXPECT_EQ(a.base_refs, 0);
  EXPECT_EQ(a.kill_refs, 2);
  EXPECT_EQ(a.id_refs, 1);
  EXPECT_EQ(a.total(), 4);  // + the page stock
  s.cgroups[1].offlined = true;
  SnapshotIndex offlined(s);
  const auto holders_after = css_holders(offlined, traits(Profile::v6_6));
  const CssHolders& after = holders_after.at(1);
  EXPECT_EQ(after.kill_refs, 0);
  EXPECT_EQ(after.id_refs, 0);
  EXPECT_EQ(after.total(), 1);
  const auto objcgs = objcg_holders(offlined);
  const ObjcgHolders& two = objcgs.at(2);
  EXPECT_EQ(two.confirm_refs, 1);
  EXPECT_EQ(two.total(), 1);
}

TEST(Holders, V510AddsKmemPagesAndReparentedObjcgs) {
  Snapshot s = sample(Profile::v5_10);
  SnapshotIndex index(s);
  const CssHolders a = css_holders(index, traits(Profile::v5_10)).at(1);
  ASSERT_EQ(a.objects.size(), 1u);
  EXPECT_EQ(a.objects[0].refs, 4);  // one per stack page
  EXPECT_EQ(a.objcgs, std::vector<ObjcgId>{2});
  EXPECT_EQ(a.total(), 4 + 4 + 1);
}

TEST(Holders, V52StockPagesEachHoldAReference) {
  Snapshot s = sample(Profile::v5_2);
  SnapshotIndex index(s);
  const CssHolders a = css_holders(index, traits(Profile::v5_2)).at(1);
  ASSERT_EQ(a.page_stocks.size(), 1u);
  EXPECT_EQ(a.page_stocks[0].refs, 5);
  EXPECT_TRUE(a.objcgs.empty());
}

// INV-REF-BALANCE counts without listing (css_held_refs, objcg_held_refs)
// and lists only on a mismatch: the count is the listing's total in every
// profile, for every memcg and objcg of the sample, in every state.
TEST(Holders, TheCountWithoutListsIsTheListedTotal) {
  for (const auto& t : all_profiles()) {
    for (auto state : {CgroupState::online, CgroupState::dying, CgroupState::freed}) {
      for (bool offlined : {false, true}) {
        Snapshot s = sample(t.profile);
        s.cgroups[1].state = state;
        s.cgroups[1].offlined = offlined;
        s.objcgs[1].switch_pending = offlined;
        SnapshotIndex index(s);
        for (const auto& cg : s.cgroups) {
          const std::int64_t listed = css_holders(index, t, cg).total();
          EXPECT_EQ(css_held_refs(index, t, cg), listed) << t.name << " memcg " << cg.id;
          if (cg.id == 1 && state != CgroupState::freed) {
            EXPECT_GT(listed, 0) << t.name;
          }
        }
        for (const auto& o : s.objcgs) {
          const std::int64_t listed = objcg_holders(index, o).total();
          EXPECT_EQ(objcg_held_refs(index, o), listed) << t.name << " objcg " << o.id;
          EXPECT_GT(listed, 0) << t.name << " objcg " << o.id;
        }
      }
    }
  }
}

TEST(Holders, ObjectRefsArePerKmemPage) {
  ObjectSnap slab;
  EXPECT_EQ(object_refs(slab), 1);
  ObjectSnap stack;
  stack.kind = AllocKind::stack;
  stack.nr_kmem_pages = 4;
  EXPECT_EQ(object_refs(stack), 4);
}

TEST(SnapshotIndex, SurvivesACorruptTree) {
  Snapshot s = sample(Profile::v6_6);
  s.cgroups[1].parent = 2;  // /a <-> child: a cycle
  s.cgroups[2].parent = 1;
  s.stocks[0].page_stock.push_back(PageStockSlot{99, 3});  // no such memcg
  SnapshotIndex index(s);
  EXPECT_EQ(index.ancestors_or_self(1), (std::vector<MemcgId>{1, 2}));
  EXPECT_EQ(index.memcg(99), nullptr);
  EXPECT_EQ(index.stocked_pages(99), 3);
  EXPECT_EQ(index.subtree_stocked_pages(1), 5);
}

// The index keeps its tables by memcg id in a vector for the ids below the
// number of memcgs and in a map beyond (spec/snapshot_index.h ById): memcg 5
// listed out of place, and a task and a stock slot naming memcg 42, which does
// not exist, land in the map; their counts and sums are those of the ids.
TEST(SnapshotIndex, CountsAndSumsByIdWhateverThePlaceOfAMemcg) {
  Snapshot s;
  s.config.ncpus = 2;
  s.cgroups = {CgroupSnap{.id = 0}, CgroupSnap{.id = 5, .path = 1, .parent = 0},
               CgroupSnap{.id = 1, .path = 2, .parent = 5}};
  s.objcgs = {ObjcgSnap{.id = 3, .origin = 5, .memcg = 5, .charged_pages = 3},
              ObjcgSnap{.id = 1, .origin = 1, .memcg = 5, .charged_pages = 1}};
  StockSnap cpu0, cpu1;
  cpu0.page_stock = {PageStockSlot{5, 4}, PageStockSlot{42, 7}};
  cpu1.cpu = 1;
  cpu1.page_stock = {PageStockSlot{1, 2}};
  s.stocks = {cpu0, cpu1};
  s.tasks = {TaskSnap{0, 5, 0}, TaskSnap{1, 42, 1}};
  SnapshotIndex index(s);
  ASSERT_NE(index.memcg(5), nullptr);
  EXPECT_EQ(index.memcg(5)->path, 1u);
  EXPECT_EQ(index.children(0), std::vector<MemcgId>{5});
  EXPECT_EQ(index.children(5), std::vector<MemcgId>{1});
  EXPECT_TRUE(index.children(42).empty());
  EXPECT_EQ(index.children_not_freed(5), 1u);
  EXPECT_EQ(index.tasks_in(5), 1u);
  EXPECT_EQ(index.tasks_in(42), 1u);
  EXPECT_EQ(index.tasks_in(1), 0u);
  EXPECT_EQ(index.stocked_pages(5), 4);
  EXPECT_EQ(index.stocked_pages(42), 7);
  EXPECT_EQ(index.subtree_stocked_pages(0), 6);  // memcg 42 is no one's descendant
  EXPECT_EQ(index.subtree_stocked_pages(5), 6);
  EXPECT_EQ(index.subtree_stocked_pages(1), 2);
  EXPECT_EQ(index.subtree_stocked_pages(42), 0);
  EXPECT_EQ(index.objcgs_pointing_at(5), (std::vector<ObjcgId>{1, 3}));
  EXPECT_TRUE(index.objcgs_pointing_at(1).empty());
  const SubtreeHoldings root = index.subtree_holdings(0);
  EXPECT_EQ(root.stocked_pages, 6);
  EXPECT_EQ(root.objcg_pages, 4);
  EXPECT_EQ(index.subtree_holdings(1).objcg_pages, 0);
  EXPECT_EQ(index.subtree_holdings(42), SubtreeHoldings{});
}

TEST(SnapshotIndex, TheAncestorWalkVisitsWhatTheListHoldsAndStopsWhenAsked) {
  Snapshot s = sample(Profile::v6_6);
  for (bool corrupt : {false, true}) {
    if (corrupt) {  // a cycle that starts at a parent with a larger id
      s.cgroups[1].parent = 2;
      s.cgroups[2].parent = 1;
    }
    SnapshotIndex index(s);
    for (const auto& cg : s.cgroups) {
      std::vector<MemcgId> walked;
      index.each_ancestor_or_self(cg.id, [&](MemcgId m) { walked.push_back(m); });
      EXPECT_EQ(walked, index.ancestors_or_self(cg.id)) << cg.id << (corrupt ? " corrupt" : "");
      std::vector<MemcgId> first;
      index.each_ancestor_or_self(cg.id, [&](MemcgId m) {
        first.push_back(m);
        return false;
      });
      EXPECT_EQ(first, std::vector<MemcgId>{cg.id});
    }
  }
}

// Monitor resets one index over each step's snapshot (SnapshotIndex::reset):
// whatever it indexed before (a corrupt snapshot, a summary), it answers as
// an index made anew.
TEST(SnapshotIndex, AResetIndexAnswersAsANewOne) {
  Snapshot corrupt = sample(Profile::v6_6);
  corrupt.cgroups[1].parent = 2;  // a cycle, ids out of place, a stock for no memcg
  corrupt.cgroups[2].parent = 1;
  corrupt.cgroups[0].id = 7;
  corrupt.objcgs[0].id = 9;
  corrupt.stocks[0].page_stock.push_back(PageStockSlot{99, 3});
  const Snapshot next = sample(Profile::v5_10);
  const ObjectTotals totals = ObjectTotals::of(corrupt.objects, PageSize::of(4096));
  SnapshotIndex reused(corrupt, totals);
  auto answers = [](const SnapshotIndex& index) {
    std::vector<std::string> out;
    for (MemcgId id : {0u, 1u, 2u, 7u, 99u}) {
      const CgroupSnap* cg = index.memcg(id);
      const SubtreeHoldings h = index.subtree_holdings(id);
      out.push_back(::testing::PrintToString(std::make_tuple(
          cg ? cg->id : 1000u, index.children(id), index.children_not_freed(id),
          index.tasks_in(id), index.stocked_pages(id), index.subtree_stocked_pages(id),
          h.stocked_pages, h.objcg_pages, h.direct_pages, index.objcgs_pointing_at(id),
          index.objects_holding_memcg(id).size())));
    }
    for (ObjcgId id : {1u, 2u, 9u}) {
      const ObjcgSnap* o = index.objcg(id);
      out.push_back(::testing::PrintToString(std::make_tuple(
          o ? o->id : 1000u, index.objects_holding_objcg(id).size(),
          index.object_totals().objcg(id) != nullptr)));
    }
    out.push_back(::testing::PrintToString(index.lists_objects()));
    return out;
  };
  const auto before_reset = answers(reused);
  reused.reset(next);
  EXPECT_EQ(answers(reused), answers(SnapshotIndex(next)));
  EXPECT_NE(answers(reused), before_reset);
  reused.reset(corrupt, &totals);
  EXPECT_EQ(answers(reused), before_reset);
  EXPECT_EQ(answers(reused), answers(SnapshotIndex(corrupt, totals)));
}

}  // namespace
}  // namespace mv::spec
