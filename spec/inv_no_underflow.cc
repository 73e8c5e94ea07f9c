// INV-NO-UNDERFLOW: no counter or refcount goes below zero; nothing uncharges
// more than was charged.
#include <fmt/format.h>

#include "spec/invariant_checks.h"

namespace mv::spec {

namespace {

constexpr std::string_view kStatement =
    "No memcg's page_counter usage is negative; no css refcount and no objcg refcount is "
    "negative; no objcg's ghost `charged_pages` is negative (more pages uncharged through it than "
    "were charged through it); and no `page_counter_underflow` (the WARN in "
    "`page_counter_cancel`), `css_ref_underflow` (a `css_put` below zero) or "
    "`objcg_ref_underflow` (an `obj_cgroup_put` below zero) event appeared since the previous "
    "step. Events are cumulative in the snapshot; each is reported once, at the step it appears.";

constexpr std::string_view kSources =
    "mm/page_counter.c `page_counter_cancel` (v5.13+, 9317d0fffeb4: `if (WARN_ONCE(new < 0, "
    "\"page_counter underflow: %ld nr_pages=%lu\\n\", ...)) { new = 0; atomic_long_set(...); }`; "
    "before: `WARN_ON_ONCE(new < 0)` and the usage stays negative), `page_counter_uncharge`; "
    "include/linux/percpu-refcount.h `percpu_ref_put_many` (atomic mode: "
    "`unlikely(atomic_long_sub_and_test(nr, &ref->data->count))` releases at zero; a further put "
    "goes negative), `css_put`, `obj_cgroup_put`; mm/memcontrol.c v6.6 `obj_cgroup_uncharge_pages`, "
    "`drain_obj_stock`, `obj_cgroup_release`. docs/KERNEL.md section 10, item 4.";

constexpr std::string_view kProfiles =
    "Checked in every profile. **v5.2, v5.3, davydov-2014**: no objcg (no ghost counter); `page_counter_cancel` "
    "leaves a negative usage behind its WARN_ON_ONCE (read as a huge unsigned value: every later "
    "charge fails), and page stocks hold one css reference per stocked page, so an uncharge "
    "without its page is also a css underflow. **v5.10**: same page_counter behavior (the clamp "
    "came in v5.13 with 9317d0fffeb4); an objcg reparented to the root can underflow the root's "
    "counter (uncharged without having been charged, fixed by c5c8b16b596e in v5.14), a "
    "documented result. **v6.6**: usage is clamped to 0 with a WARN; no documented underflow. "
    "**v6.16**: as v6.6; the v6.15+ uncharge paths that skip the root cannot underflow it.";

// The kernel warnings the models record as events.
void report_events(const CheckContext& ctx, Report& report) {
  for (const auto& event : new_events(ctx)) {
    switch (event.kind) {
      case EventKind::page_counter_underflow:
        report.add(fmt::format("page_counter underflow in {}: usage {} before the clamp",
                               ctx.memcg_name(event.subject, ctx.after), event.value));
        break;
      case EventKind::css_ref_underflow:
        report.add(fmt::format("css_put below zero on {} (count {})",
                               ctx.memcg_name(event.subject, ctx.after), event.value));
        break;
      case EventKind::objcg_ref_underflow:
        report.add(fmt::format("obj_cgroup_put below zero on objcg {} (count {})", event.subject,
                               event.value));
        break;
      default:
        break;  // use-after-free events: INV-NO-UAF
    }
  }
}

void check(const CheckContext& ctx, Report& report) {
  ctx.each_memcg(report, {0}, [&](const CgroupSnap& cg) {
    if (cg.usage_pages < 0)
      report.add(fmt::format("{}: page_counter usage {} < 0", ctx.memcg_name(cg), cg.usage_pages));
    if (cg.css_refs < 0)
      report.add(fmt::format("{}: css refcount {} < 0", ctx.memcg_name(cg), cg.css_refs));
  });
  ctx.each_objcg(report, {1}, [&](const ObjcgSnap& objcg) {
    if (objcg.refs < 0)
      report.add(fmt::format("objcg {}: refcount {} < 0", objcg.id, objcg.refs));
    if (objcg.charged_pages < 0)
      report.add(fmt::format("objcg {}: {} more pages uncharged through it than charged", objcg.id,
                             -objcg.charged_pages));
  });
  ctx.every_step(report, {2}, [&] { report_events(ctx, report); });
}

}  // namespace

InvariantDef no_underflow_invariant() {
  return {{"INV-NO-UNDERFLOW",
           "no page_counter, refcount or per-objcg charge goes below zero",
           kStatement, kSources, kProfiles, all_profile_ids()},
          check};
}

}  // namespace mv::spec
