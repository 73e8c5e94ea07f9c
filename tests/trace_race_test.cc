// Races as traces (docs/TRACE_FORMAT.md "Races"): fibers, the data-race
// detector, the race lines read and written back, the rules of a stopped
// operation, and the three race scenarios: the correct models agree on them,
// and each interleaving mutant fails on its own.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "reference/model.h"
#include "trace/fiber.h"
#include "trace/race_detector.h"
#include "trace/replay.h"
#include "trace/trace_writer.h"

namespace mv::trace {
namespace {

Trace read(const std::string& text) {
  std::istringstream in(text);
  return read_trace(in, "race.jsonl");
}

Trace read_scenario(const std::string& name) {
  return read_trace_file((std::filesystem::path(MV_SOURCE_DIR) / "scenarios" / (name + ".jsonl")).string());
}

const std::string kHeader = R"({"profile":"v6.6","cpus":2,"page_size":4096})" "\n";

TEST(Fiber, SuspendsAndResumesInOrderAndPassesExceptionsOn) {
  std::vector<int> order;
  Fiber f([&] {
    order.push_back(1);
    Fiber::suspend();
    order.push_back(3);
  });
  f.resume();
  order.push_back(2);
  EXPECT_FALSE(f.finished());
  f.resume();
  EXPECT_TRUE(f.finished());
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  Fiber thrower([] { throw std::runtime_error("inside"); });
  EXPECT_THROW(thrower.resume(), std::runtime_error);
  EXPECT_TRUE(thrower.finished());
  EXPECT_THROW(Fiber::suspend(), std::logic_error);
}

TEST(RaceDetector, ALockOrdersAccessesAndItsAbsenceIsARace) {
  int lock = 0, x = 0, y = 0;
  RaceDetector d;
  d.acquire(0, &lock);
  d.access(0, &x, true, 1);
  d.release(0, &lock);
  d.acquire(1, &lock);
  d.access(1, &x, false, 2);  // ordered by the lock
  d.release(1, &lock);
  EXPECT_FALSE(d.race());
  d.access(0, &y, false, 3);
  d.access(1, &y, true, 4);  // no lock between them
  ASSERT_TRUE(d.race());
  EXPECT_EQ(d.race()->tag, 4u);
  EXPECT_EQ(d.race()->other_tag, 3u);
  EXPECT_TRUE(d.race()->write);
  EXPECT_FALSE(d.race()->other_write);
}

TEST(RaceLines, ReadAndWrittenBackTheSame) {
  auto t = read(kHeader + R"({"op":"mkdir","cg":"/a"})" "\n" +
                R"({"op":"drain_all","cg":"/","cpu":0,"preempt_at":"after_flush_required_check","preempt_hit":2,"id":"d"})" "\n" +
                R"({"op":"resume","id":"d","preempt_at":"before_css_tryget"})" "\n" +
                R"({"op":"resume","id":"d"})" "\n");
  ASSERT_FALSE(t.error) << t.error->what();
  ASSERT_TRUE(t.has_races());
  ASSERT_TRUE(t.ops[1].preempt);
  EXPECT_EQ(t.ops[1].preempt->point, spec::PreemptPoint::after_flush_required_check);
  EXPECT_EQ(t.ops[1].preempt->hit, 2u);
  EXPECT_EQ(t.ops[1].id, "d");
  EXPECT_TRUE(t.ops[2].resume);
  EXPECT_EQ(t.ops[2].preempt->point, spec::PreemptPoint::before_css_tryget);
  std::string text = kHeader;
  for (const auto& op : t.ops) text += trace_line_json(op, t.names).dump() + "\n";
  auto again = read(text);
  ASSERT_FALSE(again.error);
  for (std::size_t i = 0; i < t.ops.size(); ++i)
    EXPECT_EQ(trace_line_json(again.ops[i], again.names), trace_line_json(t.ops[i], t.names));
  EXPECT_FALSE(read(kHeader + R"({"op":"mkdir","cg":"/a"})" "\n").has_races());
}

struct BadRace {
  std::string lines;
  std::size_t line;
  std::string message;
};

class RaceInputErrors : public ::testing::TestWithParam<BadRace> {};

TEST_P(RaceInputErrors, AreTraceErrorsWithTheirLine) {
  const auto& c = GetParam();
  auto r = replay(read(kHeader + c.lines), ModelChoice::both);
  ASSERT_TRUE(r.error) << r.verdict();
  EXPECT_EQ(r.exit_code(), 2);
  EXPECT_EQ(r.error->line, c.line) << r.error->what();
  EXPECT_NE(r.error->reason.find(c.message), std::string::npos) << r.error->what();
}

// The limit keeps CPU 1's page stock empty: drain_all_stock tests the byte
// stock (obj_stock_flush_required) only when the page stock needs no flush.
const std::string kSetup = R"({"op":"mkdir","cg":"/a"})" "\n"
                           R"({"op":"set_max","cg":"/a","pages":1})" "\n"
                           R"({"op":"spawn","task":"t","cg":"/a","cpu":1})" "\n"
                           R"({"op":"alloc","task":"t","obj":"o","kind":"slab","size":64})" "\n";
const std::string kStopDrainAll =
    R"({"op":"drain_all","cg":"/","cpu":0,"preempt_at":"after_flush_required_check","id":"d"})" "\n";

INSTANTIATE_TEST_SUITE_P(
    Rules, RaceInputErrors,
    ::testing::Values(
        BadRace{R"({"op":"drain","cpu":0,"preempt_at":"nowhere","id":"x"})" "\n", 2,
                "unknown preemption point \"nowhere\""},
        BadRace{R"({"op":"drain","cpu":0,"preempt_at":"after_work_dequeued"})" "\n", 2,
                "missing field \"id\""},
        BadRace{R"({"op":"resume","id":"x"})" "\n", 2, "no operation is preempted"},
        BadRace{R"({"op":"drain","cpu":0,"preempt_at":"after_work_dequeued","id":"x"})" "\n", 2,
                "finished without reaching after_work_dequeued"},
        BadRace{kSetup + kStopDrainAll, 6, "never resumed"},
        BadRace{kSetup + kStopDrainAll + R"({"op":"drain","cpu":0})" "\n", 7,
                "CPU 0 is running the operation preempted at line 6"},
        BadRace{kSetup + kStopDrainAll + R"({"op":"mkdir","cg":"/b","cpu":1})" "\n", 7,
                "cgroup_mutex is held"},
        BadRace{kSetup + kStopDrainAll + R"({"op":"cpu_offline","cpu":1})" "\n", 7,
                "cpu_offline while"},
        BadRace{kSetup + kStopDrainAll +
                    R"({"op":"drain","cpu":1,"preempt_at":"after_work_dequeued","id":"d"})" "\n",
                7, "already names"},
        BadRace{kSetup + R"({"op":"alloc","task":"t","obj":"p","kind":"slab","size":64,"preempt_at":"after_get_obj_cgroup_from_current","id":"a"})" "\n" +
                    R"({"op":"free","obj":"o","cpu":0})" "\n" +
                    R"({"op":"run_on","task":"t","cpu":0})" "\n",
                8, "task \"t\" is in the operation preempted at line 6"}));

// The correct models agree on every race scenario; each interleaving mutant
// fails on its own, the way the scenario says (in the impl only: the
// reference stays correct).
TEST(RaceScenarios, CorrectModelsAgreeAndEachMutantFails) {
  struct Case {
    std::string scenario;
    spec::Mutant mutant;
    std::string impl_verdict;  // replay --model impl --mutant
  };
  const std::vector<Case> cases = {
      {"race_flush_required_vs_drain", spec::Mutant::flush_required_double_read, "INV-NO-UAF"},
      {"race_charge_vs_offline", spec::Mutant::css_get_not_tryget, "INV-NO-UAF"},
      {"race_requeue_vs_dequeue", spec::Mutant::requeued_work_read_unlocked, "DATA RACE"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.scenario);
    auto t = read_scenario(c.scenario);
    ASSERT_FALSE(t.error) << t.error->what();
    ASSERT_TRUE(t.has_races());
    for (auto choice : {ModelChoice::reference, ModelChoice::impl, ModelChoice::both}) {
      auto r = replay(t, choice);
      EXPECT_EQ(r.exit_code(), 0) << model_choice_name(choice) << ": " << r.verdict();
    }
    auto mutated = replay(t, ModelChoice::impl, c.mutant);
    EXPECT_EQ(mutated.exit_code(), 1);
    EXPECT_NE(mutated.verdict().find(c.impl_verdict), std::string::npos) << mutated.verdict();
    EXPECT_EQ(replay(t, ModelChoice::both, c.mutant).exit_code(), 1);
  }
}

// Seed 002's move-and-destroy race on the profiles with per-memcg
// kmem_caches, which have no impl: harmless on the reference (the reference
// memcg_kmem_get_cache takes keeps the cache alive), a use after free of the
// destroyed cache with the overlay cache_put_before_alloc (overlay/), which
// drops it before the allocation. Davydov's design never destroys a cache:
// the mutant does not apply there.
TEST(RaceScenarios, MoveAndDestroyIsHarmlessOnTheReferenceAndAUseAfterFreeWithoutItsReference) {
  for (const std::string profile : {"v52", "v53"}) {
    SCOPED_TRACE(profile);
    auto t = read_scenario("race_move_and_destroy_" + profile);
    ASSERT_FALSE(t.error) << t.error->what();
    ASSERT_TRUE(t.has_races());
    auto correct = replay(t, ModelChoice::reference);
    EXPECT_EQ(correct.exit_code(), 0) << correct.verdict();
    for (const auto& v : correct.violations)
      EXPECT_NE(v.violation.invariant, "INV-NO-UAF") << v.violation.message;
    auto mutated = replay(t, ModelChoice::reference, spec::Mutant::cache_put_before_alloc);
    EXPECT_EQ(mutated.exit_code(), 1) << mutated.verdict();
    bool cache_freed = false;
    for (const auto& v : mutated.violations)
      if (v.violation.invariant == "INV-NO-UAF" && v.violation.clause == "cache-freed") {
        cache_freed = true;
        EXPECT_EQ(v.line, 10u);  // the resume: the allocation from the destroyed cache
      }
    EXPECT_TRUE(cache_freed) << mutated.verdict();
    // Without the preemption the mutant is the reference, step for step.
    std::string sequential;
    for (const auto& line : {R"({"op":"mkdir","cg":"/a"})",
                             R"({"op":"spawn","task":"t","cg":"/a","cpu":0})",
                             R"({"op":"alloc","task":"t","obj":"w","kind":"slab","size":64,"cache":"dentry"})",
                             R"({"op":"quiesce"})",
                             R"({"op":"alloc","task":"t","obj":"o","kind":"slab","size":64,"cache":"dentry"})",
                             R"({"op":"migrate","task":"t","cg":"/","cpu":1})",
                             R"({"op":"rmdir","cg":"/a","cpu":1})", R"({"op":"quiesce"})"})
      sequential += std::string(line) + "\n";
    const std::string header = std::string(R"({"profile":")") + (profile == "v52" ? "v5.2" : "v5.3") +
                               R"(","cpus":2,"page_size":4096})" "\n";
    auto plain = read(header + sequential);
    ASSERT_FALSE(plain.error) << plain.error->what();
    auto a = replay(plain, ModelChoice::reference);
    auto b = replay(plain, ModelChoice::reference, spec::Mutant::cache_put_before_alloc);
    EXPECT_EQ(b.exit_code(), a.exit_code()) << b.verdict();
    ASSERT_TRUE(a.snapshot && b.snapshot);
    EXPECT_EQ(*a.snapshot, *b.snapshot);
  }
  auto davydov = read(R"({"profile":"davydov-2014","cpus":2,"page_size":4096})" "\n");
  auto r = replay(davydov, ModelChoice::reference, spec::Mutant::cache_put_before_alloc);
  ASSERT_TRUE(r.model_failure);  // the mutant does not apply: no model is made
  EXPECT_NE(r.model_failure->message.find("does not apply"), std::string::npos);
}

