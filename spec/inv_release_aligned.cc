// INV-RELEASE-ALIGNED: obj_cgroup_release finds a whole number of pages in
// nr_charged_bytes (its WARN_ON_ONCE never fires).
#include <set>

#include <fmt/format.h>

#include "spec/invariant_checks.h"

namespace mv::spec {

namespace {

constexpr std::string_view kStatement =
    "When an objcg is released (its state is `released` after this step and was not before; on "
    "the initial state, every released objcg), the `nr_charged_bytes` that `obj_cgroup_release` "
    "read is a multiple of PAGE_SIZE. By then no live object and no obj stock holds bytes of it, "
    "so INV-BYTE-CONSERVATION makes `nr_charged_bytes` equal PAGE_SIZE × `charged_pages`; a "
    "sub-page remainder would mean bytes were lost or invented, and the page that held them stays "
    "charged forever (`nr_pages = nr_bytes >> PAGE_SHIFT` drops it). A whole number of pages can "
    "legitimately be there: the kernel comment's example is two CPUs' stocks flushing "
    "PAGE_SIZE - 92 and 92 bytes separately. And the model's own test of it agrees: a "
    "`release_unaligned` event (the WARN_ON_ONCE condition as the model computed it) appears in "
    "a step exactly for the objcgs released in it with a sub-page remainder, with the "
    "`nr_charged_bytes` they were released with (an event for an aligned release, or none for "
    "an unaligned one, is a model that gets the alignment wrong).";

constexpr std::string_view kSources =
    "mm/memcontrol.c `obj_cgroup_release` (v5.9-v6.6: `nr_bytes = atomic_read(&objcg->"
    "nr_charged_bytes); WARN_ON_ONCE(nr_bytes & (PAGE_SIZE - 1)); nr_pages = nr_bytes >> "
    "PAGE_SHIFT;` and the comment above it), `drain_obj_stock` (the only writer that adds to "
    "`nr_charged_bytes`). docs/KERNEL.md section 10, item 1.";

constexpr std::string_view kProfiles =
    "**v5.2, v5.3, davydov-2014**: no objcg; not applicable. **v5.10, v6.6, v6.16**: checked; the WARN_ON_ONCE is "
    "unchanged from v5.9 to v6.18 (v6.15+ `obj_cgroup_release` no longer refills the stock, which "
    "does not change what it reads).";

bool was_released(const CheckContext& ctx, ObjcgId id) {
  if (!ctx.before) return false;
  const ObjcgSnap* o = ctx.before->objcg(id);
  return o && o->state == ObjcgState::released;
}

// The release_unaligned events of this step: the model's WARN_ON_ONCE result.
std::set<ObjcgId> warned_objcgs(const CheckContext& ctx) {
  std::set<ObjcgId> warned;
  for (const auto& event : new_events(ctx))
    if (event.kind == EventKind::release_unaligned) warned.insert(event.subject);
  return warned;
}

// Each warning against the spec's own test of the objcg it names.
void check_warnings(const CheckContext& ctx, Report& report) {
  const std::uint64_t mask = ctx.page.mask();
  for (const auto& event : new_events(ctx)) {
    if (event.kind != EventKind::release_unaligned) continue;
    const ObjcgSnap* o = ctx.after.objcg(event.subject);
    const bool released_now =
        o && o->state == ObjcgState::released && !was_released(ctx, event.subject);
    if (!released_now || (o->nr_charged_bytes & mask) == 0 ||
        static_cast<std::int64_t>(o->nr_charged_bytes) != event.value)
      report.add(fmt::format("objcg {}: obj_cgroup_release warned of {} unaligned bytes, but {}",
                             event.subject, event.value,
                             !released_now ? std::string("it was not released in this step")
                                           : fmt::format("it was released with nr_charged_bytes {}",
                                                         o->nr_charged_bytes)));
  }
}

void check(const CheckContext& ctx, Report& report) {
  const std::uint64_t mask = ctx.page.mask();
  const auto warned = warned_objcgs(ctx);
  // A step invariant: only the objcgs this step released.
  ctx.each_objcg(report, {.number = 0, .step_only = true}, [&](const ObjcgSnap& objcg) {
    if (objcg.state != ObjcgState::released || was_released(ctx, objcg.id)) return;
    if ((objcg.nr_charged_bytes & mask) == 0) return;
    report.add(fmt::format(
        "objcg {} released with nr_charged_bytes {} (not a multiple of PAGE_SIZE {}: {} bytes "
        "over, obj_cgroup_release's WARN_ON_ONCE)",
        objcg.id, objcg.nr_charged_bytes, ctx.page.size_bytes, objcg.nr_charged_bytes & mask));
    if (!warned.count(objcg.id))
      report.add(fmt::format("objcg {} released with nr_charged_bytes {} and no warning: the "
                             "model's alignment test missed it",
                             objcg.id, objcg.nr_charged_bytes));
  });
  ctx.every_step(report, {.number = 1}, [&] { check_warnings(ctx, report); });
}

}  // namespace

InvariantDef release_aligned_invariant() {
  return {{"INV-RELEASE-ALIGNED",
           "when an objcg is released, nr_charged_bytes is a multiple of PAGE_SIZE",
           kStatement, kSources, kProfiles, objcg_profile_ids()},
          check};
}

}  // namespace mv::spec
