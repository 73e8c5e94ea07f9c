// INV-BYTE-CONSERVATION: the bytes charged through an objcg (live objects, byte
// stocks, nr_charged_bytes) are exactly the whole pages charged through it.
#include <fmt/format.h>

#include "spec/invariant_checks.h"

namespace mv::spec {

namespace {

constexpr std::string_view kStatement =
    "For every objcg O that is not released: (Σ `charged_bytes` of live slab and percpu objects "
    "charged through O) + (Σ `charged_bytes` of live kmem page and stack objects charged through "
    "O: whole pages) + (Σ over CPUs of the obj stock's `nr_bytes` where `cached_objcg == O`) + "
    "`O.nr_charged_bytes` == PAGE_SIZE × `O.charged_pages` (the ghost count of pages charged "
    "through O and not yet uncharged through it). The left side is therefore a whole number of "
    "pages. The sum is computed in 64 bits: `nr_charged_bytes` is an `atomic_t` read as "
    "`unsigned int`, so a wrap of it shows here as a mismatch. For a released objcg, "
    "`charged_pages` == 0: when the last reference went no object and no stock held bytes of it, "
    "and `obj_cgroup_release` uncharged `nr_charged_bytes >> PAGE_SHIFT` pages.";

constexpr std::string_view kSources =
    "mm/memcontrol.c v6.6 `obj_cgroup_charge` (`nr_pages = size >> PAGE_SHIFT`, round up, "
    "`refill_obj_stock(objcg, PAGE_SIZE - nr_bytes, false)`), `obj_cgroup_uncharge`, "
    "`refill_obj_stock` (`allow_uncharge`: whole pages above PAGE_SIZE go to "
    "`obj_cgroup_uncharge_pages`), `drain_obj_stock` (pages to `__refill_stock`, remainder to "
    "`nr_charged_bytes`), `refill_obj_stock` and `mod_objcg_state` caching a new objcg "
    "(`atomic_xchg(&objcg->nr_charged_bytes, 0)` into the stock), `obj_cgroup_release`; mm/slab.h `memcg_slab_post_alloc_hook`, "
    "`memcg_slab_free_hook`, `obj_full_size`; mm/percpu.c `pcpu_obj_full_size`; "
    "`__memcg_kmem_charge_page` (v5.13+, b4e0b68fbd9d). docs/KERNEL.md section 10, item 1.";

constexpr std::string_view kProfiles =
    "**v5.2, v5.3, davydov-2014**: no objcg (byte charging arrived in v5.9); not applicable. "
    "**v5.10**: checked; a refill over PAGE_SIZE drains the whole stock (pages uncharged, "
    "remainder to `nr_charged_bytes`), which keeps the equation; kmem pages are charged to the "
    "memcg directly, so they appear in no objcg's sum. **v6.6**: checked; kmem pages and stacks "
    "charge whole pages through the objcg and appear on both sides. **v6.16**: checked; the "
    "trylock-failure path of `refill_obj_stock` adds the remainder to `nr_charged_bytes` directly, "
    "which is still in the sum.";

void check(const CheckContext& ctx, Report& report) {
  const auto page_bytes = static_cast<std::int64_t>(ctx.page.size_bytes);
  ctx.each_objcg(report, {0}, [&](const ObjcgSnap& objcg) {
    if (objcg.state == ObjcgState::released) {
      if (objcg.charged_pages != 0)
        report.add(fmt::format("objcg {} released with {} pages still charged through it", objcg.id,
                               objcg.charged_pages));
      return;
    }
    std::int64_t objects = 0, kmem = 0, stocked = 0;
    if (const auto* t = ctx.after.object_totals().objcg(objcg.id)) {
      objects = t->byte_charged_bytes;
      kmem = t->kmem_bytes;
    }
    ctx.after.each_obj_stock_caching(objcg.id, [&](const StockSnap& stock) { stocked += stock.nr_bytes; });
    std::int64_t held = objects + kmem + stocked + objcg.nr_charged_bytes;
    std::int64_t charged = page_bytes * objcg.charged_pages;
    if (held == charged) return;
    report.add(fmt::format(
        "objcg {}: {} bytes held ({} in live objects + {} in kmem pages + {} in obj stocks + {} "
        "nr_charged_bytes) != {} charged pages × {} = {}{}",
        objcg.id, held, objects, kmem, stocked, objcg.nr_charged_bytes, objcg.charged_pages,
        page_bytes, charged,
        held % page_bytes != 0 ? fmt::format(" (not a whole number of pages: {} bytes over)",
                                             held % page_bytes)
                               : std::string()));
  });
}

}  // namespace

InvariantDef byte_conservation_invariant() {
  return {{"INV-BYTE-CONSERVATION",
           "per objcg, live object bytes + byte stocks + nr_charged_bytes are exactly the whole "
           "pages charged through it",
           kStatement, kSources, kProfiles, objcg_profile_ids()},
          check};
}

}  // namespace mv::spec