// While an operation is stopped inside an RCU read-side section, quiesce
// leaves the callbacks queued after the section began: /a's css_free waits.
TEST(RaceScenarios, AStoppedReaderHoldsBackTheGracePeriod) {
  auto t = read(kHeader +
                R"({"op":"mkdir","cg":"/a"})" "\n"
                R"({"op":"spawn","task":"t","cg":"/a","cpu":0})" "\n"
                R"({"op":"alloc","task":"t","obj":"o","kind":"slab","size":64,"preempt_at":"after_get_obj_cgroup_from_current","id":"a"})" "\n"
                R"({"op":"migrate","task":"t","cg":"/","cpu":1})" "\n"
                R"({"op":"rmdir","cg":"/a","cpu":1})" "\n"
                R"({"op":"resume","id":"a","preempt_at":"before_css_tryget"})" "\n"
                R"({"op":"quiesce"})" "\n");
  for (auto choice : {ModelChoice::reference, ModelChoice::both}) {
    auto r = replay(t, choice);
    ASSERT_TRUE(r.error);  // the alloc is never resumed
    EXPECT_EQ(r.error->line, 4u);
    ASSERT_TRUE(r.snapshot);
    EXPECT_FALSE(r.disagreement) << r.disagreement->message;
    EXPECT_EQ(r.snapshot->cgroup(1).state, spec::CgroupState::dying);
    EXPECT_TRUE(r.snapshot->cgroup(1).offlined);
    EXPECT_EQ(r.snapshot->cgroup(1).css_refs, 0);
    EXPECT_EQ(r.snapshot->pending_work, 2u);  // the objcg switch and css_free
  }
}

TEST(RaceReplay, AModelThatCannotBePreemptedIsAModelFailure) {
  class Plain final : public spec::Model {
   public:
    explicit Plain(const Trace& t) : inner_(reference::make_reference_model(t.config, t.names.paths)) {}
    spec::Errno apply(const spec::Op& op) override { return inner_->apply(op); }
    spec::Snapshot snapshot() const override { return inner_->snapshot(); }
    std::string_view name() const override { return "plain"; }

   private:
    std::unique_ptr<spec::Model> inner_;
  };
  auto t = read_scenario("race_flush_required_vs_drain");
  std::vector<NamedModel> models;
  models.push_back({"plain", std::make_unique<Plain>(t)});
  auto r = replay_models(t, std::move(models), ModelChoice::reference);
  ASSERT_TRUE(r.model_failure);
  EXPECT_NE(r.model_failure->message.find("cannot be preempted"), std::string::npos);
}

}  // namespace
}  // namespace mv::trace
