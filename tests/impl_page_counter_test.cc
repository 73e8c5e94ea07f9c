// impl/page_counter and impl/percpu_ref on hand-computed cases.
#include <gtest/gtest.h>

#include "impl/page_counter.h"
#include "impl/percpu_ref.h"

namespace mv::impl {
namespace {

constexpr unsigned long kUnlimited = 1UL << 50;

struct Tree {
  // root (unlimited) <- mid (max 100) <- leaf (max 1000)
  Tree() {
    page_counter_init(root, nullptr, nullptr, 0, kUnlimited);
    page_counter_init(mid, &root, nullptr, 1, 100);
    page_counter_init(leaf, &mid, nullptr, 2, 1000);
  }
  PageCounter root, mid, leaf;
  EventLog events;
};

TEST(ImplPageCounter, TryChargeAddsAtEveryLevelAndTracksWatermarks) {
  Tree t;
  PageCounter* fail = nullptr;
  ASSERT_TRUE(page_counter_try_charge(&t.leaf, 64, &fail, t.events));
  ASSERT_TRUE(page_counter_try_charge(&t.leaf, 30, &fail, t.events));
  EXPECT_EQ(t.leaf.usage.load(), 94);
  EXPECT_EQ(t.mid.usage.load(), 94);
  EXPECT_EQ(t.root.usage.load(), 94);
  page_counter_uncharge(&t.leaf, 50, t.events);
  EXPECT_EQ(t.root.usage.load(), 44);
  EXPECT_EQ(t.leaf.watermark.load(), 94u);
  EXPECT_EQ(t.root.watermark.load(), 94u);
}

TEST(ImplPageCounter, RefusalAtAnUpperLevelRollsBackTheLowerOnes) {
  Tree t;
  PageCounter* fail = nullptr;
  ASSERT_TRUE(page_counter_try_charge(&t.leaf, 90, &fail, t.events));
  // 90 + 11 = 101 > 100 at mid: leaf (already charged) is cancelled, mid
  // subtracts itself, root is never touched.
  EXPECT_FALSE(page_counter_try_charge(&t.leaf, 11, &fail, t.events));
  EXPECT_EQ(fail, &t.mid);
  EXPECT_EQ(t.leaf.usage.load(), 90);
  EXPECT_EQ(t.mid.usage.load(), 90);
  EXPECT_EQ(t.root.usage.load(), 90);
  EXPECT_EQ(t.mid.failcnt.load(), 1u);
  EXPECT_EQ(t.leaf.failcnt.load(), 0u);
  // The leaf's watermark was raised to 101 before mid refused, and the
  // rollback does not lower it (the kernel's watermark can include a
  // speculative charge that was cancelled).
  EXPECT_EQ(t.leaf.watermark.load(), 101u);
  EXPECT_EQ(t.mid.watermark.load(), 90u);
  // Exactly at max is allowed.
  EXPECT_TRUE(page_counter_try_charge(&t.leaf, 10, &fail, t.events));
  EXPECT_EQ(t.mid.usage.load(), 100);
  EXPECT_TRUE(t.events.events().empty());
}

TEST(ImplPageCounter, ForcedChargeIgnoresMax) {
  Tree t;
  page_counter_charge(&t.leaf, 150);
  EXPECT_EQ(t.mid.usage.load(), 150);
  EXPECT_EQ(t.mid.watermark.load(), 150u);
  EXPECT_EQ(t.mid.failcnt.load(), 0u);
}

TEST(ImplPageCounter, UnderflowClampsToZeroWithAnEvent) {
  Tree t;
  page_counter_charge(&t.leaf, 5);
  page_counter_uncharge(&t.leaf, 7, t.events);
  EXPECT_EQ(t.leaf.usage.load(), 0);
  EXPECT_EQ(t.root.usage.load(), 0);
  ASSERT_EQ(t.events.events().size(), 3u);  // one WARN per level
  EXPECT_EQ(t.events.events()[0].kind, spec::EventKind::page_counter_underflow);
  EXPECT_EQ(t.events.events()[0].subject, 2u);
  EXPECT_EQ(t.events.events()[0].value, -2);
}

TEST(ImplPageCounter, SetMaxRefusesBelowUsage) {
  Tree t;
  page_counter_charge(&t.leaf, 40);
  EXPECT_FALSE(page_counter_set_max(&t.leaf, 39));
  EXPECT_EQ(t.leaf.max.load(), 1000u);
  EXPECT_TRUE(page_counter_set_max(&t.leaf, 40));
  EXPECT_EQ(t.leaf.max.load(), 40u);
}

TEST(ImplPercpuRef, PercpuModeCountsOnEachCpuAndSums) {
  PercpuArea area(3, 8);
  PcpuRef ref;
  ref.init(area, 1, false);
  EXPECT_EQ(area.nr_free_slots(), 7u);
  EXPECT_EQ(ref.get(area.cpu_base(0)), RefResult::ok);
  EXPECT_EQ(ref.get(area.cpu_base(1)), RefResult::ok);
  EXPECT_EQ(ref.put(area.cpu_base(2)), RefResult::ok);  // per-CPU counts may go negative
  EXPECT_EQ(area.cpu_base(2)[0].load(), -1);
  EXPECT_EQ(ref.total(area), 2);
}

TEST(ImplPercpuRef, KillThenSwitchReleasesOnlyAtZero) {
  PercpuArea area(2, 4);
  PcpuRef ref;
  ref.init(area, 1, false);
  ref.get(area.cpu_base(0));                // 2
  EXPECT_EQ(ref.kill(), RefResult::ok);     // + the confirm ref, - the initial ref
  EXPECT_TRUE(ref.killed());
  EXPECT_EQ(ref.total(area), 2);
  EXPECT_FALSE(ref.complete_switch(area));  // the confirm ref put: 1 left, no release
  EXPECT_EQ(area.nr_free_slots(), 4u);      // the per-CPU slot is given back
  EXPECT_EQ(ref.tryget(area.cpu_base(1)), RefResult::ok);  // killed, not zero: succeeds
  EXPECT_EQ(ref.put(area.cpu_base(1)), RefResult::ok);
  EXPECT_EQ(ref.put(area.cpu_base(0)), RefResult::released);
  EXPECT_EQ(ref.tryget(area.cpu_base(0)), RefResult::failed);
  EXPECT_EQ(ref.get(area.cpu_base(0)), RefResult::was_zero);
  EXPECT_EQ(ref.put(area.cpu_base(0)), RefResult::underflow);
  EXPECT_EQ(ref.total(area), 0);
}

TEST(ImplPercpuRef, SwitchReleasesWhenEverythingWasPutBefore) {
  PercpuArea area(2, 4);
  PcpuRef ref;
  ref.init(area, 1, false);
  ref.get(area.cpu_base(0));
  ref.put(area.cpu_base(1));   // the holder's put lands on another CPU
  ref.kill();                  // only the switch's confirm ref is left
  EXPECT_EQ(ref.total(area), 1);
  EXPECT_TRUE(ref.complete_switch(area));  // its put releases
  EXPECT_EQ(ref.total(area), 0);
}

TEST(ImplPercpuRef, OutOfSlotsStartsAtomicWithTheSameReleaseTiming) {
  PercpuArea area(2, 0);
  PcpuRef ref;
  ref.init(area, 1, false);
  EXPECT_EQ(ref.get(area.cpu_base(0)), RefResult::ok);
  EXPECT_EQ(ref.put(area.cpu_base(0)), RefResult::ok);
  EXPECT_EQ(ref.kill(), RefResult::ok);  // biased until the switch: no early release
  EXPECT_TRUE(ref.complete_switch(area));
}

TEST(ImplPercpuRef, NoRefIgnoresEverything) {
  PercpuArea area(1, 4);
  PcpuRef ref;
  ref.init(area, 0, true);
  EXPECT_EQ(ref.put(area.cpu_base(0)), RefResult::ok);
  EXPECT_EQ(ref.get(area.cpu_base(0)), RefResult::ok);
  EXPECT_EQ(ref.total(area), 0);
  EXPECT_EQ(area.nr_free_slots(), 4u);
}

}  // namespace
}  // namespace mv::impl
