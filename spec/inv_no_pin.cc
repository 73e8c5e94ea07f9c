// INV-NO-PIN: once all deferred work has run, a removed cgroup is freed unless
// every holder of its css is one the profile documents.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <set>

#include "spec/holders.h"
#include "spec/invariant_checks.h"

namespace mv::spec {

namespace {

constexpr std::string_view kStatement =
    "Checked only at a quiescent point (`pending_work == 0`: every queued offline, drain work, RCU "
    "callback and free has run). For every dying memcg M (rmdir'd, not freed), with its css "
    "holders enumerated as in INV-REF-BALANCE: M violates the invariant if its css refcount is 0 "
    "(nothing holds it, yet it was not freed), if its refcount exceeds what its holders account "
    "for (a reference with no holder: a leak), or if any holder is not one the profile documents. "
    "Documented holders: (a) a page-stock slot caching M with `nr_pages == 0`: `drain_all_stock` "
    "flushes a CPU only when `stock->nr_pages` is non-zero (or its cached objcg belongs to the "
    "subtree, which a reparented objcg no longer does), so at offline such a stock keeps its css "
    "reference until that CPU refills its stock for another memcg or drains it (real kernel "
    "behavior since v5.9); (b) a dying child memcg that is itself pinned only by documented "
    "holders; (c) in profiles that charge kmem pages with a css reference, a live object holding "
    "M directly; (d) in profiles where reparented objcgs hold a css reference, a reparented objcg "
    "with `objcg->memcg == M`; (e) only where operations interleave (`memcg-verify explore`, race "
    "traces): a page-stock slot caching M with pages, refilled by a charge that read "
    "`objcg->memcg` (and took its css reference) before M's offline reparented the objcg, and "
    "refilled its CPU's stock after the offline's `drain_all_stock` had passed that CPU; the "
    "kernel leaves M pinned there until that CPU drains its stock or refills it for another "
    "memcg. Every other holder is a violation: the ID reference (the offline "
    "never ran), a task, an online child, a page stock that still has pages (the "
    "`drain_all_stock` of `mem_cgroup_css_offline` should have flushed it), and any count with no "
    "holder at all, such as a css reference taken for an objcg in a profile where objcgs hold none. "
    "Likewise, at a quiescent point every objcg that was killed (state `reparented`) and whose "
    "refcount is 0 has been released: `obj_cgroup_release` runs when a killed percpu_ref reaches "
    "zero (in the atomic-switch RCU callback, or at the put that drops the last reference), and "
    "until it runs the pages left in `nr_charged_bytes` stay charged.";

constexpr std::string_view kSources =
    "kernel/cgroup/cgroup.c `cgroup_rmdir` → `cgroup_destroy_locked` → `kill_css` (percpu_ref "
    "kill, confirm, `css_killed_work_fn` → `offline_css`), `css_release` → `css_free_rwork_fn`; "
    "mm/memcontrol.c v6.6 `mem_cgroup_css_offline` (`memcg_offline_kmem` → "
    "`memcg_reparent_objcgs`, `drain_all_stock(memcg)`, `mem_cgroup_id_put`), `drain_all_stock` "
    "(`if (memcg && stock->nr_pages && mem_cgroup_is_descendant(memcg, root_memcg))` or "
    "`obj_stock_flush_required`), `drain_local_stock`; 9838354e16a2 (v5.14: objcgs stop pinning "
    "memcgs); b4e0b68fbd9d (v5.13: kmem pages hold objcgs, not memcgs); the v5.3 series \"mm: "
    "reparent slab memory on cgroup removal\" (fb2f2b0adb98). tools/testing/selftests/cgroup/"
    "test_kmem.c `test_kmem_dead_cgroups` checks the same outcome on a live kernel "
    "(`nr_dying_descendants` reaches 0).";

constexpr std::string_view kProfiles =
    "**v5.2**: the documented result is that every charged slab page pins its memcg (css "
    "references per page and per kmem_cache): dying cgroups accumulate (thousands per host). Not "
    "checked: the snapshot has no slab pages or kmem_caches to name as holders. **v5.3**: "
    "kmem_caches hold one css reference, reparented on rmdir; dying memcgs are freed once their "
    "pages and stocks are gone. Not checked for the same reason. **v5.10**: checked; documented "
    "holders add kmem pages and stacks charged with `page->mem_cgroup` (they pin dying memcgs: the "
    "problem b4e0b68fbd9d solved) and reparented objcgs holding a css reference (these point at "
    "the nearest live ancestor after offline, so they rarely pin a dying memcg). **v6.6**: "
    "checked; the only documented holders are page stocks with zero pages and pinned dying "
    "children. **v6.16**: checked as in v6.6, one slot at a time (a slot with `nr_pages == 0` "
    "is skipped by `is_memcg_drain_needed`).";

struct Classification {
  std::vector<std::string> undocumented;  // why M may not stay pinned
  bool done = false;
  bool legit = false;
};

class PinAnalysis {
 public:
  explicit PinAnalysis(const CheckContext& ctx) : ctx_(ctx) {}

