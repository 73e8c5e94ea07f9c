// INV-LIMIT (a step invariant): a charge without __GFP_NOFAIL never takes a
// level over its max, and a failed charge leaves the charged levels unchanged.
#include <variant>

#include <fmt/format.h>

#include "spec/invariant_checks.h"

namespace mv::spec {

namespace {

constexpr std::string_view kStatement =
    "Over one step (before, op, result, after), with usage and max the `memory` page_counter's: "
    "(a) after an `alloc` without `nofail`, whatever its result, every memcg L whose usage is "
    "above its max has a usage no larger than before the step (a non-forced charge never adds to "
    "a level that ends over its limit; only consume_stock hits and uncharges can run there); "
    "(b) after any operation whose result is ENOMEM, no memcg L has more pages charged outside "
    "the page stocks than before: usage(L) - stocked(L) did not increase, where stocked(L) is the "
    "page-stock pages cached for L's subtree. The stock term is needed for a kernel stack: "
    "`memcg_charge_kernel_stack` charges THREAD_SIZE / PAGE_SIZE pages one by one and, when page "
    "i fails, uncharges pages 0..i-1 with `memcg_kmem_uncharge_page`, whose "
    "`obj_cgroup_uncharge_pages` puts them in the page stock, so usage legitimately rises by "
    "those pages while the stock holds them; every other failed charge leaves usage itself "
    "unchanged or lower (the retry's `drain_all_stock` only uncharges); (c) after a `set_max` "
    "that returned ok, the memcg's max is the new value and its usage is at most that value; "
    "(d) at every step, a memcg's usage exceeds its max only if some `alloc` with `nofail` "
    "(`__GFP_NOFAIL`: `page_counter_charge` in `try_charge_memcg`'s force path) ran earlier in the "
    "run; (e) after a `set_max` that returned EBUSY, the memcg's max is unchanged and its usage "
    "is above the requested max (`page_counter_set_max` refuses only `usage > nr_pages`: a max "
    "of exactly the usage is accepted); (f) at every step, every memcg that is not freed has a "
    "watermark at least its usage, and no watermark is lower than before the step (the "
    "watermark is the highest usage a charge reached: `page_counter_charge` and "
    "`page_counter_try_charge` raise it to the new usage of every level they charge, and "
    "nothing the operations can do lowers it; a `memory.peak` reset is not an operation). (f) is "
    "checked on sequential runs only: the kernel updates the watermark without a lock (a read, "
    "a compare, a write), so two CPUs charging the same level at once can leave it below the "
    "usage, or lower it, by design; `explore`'s interleaved runs skip (f) (Monitor::"
    "set_concurrent) and compare the rest.";

constexpr std::string_view kSources =
    "mm/page_counter.c `page_counter_try_charge` (speculative add, `if (new > c->max)` undo, "
    "`failcnt++`, roll back the lower levels), `page_counter_charge` (no max check), "
    "`page_counter_set_max` (`-EBUSY` if usage > new max), the watermark update of "
    "`page_counter_charge`/`page_counter_try_charge` (`if (new > READ_ONCE(c->watermark)) "
    "WRITE_ONCE(c->watermark, new)`); mm/memcontrol.c v6.6 "
    "`try_charge_memcg` (`batch > nr_pages` retry with nr_pages, `drain_all_stock(mem_over_limit)` "
    "once, `nomem: if (!(gfp_mask & (__GFP_NOFAIL | __GFP_HIGH))) return -ENOMEM;`, `force:`), "
    "`mem_cgroup_resize_max`; kernel/fork.c `memcg_charge_kernel_stack`. docs/KERNEL.md "
    "sections 3 and 5, section 10 item 4.";

constexpr std::string_view kProfiles =
    "Checked in every profile. The operation vocabulary has only `nofail` for a forced charge, "
    "so a model that forces a charge for another kernel reason must mark it `nofail` for (a) and "
    "(d) to stay meaningful. **v5.2, v5.3, davydov-2014, v5.10**: `try_charge` also forces for `__GFP_ATOMIC`, "
    "for `PF_MEMALLOC`, and for OOM victims and exiting tasks (`should_force_charge()`), and "
    "never charges the root (the root has no max, so nothing here depends on it). **v5.10**: a "
    "stack's failed page i uncharges the earlier pages through `__memcg_kmem_uncharge` (5.10.11+: "
    "`refill_stock`, so (b)'s stock term applies; 5.10.0: `page_counter_uncharge`, usage returns "
    "at once). **v6.6**: `nomem` returns -ENOMEM unless `__GFP_NOFAIL | __GFP_HIGH`; the force "
    "path also serves `PF_MEMALLOC`. **v6.16**: as v6.6; `refill_stock` of more than a batch, or "
    "with the trylock failing, uncharges directly (`memcg_uncharge`), which only lowers usage.";

struct Levels {
  std::int64_t usage_pages = 0;
  std::int64_t unstocked_pages = 0;  // usage - pages stocked for the subtree
};

Levels levels_of(const PriorView& index, const CgroupSnap& cg) {
  return {cg.usage_pages, cg.usage_pages - index.subtree_stocked_pages(cg.id)};
}

bool over_max(const CgroupSnap& cg) {
  return cg.max_pages && cg.usage_pages > 0 &&
         static_cast<std::uint64_t>(cg.usage_pages) > *cg.max_pages;
}

std::string max_text(const CgroupSnap& cg) {
  return cg.max_pages ? fmt::format("{}", *cg.max_pages) : std::string("max");
}

void check_alloc(const CheckContext& ctx, const Alloc& alloc, Report& report) {
  if (alloc.nofail) return;
  ctx.each_memcg(report, {.number = 0, .step_only = true}, [&](const CgroupSnap& cg) {
    if (cg.state == CgroupState::freed || !over_max(cg)) return;
    const CgroupSnap* old = ctx.before->memcg(cg.id);
    std::int64_t before_pages = old ? old->usage_pages : 0;
    if (cg.usage_pages > before_pages)
      report.add(fmt::format(
          "{}: usage {} > max {} after an alloc without nofail ({}; usage before: {})",
          ctx.memcg_name(cg), cg.usage_pages, max_text(cg), errno_name(ctx.result),
          before_pages));
  });
}

void check_enomem(const CheckContext& ctx, Report& report) {
  ctx.each_memcg(report, {.number = 1, .step_only = true}, [&](const CgroupSnap& cg) {
    const CgroupSnap* old = ctx.before->memcg(cg.id);
    if (!old) return;
    Levels now = levels_of(ctx.after, cg), then = levels_of(*ctx.before, *old);
    if (now.unstocked_pages > then.unstocked_pages)
      report.add(fmt::format(
          "{}: {} failed with ENOMEM but charged {} pages outside the page stocks (usage {} -> "
          "{}, stocked {} -> {})",
          ctx.memcg_name(cg), op_name(*ctx.op), now.unstocked_pages - then.unstocked_pages,
          then.usage_pages, now.usage_pages, then.usage_pages - then.unstocked_pages,
          now.usage_pages - now.unstocked_pages));
  });
}

void check_set_max(const CheckContext& ctx, const SetMax& set_max, Report& report) {
  if (ctx.result != Errno::ok) return;
  const CgroupSnap* cg = ctx.after.online_memcg_at(set_max.cg);
  if (!cg) return;
  if (cg->max_pages != set_max.max_pages)
    report.add(fmt::format("{}: set_max {} returned ok but max is {}", ctx.memcg_name(*cg),
                           set_max.max_pages ? fmt::format("{}", *set_max.max_pages) : "max",
                           max_text(*cg)));
  if (set_max.max_pages && cg->usage_pages > 0 &&
      static_cast<std::uint64_t>(cg->usage_pages) > *set_max.max_pages)
    report.add(fmt::format("{}: set_max {} returned ok with usage {} above it", ctx.memcg_name(*cg),
                           *set_max.max_pages, cg->usage_pages));
}

// (e) mem_cgroup_resize_max returns EBUSY only when page_counter_set_max
// failed after the drain: usage > max at that point, which is the state after.
void check_set_max_busy(const CheckContext& ctx, const SetMax& set_max, Report& report) {
  if (ctx.result != Errno::ebusy) return;
  const CgroupSnap* cg = ctx.after.online_memcg_at(set_max.cg);
  const CgroupSnap* old = cg ? ctx.before->memcg(cg->id) : nullptr;
  if (!cg || !old) return;
  if (cg->max_pages != old->max_pages)
    report.add(fmt::format("{}: set_max returned EBUSY but max changed from {} to {}",
                           ctx.memcg_name(*cg), max_text(*old), max_text(*cg)));
  // "max" is PAGE_COUNTER_MAX, which no usage can be above.
  const bool above = set_max.max_pages && cg->usage_pages > 0 &&
                     static_cast<std::uint64_t>(cg->usage_pages) > *set_max.max_pages;
  if (!above)
    report.add(fmt::format("{}: set_max {} returned EBUSY with usage {}, not above it",
                           ctx.memcg_name(*cg),
                           set_max.max_pages ? fmt::format("{}", *set_max.max_pages) : "max",
                           cg->usage_pages));
}

// (f) the watermark is the highest usage reached: never below the usage, never
// lowered. Only sequentially: page_counter_try_charge's watermark update is a
// racy read-compare-write on purpose (a statistic, not worth a lock), so an
// interleaving of two charges can store the smaller new usage last.
void check_watermark(const CheckContext& ctx, Report& report) {
  if (ctx.history.concurrent) return;
  ctx.each_memcg(report, {4}, [&](const CgroupSnap& cg) {
    if (cg.state != CgroupState::freed && cg.usage_pages > 0 &&
        static_cast<std::uint64_t>(cg.usage_pages) > cg.watermark_pages)
      report.add(fmt::format("{}: watermark {} below usage {}", ctx.memcg_name(cg),
                             cg.watermark_pages, cg.usage_pages));
  });
  if (!ctx.before) return;
  ctx.each_memcg(report, {.number = 5, .step_only = true}, [&](const CgroupSnap& cg) {
    const CgroupSnap* old = ctx.before->memcg(cg.id);
    if (cg.state != CgroupState::freed && old && cg.watermark_pages < old->watermark_pages)
      report.add(fmt::format("{}: watermark lowered from {} to {}", ctx.memcg_name(cg),
                             old->watermark_pages, cg.watermark_pages));
  });
}

void check_forced(const CheckContext& ctx, Report& report) {
  if (ctx.history.forced_charge_seen) return;
  ctx.each_memcg(report, {3}, [&](const CgroupSnap& cg) {
    if (cg.state != CgroupState::freed && over_max(cg))
      report.add(fmt::format("{}: usage {} > max {} with no nofail alloc in the run",
                             ctx.memcg_name(cg), cg.usage_pages, max_text(cg)));
  });
}

void check(const CheckContext& ctx, Report& report) {
  if (ctx.before && ctx.op) {
    if (const auto* alloc = std::get_if<Alloc>(ctx.op)) check_alloc(ctx, *alloc, report);
    if (ctx.result == Errno::enomem) check_enomem(ctx, report);
    if (const auto* set_max = std::get_if<SetMax>(ctx.op))
      ctx.every_step(report, {2}, [&] {
        check_set_max(ctx, *set_max, report);
        check_set_max_busy(ctx, *set_max, report);
      });
  }
  check_forced(ctx, report);
  check_watermark(ctx, report);
}

}  // namespace

InvariantDef limit_invariant() {
  return {{"INV-LIMIT",
           "a non-forced charge never takes a level over its max; a failed charge leaves every "
           "level's charged pages unchanged",
           kStatement, kSources, kProfiles, all_profile_ids()},
          check};
}

}  // namespace mv::spec
