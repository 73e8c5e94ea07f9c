#include "spec/known_bug.h"

#include "spec/holders.h"
#include "spec/invariant_checks.h"

namespace mv::spec {

namespace {

bool lacks_hotplug_obj_stock_drain(const ProfileTraits& traits) {
  return traits.profile >= Profile::v5_10 && !traits.hotplug_drains_obj_stock;
}

// The offline CPU's obj stock is exactly what it held when
// memcg_hotplug_cpu_dead ran: the callback left it alone, and nothing can
// reach a dead CPU's stock afterwards (drain_all_stock walks online CPUs).
bool offline_obj_stock_untouched(const CheckContext& ctx, const Violation& violation) {
  if (!violation.subject) return false;
  const Cpu cpu = *violation.subject;
  auto frozen = ctx.history.offline_obj_stocks.find(cpu);
  const auto& stocks = ctx.after.stocks();
  if (frozen == ctx.history.offline_obj_stocks.end() || cpu >= stocks.size()) return false;
  const StockSnap& stock = stocks[cpu];
  return !stock.online && stock.cached_objcg == frozen->second.cached_objcg &&
         stock.nr_bytes == frozen->second.nr_bytes;
}

// Before 1a3e1f40962c (v5.9) stock->cached holds no css reference of its own:
// the stocked pages' references (try_charge's css_get_many) are the only ones.
bool stock_cached_holds_no_reference(const ProfileTraits& traits) {
  return traits.stock_refs == StockCssRefs::per_page;
}

// The CPU's page stock caches a freed memcg in a slot whose pages were all
// consumed: the pointer that outlived its references, nothing else (a slot
// with pages would still hold references and is not explained).
bool stock_slot_emptied_then_freed(const CheckContext& ctx, const Violation& violation) {
  if (!violation.subject) return false;
  const StockSnap* stock = ctx.after.stock(*violation.subject);
  if (!stock) return false;
  for (const auto& slot : stock->page_stock) {
    const CgroupSnap* cg = ctx.after.memcg(slot.memcg);
    if (cg && cg->state == CgroupState::freed && slot.nr_pages == 0) return true;
  }
  return false;
}

// try_charge returns early for the root (<= v5.13) on a profile whose
// obj_cgroup_charge goes through it: v5.10 (the pre-5.9 designs have
// try_charge_skips_root too, but no objcg to reach the root with).
bool objcg_charge_skips_root(const ProfileTraits& traits) {
  return traits.try_charge_skips_root && traits.has_objcg();
}

// The root's usage is below what its subtree holds by exactly the pages that
// charges through objcgs reparented to the root counted as charged while the
// root's page_counter never got them (every root_charge_skipped event of the
// run): the pages later go back to the root (drain_obj_stock or
// obj_cgroup_release -> __memcg_kmem_uncharge -> refill_stock -> drain_stock
// -> page_counter_uncharge), which lowers usage and holdings alike.
bool root_short_by_skipped_charges(const CheckContext& ctx, const Violation& violation) {
  if (!violation.subject) return false;
  const CgroupSnap* root = ctx.after.memcg(*violation.subject);
  if (!root || root->parent || root->state == CgroupState::freed || root->offlined) return false;
  std::int64_t skipped = 0;
  for (const auto& event : ctx.after.events())
    if (event.kind == EventKind::root_charge_skipped) skipped += event.value;
  if (skipped == 0) return false;
  const SubtreeHoldings h = ctx.after.subtree_holdings(root->id);
  const std::int64_t held = h.stocked_pages + h.objcg_pages +
                            (objects_hold_memcg_directly(ctx.traits) ? h.direct_pages : 0);
  return root->usage_pages + skipped == held;
}

}  // namespace

const std::vector<KnownBug>& known_bug_catalog() {
  static const std::vector<KnownBug> catalog = {
      {"hotplug_obj_stock_leak",
       "CPU hotplug teardown drains only the page stock: the dead CPU's obj stock keeps its bytes "
       "and its objcg reference",
       "9f01b4954490",
       "\"memcg: drain obj stock on cpu hotplug teardown\" (v6.15-rc1; Fixes bf4f059954dc, so "
       "present from v5.9; in 6.6.y from 6.6.90; not in 6.6.57 nor in Debian's 6.1.192)",
       "memcg_hotplug_cpu_dead",
       "INV-STOCK-BOUNDS",
       "offline_obj_stock",
       "INV-STOCK-BOUNDS (vi) on an offline CPU whose obj stock (cached objcg and nr_bytes) is "
       "exactly what it held when memcg_hotplug_cpu_dead ran for it. The consequences follow from "
       "that and break nothing else: the cached objcg keeps the stock's reference (counted as a "
       "holder, so it is never released) and its nr_bytes stay charged. A page stock left on an "
       "offline CPU, a change of the offline CPU's obj stock after the offline, and every other "
       "clause of INV-STOCK-BOUNDS are not explained.",
       lacks_hotplug_obj_stock_drain, offline_obj_stock_untouched},
      {"stock_cached_unreferenced",
       "the per-CPU page stock's cached memcg holds no reference of its own: once its stocked "
       "pages are consumed and uncharged, the memcg can be freed while the stock still points at "
       "it, and drain_all_stock later reads the freed memcg",
       "1a3e1f40962c",
       "\"mm: memcontrol: decouple reference counting from page accounting\" (v5.9) made the "
       "cached pointer hold one css reference; GONG Ruiqi's \"memcg: add refcnt for pcpu stock "
       "to avoid UAF problem in drain_all_stock()\" backported that part to 4.19.y and 5.4.y "
       "(2024). Present in v5.2 and in davydov-2014's 3.18 base",
       "drain_all_stock",
       "INV-NO-UAF",
       "stock-dangling",
       "INV-NO-UAF (clause stock-dangling) on a CPU whose page stock caches a freed memcg in a "
       "slot with no pages left. A slot that still has pages (they hold references, so their "
       "memcg cannot be freed) and every other clause of INV-NO-UAF are not explained.",
       stock_cached_holds_no_reference, stock_slot_emptied_then_freed},
      {"root_charge_skipped",
       "a charge through an objcg reparented to the root between get_obj_cgroup_from_current "
       "and the charge charges nothing (try_charge returns 0 for the root), while the pages it "
       "counts go back to the root's page_counter when they are uncharged: the root's usage "
       "falls below what it holds",
       "c5c8b16b596e",
       "\"mm: memcontrol: fix root_mem_cgroup charging\" (Muchun Song, v5.14-rc1): "
       "obj_cgroup_charge charges through try_charge_memcg, which charges the root. Not in "
       "5.10.y (5.10.13 and 5.10.265 still charge through __memcg_kmem_charge -> try_charge)",
       "obj_cgroup_charge (__memcg_kmem_charge -> try_charge)",
       "INV-PAGE-CONSERVATION",
       "root",
       "INV-PAGE-CONSERVATION (clause root) on the root memcg when its usage plus the pages of "
       "every root_charge_skipped event of the run (a charge through an objcg whose memcg was "
       "the root: try_charge's early return) equals what the root's subtree holds: the root is "
       "short by exactly the pages it was never charged, and nothing else. Only a race reaches "
       "it (sequentially the charging objcg is that of the task's online memcg, never the "
       "root's). A root whose usage is above its holdings, a deficit of any other size (another "
       "uncharge of the root on top of it), clause subtree on any memcg, and every other "
       "invariant are not explained; in particular not the underflow of the root's "
       "page_counter that follows when the root holds nothing else (INV-NO-UNDERFLOW), which "
       "a real root, charged with every cgroup below it, does not reach.",
       objcg_charge_skips_root, root_short_by_skipped_charges},
  };
  return catalog;
}

const KnownBug* find_known_bug(std::string_view id) {
  for (const auto& bug : known_bug_catalog())
    if (bug.id == id) return &bug;
  return nullptr;
}

std::vector<const KnownBug*> known_bugs(const ProfileTraits& traits) {
  std::vector<const KnownBug*> out;
  for (const auto& bug : known_bug_catalog())
    if (bug.present(traits)) out.push_back(&bug);
  return out;
}

void mark_known_bugs(const CheckContext& ctx, std::vector<Violation>& violations) {
  const auto bugs = known_bugs(ctx.traits);
  if (bugs.empty()) return;
  for (auto& v : violations)
    for (const KnownBug* bug : bugs)
      if (v.invariant == bug->invariant && v.clause == bug->clause && bug->matches(ctx, v)) {
        v.known_bug = std::string(bug->id);
        break;
      }
}

}  // namespace mv::spec
