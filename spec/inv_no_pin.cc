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
    "**The documented holders are profile-specific** (the profile notes below list them); in "
    "every profile they are holders that go away without any object being freed: (a) a "
    "page-stock slot caching M with `nr_pages == 0`, where the slot holds a css reference of its "
    "own (v5.9+, and the 5.4.y stable text of v5.3): `drain_all_stock` flushes a CPU only when "
    "`stock->nr_pages` is non-zero (or its cached objcg belongs to the subtree, which a "
    "reparented objcg no longer does), so such a slot keeps its reference until that CPU refills "
    "its stock for another memcg or drains it; (b) a dying child memcg that is itself pinned only "
    "by documented holders; (c) in v5.10, a reparented objcg with `objcg->memcg == M` (it holds a "
    "css reference on its current memcg, and every offline moves it on to the parent); (e) only "
    "where operations interleave (`memcg-verify explore`, race traces): a page-stock slot caching "
    "M with pages, refilled by a charge that read `objcg->memcg` (and took its css reference) "
    "before M's offline reparented the objcg, and refilled its CPU's stock after the offline's "
    "`drain_all_stock` had passed that CPU; the kernel leaves M pinned there until that CPU "
    "drains its stock or refills it for another memcg. Every other "
    "holder is a violation, reported once per kind of holder (the violation's clause): `kmem-page` (a live kmem page or kernel stack "
    "holding M through `page->mem_cgroup`), `slab-page` (a live slab page charged to M, "
    "`page->mem_cgroup`), `kmem-cache` (a kmem_cache still charging M), `id-ref` (the offline "
    "never ran), `task`, `online-child`, `stock-pages` (a page stock that still has pages: the "
    "`drain_all_stock` of `mem_cgroup_css_offline` should have flushed it), `no-holder` (a count "
    "with no holder at all, such as a css reference taken for an objcg in a profile where objcgs "
    "hold none, or a zero count on a memcg nobody freed). A memcg pinned by a dying child takes "
    "over the child's clauses. Holders that stay for as long as some object lives are what seeds "
    "000 and 004 are about: a profile whose design has them breaks the invariant, which "
    "docs/DESIGNS.md reports as that design's result. Likewise, at a quiescent point every objcg "
    "that was killed (state `reparented`) and whose refcount is 0 has been released: "
    "`obj_cgroup_release` runs when a killed percpu_ref reaches zero (in the atomic-switch RCU "
    "callback, or at the put that drops the last reference), and until it runs the pages left in "
    "`nr_charged_bytes` stay charged (clause `objcg-not-released`).";

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
    "**v5.2**: documented holders: (b) only (the stock keeps no reference of its own). Every "
    "charged slab page keeps `1 << order` css references on `page->mem_cgroup` until it is freed "
    "empty, and kmem pages and stacks keep theirs: live objects pin dying cgroups (clauses "
    "`slab-page`, `kmem-page`), the result seed 000 measured in production. **v5.3**: (a), (b). "
    "kmem_caches hold one css reference each and move to the parent at offline, so slab pages no "
    "longer pin; kmem pages and stacks still do (`kmem-page`). **davydov-2014**: (b). Slab pages "
    "charged to a dead memcg are recharged only when a later memcg allocates from that very page, "
    "so a page whose objects all stay live keeps its memcg (`slab-page`); kmem pages and stacks "
    "pin as in v5.2 (`kmem-page`). **v5.10**: (a), (b), (c); kmem pages and stacks charged with "
    "`page->mem_cgroup` pin dying memcgs (`kmem-page`: seed 004's problem, solved by "
    "b4e0b68fbd9d in v5.13). **v6.6**: (a), (b). **v6.16**: (a) one slot at a time (a slot with "
    "`nr_pages == 0` is skipped by `is_memcg_drain_needed`), (b).";

struct Classification {
  // Why M may not stay pinned, by cause (the violation's clause, kStatement).
  std::map<std::string, std::vector<std::string>> undocumented;
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
    undocumented_holders(*cg, c);  // std::map: `c` survives insertions
    c.legit = c.undocumented.empty();
    return c;
  }

 private:
  void add(Classification& c, std::string why, std::string_view cause) {
    c.undocumented[std::string(cause)].push_back(std::move(why));
  }

  void undocumented_holders(const CgroupSnap& cg, Classification& c) {
    const CssHolders h = css_holders(ctx_.after, ctx_.traits, cg);
    if (cg.css_refs == 0) add(c, "css refcount 0 but not freed (no css_free pending)", "no-holder");
    if (h.id_refs) add(c, "the ID reference (mem_cgroup_css_offline never ran)", "id-ref");
    if (h.kill_refs)
      add(c, "kill_css's and the confirm reference (css_killed_work_fn never ran)", "kill-ref");
    if (h.task_refs) add(c, fmt::format("{} tasks", h.task_refs), "task");
    if (h.cache_work_refs)
      add(c, fmt::format("{} queued kmem_cache works", h.cache_work_refs), "no-holder");
    for (const auto& s : h.page_stocks)
      if (s.nr_pages != 0 && !ctx_.history.concurrent)
        add(c, fmt::format("the page stock of CPU {} with {} pages", s.cpu, s.nr_pages),
            "stock-pages");
    std::int64_t kmem_refs = 0, kmem_objects = 0;
    for (const auto& o : h.objects) {
      kmem_refs += o.refs;
      kmem_objects += o.nr_objects;
    }
    if (kmem_refs)
      add(c, fmt::format("{} live kmem pages and stacks ({} references)", kmem_objects, kmem_refs),
          "kmem-page");
    std::int64_t slab_refs = 0;
    for (const auto& p : h.slab_pages) slab_refs += p.refs;
    if (!h.slab_pages.empty())
      add(c, fmt::format("{} live slab pages ({} references)", h.slab_pages.size(), slab_refs),
          "slab-page");
    if (!h.caches.empty()) add(c, fmt::format("{} kmem_caches", h.caches.size()), "kmem-cache");
    for (MemcgId child : ctx_.after.children(cg.id)) {
      const CgroupSnap* ch = ctx_.after.memcg(child);
      if (!ch || ch->state == CgroupState::freed) continue;
      if (ch->state == CgroupState::online) {
        add(c, fmt::format("online child {}", ctx_.memcg_name(*ch)), "online-child");
        continue;
      }
      const Classification& sub = classify(child);
      if (sub.legit) continue;
      for (const auto& [cause, reasons] : sub.undocumented)
        add(c, fmt::format("dying child {}, itself pinned by {}", ctx_.memcg_name(*ch),
                           fmt::join(reasons, "; ")),
            cause);
    }
    // Reparented objcgs (v5.10) are documented holders; they are only
    // enumerated where they hold a reference (spec/holders.cc).
    std::int64_t unexplained = cg.css_refs - h.total();
    if (unexplained > 0)
      add(c, fmt::format("{} css references with no holder{}", unexplained, suspects(cg.id)),
          "no-holder");
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
      report.add("objcg-not-released", objcg.id, fmt::format(
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
    for (const auto& [cause, reasons] : c.undocumented)
      report.add(cause, cg.id,
                 fmt::format("{}: removed but not freed after quiesce (css refcount {}); pinned by {}",
                             ctx.memcg_name(cg), cg.css_refs, fmt::join(reasons, "; ")));
  });
}

}  // namespace

InvariantDef no_pin_invariant() {
  return {{"INV-NO-PIN",
           "after quiesce, a removed cgroup is freed unless only documented holders keep it, and "
           "a killed objcg nobody holds is released",
           kStatement, kSources, kProfiles,
           all_profile_ids()},
          check};
}

}  // namespace mv::spec
