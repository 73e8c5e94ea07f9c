// The kernel model layer: process isolation of any model (a subject that
// crashes, loops or throws is a reported failure, never ours), the wire
// between the proxy and its child, and the kernel's own code of the default
// tree behind spec::Model (skipped when the build has no kernel tree).
#include <gtest/gtest.h>

#include <csignal>
#include <thread>

#include "kernel/isolated_model.h"
#include "kernel/kernel_model.h"
#include "kernel/kernel_subject.h"
#include "kernel/tree_build.h"

namespace mv::kernel {
namespace {

using namespace std::chrono_literals;

spec::Config config_of(std::uint32_t ncpus, std::uint64_t page_size = 4096) {
  spec::Config c;
  c.ncpus = ncpus;
  c.page_size_bytes = page_size;
  return c;
}

// A model whose snapshot fills every field from what it was asked, and that
// misbehaves on request: an alloc of object 13 crashes, of 14 loops, of 15
// throws.
class FakeModel final : public spec::Model {
 public:
  FakeModel(const spec::Config& config, const spec::PathTable& paths) : config_(config), paths_(paths) {}
  spec::Errno apply(const spec::Op& op) override {
    if (const auto* a = std::get_if<spec::Alloc>(&op)) {
      if (a->obj == 13) std::raise(SIGSEGV);
      if (a->obj == 14)
        for (volatile int spin = 0;;) spin = spin + 1;
      if (a->obj == 15) throw std::runtime_error("BUG_ON(x) at mm/fake.c:1 in fake()");
      objects_.push_back(spec::ObjectSnap{a->obj, a->kind, a->size_bytes + 8, 3, std::nullopt, 0});
      return spec::Errno::ok;
    }
    ++applied_;
    return spec::Errno::enomem;
  }
  spec::Snapshot snapshot() const override {
    auto s = snapshot_without_objects();
    s.objects = objects_;
    return s;
  }
  spec::Snapshot snapshot_without_objects() const override {
    spec::Snapshot s;
    s.config = config_;
    // The last path interned, as the child sees the table.
    spec::CgroupSnap c{.id = 7, .path = static_cast<spec::PathKey>(paths_.size() - 1), .parent = 2,
                       .state = spec::CgroupState::dying, .offlined = true, .usage_pages = -3,
                       .max_pages = 99, .failcnt = 5, .watermark_pages = 6, .css_refs = 4,
                       .objcg = 9, .nr_tasks = applied_};
    s.cgroups = {c};
    s.objcgs = {spec::ObjcgSnap{.id = 9, .origin = 7, .memcg = 2, .state = spec::ObjcgState::reparented,
                                .refs = 2, .nr_charged_bytes = 4000000000u, .charged_pages = -1}};
    s.stocks = {spec::StockSnap{.cpu = 0, .online = false, .page_stock = {{7, 63}, {2, 1}},
                                .cached_objcg = 9, .nr_bytes = 3960, .flushing = true}};
    s.tasks = {spec::TaskSnap{1, 7, 0}};
    s.events = {spec::Event{spec::EventKind::objcg_use_after_free, 9, -1}};
    s.pending_work = 3;
    return s;
  }
  std::optional<spec::ObjectSnap> live_object(spec::ObjKey key) const override {
    for (const auto& o : objects_)
      if (o.key == key) return o;
    return std::nullopt;
  }
  std::string_view name() const override { return "fake"; }

