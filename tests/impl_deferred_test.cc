// Deferred work in concurrent use: RCU items wait for every attached CPU's
// quiescent state; drain work runs on its owner at poll().
#include <gtest/gtest.h>

#include "impl/kmem.h"
#include "impl/system.h"

namespace mv::impl {
namespace {

class Deferred : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.ncpus = 3;
    a_ = *paths_.intern("/a");
    sys_ = std::make_unique<System>(config_, paths_);
    ASSERT_EQ(sys_->mkdir(sys_->cpu(0), a_), spec::Errno::ok);
  }
  spec::Config config_;
  spec::PathTable paths_;
  spec::PathKey a_ = 0;
  std::unique_ptr<System> sys_;
};

TEST_F(Deferred, RcuWorkWaitsForEveryAttachedCpu) {
  Cpu& c0 = sys_->cpu(0);
  Cpu& c1 = sys_->cpu(1);
  c0.attach();
  c1.attach();
  ASSERT_EQ(sys_->rmdir(c0, a_), spec::Errno::ok);  // queues the css offline (RCU)
  EXPECT_EQ(sys_->nr_pending_work(), 1u);
  c0.poll();  // CPU 1 has not passed a quiescent state yet
  EXPECT_EQ(sys_->nr_pending_work(), 1u);
  EXPECT_FALSE(sys_->snapshot().cgroups.at(1).offlined);
  c1.poll();  // now the grace period is over
  c0.poll();  // offline runs: objcg kill queues its switch, the last css put its free
  EXPECT_TRUE(sys_->snapshot().cgroups.at(1).offlined);
  c0.poll();
  c1.poll();
  c0.poll();
  auto s = sys_->snapshot();
  EXPECT_EQ(s.cgroups.at(1).state, spec::CgroupState::freed);
  EXPECT_EQ(s.objcgs.at(0).state, spec::ObjcgState::released);
  c0.poll();
  c1.poll();
  c0.poll();
  EXPECT_EQ(sys_->nr_pending_work(), 0u);
  c0.detach();
  c1.detach();
}

TEST_F(Deferred, DetachedCpusDoNotHoldGracePeriods) {
  Cpu& c0 = sys_->cpu(0);
  c0.attach();  // CPUs 1 and 2 have no thread: always quiescent
  ASSERT_EQ(sys_->rmdir(c0, a_), spec::Errno::ok);
  for (int i = 0; i < 8; ++i) c0.poll();
  EXPECT_EQ(sys_->snapshot().cgroups.at(1).state, spec::CgroupState::freed);
  EXPECT_EQ(sys_->nr_pending_work(), 0u);
  c0.detach();
}

TEST_F(Deferred, RemoteDrainRunsOnItsOwnerAtPoll) {
  Cpu& c0 = sys_->cpu(0);
  Cpu& c2 = sys_->cpu(2);
  Task task;
  ASSERT_EQ(sys_->spawn(c2, task, a_, 2), spec::Errno::ok);
  Object obj;
  ASSERT_EQ(slab_alloc(c2, task, obj, 64, false), spec::Errno::ok);
  ASSERT_EQ(sys_->drain_all(c0, a_), spec::Errno::ok);
  EXPECT_TRUE(sys_->snapshot().stocks.at(2).flushing);
  c0.poll();  // not CPU 0's work
  EXPECT_EQ(sys_->nr_pending_work(), 1u);
  c2.poll();
  auto s = sys_->snapshot();
  EXPECT_FALSE(s.stocks.at(2).flushing);
  EXPECT_TRUE(s.stocks.at(2).page_stock.empty());
  EXPECT_EQ(s.cgroups.at(1).usage_pages, 1);
  slab_free(c2, obj);
}

}  // namespace
}  // namespace mv::impl
