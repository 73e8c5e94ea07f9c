// The invariant checkers on hand-built snapshots: a small consistent v6.6 state
// is clean, and for every invariant some corruption makes exactly that
// invariant fire.
#include <optional>
#include <set>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "spec/invariants.h"

namespace mv::spec {
namespace {

Config config_for(Profile profile) {
  Config c;
  c.profile = profile;
  c.ncpus = 2;
  c.page_size_bytes = 4096;
  return c;
}

// The watermark of every cgroup of the fixtures: a peak reached earlier in
// the run, above any usage a test sets (INV-LIMIT (f)).
constexpr std::uint64_t kPeakPages = 4096;

// mkdir /a; spawn t0 in /a on CPU 0. Nothing charged yet.
Snapshot before_alloc(Profile profile = Profile::v6_6) {
  Snapshot s;
  s.config = config_for(profile);
  CgroupSnap root{.id = 0, .path = 0, .watermark_pages = kPeakPages};
  CgroupSnap a{
      .id = 1,
      .path = 1,
      .parent = 0,
      .watermark_pages = kPeakPages,
      .css_refs = 3, // base + ID + task t0
      .objcg = 1,
      .nr_tasks = 1,
  };
  s.cgroups = {root, a};
  ObjcgSnap objcg{
      .id = 1,
      .origin = 1,
      .memcg = 1,
      .refs = 1, // the initial ref, owned by /a
  };
  s.objcgs = {objcg};
  StockSnap cpu0, cpu1;
  cpu0.cpu = 0;
  cpu1.cpu = 1;
  s.stocks = {cpu0, cpu1};
  s.tasks = {TaskSnap{0, 1, 0}};
  return s;
}

// ... then t0 allocates a 128-byte slab object: obj_cgroup_charge(136) charges
// one page; try_charge_memcg charges a batch (64 in v6.6) and stocks the rest;
// refill_obj_stock(4096 - 136 = 3960).
Snapshot after_alloc(Profile profile = Profile::v6_6) {
  Snapshot s = before_alloc(profile);
  const std::uint32_t batch = traits(profile).charge_batch_pages;
  s.cgroups[0].usage_pages = batch;
  s.cgroups[1].usage_pages = batch;
  s.cgroups[1].css_refs = 4;  // + CPU 0's page stock
  s.objcgs[0].refs = 3;       // initial + object + CPU 0's obj stock
  s.objcgs[0].charged_pages = 1;
  s.stocks[0].page_stock = {PageStockSlot{1, batch - 1}};
  s.stocks[0].cached_objcg = 1;
  s.stocks[0].nr_bytes = 3960;
  ObjectSnap object;
  object.key = 0;
  object.kind = AllocKind::slab;
  object.charged_bytes = 136;
  object.objcg = 1;
  s.objects = {object};
  return s;
}

// ... then /b was created, charged a kmem page, was removed and quiesced. Its
// objcg 2 was reparented to the root and still holds the page; CPU 1's page
// stock still caches /b with 0 pages (drain_all_stock skipped it), so /b is
// dying, not freed. /b's own counter is stale (3): it is offlined.
Snapshot with_dying_b() {
  Snapshot s = after_alloc();
  CgroupSnap b{
      .id = 2,
      .path = 2,
      .parent = 0,
      .state = CgroupState::dying,
      .offlined = true,
      .usage_pages = 3,
      .watermark_pages = kPeakPages,
      .css_refs = 1, // CPU 1's page stock
  };
  s.cgroups.push_back(b);
  s.cgroups[0].usage_pages = 64 + 1;  // /a's subtree + objcg 2's page
  ObjcgSnap objcg{
      .id = 2,
      .origin = 2,
      .memcg = 0,
      .state = ObjcgState::reparented,
      .refs = 1, // the page
      .charged_pages = 1,
  };
  s.objcgs.push_back(objcg);
  s.stocks[1].page_stock = {PageStockSlot{2, 0}};
  ObjectSnap page;
  page.key = 1;
  page.kind = AllocKind::page;
  page.charged_bytes = 4096;
  page.objcg = 2;
  page.nr_kmem_pages = 1;
  s.objects.push_back(page);
  return s;
}

struct Scenario {
  std::optional<Snapshot> before;
  std::optional<Op> op;
  Errno result = Errno::ok;
  Snapshot after;