 private:
  spec::Config config_;
  const spec::PathTable& paths_;
  std::uint32_t applied_ = 0;
  std::vector<spec::ObjectSnap> objects_;
};

ChildFactory fake_factory() {
  return [](const spec::Config& c, const spec::PathTable& p) { return std::make_unique<FakeModel>(c, p); };
}

spec::Alloc alloc_of(spec::ObjKey obj) { return spec::Alloc{0, obj, spec::AllocKind::slab, 128}; }

TEST(KernelIsolation, TheProxyAnswersWhatTheModelInItsChildAnswers) {
  spec::PathTable paths;
  const auto config = config_of(2);
  auto isolated = make_isolated_model(fake_factory(), config, paths, "fake");
  FakeModel here(config, paths);
  EXPECT_EQ(isolated->name(), "fake");
  EXPECT_EQ(isolated->snapshot(), here.snapshot());
  // A path interned after the child started reaches it with the next op.
  paths.intern("/a/b");
  EXPECT_EQ(isolated->apply(spec::Quiesce{}), here.apply(spec::Quiesce{}));
  EXPECT_EQ(isolated->snapshot(), here.snapshot());
  EXPECT_EQ(isolated->snapshot().cgroups[0].path, *paths.find("/a/b"));
  // The summary path: the step's object comes with the answer.
  EXPECT_EQ(isolated->snapshot_without_objects(), here.snapshot_without_objects());
  EXPECT_EQ(isolated->apply(alloc_of(4)), here.apply(alloc_of(4)));
  EXPECT_EQ(isolated->snapshot_without_objects(), here.snapshot_without_objects());
  EXPECT_EQ(isolated->live_object(4), here.live_object(4));
  EXPECT_EQ(isolated->live_object(5), std::nullopt);
  EXPECT_EQ(isolated->snapshot(), here.snapshot());
}

std::string failure_of(spec::Model& model, const spec::Op& op) {
  try {
    model.apply(op);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "(no failure)";
}

TEST(KernelIsolation, ACrashOfTheSubjectIsAReportedFailure) {
  spec::PathTable paths;
  auto model = make_isolated_model(fake_factory(), config_of(1), paths, "fake");
  EXPECT_EQ(model->apply(alloc_of(1)), spec::Errno::ok);
  auto what = failure_of(*model, alloc_of(13));
  EXPECT_NE(what.find("the fake model's process was killed by signal 11"), std::string::npos) << what;
  EXPECT_NE(what.find("while applying alloc"), std::string::npos) << what;
  // The model stays failed, saying why.
  EXPECT_EQ(failure_of(*model, spec::Quiesce{}), what);
}

TEST(KernelIsolation, AStepThatNeverReturnsIsStoppedAtTheTimeout) {
  spec::PathTable paths;
  auto model = make_isolated_model(fake_factory(), config_of(1), paths, "fake", IsolationLimits{300ms});
  const auto start = std::chrono::steady_clock::now();
  auto what = failure_of(*model, alloc_of(14));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 30s);
  EXPECT_NE(what.find("did not answer within 0.3 s while applying alloc (a loop?)"), std::string::npos)
      << what;
}

TEST(KernelIsolation, AnAssertionOfTheSubjectComesBackAsItsMessage) {
  spec::PathTable paths;
  auto model = make_isolated_model(fake_factory(), config_of(1), paths, "fake");
  EXPECT_EQ(failure_of(*model, alloc_of(15)), "BUG_ON(x) at mm/fake.c:1 in fake()");
  EXPECT_NE(failure_of(*model, spec::Quiesce{}).find("stopped after an earlier failure: BUG_ON(x)"),
            std::string::npos);
}

TEST(KernelIsolation, AFactoryThatFailsInTheChildFailsTheConstruction) {
  spec::PathTable paths;
  ChildFactory failing = [](const spec::Config&, const spec::PathTable&) -> std::unique_ptr<spec::Model> {
    throw std::invalid_argument("no such profile");
  };
  try {
    make_isolated_model(failing, config_of(1), paths, "fake");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), "no such profile");
  }
  ChildFactory dying = [](const spec::Config&, const spec::PathTable&) -> std::unique_ptr<spec::Model> {
    std::abort();
  };
  try {
    make_isolated_model(dying, config_of(1), paths, "fake");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("killed by signal 6"), std::string::npos) << e.what();
  }
}

// ---- the kernel's own code (the default tree) ----

class KernelModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (default_kernel_model().empty()) GTEST_SKIP() << "this build has no kernel tree";
  }
};

