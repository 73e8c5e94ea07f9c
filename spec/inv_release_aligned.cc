// INV-RELEASE-ALIGNED: obj_cgroup_release finds a whole number of pages in
// nr_charged_bytes (its WARN_ON_ONCE never fires).
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
    "PAGE_SIZE - 92 and 92 bytes separately.";

constexpr std::string_view kSources =
    "mm/memcontrol.c `obj_cgroup_release` (v5.9-v6.6: `nr_bytes = atomic_read(&objcg->"
    "nr_charged_bytes); WARN_ON_ONCE(nr_bytes & (PAGE_SIZE - 1)); nr_pages = nr_bytes >> "
    "PAGE_SHIFT;` and the comment above it), `drain_obj_stock` (the only writer that adds to "
    "`nr_charged_bytes`). docs/KERNEL.md section 10, item 1.";

constexpr std::string_view kProfiles =
    "**v5.2, v5.3**: no objcg; not checked. **v5.10, v6.6, v6.16**: checked; the WARN_ON_ONCE is "
    "unchanged from v5.9 to v6.18 (v6.15+ `obj_cgroup_release` no longer refills the stock, which "
    "does not change what it reads).";

bool was_released(const CheckContext& ctx, ObjcgId id) {
  if (!ctx.before) return false;
  const ObjcgSnap* o = ctx.before->objcg(id);
  return o && o->state == ObjcgState::released;
}

void check(const CheckContext& ctx, Report& report) {
  const std::uint64_t mask = ctx.page.mask();
  // A step invariant: only the objcgs this step released.
  ctx.each_objcg(report, {.number = 0, .step_only = true}, [&](const ObjcgSnap& objcg) {
    if (objcg.state != ObjcgState::released || was_released(ctx, objcg.id)) return;
    if ((objcg.nr_charged_bytes & mask) == 0) return;
    report.add(fmt::format(
        "objcg {} released with nr_charged_bytes {} (not a multiple of PAGE_SIZE {}: {} bytes "
        "over, obj_cgroup_release's WARN_ON_ONCE)",
        objcg.id, objcg.nr_charged_bytes, ctx.page.size_bytes, objcg.nr_charged_bytes & mask));
  });
}

}  // namespace

InvariantDef release_aligned_invariant() {
  return {{"INV-RELEASE-ALIGNED",
           "when an objcg is released, nr_charged_bytes is a multiple of PAGE_SIZE",
           kStatement, kSources, kProfiles, objcg_profile_ids()},
          check};
}

}  // namespace mv::spec