  Step step() const { return {before ? &*before : nullptr, op ? &*op : nullptr, result, &after}; }
};

Scenario initial(Snapshot s) { return {std::nullopt, std::nullopt, Errno::ok, std::move(s)}; }

Scenario alloc_step(Snapshot before, Snapshot after, Errno result = Errno::ok, bool nofail = false,
                    AllocKind kind = AllocKind::slab) {
  Alloc alloc{0, 0, kind, 128, 0, nofail};
  return {std::move(before), Op{alloc}, result, std::move(after)};
}

std::vector<Violation> check(const Scenario& s) {
  Monitor monitor(s.after.config);
  return monitor.check(s.step());
}

std::set<std::string> fired(const Scenario& s) {
  std::set<std::string> ids;
  for (const auto& v : check(s)) ids.insert(v.invariant);
  return ids;
}

std::string messages(const std::vector<Violation>& vs) {
  std::string all;
  for (const auto& v : vs)
    all += v.invariant + (v.known() ? " (known: " + v.known_bug + ")" : "") + ": " + v.message +
           "\n";
  return all;
}

// `corrupt` fires exactly `id`, while `clean` (the same scenario uncorrupted)
// fires nothing, for the whole monitor and for check_only(id).
void expect_only(const std::string& id, const Scenario& clean, const Scenario& corrupt) {
  auto clean_violations = check(clean);
  EXPECT_TRUE(clean_violations.empty()) << messages(clean_violations);
  auto violations = check(corrupt);
  EXPECT_EQ(fired(corrupt), std::set<std::string>{id}) << messages(violations);
  Monitor only(corrupt.after.config);
  EXPECT_FALSE(only.check_only(id, corrupt.step()).empty());
  Monitor only_clean(clean.after.config);
  EXPECT_TRUE(only_clean.check_only(id, clean.step()).empty());
}

bool any_message_contains(const std::vector<Violation>& vs, const std::string& text) {
  for (const auto& v : vs)
    if (v.message.find(text) != std::string::npos) return true;
  return false;
}

// --- the registry -----------------------------------------------------------

TEST(InvariantRegistry, HasTheTenContractIdsInOrderThenTheDesignOnes) {
  std::vector<std::string> ids;
  for (const auto& info : invariant_registry()) ids.emplace_back(info.id);
  EXPECT_EQ(ids, (std::vector<std::string>{
                     "INV-PAGE-CONSERVATION", "INV-BYTE-CONSERVATION", "INV-REF-BALANCE",
                     "INV-NO-PIN", "INV-STOCK-BOUNDS", "INV-NO-UNDERFLOW", "INV-RELEASE-ALIGNED",
                     "INV-LIMIT", "INV-NO-UAF", "INV-REPARENT", "INV-CACHES-BOUNDED"}));
}

TEST(InvariantRegistry, EveryEntryIsDocumentedForEveryProfile) {
  for (const auto& info : invariant_registry()) {
    EXPECT_FALSE(info.title.empty()) << info.id;
    EXPECT_GT(info.statement.size(), 200u) << info.id;
    EXPECT_FALSE(info.kernel_sources.empty()) << info.id;
    for (std::string_view profile : {"v5.2", "v5.3", "davydov-2014", "v5.10", "v6.6", "v6.16"})
      EXPECT_NE(info.profile_notes.find(profile), std::string_view::npos)
          << info.id << " says nothing about " << profile;
    // The contract invariants apply to the baseline; the design ones to the
    // designs that have per-memcg kmem_caches.
    if (info.id == "INV-CACHES-BOUNDED")
      EXPECT_TRUE(checked_in(info, Profile::davydov_2014) && !checked_in(info, Profile::v6_6));
    else
      EXPECT_TRUE(checked_in(info, Profile::v6_6)) << info.id;
    EXPECT_EQ(find_invariant(info.id), &info);
  }
  EXPECT_EQ(find_invariant("INV-NOPE"), nullptr);
}

TEST(InvariantRegistry, CheckOnlyRejectsUnknownIds) {
  Monitor monitor(config_for(Profile::v6_6));
  Snapshot s = after_alloc();
  EXPECT_THROW(monitor.check_only("INV-NOPE", {nullptr, nullptr, Errno::ok, &s}),
               std::invalid_argument);
}

// --- the valid states ---------------------------------------------------------

TEST(ValidStates, AreClean) {
  for (const auto& s : {before_alloc(), after_alloc(), with_dying_b()}) {
    auto v = check(initial(s));
    EXPECT_TRUE(v.empty()) << messages(v);
  }
  auto step = check(alloc_step(before_alloc(), after_alloc()));
  EXPECT_TRUE(step.empty()) << messages(step);
}

// --- one corruption per invariant ----------------------------------------------

TEST(PageConservation, FiresOnAnUnheldPage) {
  Scenario bad = initial(after_alloc());
  bad.after.cgroups[0].usage_pages = 65;
  bad.after.cgroups[1].usage_pages = 65;
  expect_only("INV-PAGE-CONSERVATION", initial(after_alloc()), bad);
  auto v = check(bad);
  EXPECT_TRUE(any_message_contains(
      v, "memcg 1: page_counter usage 65 != 64 held in its subtree (63 in page stocks + 1 charged "
         "through objcgs)"))
      << messages(v);
}

TEST(PageConservation, IgnoresTheStaleCounterOfAnOfflinedMemcgButNotItsParent) {
  Scenario stale = initial(with_dying_b());
  stale.after.cgroups[2].usage_pages = 1000;  // offlined: excluded
  EXPECT_TRUE(check(stale).empty()) << messages(check(stale));
  Scenario dying_not_offlined = stale;
  dying_not_offlined.after.cgroups[2].offlined = false;
  // + the ID ref, kill_css's and the confirm reference
  dying_not_offlined.after.cgroups[2].css_refs = 4;
  dying_not_offlined.after.pending_work = 1;         // the css_offline work
  dying_not_offlined.after.objcgs[1].memcg = 2;      // not reparented yet
  dying_not_offlined.after.objcgs[1].state = ObjcgState::active;
  dying_not_offlined.after.cgroups[2].objcg = 2;
  dying_not_offlined.after.objcgs[1].refs = 2;  // + initial ref
  EXPECT_EQ(fired(dying_not_offlined), std::set<std::string>{"INV-PAGE-CONSERVATION"})
      << messages(check(dying_not_offlined));
  dying_not_offlined.after.cgroups[2].usage_pages = 1;
  EXPECT_TRUE(check(dying_not_offlined).empty()) << messages(check(dying_not_offlined));
}

TEST(PageConservation, NamesPathsWithAPathTable) {
  PathTable paths;
  ASSERT_EQ(paths.intern("/a"), PathKey{1});
  Snapshot s = after_alloc();
  s.cgroups[1].usage_pages = 65;
  s.cgroups[0].usage_pages = 65;
  Monitor monitor(s.config, &paths);
  auto v = monitor.check({nullptr, nullptr, Errno::ok, &s});
  EXPECT_TRUE(any_message_contains(v, "/a (memcg 1): page_counter usage 65 != 64")) << messages(v);
}

TEST(ByteConservation, FiresOnAByteTooMany) {
  Scenario bad = initial(after_alloc());
  bad.after.stocks[0].nr_bytes = 3961;
  expect_only("INV-BYTE-CONSERVATION", initial(after_alloc()), bad);
  EXPECT_TRUE(any_message_contains(check(bad), "not a whole number of pages: 1 bytes over"));
}

TEST(ByteConservation, CountsNrChargedBytesAndKmemPages) {
  Scenario bad = initial(with_dying_b());
  bad.after.objcgs[1].nr_charged_bytes = 4096;  // the page is also counted in its object
  expect_only("INV-BYTE-CONSERVATION", initial(with_dying_b()), bad);
}

TEST(RefBalance, FiresOnAnObjcgRefWithNoHolder) {
  Scenario bad = initial(after_alloc());
  bad.after.objcgs[0].refs = 4;
  expect_only("INV-REF-BALANCE", initial(after_alloc()), bad);
  EXPECT_TRUE(any_message_contains(
      check(bad), "refcount 4 != 3 held (1 initial (active) + 1 from 1 live objects + 1 obj stocks)"))
      << messages(check(bad));
}

TEST(RefBalance, FiresOnAMissingCssRef) {
  Scenario bad = initial(after_alloc());
  bad.after.cgroups[1].css_refs = 3;  // as if the page stock held none
  expect_only("INV-REF-BALANCE", initial(after_alloc()), bad);
}

TEST(RefBalance, TheRootCssIsNotCounted) {
  Scenario bad = initial(after_alloc());
  bad.after.cgroups[0].css_refs = 1;
  expect_only("INV-REF-BALANCE", initial(after_alloc()), bad);
}

TEST(NoPin, FiresOnADyingMemcgPinnedByAStockWithPages) {
  Scenario bad = initial(with_dying_b());
  bad.after.stocks[1].page_stock[0].nr_pages = 2;
  bad.after.cgroups[0].usage_pages += 2;  // those pages are charged up the hierarchy
  expect_only("INV-NO-PIN", initial(with_dying_b()), bad);
  EXPECT_TRUE(any_message_contains(check(bad), "the page stock of CPU 1 with 2 pages"));
}

TEST(NoPin, IsSilentWhileWorkIsPending) {
  Scenario pending = initial(with_dying_b());
  pending.after.stocks[1].page_stock[0].nr_pages = 2;
  pending.after.cgroups[0].usage_pages += 2;
  pending.after.pending_work = 1;  // e.g. the drain work queued by drain_all_stock
  Monitor monitor(pending.after.config);
  EXPECT_TRUE(monitor.check_only("INV-NO-PIN", pending.step()).empty());
  EXPECT_TRUE(check(pending).empty()) << messages(check(pending));
}

TEST(NoPin, FiresOnALeakedCssRefAndOnAMemcgNobodyFreed) {
  Scenario leak = initial(with_dying_b());
  leak.after.cgroups[2].css_refs = 2;
  EXPECT_TRUE(fired(leak).count("INV-NO-PIN"));
  EXPECT_TRUE(any_message_contains(check(leak), "1 css references with no holder"));

  Scenario unfreed = initial(with_dying_b());
  unfreed.after.stocks[1].page_stock.clear();
  unfreed.after.cgroups[2].css_refs = 0;
  expect_only("INV-NO-PIN", initial(with_dying_b()), unfreed);
  unfreed.after.pending_work = 1;  // the css_free work
  EXPECT_TRUE(check(unfreed).empty());
}

TEST(NoPin, FiresOnAKilledObjcgNobodyReleased) {
  Snapshot s = with_dying_b();
  s.objects.pop_back();  // objcg 2's page is freed: its last reference is gone
  s.objcgs[1].refs = 0;
  s.objcgs[1].charged_pages = 0;
  s.cgroups[0].usage_pages = 64;
  Scenario pending = initial(s);
  pending.after.pending_work = 1;  // objcg_to_atomic still queued
  Scenario unreleased = initial(s);
  expect_only("INV-NO-PIN", pending, unreleased);
  EXPECT_TRUE(any_message_contains(check(unreleased), "objcg 2: killed with refcount 0 but not released"));
}

TEST(NoPin, ADyingChildPinnedLegitimatelyPinsItsParentLegitimately) {
  Snapshot s = with_dying_b();
  // /b/c: dying under /b, pinned by CPU 1's empty stock; /b now held by /c.
  CgroupSnap c{
      .id = 3,
      .path = 3,
      .parent = 2,
      .state = CgroupState::dying,
      .offlined = true,
      .watermark_pages = kPeakPages,
      .css_refs = 1,
  };
  s.cgroups.push_back(c);
  s.stocks[1].page_stock = {PageStockSlot{3, 0}};
  EXPECT_TRUE(check(initial(s)).empty()) << messages(check(initial(s)));
  s.stocks[1].page_stock[0].nr_pages = 1;
  s.cgroups[0].usage_pages += 1;
  auto v = check(initial(s));
  EXPECT_EQ(fired(initial(s)), std::set<std::string>{"INV-NO-PIN"}) << messages(v);
  EXPECT_TRUE(any_message_contains(v, "dying child memcg 3, itself pinned")) << messages(v);
}

// v5.10: a kmem page charged with page->mem_cgroup pins the dying memcg, a
// documented holder; the same state in v6.6 (which never charges that way) is
// a pin with no documented holder.
TEST(NoPin, KmemPagesPinDyingMemcgsInV510AndPointNowhereInV66) {
  auto make = [](Profile profile) {
    Snapshot s = after_alloc(profile);
    CgroupSnap b{
        .id = 2,
        .path = 2,
        .parent = 0,
        .state = CgroupState::dying,
        .offlined = true,
        .usage_pages = 1,
        .watermark_pages = kPeakPages,
        .css_refs = 1, // the page
    };
    s.cgroups.push_back(b);
    s.cgroups[0].usage_pages += 1;
    ObjcgSnap released{.id = 2, .origin = 2, .state = ObjcgState::released};
    s.objcgs.push_back(released);
    ObjectSnap page;
    page.key = 1;
    page.kind = AllocKind::page;
    page.charged_bytes = 4096;
    page.memcg = 2;
    page.nr_kmem_pages = 1;
    s.objects.push_back(page);
    return s;
  };
  // v5.10: the page holds the css reference it pins with (seed 004): a
  // violation the design has, named by its clause.
  auto v510 = check(initial(make(Profile::v5_10)));
  ASSERT_EQ(v510.size(), 1u) << messages(v510);
  EXPECT_EQ(v510[0].invariant, "INV-NO-PIN");
  EXPECT_EQ(v510[0].clause, "kmem-page");
  EXPECT_EQ(v510[0].subject, std::optional<std::uint32_t>(2));
  auto v66 = check(initial(make(Profile::v6_6)));
  EXPECT_TRUE(fired(initial(make(Profile::v6_6))).count("INV-NO-PIN")) << messages(v66);
  EXPECT_TRUE(any_message_contains(v66, "object 1 point here, but hold no css reference in v6.6"))
      << messages(v66);
}

TEST(StockBounds, FiresOnBytesWithoutAnObjcg) {
  Scenario bad = initial(after_alloc());
  bad.after.stocks[1].nr_bytes = 5;
  expect_only("INV-STOCK-BOUNDS", initial(after_alloc()), bad);
}

TEST(StockBounds, FiresOnMoreThanABatch) {
  Scenario bad = initial(after_alloc());
  bad.after.stocks[0].page_stock[0].nr_pages = 65;
  bad.after.cgroups[0].usage_pages = 66;
  bad.after.cgroups[1].usage_pages = 66;
  expect_only("INV-STOCK-BOUNDS", initial(after_alloc()), bad);
  EXPECT_TRUE(any_message_contains(check(bad), "holds 65 pages > MEMCG_CHARGE_BATCH 64"));
}

TEST(StockBounds, FiresOnAnOfflineCpuThatKeptItsStock) {
  Scenario bad = initial(after_alloc());
  bad.after.stocks[0].online = false;
  expect_only("INV-STOCK-BOUNDS", initial(after_alloc()), bad);
}

// The state a v6.6 model reaches with 4 CPUs: t allocates an 88-byte object
// (96 charged) on CPUs 0, 1 and 2, leaving 4000 bytes in each obj stock; the
// three stocks are drained (nr_charged_bytes 12000); then on CPU 3 a 4088-byte
// object (4096 charged, a page multiple: no refill) misses, and
// mod_objcg_state caches objcg 1 with all 12000 bytes. That is above the
// obj_cgroup_charge comment's sizeof(object) + PAGE_SIZE - 2 = 8190.
Snapshot after_mod_objcg_state() {
  Snapshot s = after_alloc();
  s.config.ncpus = 4;
  s.stocks.resize(4);
  for (Cpu cpu = 0; cpu < 4; ++cpu) s.stocks[cpu] = StockSnap{};
  for (Cpu cpu = 0; cpu < 4; ++cpu) s.stocks[cpu].cpu = cpu;
  s.stocks[3].page_stock = {PageStockSlot{1, 63}};
  s.stocks[3].cached_objcg = 1;
  s.stocks[3].nr_bytes = 12000;
  s.objects.clear();
  for (ObjKey key = 0; key < 4; ++key) {
    ObjectSnap object;
    object.key = key;
    object.charged_bytes = key < 3 ? 96 : 4096;
    object.objcg = 1;
    s.objects.push_back(object);
  }
  s.objcgs[0].charged_pages = 4;  // 3 × 96 + 4096 + 12000 = 16384
  s.objcgs[0].refs = 1 + 4 + 1;
  s.cgroups[0].usage_pages = 4 + 63;
  s.cgroups[1].usage_pages = 4 + 63;
  s.tasks[0].cpu = 3;
  return s;
}

TEST(StockBounds, ObjStockMayExceedTheKernelCommentsBoundThroughModObjcgState) {
  Scenario clean = initial(after_mod_objcg_state());
  Scenario bad = clean;
  bad.after.objcgs[0].charged_pages = 6;
  bad.after.cgroups[0].usage_pages += 2;
  bad.after.cgroups[1].usage_pages += 2;
  bad.after.stocks[3].nr_bytes += 2 * 4096;  // 20192 > 4 × 4095
  expect_only("INV-STOCK-BOUNDS", clean, bad);
  EXPECT_TRUE(any_message_contains(check(bad), "obj stock holds 20192 bytes > bound 16380"))
      << messages(check(bad));
}

TEST(StockBounds, NrChargedBytesHoldsAtMostOneRemainderPerCpu) {
  Scenario clean = initial(after_mod_objcg_state());
  clean.after.stocks[3].nr_bytes = 0;
  clean.after.objcgs[0].nr_charged_bytes = 12000;
  Scenario bad = clean;
  bad.after.stocks[3].nr_bytes = 0;
  bad.after.objcgs[0].charged_pages = 6;
  bad.after.cgroups[0].usage_pages += 2;
  bad.after.cgroups[1].usage_pages += 2;
  bad.after.objcgs[0].nr_charged_bytes = 12000 + 2 * 4096;
  expect_only("INV-STOCK-BOUNDS", clean, bad);
  EXPECT_TRUE(any_message_contains(check(bad), "nr_charged_bytes 20192 > 4 CPUs × (PAGE_SIZE - 1) = 16380"))
      << messages(check(bad));
}

TEST(StockBounds, ObjStockBoundFollowsTheLargestCharge) {
  // A 9000-byte object may leave up to 9000 + 4094 bytes behind (allow_uncharge = false).
  Snapshot s = after_alloc();
  s.objects[0].charged_bytes = 9000;
  s.objcgs[0].charged_pages = 5;
  s.cgroups[0].usage_pages = 68;
  s.cgroups[1].usage_pages = 68;
  s.stocks[0].nr_bytes = 5 * 4096 - 9000;  // 11480 <= 13094
  EXPECT_TRUE(check(initial(s)).empty()) << messages(check(initial(s)));
}

TEST(StockBounds, V510DrainsTheWholeStockAbovePageSize) {
  Snapshot s = after_alloc(Profile::v5_10);
  s.objcgs[0].charged_pages = 2;
  s.cgroups[0].usage_pages += 1;
  s.cgroups[1].usage_pages += 1;
  s.stocks[0].nr_bytes = 2 * 4096 - 136;
  EXPECT_EQ(fired(initial(s)), std::set<std::string>{"INV-STOCK-BOUNDS"});
  // Its hotplug callback leaves the obj stock alone (before 9f01b4954490):
  // the known bug hotplug_obj_stock_leak.
  Snapshot offline = after_alloc(Profile::v5_10);
  offline.stocks[0].online = false;
  offline.stocks[0].page_stock.clear();
  offline.cgroups[1].css_refs -= 1;
  offline.cgroups[0].usage_pages = 1;
  offline.cgroups[1].usage_pages = 1;
  const Op op = CpuOffline{0};
  Snapshot online = after_alloc(Profile::v5_10);
  Monitor monitor(online.config);
  auto v = monitor.check({&online, &op, Errno::ok, &offline});
  ASSERT_EQ(v.size(), 1u) << messages(v);
  EXPECT_EQ(v[0].known_bug, "hotplug_obj_stock_leak") << messages(v);
}

// --- known kernel bugs (spec/known_bug.h) ------------------------------------

// CPU 0 of after_alloc() taken offline by a v6.6 kernel: memcg_hotplug_cpu_dead
// drained its page stock (63 pages uncharged, its css reference put) and left
// its obj stock as it was.
Snapshot offlined_cpu0(Profile profile = Profile::v6_6) {
  Snapshot s = after_alloc(profile);
  s.stocks[0].online = false;
  s.stocks[0].page_stock.clear();
  s.cgroups[1].css_refs -= 1;
  s.cgroups[0].usage_pages = 1;
  s.cgroups[1].usage_pages = 1;
  s.tasks[0].cpu = 1;
  return s;
}

TEST(KnownBugs, TheHotplugLeakIsKnownInV66AndV61ButNotWithTheFix) {
  const Op op = CpuOffline{0};
  for (Profile p : {Profile::v6_1, Profile::v6_6, Profile::v6_6_hotplug_fix}) {
    Snapshot before = after_alloc(p), after = offlined_cpu0(p);
    Monitor monitor(after.config);
    auto v = monitor.check({&before, &op, Errno::ok, &after});
    ASSERT_EQ(v.size(), 1u) << profile_name(p) << "\n" << messages(v);
    EXPECT_EQ(v[0].invariant, "INV-STOCK-BOUNDS");
    EXPECT_EQ(v[0].clause, "offline_obj_stock");
    EXPECT_EQ(v[0].subject, std::optional<std::uint32_t>(0));
    if (p == Profile::v6_6_hotplug_fix) {
      EXPECT_FALSE(v[0].known()) << "the fixed kernel has no such bug";
      EXPECT_EQ(unexplained(v).size(), 1u);
    } else {
      EXPECT_EQ(v[0].known_bug, "hotplug_obj_stock_leak") << profile_name(p);
      EXPECT_TRUE(unexplained(v).empty());
    }
  }
}

TEST(KnownBugs, TheLeakStaysKnownOnLaterStepsWhileTheDeadStockIsUntouched) {
  const Op offline = CpuOffline{0};
  const Op quiesce = Quiesce{};
  Snapshot before = after_alloc(), after = offlined_cpu0();
  Monitor monitor(after.config);
  ASSERT_TRUE(unexplained(monitor.check({&before, &offline, Errno::ok, &after})).empty());
  auto later = monitor.check({&after, &quiesce, Errno::ok, &after});
  ASSERT_EQ(later.size(), 1u) << messages(later);
  EXPECT_TRUE(later[0].known());
}

// A known bug must not swallow an unrelated violation of the same invariant.
TEST(KnownBugs, ExplainsNothingButTheUntouchedDeadObjStock) {
  const Op offline = CpuOffline{0};
  const Op quiesce = Quiesce{};
  Snapshot before = after_alloc(), after = offlined_cpu0();
  // (1) The dead CPU's obj stock changed after the offline: a bug of the model.
  {
    Monitor monitor(after.config);
    monitor.check({&before, &offline, Errno::ok, &after});
    Snapshot changed = after;
    changed.stocks[0].nr_bytes -= 8;
    changed.objects[0].charged_bytes += 8;
    auto v = monitor.check({&after, &quiesce, Errno::ok, &changed});
    ASSERT_EQ(v.size(), 1u) << messages(v);
    EXPECT_EQ(v[0].clause, "offline_obj_stock");
    EXPECT_FALSE(v[0].known()) << messages(v);
  }
  // (2) A drain at the offline that took the bytes but left the objcg cached.
  {
    Monitor monitor(after.config);
    Snapshot half = after;
    half.stocks[0].nr_bytes = 0;
    half.objcgs[0].nr_charged_bytes = 3960;
    auto v = monitor.check({&before, &offline, Errno::ok, &half});
    ASSERT_EQ(v.size(), 1u) << messages(v);
    EXPECT_FALSE(v[0].known()) << messages(v);
  }
  // (3) The page stock left on the dead CPU: another clause, never known.
  {
    Monitor monitor(after.config);
    Snapshot kept = after;
    kept.stocks[0].page_stock = before.stocks[0].page_stock;
    kept.cgroups[1].css_refs += 1;
    kept.cgroups[0].usage_pages = kept.cgroups[1].usage_pages = 64;
    auto v = monitor.check({&before, &offline, Errno::ok, &kept});
    std::size_t known = 0, page_stock = 0;
    for (const auto& x : v) {
      known += x.known() ? 1 : 0;
      if (x.clause == "offline_page_stock") {
        ++page_stock;
        EXPECT_FALSE(x.known());
      }
    }
    EXPECT_EQ(page_stock, 1u) << messages(v);
    EXPECT_EQ(known, 1u) << messages(v);  // the obj stock alone
  }
  // (4) An offline CPU with a full obj stock in the initial state: no offline
  // was seen, so nothing says what the callback left.
  {
    auto v = check(initial(after));
    ASSERT_EQ(v.size(), 1u) << messages(v);
    EXPECT_FALSE(v[0].known());
  }
  // (5) Another CPU's byte stock over its bound, on the same step: not known.
  {
    Monitor monitor(after.config);
    Snapshot over = after;
    over.stocks[1].cached_objcg = 1;
    over.stocks[1].nr_bytes = 9000;
    over.objcgs[0].refs += 1;
    over.objcgs[0].charged_pages += 3;
    over.cgroups[0].usage_pages = over.cgroups[1].usage_pages = 4;
    auto v = monitor.check({&before, &offline, Errno::ok, &over});
    std::size_t unknown_bounds = 0;
    for (const auto& x : unexplained(v)) unknown_bounds += x.invariant == "INV-STOCK-BOUNDS";
    EXPECT_EQ(unknown_bounds, 1u) << messages(v);
  }
}

TEST(NoUnderflow, FiresOnceOnAnUnderflowEvent) {
  Scenario bad = initial(after_alloc());
  bad.after.events.push_back({EventKind::page_counter_underflow, 1, -3});
  expect_only("INV-NO-UNDERFLOW", initial(after_alloc()), bad);
  Monitor monitor(bad.after.config);
  auto first = monitor.check(bad.step());
  ASSERT_EQ(first.size(), 1u) << messages(first);
  EXPECT_NE(first[0].message.find("page_counter underflow in memcg 1: usage -3"), std::string::npos);
  Step again{&bad.after, nullptr, Errno::ok, &bad.after};
  EXPECT_TRUE(monitor.check(again).empty());
  EXPECT_EQ(monitor.history().events_reported, 1u);
  // A second event is reported, the first is not repeated.
  Snapshot later = bad.after;
  later.events.push_back({EventKind::objcg_ref_underflow, 1, -1});
  auto second = monitor.check({&bad.after, nullptr, Errno::ok, &later});
  ASSERT_EQ(second.size(), 1u) << messages(second);
  EXPECT_NE(second[0].message.find("obj_cgroup_put below zero on objcg 1"), std::string::npos);
}

TEST(NoUnderflow, FiresOnMorePagesUnchargedThanCharged) {
  Scenario bad = initial(with_dying_b());
  // objcg 2 uncharged one page too many; /b's counter is offlined, so only
  // the ghost says it (and the root would say it if the model uncharged it).
  bad.after.objcgs[1].charged_pages = -1;
  bad.after.objects.pop_back();
  bad.after.objcgs[1].refs = 0;
  bad.after.cgroups[0].usage_pages = 63;
  bad.after.pending_work = 1;  // its release is queued
  EXPECT_EQ(fired(bad), (std::set<std::string>{"INV-NO-UNDERFLOW", "INV-BYTE-CONSERVATION"}))
      << messages(check(bad));
}

TEST(ReleaseAligned, FiresWhenAnObjcgIsReleasedWithASubPageRemainder) {
  Snapshot s = after_alloc();
  ObjcgSnap released{
      .id = 2,
      .origin = 1,
      .memcg = 1,
      .state = ObjcgState::released,
      .nr_charged_bytes = 100,
  };
  Snapshot bad = s;
  bad.objcgs.push_back(released);
  Snapshot good = s;
  released.nr_charged_bytes = 8192;  // two CPUs' remainders: a whole number of pages
  good.objcgs.push_back(released);
  expect_only("INV-RELEASE-ALIGNED", initial(good), initial(bad));
  // Reported at the release only, not at every later step.
  Monitor monitor(bad.config);
  EXPECT_FALSE(monitor.check({nullptr, nullptr, Errno::ok, &bad}).empty());
  EXPECT_TRUE(monitor.check({&bad, nullptr, Errno::ok, &bad}).empty());
}

// issue 11 item 11: the model's own alignment test of obj_cgroup_release is
// observable (a release_unaligned event) and checked against nr_charged_bytes:
// a model that warns for an aligned release, warns with other bytes, or does
// not warn for an unaligned one gets the alignment wrong.
TEST(ReleaseAligned, FiresWhenTheModelsAlignmentTestIsWrong) {
  Snapshot s = after_alloc();
  ObjcgSnap released{.id = 2, .origin = 1, .memcg = 1, .state = ObjcgState::released,
                     .nr_charged_bytes = 8192};
  s.objcgs.push_back(released);
  Snapshot false_warning = s;
  false_warning.events.push_back({EventKind::release_unaligned, 2, 8192});
  expect_only("INV-RELEASE-ALIGNED", initial(s), initial(false_warning));
  EXPECT_TRUE(any_message_contains(check(initial(false_warning)),
                                   "warned of 8192 unaligned bytes, but it was released with "
                                   "nr_charged_bytes 8192"));
  // An unaligned release the model warned about, with the bytes it read: only
  // the remainder is reported, not the warning.
  Snapshot unaligned = s;
  unaligned.objcgs[1].nr_charged_bytes = 100;
  Snapshot warned = unaligned;
  warned.events.push_back({EventKind::release_unaligned, 2, 100});
  EXPECT_FALSE(any_message_contains(check(initial(warned)), "warn"));
  EXPECT_TRUE(any_message_contains(check(initial(unaligned)), "and no warning"));
  Snapshot wrong_bytes = unaligned;
  wrong_bytes.events.push_back({EventKind::release_unaligned, 2, 4196});
  EXPECT_TRUE(any_message_contains(check(initial(wrong_bytes)), "warned of 4196 unaligned bytes"));
  // A warning for an objcg that was not released in the step.
  Snapshot active = after_alloc();
  active.events.push_back({EventKind::release_unaligned, 1, 100});
  expect_only("INV-RELEASE-ALIGNED", initial(after_alloc()), initial(active));
}

TEST(Limit, FiresWhenANonForcedChargeGoesOverMax) {
  Snapshot before = before_alloc();
  before.cgroups[1].max_pages = 63;
  Snapshot after = after_alloc();
  after.cgroups[1].max_pages = 63;
  Scenario bad = alloc_step(before, after);
  Scenario clean = alloc_step(before_alloc(), after_alloc());
  expect_only("INV-LIMIT", clean, bad);
  // The same step with nofail is a forced charge: allowed, and from then on
  // usage above max is no longer a violation.
  Scenario forced = alloc_step(before, after, Errno::ok, /*nofail=*/true);
  Monitor monitor(after.config);
  EXPECT_TRUE(monitor.check(forced.step()).empty()) << messages(check(forced));
  EXPECT_TRUE(monitor.history().forced_charge_seen);
  EXPECT_TRUE(monitor.check({&after, nullptr, Errno::ok, &after}).empty());
}

TEST(Limit, FiresWhenAFailedChargeLeavesAPageCharged) {
  // ENOMEM, yet one more page is charged through objcg 1 (held in its obj stock).
  Snapshot after = after_alloc();
  after.cgroups[0].usage_pages = 65;
  after.cgroups[1].usage_pages = 65;
  after.objcgs[0].charged_pages = 2;
  after.stocks[0].nr_bytes = 3960 + 4096;
  Scenario bad = alloc_step(after_alloc(), after, Errno::enomem);
  Scenario clean = alloc_step(after_alloc(), after_alloc(), Errno::enomem);
  expect_only("INV-LIMIT", clean, bad);
  EXPECT_TRUE(any_message_contains(check(bad), "charged 1 pages outside the page stocks"));
}

TEST(Limit, AFailedStackLeavesItsEarlierPagesInTheStock) {
  // memcg_charge_kernel_stack: page 0 charged (batch 1 near the limit), page 1
  // fails, page 0 is uncharged into the page stock: usage +1, stock +1.
  Snapshot after = after_alloc();
  after.cgroups[0].usage_pages = 65;
  after.cgroups[1].usage_pages = 65;
  after.stocks[0].page_stock[0].nr_pages = 64;
  Scenario ok = alloc_step(after_alloc(), after, Errno::enomem, false, AllocKind::stack);
  EXPECT_TRUE(check(ok).empty()) << messages(check(ok));
}

TEST(Limit, FiresWhenSetMaxReturnsOkBelowUsage) {
  Snapshot before = after_alloc();
  Snapshot after = after_alloc();
  after.cgroups[1].max_pages = 32;
  Scenario bad{before, Op{SetMax{1, 32}}, Errno::ok, after};
  Snapshot fine_after = after_alloc();
  fine_after.cgroups[1].max_pages = 100;
  Scenario clean{before, Op{SetMax{1, 100}}, Errno::ok, fine_after};
  expect_only("INV-LIMIT", clean, bad);
  EXPECT_TRUE(any_message_contains(check(bad), "set_max 32 returned ok with usage 64 above it"));
}

TEST(Limit, FiresWhenSetMaxIsBusyAtExactlyTheUsage) {
  // page_counter_set_max refuses only `usage > nr_pages`: a max of exactly
  // the usage (64) is accepted, so EBUSY for it is wrong; EBUSY for 63 is right.
  const Snapshot s = after_alloc();
  Scenario bad{s, Op{SetMax{1, 64}}, Errno::ebusy, s};
  Scenario clean{s, Op{SetMax{1, 63}}, Errno::ebusy, s};
  expect_only("INV-LIMIT", clean, bad);
  EXPECT_TRUE(any_message_contains(check(bad), "set_max 64 returned EBUSY with usage 64"));
  Scenario unlimited{s, Op{SetMax{1, std::nullopt}}, Errno::ebusy, s};
  EXPECT_TRUE(any_message_contains(check(unlimited), "set_max max returned EBUSY"));
  // EBUSY leaves max as it was.
  Snapshot changed = s;
  changed.cgroups[1].max_pages = 63;
  Scenario moved{s, Op{SetMax{1, 63}}, Errno::ebusy, changed};
  EXPECT_TRUE(any_message_contains(check(moved), "returned EBUSY but max changed from max to 63"));
}

// issue 11 item 11: no invariant said the watermark is at least the usage.
TEST(Limit, FiresWhenTheWatermarkIsBelowTheUsageOrLowered) {
  const Snapshot s = after_alloc();
  Snapshot below = s;
  below.cgroups[1].watermark_pages = 63;  // a charge that forgot to raise it
  expect_only("INV-LIMIT", initial(s), initial(below));
  EXPECT_TRUE(any_message_contains(check(initial(below)), "watermark 63 below usage 64"));
  // An uncharge lowers the usage, never the watermark.
  Snapshot uncharged = s;
  uncharged.cgroups[1].usage_pages = 0;
  Snapshot lowered = uncharged;
  lowered.cgroups[1].watermark_pages = 0;
  Scenario clean{s, Op{DrainAll{1}}, Errno::ok, uncharged};
  Scenario bad{s, Op{DrainAll{1}}, Errno::ok, lowered};
  EXPECT_TRUE(messages(check(clean)).find("watermark") == std::string::npos) << messages(check(clean));
  EXPECT_TRUE(any_message_contains(check(bad), "watermark lowered from 4096 to 0"));
  // Interleaved runs (explore) may leave the racy watermark behind: not checked there.
  Monitor concurrent(s.config);
  concurrent.set_concurrent();
  EXPECT_TRUE(concurrent.check_only("INV-LIMIT", initial(below).step()).empty());
  EXPECT_TRUE(concurrent.check_only("INV-LIMIT", bad.step()).empty());
}

// Davydov's bound: the memcg caches of one root cache, at most the memcgs
// that were ever online at once (here one, then two).
TEST(CachesBounded, FiresWhenARootHasMoreMemcgCachesThanMemcgsWereOnlineAtOnce) {
  Snapshot s;
  s.config = config_for(Profile::davydov_2014);
  s.cgroups.push_back(CgroupSnap{.id = 0, .path = 0});
  s.cgroups.push_back(CgroupSnap{.id = 1, .path = 1, .parent = 0});
  s.caches.push_back(KmemCacheSnap{.id = 1, .object_size_bytes = 192});
  auto memcg_cache = [](CacheId id, CacheState state) {
    return KmemCacheSnap{.id = id, .root = 1, .object_size_bytes = 192, .state = state};
  };
  s.caches.push_back(memcg_cache(2, CacheState::active));
  Snapshot two = s;
  two.caches.push_back(memcg_cache(3, CacheState::active));
  Snapshot destroyed = s;
  destroyed.caches.push_back(memcg_cache(3, CacheState::destroyed));
  const std::string id = "INV-CACHES-BOUNDED";
  auto only = [&](const Snapshot& state) { return Monitor(state.config).check_only(id, initial(state).step()); };
  EXPECT_TRUE(only(s).empty());
  EXPECT_TRUE(only(destroyed).empty());  // a destroyed cache does not count
  auto v = only(two);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_TRUE(any_message_contains(v, "2 memcg caches exist, but at most 1 memcgs were ever online at once"))
      << messages(v);
  // Once two memcgs were online at once, two caches are within the bound,
  // even after one of the memcgs went.
  Snapshot both = s;
  both.cgroups.push_back(CgroupSnap{.id = 2, .path = 2, .parent = 0});
  Monitor history(s.config);
  history.check_only(id, initial(both).step());
  EXPECT_TRUE(history.check_only(id, initial(two).step()).empty());
  // Not checked where there are no memcg caches.
  Snapshot objcg = two;
  objcg.config = config_for(Profile::v6_6);
  EXPECT_TRUE(only(objcg).empty());
}

TEST(NoUaf, FiresOnATaskInAFreedMemcg) {
  Snapshot s = after_alloc();
  CgroupSnap c{.id = 2, .path = 2, .parent = 0, .state = CgroupState::freed, .offlined = true};
  s.cgroups.push_back(c);
  Snapshot bad = s;
  bad.tasks.push_back(TaskSnap{1, 2, 1});
  expect_only("INV-NO-UAF", initial(s), initial(bad));
  EXPECT_TRUE(any_message_contains(check(initial(bad)), "task 1 is in freed memcg 2"));
}

TEST(NoUaf, FiresOnceOnAUseAfterFreeEvent) {
  Scenario bad = initial(after_alloc());
  bad.after.events.push_back({EventKind::objcg_use_after_free, 7, 0});
  expect_only("INV-NO-UAF", initial(after_alloc()), bad);
  Monitor monitor(bad.after.config);
  EXPECT_EQ(monitor.check(bad.step()).size(), 1u);
  EXPECT_TRUE(monitor.check({&bad.after, nullptr, Errno::ok, &bad.after}).empty());
}

TEST(NoUaf, FiresOnAStockCachingAReleasedObjcg) {
  Snapshot s = with_dying_b();
  s.objects.pop_back();
  s.objcgs[1].state = ObjcgState::released;
  s.objcgs[1].refs = 0;
  s.objcgs[1].charged_pages = 0;
  s.cgroups[0].usage_pages = 64;
  Snapshot bad = s;
  bad.stocks[1].cached_objcg = 2;  // and its refcount says nothing: it is 0
  EXPECT_TRUE(fired(initial(bad)).count("INV-NO-UAF")) << messages(check(initial(bad)));
  EXPECT_TRUE(check(initial(s)).empty()) << messages(check(initial(s)));
}

TEST(Reparent, FiresOnAnObjcgStillPointingAtItsOfflinedMemcg) {
  Snapshot s = with_dying_b();
  s.objects.pop_back();  // objcg 2's page is gone
  s.objcgs[1].refs = 0;
  s.objcgs[1].charged_pages = 0;
  s.cgroups[0].usage_pages = 64;
  s.pending_work = 1;  // the objcg's atomic switch: not released yet
  Snapshot bad = s;
  bad.objcgs[1].memcg = 2;
  expect_only("INV-REPARENT", initial(s), initial(bad));
  EXPECT_TRUE(any_message_contains(check(initial(bad)),
                                   "reparented objcg 2 of memcg 2: objcg->memcg is memcg 2 (dying, "
                                   "offlined), expected memcg 0"))
      << messages(check(initial(bad)));
}

TEST(Reparent, FiresOnAnOfflinedMemcgThatKeptItsObjcgPointer) {
  Scenario bad = initial(with_dying_b());
  bad.after.cgroups[2].objcg = 2;
  expect_only("INV-REPARENT", initial(with_dying_b()), bad);
}

// --- the document -------------------------------------------------------------

TEST(InvariantsMarkdown, MentionsEveryIdTheBannerAndTheLemmas) {
  std::map<std::string, std::vector<std::string>, std::less<>> lemmas = {
      {"INV-BYTE-CONSERVATION", {"obj_stock_refill_conserves_bytes"}}};
  std::string md = render_invariants_markdown(lemmas);
  EXPECT_NE(md.find("generated by `memcg-verify doc`, do not edit"), std::string::npos);
  for (const auto& info : invariant_registry()) {
    EXPECT_NE(md.find("## " + std::string(info.id)), std::string::npos) << info.id;
    EXPECT_NE(md.find(std::string(info.statement)), std::string::npos) << info.id;
  }
  EXPECT_NE(md.find("- `obj_stock_refill_conserves_bytes`"), std::string::npos);
  EXPECT_NE(md.find("**Supporting Z3 lemmas:** none yet"), std::string::npos);
  EXPECT_NE(md.find("| v6.6 | checked | checked |"), std::string::npos);
}

// issue 11 item 6: a profile no model runs is never listed as "checked in".
TEST(InvariantsMarkdown, ProfilesWithoutAModelAreStatedNotChecked) {
  const std::string md = render_invariants_markdown({});
  for (const auto& t : all_profiles()) {
    const auto row = md.find(fmt::format("\n| {} |", t.name));
    ASSERT_NE(row, std::string::npos) << t.name;
    const auto line = md.substr(row + 1, md.find('\n', row + 1) - row - 1);
    if (t.modeled) {
      EXPECT_EQ(line.find("stated"), std::string::npos) << line;
    } else {
      EXPECT_EQ(line.find("checked"), std::string::npos) << line;
    }
  }
  // Each invariant's "Checked in" line: the modeled profiles first, the
  // others after "stated for, no model yet:".
  for (const auto& info : invariant_registry()) {
    const auto section = md.find(fmt::format("\n## {}\n", info.id));
    ASSERT_NE(section, std::string::npos) << info.id;
    const auto at = md.find("**Checked in:** ", section);
    ASSERT_NE(at, std::string::npos) << info.id;
    const auto line = md.substr(at, md.find('\n', at) - at);
    const auto stated = line.find("(stated for, no model yet:");
    ASSERT_NE(stated, std::string::npos) << line;
    for (auto p : info.profiles) {
      const auto name = fmt::format(" {}", profile_name(p));
      ASSERT_NE(line.find(name), std::string::npos) << line << ": " << name;
      if (traits(p).modeled) {
        EXPECT_LT(line.find(name), stated) << line << ": " << name;
      } else {
        EXPECT_NE(line.find(name, stated), std::string::npos) << line << ": " << name;
      }
    }
  }
}

}  // namespace
}  // namespace mv::spec