  // Whether dying memcg `id` is pinned only by documented holders.
  const Classification& classify(MemcgId id) {
    Classification& c = results_[id];
    if (c.done) return c;
    c.done = true;  // a cycle in a corrupt tree ends here as "not legit"
    const CgroupSnap* cg = ctx_.after.memcg(id);
    if (!cg) return c;
    c.undocumented = undocumented_holders(*cg);  // std::map: `c` survives insertions
    c.legit = c.undocumented.empty();
    return c;
  }

 private:
  std::vector<std::string> undocumented_holders(const CgroupSnap& cg) {
    std::vector<std::string> why;
    const CssHolders h = css_holders(ctx_.after, ctx_.traits, cg);
    if (cg.css_refs == 0)
      why.push_back("css refcount 0 but not freed (no css_free pending)");
    if (h.id_refs) why.push_back("the ID reference (mem_cgroup_css_offline never ran)");
    if (h.kill_refs)
      why.push_back("kill_css's and the confirm reference (css_killed_work_fn never ran)");
    if (h.task_refs) why.push_back(fmt::format("{} tasks", h.task_refs));
    for (const auto& s : h.page_stocks)
      if (s.nr_pages != 0 && !ctx_.history.concurrent)
        why.push_back(fmt::format("the page stock of CPU {} with {} pages", s.cpu, s.nr_pages));
    for (MemcgId child : ctx_.after.children(cg.id)) {
      const CgroupSnap* c = ctx_.after.memcg(child);
      if (!c || c->state == CgroupState::freed) continue;
      if (c->state == CgroupState::online) {
        why.push_back(fmt::format("online child {}", ctx_.memcg_name(*c)));
      } else if (!classify(child).legit) {
        why.push_back(fmt::format("dying child {}, itself pinned without a documented holder",
                                  ctx_.memcg_name(*c)));
      }
    }
    // Objects and reparented objcgs are only enumerated where the profile
    // documents them (spec/holders.cc), so they need no test here.
    std::int64_t unexplained = cg.css_refs - h.total();
    if (unexplained > 0)
      why.push_back(fmt::format("{} css references with no holder{}", unexplained,
                                suspects(cg.id)));
    return why;
  }

  // Things that point at the memcg without holding a css reference in this
  // profile: likely owners of a leaked count.
  std::string suspects(MemcgId id) const {
    std::vector<std::string> names;
    if (!ctx_.traits.reparented_objcg_holds_css)
      for (ObjcgId o : ctx_.after.objcgs_pointing_at(id))
        if (ctx_.after.objcg(o)->state != ObjcgState::released)
          names.push_back(fmt::format("objcg {}", o));
    if (!objects_hold_memcg_directly(ctx_.traits)) {
      if (ctx_.after.lists_objects()) {
        for (const auto& obj : ctx_.after.objects_holding_memcg(id))
          names.push_back(fmt::format("object {}", obj.key));
      } else if (const auto* t = ctx_.after.object_totals().memcg(id)) {
        names.push_back(fmt::format("{} objects", t->count));
      }
    }
    if (names.empty()) return {};
    return fmt::format(" ({} point here, but hold no css reference in {})",
                       fmt::join(names, ", "), ctx_.traits.name);
  }

  const CheckContext& ctx_;
  std::map<MemcgId, Classification> results_;
};

void check_unreleased_objcgs(const CheckContext& ctx, Report& report) {
  ctx.each_objcg(report, {0}, [&](const ObjcgSnap& objcg) {
    if (objcg.state == ObjcgState::reparented && objcg.refs <= 0)
      report.add(fmt::format(
          "objcg {}: killed with refcount {} but not released after quiesce ({} nr_charged_bytes "
          "stay charged)",
          objcg.id, objcg.refs, objcg.nr_charged_bytes));
  });
}

void check(const CheckContext& ctx, Report& report) {
  if (ctx.after.pending_work() != 0) return;
  check_unreleased_objcgs(ctx, report);
  PinAnalysis analysis(ctx);
  ctx.each_memcg(report, {1}, [&](const CgroupSnap& cg) {
    if (cg.state != CgroupState::dying) return;
    const Classification& c = analysis.classify(cg.id);
    if (c.legit) return;
    report.add(fmt::format("{}: removed but not freed after quiesce (css refcount {}); pinned by {}",
                           ctx.memcg_name(cg), cg.css_refs, fmt::join(c.undocumented, "; ")));
  });
}

}  // namespace

InvariantDef no_pin_invariant() {
  return {{"INV-NO-PIN",
           "after quiesce, a removed cgroup is freed unless only documented holders keep it, and "
           "a killed objcg nobody holds is released",
           kStatement, kSources, kProfiles,
           objcg_profile_ids()},
          check};
}

}  // namespace mv::spec
