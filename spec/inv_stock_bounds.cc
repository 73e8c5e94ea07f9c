// INV-STOCK-BOUNDS: per-CPU page and byte stocks stay within the profile's
// bounds, and an offline CPU's stocks are empty.
#include <algorithm>

#include <fmt/compile.h>
#include <fmt/format.h>

#include "spec/holders.h"
#include "spec/invariant_checks.h"

namespace mv::spec {

namespace {

constexpr std::string_view kStatement =
    "On every CPU: (i) at most `page_stock_slots` page-stock slots (1; `NR_MEMCG_STOCK` = 7 from "
    "v6.16), no memcg cached in two slots; (ii) every slot's `nr_pages` <= `MEMCG_CHARGE_BATCH` "
    "(`__refill_stock` drains a slot whose count goes above the batch; `consume_stock` only "
    "subtracts); (iii) an obj stock with `nr_bytes > 0` caches an objcg; (iv) the obj stock's "
    "`nr_bytes` is at most the profile's bound B. Where a refill over PAGE_SIZE drains the whole "
    "stock (v5.9-v5.13), B = PAGE_SIZE. Where `refill_obj_stock` takes an `allow_uncharge` flag "
    "(v5.14+), B = max(PAGE_SIZE, L + PAGE_SIZE - 2, ncpus × (PAGE_SIZE - 1)), with L the largest "
    "byte charge (`charged_bytes` of a slab or percpu object) seen live so far in the run: "
    "L + PAGE_SIZE - 2 is the bound stated in `obj_cgroup_charge` for its `allow_uncharge = "
    "false` refill after a stock miss; ncpus × (PAGE_SIZE - 1) covers `mod_objcg_state`, which "
    "caches a new objcg with the whole of `atomic_xchg(&objcg->nr_charged_bytes, 0)` and never "
    "trims it (a path the kernel comment's bound leaves out); (v) every objcg's "
    "`nr_charged_bytes` <= ncpus × (PAGE_SIZE - 1): it grows only by `drain_obj_stock`'s "
    "sub-page remainder, and each CPU's stock can drain an objcg at most once between two "
    "`atomic_xchg` that empty it, since caching it again performs that xchg; (vi) an offline "
    "CPU's page stock and obj stock are empty (`memcg_hotplug_cpu_dead` drains the page stock in "
    "every version, and the obj stock since 9f01b4954490; in a profile without that fix, an "
    "offline CPU's obj stock left as it was at the offline is the known kernel bug "
    "`hotplug_obj_stock_leak`).";

constexpr std::string_view kSources =
    "mm/memcontrol.c v6.6 `consume_stock` (`nr_pages > MEMCG_CHARGE_BATCH` misses), "
    "`__refill_stock` (`if (stock->nr_pages > MEMCG_CHARGE_BATCH) drain_stock(stock)`), "
    "`refill_obj_stock` (`if (allow_uncharge && (stock->nr_bytes > PAGE_SIZE))`), "
    "`obj_cgroup_charge` (comment: \"The maximum reachable value of the pre-charged bytes is "
    "(sizeof(object) + PAGE_SIZE - 2) if there is no data race\"), `mod_objcg_state`, "
    "`drain_obj_stock`, `memcg_hotplug_cpu_dead`; v5.10 `refill_obj_stock` (`if (stock->nr_bytes "
    "> PAGE_SIZE) drain_obj_stock(stock)`); 5387c90490f7 (v5.14, allow_uncharge); 1813e51eece0 "
    "(v6.1, batch 64); f735eebe55f8 (v6.16, NR_MEMCG_STOCK slots); 9f01b4954490 (obj stock "
    "drained on CPU hotplug, with stable backports). docs/KERNEL.md section 10, item 3.";

constexpr std::string_view kProfiles =
    "**v5.2, v5.3, davydov-2014**: page stock only (batch 32); no obj stock, so (iii)-(v) "
    "hold trivially. "
    "**v5.10**: batch 32; B = PAGE_SIZE; the hotplug callback drains only the page stock, so an "
    "offline CPU keeps its objcg cached: (vi) fires, explained by the known bug "
    "`hotplug_obj_stock_leak` (fixed by 9f01b4954490). **v6.1, v6.6**: batch 64; B as for "
    "v5.14+; as released (6.1.192, 6.6.57) they lack 9f01b4954490: the same known bug. "
    "**v6.6+9f01b4954490**: v6.6 with the fix (as 6.6.y from 6.6.90): an offline CPU's obj "
    "stock must be empty. **v6.16**: batch 64, seven slots "
    "per CPU (`uint8_t nr_pages`), separate obj stock; B as for v5.14+; the trylock-failure path "
    "of `refill_obj_stock` adds remainders to `nr_charged_bytes` without caching the objcg, which "
    "could exceed (v) under reentrancy that a sequential model never produces.";

// (v): one sub-page drain remainder per CPU between two xchg that empty it.
std::uint64_t charged_bytes_bound(const CheckContext& ctx) {
  return std::uint64_t{ctx.ncpus} * (ctx.page.size_bytes - 1);
}

std::uint64_t obj_stock_bound_bytes(const CheckContext& ctx) {
  const std::uint64_t page = ctx.page.size_bytes;
  if (ctx.traits.obj_refill == ObjRefillRule::drain_whole_stock) return page;
  std::uint64_t bound = page;
  if (ctx.history.largest_charged_bytes > 0)
    bound = std::max(bound, ctx.history.largest_charged_bytes + page - 2);
  return std::max(bound, charged_bytes_bound(ctx));
}

void check_page_stock(const CheckContext& ctx, const StockSnap& stock, Report& report) {
  if (stock.page_stock.size() > ctx.traits.page_stock_slots)
    report.add(fmt::format("CPU {}: {} page-stock slots cached, more than the {} of {}", stock.cpu,
                           stock.page_stock.size(), ctx.traits.page_stock_slots, ctx.traits.name));
  const auto& slots = stock.page_stock;
  for (auto it = slots.begin(); it != slots.end(); ++it) {
    const PageStockSlot& slot = *it;
    // A few slots (NR_MEMCG_STOCK is 7): the earlier ones are searched (a set
    // allocated on every step).
    auto same = [&](const PageStockSlot& earlier) { return earlier.memcg == slot.memcg; };
    if (std::any_of(slots.begin(), it, same))
      report.add(fmt::format("CPU {}: {} cached in two page-stock slots", stock.cpu,
                             ctx.memcg_name(slot.memcg, ctx.after)));
    if (slot.nr_pages > ctx.traits.charge_batch_pages)
      report.add(fmt::format("CPU {}: page stock for {} holds {} pages > MEMCG_CHARGE_BATCH {}",
                             stock.cpu, ctx.memcg_name(slot.memcg, ctx.after), slot.nr_pages,
                             ctx.traits.charge_batch_pages));
  }
}

void check_obj_stock(const CheckContext& ctx, const StockSnap& stock, Report& report) {
  if (stock.nr_bytes > 0 && !stock.cached_objcg)
    report.add(fmt::format("CPU {}: obj stock holds {} bytes but caches no objcg", stock.cpu,
                           stock.nr_bytes));
  const std::uint64_t bound = obj_stock_bound_bytes(ctx);
  if (stock.nr_bytes > bound)
    report.add(fmt::format(
        "CPU {}: obj stock holds {} bytes > bound {} (PAGE_SIZE {}, largest byte charge {}, "
        "{} CPUs)",
        stock.cpu, stock.nr_bytes, bound, ctx.page.size_bytes, ctx.history.largest_charged_bytes,
        ctx.ncpus));
}

void check_offline(const CheckContext& ctx, const StockSnap& stock, Report& report) {
  if (stock.online) return;
  if (!stock.page_stock.empty())
    report.add("offline_page_stock", stock.cpu,
               fmt::format("offline CPU {}: page stock still caches {} ({} pages)", stock.cpu,
                           ctx.memcg_name(stock.page_stock.front().memcg, ctx.after),
                           stock.page_stock.front().nr_pages));
  if (stock.cached_objcg || stock.nr_bytes) {
    // Every step after a CPU's offline in the profiles with the known bug
    // hotplug_obj_stock_leak: one compiled format, no nested string.
    const fmt::format_int id(stock.cached_objcg.value_or(0));
    const std::string_view objcg = stock.cached_objcg ? std::string_view(id.data(), id.size()) : "none";
    report.add("offline_obj_stock", stock.cpu,
               fmt::format(FMT_COMPILE("offline CPU {}: obj stock still caches objcg {} ({} bytes)"),
                           stock.cpu, objcg, stock.nr_bytes));
  }
}

void check(const CheckContext& ctx, Report& report) {
  // At most 64 stocks: all of them, every step.
  ctx.every_step(report, {0}, [&] {
    for (const auto& stock : ctx.after.stocks()) {
      check_page_stock(ctx, stock, report);
      check_obj_stock(ctx, stock, report);
      check_offline(ctx, stock, report);
    }
  });
  const std::uint64_t spill_bound = charged_bytes_bound(ctx);
  ctx.each_objcg(report, {1}, [&](const ObjcgSnap& objcg) {
    if (objcg.state != ObjcgState::released && objcg.nr_charged_bytes > spill_bound)
      report.add(fmt::format("objcg {}: nr_charged_bytes {} > {} CPUs × (PAGE_SIZE - 1) = {}",
                             objcg.id, objcg.nr_charged_bytes, ctx.ncpus, spill_bound));
  });
}

}  // namespace

InvariantDef stock_bounds_invariant() {
  return {{"INV-STOCK-BOUNDS",
           "page stocks hold at most a batch, byte stocks and nr_charged_bytes stay within the "
           "profile's bound, offline CPUs hold nothing",
           kStatement, kSources, kProfiles, all_profile_ids()},
          check};
}

}  // namespace mv::spec