// The first slab allocation of docs/MODEL-v6.6.md, by hand: a 128-byte object
// charges 136 bytes; try_charge_memcg charges a batch of 64 pages and stocks
// the 63 left over; refill_obj_stock keeps PAGE_SIZE - 136 = 3960 bytes.
void expect_first_slab_alloc(spec::Model& model, const spec::PathTable& paths) {
  const auto a = *paths.find("/a");
  EXPECT_EQ(model.apply(spec::Mkdir{a}), spec::Errno::ok);
  EXPECT_EQ(model.apply(spec::Spawn{0, a, 0}), spec::Errno::ok);
  EXPECT_EQ(model.apply(spec::Alloc{0, 0, spec::AllocKind::slab, 128}), spec::Errno::ok);
  auto s = model.snapshot();
  ASSERT_EQ(s.cgroups.size(), 2u);
  EXPECT_EQ(s.cgroups[1].usage_pages, 64);
  EXPECT_EQ(s.cgroups[0].usage_pages, 64);
  EXPECT_EQ(s.cgroups[1].css_refs, 4);  // base, ID, the task, the page stock
  EXPECT_EQ(s.cgroups[0].css_refs, 0);  // CSS_NO_REF
  ASSERT_EQ(s.objcgs.size(), 1u);
  EXPECT_EQ(s.objcgs[0].refs, 3);  // initial, the object, the byte stock
  EXPECT_EQ(s.objcgs[0].charged_pages, 1);
  ASSERT_EQ(s.stocks[0].page_stock.size(), 1u);
  EXPECT_EQ(s.stocks[0].page_stock[0].nr_pages, 63u);
  EXPECT_EQ(s.stocks[0].cached_objcg, 1u);
  EXPECT_EQ(s.stocks[0].nr_bytes, 3960u);
  ASSERT_EQ(s.objects.size(), 1u);
  EXPECT_EQ(s.objects[0].charged_bytes, 136u);
  EXPECT_TRUE(s.events.empty());
}

TEST_F(KernelModelTest, TheFirstSlabAllocationInThisProcessAndInAChild) {
  spec::PathTable paths;
  paths.intern("/a");
  auto here = make_kernel_model(KernelModule::load(default_kernel_model()), config_of(2), paths);
  expect_first_slab_alloc(*here, paths);
  auto subject = KernelSubject::open({});
  EXPECT_NE(subject->description().find("Linux 6."), std::string::npos) << subject->description();
  auto isolated = subject->make_model(config_of(2), paths);
  expect_first_slab_alloc(*isolated, paths);
  // Two models in one process are two copies of the kernel's globals.
  auto second = make_kernel_model(KernelModule::load(default_kernel_model()), config_of(2), paths);
  EXPECT_EQ(second->snapshot().cgroups.size(), 1u);
  EXPECT_EQ(here->snapshot().cgroups.size(), 2u);
}

// The kernel's own deferral: rmdir kills the css (one more reference until
// the offline, one for the switch to atomic mode until its grace period);
// quiesce runs the offline, which reparents the objcg and kills it, then
// releases and frees what nothing holds any more.
TEST_F(KernelModelTest, RmdirAndQuiesceFollowTheKernelsReferences) {
  spec::PathTable paths;
  const auto a = *paths.intern("/a");
  auto model = make_kernel_model(KernelModule::load(default_kernel_model()), config_of(1), paths);
  ASSERT_EQ(model->apply(spec::Mkdir{a}), spec::Errno::ok);
  EXPECT_EQ(model->snapshot().cgroups[1].css_refs, 2);  // base, ID
  ASSERT_EQ(model->apply(spec::Rmdir{a}), spec::Errno::ok);
  auto dying = model->snapshot();
  EXPECT_EQ(dying.cgroups[1].state, spec::CgroupState::dying);
  EXPECT_EQ(dying.cgroups[1].css_refs, 3);  // ID, kill_css's, the switch's
  EXPECT_EQ(dying.pending_work, 1u);
  ASSERT_EQ(model->apply(spec::Quiesce{}), spec::Errno::ok);
  auto gone = model->snapshot();
  EXPECT_EQ(gone.cgroups[1].state, spec::CgroupState::freed);
  EXPECT_TRUE(gone.cgroups[1].offlined);
  EXPECT_EQ(gone.objcgs[0].state, spec::ObjcgState::released);
  EXPECT_EQ(gone.objcgs[0].memcg, 0u);
  EXPECT_EQ(gone.pending_work, 0u);
  EXPECT_TRUE(gone.events.empty());
}

}  // namespace
}  // namespace mv::kernel
