#include "spec/mutant.h"

#include <stdexcept>

#include <fmt/format.h>

namespace mv::spec {

namespace {


// The pre-5.9 stocks with GONG Ruiqi's stable fix (the v5.3 profile's 5.4.y
// stock); v5.2 and davydov-2014 have the stock before it (their known kernel
// bug stock_cached_unreferenced), v5.9+ a stock whose cached memcg holds the
// only reference (stock_without_css_ref there).
bool has_stock_ref_fix(const ProfileTraits& traits) {
  return traits.stock_refs == StockCssRefs::per_page_and_cached;
}

// obj_cgroup_charge takes objcg->memcg with css_tryget (eefbfa7fd678,
// v5.11-rc1 and 5.10.4): every objcg profile, v5.10 (5.10.13) included.
bool has_objcg_charge_tryget(const ProfileTraits& traits) { return traits.has_objcg(); }

// The page stock caches several memcgs and evicts one when all slots are
// taken (f735eebe55f8, v6.16: NR_MEMCG_STOCK).
bool has_multi_slot_page_stock(const ProfileTraits& traits) { return traits.page_stock_slots > 1; }

bool has_hotplug_obj_stock_drain(const ProfileTraits& traits) {
  return traits.hotplug_drains_obj_stock;
}

// The designs whose memcg caches are destroyed once their memcg is gone (v5.2
// at css_free, v5.3 when the cache's percpu_ref reaches zero); Davydov's are
// never destroyed.
bool destroys_memcg_caches(const ProfileTraits& traits) {
  return traits.slab == SlabCharging::memcg_cache_pages ||
         traits.slab == SlabCharging::reparented_cache_pages;
}

std::vector<MutantInfo> build_catalog() {
  std::vector<MutantInfo> c;
  c.push_back({Mutant::none, "none", MutantKind::slip, "", "the correct model", "", "no mutation",
               kLayerImpl, ""});
  c.push_back({Mutant::canary, "canary", MutantKind::canary, "",
               "an obviously broken model: every new objcg starts with two references",
               "obj_cgroup_alloc",
               "percpu_ref_init of a new objcg counts 2 instead of 1: the first mkdir already "
               "differs, and the objcg can never be released",
               kLayerImpl, ""});
  c.push_back({Mutant::stock_without_css_ref, "stock_without_css_ref", MutantKind::historical,
               "GONG Ruiqi, \"memcg: add refcnt for pcpu stock to avoid UAF problem in "
               "drain_all_stock()\" (stable 4.19/5.4, 2024; partial backport of 1a3e1f40962c)",
               "the page stock cached a memcg without a css reference: the memcg could be freed "
               "while still cached, and drain_all_stock read it after free",
               "__refill_stock, drain_stock",
               "__refill_stock caches the memcg without css_get, and drain_stock drops it "
               "without css_put",
               kLayerImpl, ""});
  c.push_back({Mutant::free_without_uncharge, "free_without_uncharge", MutantKind::historical,
               "d1b2cf6cb84a \"mm: memcg/slab: uncharge during kmem_cache_free_bulk()\" (v5.10-rc; "
               "related: ae085d7f9365, the kfence path for SLAB)",
               "SLUB's bulk free skipped memcg_slab_free_hook: objcg references and charged bytes "
               "leaked",
               "kmem_cache_free_bulk -> memcg_slab_free_hook",
               "every slab free takes a path without memcg_slab_free_hook: the object goes, its "
               "bytes are never uncharged and its objcg reference is never put",
               kLayerImpl, ""});
  c.push_back({Mutant::root_skipped_on_uncharge, "root_skipped_on_uncharge",
               MutantKind::historical,
               "c5c8b16b596e \"mm: memcontrol: fix root_mem_cgroup charging\" (v5.14-rc1); the "
               "uncharge side as 6.15+ writes it (docs/KERNEL.md section 12)",
               "charge and uncharge disagreed on whether the root memcg's page_counter is "
               "touched: the root's usage drifted from what it holds",
               "obj_cgroup_uncharge_pages, drain_obj_stock (and obj_cgroup_release through them)",
               "an objcg reparented to the root is charged to the root (try_charge_memcg, as in "
               "v6.6) but its pages are not given back there: obj_cgroup_uncharge_pages and "
               "drain_obj_stock drop them when objcg->memcg is the root",
               kLayerImpl, ""});
  c.push_back({Mutant::percpu_without_metadata, "percpu_without_metadata", MutantKind::historical,
               "8c57c07741bf \"mm: memcg/percpu: account extra objcg space to memory cgroups\" "
               "(v5.17-rc1)",
               "percpu allocations charged size * num_possible_cpus() without the obj_cgroup "
               "pointer array: under-accounting",
               "pcpu_obj_full_size (pcpu_memcg_pre_alloc_hook)",
               "pcpu_obj_full_size without its `size / PCPU_MIN_ALLOC_SIZE * sizeof(struct "
               "obj_cgroup *)` term (arith/slips.h)",
               kLayerImpl, ""});
  c.push_back({Mutant::hotplug_drains_page_stock_only, "hotplug_drains_page_stock_only",
               MutantKind::historical,
               "9f01b4954490 \"memcg: drain obj stock on cpu hotplug teardown\" (v6.15-rc1; in 6.6.y "
               "from 6.6.90)",
               "a dead CPU's byte stock kept its bytes and its objcg reference forever",
               "memcg_hotplug_cpu_dead",
               "cpu_offline drains only the page stock: the dead CPU's byte stock keeps nr_bytes "
               "and its cached objcg's reference. v6.1 and v6.6 as released have this bug (the "
               "known kernel bug hotplug_obj_stock_leak), so the mutant applies only to profiles "
               "with the fix: v6.6+9f01b4954490 (and v6.16 once modeled)",
               kLayerImpl, "", has_hotplug_obj_stock_drain, "profiles with 9f01b4954490"});
  c.push_back({Mutant::dual_obj_stock, "dual_obj_stock", MutantKind::historical,
               "fead2b869764, the revert of 559271146efc \"mm/memcg: optimize user context "
               "object stock access\" (~v5.19)",
               "two byte stocks per CPU (task and irq context): a charge and its uncharge could "
               "use different stocks, stranding bytes until a drain",
               "refill_obj_stock, drain_local_stock",
               "every uncharge of a slab or percpu object refills a second, hidden byte stock of "
               "the CPU (charges use the visible one); only drain_local_stock (the drain op, "
               "drain work) and cpu_offline drain it",
               kLayerImpl, ""});
  c.push_back({Mutant::double_uncharge_unclamped, "double_uncharge_unclamped",
               MutantKind::historical,
               "9317d0fffeb4 \"mm: page_counter: mitigate consequences of a page_counter "
               "underflow\" (v5.13-rc1), paired with a double uncharge",
               "an underflowed usage stayed negative (a huge unsigned value): the cgroup could no "
               "longer charge anything",
               "page_counter_cancel",
               "page_counter_cancel warns but does not clamp a negative usage to 0 (arith/slips.h), "
               "together with double_uncharge's second uncharge of every freed kmem page (the "
               "clamp alone is an equivalent mutant: no underflow is reachable in the correct "
               "model)",
               kLayerImpl, ""});
  c.push_back({Mutant::double_uncharge, "double_uncharge", MutantKind::slip, "",
               "a double uncharge: the kind of bug 9317d0fffeb4 made survivable",
               "__memcg_kmem_uncharge_page",
               "freeing a kmem page (kind page) uncharges its pages twice "
               "(obj_cgroup_uncharge_pages twice, one obj_cgroup_put)",
               kLayerImpl, ""});
  c.push_back({Mutant::refill_obj_stock_at_page_size, "refill_obj_stock_at_page_size",
               MutantKind::slip, "",
               "`>=` for `>` in refill_obj_stock's PAGE_SIZE threshold",
               "refill_obj_stock",
               "a byte stock of exactly PAGE_SIZE bytes gives its page back "
               "(arith/slips.h obj_stock_refill_at_page_size)",
               kLayerImpl, ""});
  c.push_back({Mutant::refill_stock_at_batch, "refill_stock_at_batch", MutantKind::slip, "",
               "`>=` for `>` in __refill_stock's MEMCG_CHARGE_BATCH threshold", "__refill_stock",
               "a page stock of exactly MEMCG_CHARGE_BATCH pages is drained "
               "(arith/slips.h page_stock_refill_at_batch)",
               kLayerImpl, ""});
  c.push_back({Mutant::drain_split_wrong_mask, "drain_split_wrong_mask", MutantKind::slip, "",
               "`& PAGE_SIZE` for `& (PAGE_SIZE - 1)` in drain_obj_stock's split",
               "drain_obj_stock",
               "the sub-page remainder added to nr_charged_bytes is `nr_bytes & PAGE_SIZE` "
               "(arith/slips.h obj_stock_drain_split_wrong_mask)",
               kLayerImpl, ""});
  c.push_back({Mutant::charged_bytes_not_cleared, "charged_bytes_not_cleared", MutantKind::slip,
               "", "atomic_read for atomic_xchg(&objcg->nr_charged_bytes, 0)",
               "refill_obj_stock, mod_objcg_state (replace_stock_objcg)",
               "a newly cached objcg's nr_charged_bytes is copied into the stock but not cleared: "
               "the bytes exist twice",
               kLayerImpl, ""});
  c.push_back({Mutant::old_objcg_not_put, "old_objcg_not_put", MutantKind::slip, "",
               "the old objcg's obj_cgroup_put missing after a stock replacement",
               "refill_obj_stock, mod_objcg_state",
               "when the byte stock switches to another objcg the old one is drained but its "
               "stock reference is never put",
               kLayerImpl, ""});
  c.push_back({Mutant::charge_split_no_round_up, "charge_split_no_round_up", MutantKind::slip, "",
               "`if (nr_bytes) nr_pages += 1` missing in obj_cgroup_charge", "obj_cgroup_charge",
               "a charge with a sub-page remainder charges one page too few but still puts "
               "PAGE_SIZE - remainder bytes in the stock (arith/slips.h "
               "obj_charge_split_no_round_up)",
               kLayerImpl, ""});
  c.push_back({Mutant::rollback_misses_level, "rollback_misses_level", MutantKind::slip, "",
               "page_counter_try_charge's rollback stops one level short",
               "page_counter_try_charge",
               "when a level above the charged counter refuses, the level just below it keeps "
               "the speculative charge",
               kLayerImpl, ""});

  // Races: only an interleaving kills them (memcg-verify explore).
  c.push_back({Mutant::flush_required_double_read, "flush_required_double_read",
               MutantKind::interleaving,
               "3b8abb323953 \"mm: kmem: fix a NULL pointer dereference in "
               "obj_stock_flush_required()\" (v6.5-rc, 6.1.45; CVE-2023-53401)",
               "obj_stock_flush_required tested stock->cached_objcg and read it again to "
               "dereference it; a remote CPU's drain could set it to NULL in between: a NULL "
               "pointer dereference in drain_all_stock",
               "obj_stock_flush_required (drain_all_stock)",
               "after the NULL test (preemption point after_flush_required_check) the remote "
               "stock's cached_objcg is read a second time; a NULL there is the oops "
               "(event null_dereference). Sequentially both reads see the same value",
               kLayerImpl, ""});
  c.push_back({Mutant::css_get_not_tryget, "css_get_not_tryget", MutantKind::interleaving,
               "eefbfa7fd678 \"mm: memcg/slab: fix use after free in obj_cgroup_charge\" (v5.11-rc1)",
               "css_get on objcg->memcg under RCU could revive a css whose count reached 0",
               "obj_cgroup_charge (get_mem_cgroup_from_objcg)",
               "obj_cgroup_charge_pages takes `css_get(obj_cgroup_memcg(objcg))` under RCU "
               "instead of get_mem_cgroup_from_objcg's css_tryget retry. The count of "
               "objcg->memcg reaches 0 only after mem_cgroup_css_offline has reparented the "
               "objcg, so only a reader preempted between the read of objcg->memcg and the "
               "css_get (point before_css_tryget) while another CPU runs the offline gets a "
               "css at zero, still RCU-alive (its css_free waits for the reader's grace period): "
               "the get revives it (event memcg_use_after_free). The v5.10 profile (5.10.13, the "
               "fix in since 5.10.4) reverts it too: there the charge through obj_cgroup_charge "
               "is a slab or percpu object's (a kmem page is charged to the memcg directly), "
               "harness charge_vs_offline_v5.10",
               kLayerImpl, "", has_objcg_charge_tryget,
               "the objcg profiles: v5.10 (5.10.13; the fix is in 5.10.4), v6.1 and later"});
  c.push_back({Mutant::requeued_work_read_unlocked, "requeued_work_read_unlocked",
               MutantKind::interleaving,
               "impl/ c3be344 (found by ThreadSanitizer; the kernel's process_one_work copies "
               "work->func before clearing PENDING)",
               "the deferred-work runner read a work item after dropping the mailbox lock, while "
               "another CPU could queue the same item again (its PENDING bit already clear) and "
               "rewrite it: a data race on the item",
               "process_one_work (impl/deferred.cc run_one_ready)",
               "the runner reads the dequeued item through its pointer after unlocking instead "
               "of a copy taken under the lock; a drain_all that re-queues the stock's drain "
               "work meanwhile writes the same item (explore's data-race detector, point "
               "after_work_dequeued)",
               kLayerImpl, ""});
  c.push_back({Mutant::cache_put_before_alloc, "cache_put_before_alloc", MutantKind::interleaving,
               "Vladimir Davydov, \"memcg: fix possible use-after-free in memcg_kmem_get_cache()\" "
               "(v3.19-rc1, December 2014: memcg_kmem_get_cache keeps the css reference and "
               "memcg_kmem_put_cache drops it after the allocation; caches destroyed at css_free); "
               "v5.3 keeps the rule with a percpu_ref_tryget of the cache (Roman Gushchin, \"mm: "
               "memcg/slab: rework non-root kmem_cache lifecycle management\")",
               "seed 002's race: the allocator picked the memcg's cache, the task was moved out "
               "and the memcg destroyed with its empty caches before the allocation from the "
               "cache ran: a use after free of the kmem_cache",
               "memcg_kmem_get_cache, memcg_kmem_put_cache (slab_alloc)",
               "memcg_kmem_get_cache's reference (v5.2: the memcg's css; v5.3: the cache's "
               "percpu_ref) is dropped before the allocation instead of by memcg_kmem_put_cache "
               "after it. Only an allocation preempted between the two (point after_get_cache) "
               "while another CPU migrates its task, removes the cgroup and runs the offline and "
               "free sees the cache destroyed; it allocates a slab page of the freed cache "
               "(INV-NO-UAF). Sequentially the task's cgroup cannot go away during its own "
               "allocation. An overlay of the reference (overlay/kmem_cache.cc): the profiles have "
               "no impl",
               kLayerOverlay, "", destroys_memcg_caches, "v5.2, v5.3 (memcg caches destroyed)"});

  c.push_back({Mutant::stock_cached_unreferenced, "stock_cached_unreferenced",
               MutantKind::historical,
               "GONG Ruiqi, \"memcg: add refcnt for pcpu stock to avoid UAF problem in "
               "drain_all_stock()\" (stable 4.19.y/5.4.y, February 2024; partial backport of "
               "1a3e1f40962c, v5.9), reverted: the 5.3 and 5.4 kernels as released",
               "the page stock of a pre-5.9 kernel cached its memcg without a css reference of "
               "its own (only the stocked pages held references): once consume_stock took the "
               "last stocked page, the memcg could be freed while still cached, and "
               "drain_all_stock read it after free",
               "refill_stock, drain_stock (v5.4)",
               "v5.3's stock without the fix: refill_stock caches a new memcg without css_get and "
               "drain_stock drops it without css_put (the css_get_many/css_put_many of the "
               "stocked pages stay). On v5.2 and davydov-2014 this is the kernel's own stock, "
               "reported as their known kernel bug stock_cached_unreferenced (INV-NO-UAF "
               "stock-dangling); on v5.3, which has the fix, the same state is a violation: "
               "INV-REF-BALANCE fires at the first refill that caches a memcg (one css "
               "reference fewer than the stock's documented holder), INV-NO-UAF once the "
               "emptied memcg is freed while cached. An overlay (overlay/page_stock.cc): the "
               "reference's own functions booted with the unfixed stock's traits",
               kLayerOverlay, "", has_stock_ref_fix,
               "v5.3 (the pre-5.9 stock with the stable fix)"});
  c.push_back({Mutant::evicted_slot_not_drained, "evicted_slot_not_drained", MutantKind::slip, "",
               "refill_stock's eviction reuses the slot without `drain_stock(stock, i)`",
               "refill_stock (v6.16)",
               "when every slot of the per-CPU page stock caches another memcg, the slot "
               "arith::page_stock_evicted_slot names (the model's get_random_u32_below) is "
               "overwritten with the new memcg and its pages: the evicted memcg's stocked pages "
               "are never uncharged and the slot's css reference on it is never put (a pinned, "
               "overcharged memcg)",
               kLayerImpl, "", has_multi_slot_page_stock,
               "v6.16 (NR_MEMCG_STOCK = 7 slots per CPU)"});

  // Bugs of the bug catalog the sequential v6.6 model cannot express.
  c.push_back({std::nullopt, "objcg_not_reset", MutantKind::historical,
               "2f7659a31473 \"mm: memcg/slab: fix return of child memcg objcg for root memcg\" "
               "(v5.11-rc1)",
               "a failed obj_cgroup_tryget left objcg set: the loop returned an objcg without a "
               "reference",
               "get_obj_cgroup_from_current", "", 0,
               "unreachable, also under interleavings (read in 5.10.13 and 5.10.265 with "
               "lib/percpu-refcount.c): obj_cgroup_tryget (percpu_ref_tryget) fails only on a "
               "count of 0. The walk reads memcg->objcg and trygets it inside one RCU read-side "
               "section; memcg_reparent_objcgs clears memcg->objcg (rcu_replace_pointer) before "
               "percpu_ref_kill, and the kill's switch to atomic mode keeps PERCPU_COUNT_BIAS in "
               "the count until percpu_ref_switch_to_atomic_rcu, an RCU callback queued after the "
               "clear. A reader that read the objcg non-NULL did so before the clear, so its "
               "section began before that call_rcu and the callback waits for it: the count "
               "cannot reach 0 before the tryget, which succeeds. The model keeps both rules "
               "(impl/objcg.cc, reference/objcg.cc: the clear, then the kill, the switch as RCU "
               "work; sections exact under a scheduler), and a walk that read the task's memcg "
               "also holds off that memcg's offline itself, whose grace period begins at the "
               "rmdir after the task has left: the race trace "
               "scenarios/race_objcg_tryget_vs_offline.jsonl stops at before_objcg_tryget across "
               "the migrate, rmdir and a quiesce, and the tryget succeeds; explore's searches "
               "stop there too. The reset is defensive."});
  c.push_back({std::nullopt, "root_skipped_on_charge", MutantKind::historical,
               "c5c8b16b596e \"mm: memcontrol: fix root_mem_cgroup charging\" (v5.14-rc1), as it "
               "was",
               "try_charge skipped the root for an objcg reparented to it, while the uncharge "
               "gave pages back to the root: root usage underflow",
               "obj_cgroup_charge_pages (try_charge)", "", 0,
               "not a mutant but a profile: on v5.10 it is the kernel as released (try_charge "
               "returns 0 for the root in every 5.10.y; ProfileTraits::try_charge_skips_root), "
               "modeled in the impl and the reference and reported as the known kernel bug "
               "root_charge_skipped. Only a race reaches it: a charge through an objcg reparented "
               "to the root between get_obj_cgroup_from_current and the charge (explore harness "
               "charge_vs_offline_v5.10); sequentially the charging objcg is that of the task's "
               "online memcg, never the root's. The other direction is root_skipped_on_uncharge."});
  c.push_back({std::nullopt, "protected_usage_on_failure", MutantKind::historical,
               "46a53371f3fd \"mm/page_counter: remove an incorrect call to "
               "propagate_protected_usage()\" (v5.17-rc1)",
               "the try_charge failure branch propagated the rolled-back usage to "
               "min_usage/low_usage",
               "page_counter_try_charge (propagate_protected_usage)", "", 0,
               "memory.min and memory.low protection (min_usage, low_usage, children_*_usage) is "
               "not modeled (docs/MODEL-v6.6.md: cgroup v2 charging without reclaim or "
               "protection), so the call has nothing to change."});
  c.push_back({std::nullopt, "underflow_clamp_removed", MutantKind::historical,
               "9317d0fffeb4 \"mm: page_counter: mitigate consequences of a page_counter "
               "underflow\" (v5.13-rc1), alone",
               "a negative usage was not reset to 0", "page_counter_cancel", "", 0,
               "equivalent in isolation: no sequence of operations underflows a page_counter in "
               "the correct model (INV-NO-UNDERFLOW), so the clamp never runs. It is injected "
               "paired with a double uncharge as double_uncharge_unclamped."});
  return c;
}

std::vector<KernelBug> build_bug_catalog() {
  return {
      {"stable-only (a partial backport of 1a3e1f40962c)",
       "memcg: add refcnt for pcpu stock to avoid UAF problem in drain_all_stock()", "GONG Ruiqi",
       "stable 4.19 and 5.4 only, February 2024", "refill_stock, drain_stock",
       "before v5.9 the page stock cached a memcg without holding a css reference of its own; once "
       "its nr_pages reached 0 the memcg could be freed while still cached, and drain_all_stock "
       "then read the freed memcg (mem_cgroup_is_descendant). The bug came with cdec2e4265df",
       {"stock_without_css_ref", "stock_cached_unreferenced"}},
      {"d1b2cf6cb84a", "mm: memcg/slab: uncharge during kmem_cache_free_bulk()", "Bharata B Rao",
       "v5.10-rc, 5.9.y", "kmem_cache_free_bulk (SLUB) -> memcg_slab_free_hook",
       "the bulk free path of SLUB skipped memcg_slab_free_hook: the objects' bytes stayed charged "
       "and their objcg references were never put (charge leak, dying memcgs). Related: "
       "ae085d7f9365, the same housekeeping missing on the kfence path of SLAB",
       {"free_without_uncharge"}},
      {"eefbfa7fd678", "mm: memcg/slab: fix use after free in obj_cgroup_charge", "Muchun Song",
       "v5.11-rc1, 5.10.4", "obj_cgroup_charge",
       "css_get on obj_cgroup_memcg(objcg) under RCU could raise a css count that had already "
       "reached 0 (the memcg finished its offline in between): a use after free. The fix takes "
       "css_tryget and retries with the reparented objcg->memcg",
       {"css_get_not_tryget"}},
      {"2f7659a31473", "mm: memcg/slab: fix return of child memcg objcg for root memcg",
       "Muchun Song", "v5.11-rc1, 5.10.4", "get_obj_cgroup_from_current",
       "after a failed obj_cgroup_tryget the candidate was not reset: when the last non-root "
       "ancestor's tryget failed, the walk ended at the root and returned that objcg without a "
       "reference",
       {"objcg_not_reset"}},
      {"c5c8b16b596e", "mm: memcontrol: fix root_mem_cgroup charging", "Muchun Song", "v5.14-rc1",
       "obj_cgroup_charge_pages (try_charge)",
       "an objcg reparented to the root between get_obj_cgroup_from_current and the charge: "
       "try_charge skipped the root, but the later uncharge refilled a stock whose drain "
       "uncharged the root's page_counter, so the root's usage fell below what it held (and "
       "page_counter_cancel warned). The fix charges through try_charge_memcg, which charges the "
       "root",
       {"root_skipped_on_charge", "root_skipped_on_uncharge"}},
      {"9317d0fffeb4", "mm: page_counter: mitigate consequences of a page_counter underflow",
       "Johannes Weiner", "v5.13-rc1", "page_counter_cancel",
       "an underflow left the usage negative, read as a huge unsigned number: the cgroup could "
       "not allocate any more (OOM loops). The fix warns once and resets the usage to 0",
       {"underflow_clamp_removed", "double_uncharge_unclamped"}},
      {"8c57c07741bf", "mm: memcg/percpu: account extra objcg space to memory cgroups",
       "Qi Zheng", "v5.17-rc1", "pcpu_memcg_pre_alloc_hook (pcpu_obj_full_size)",
       "percpu allocations were charged size * num_possible_cpus() without the array of objcg "
       "pointers they need (slab already charged its pointer): under-accounting",
       {"percpu_without_metadata"}},
      {"46a53371f3fd", "mm/page_counter: remove an incorrect call to propagate_protected_usage()",
       "", "v5.17-rc1", "page_counter_try_charge",
       "the failure branch propagated the not-yet-rolled-back usage to min_usage and low_usage, "
       "overstating the protected usage of the level and its parent's children totals",
       {"protected_usage_on_failure"}},
      {"9f01b4954490", "memcg: drain obj stock on cpu hotplug teardown", "Shakeel Butt",
       "v6.15-rc1, March 2025; in 6.6.y from 6.6.90 (absent from 6.6.57 and Debian's 6.1.192, "
       "whose profiles have it as the known kernel bug hotplug_obj_stock_leak)",
       "memcg_hotplug_cpu_dead",
       "from v5.9 (bf4f059954dc) the hotplug callback drained only the dead CPU's page stock: its "
       "byte stock kept its bytes, its cached vmstat deltas and its objcg reference forever",
       {"hotplug_drains_page_stock_only"}},
      {"fead2b869764 (revert of 559271146efc)", "mm/memcg: optimize user context object stock access",
       "Michal Hocko, in Sebastian Andrzej Siewior's PREEMPT_RT series", "about v5.19",
       "refill_obj_stock, drain_local_stock",
       "two byte stocks per CPU, one for task and one for interrupt context (in_task()): a charge "
       "and its uncharge could use different stocks, stranding bytes until a drain; reverted for "
       "PREEMPT_RT correctness and complexity",
       {"dual_obj_stock"}},
  };
}

}  // namespace

const std::vector<KernelBug>& kernel_bug_catalog() {
  static const std::vector<KernelBug> catalog = build_bug_catalog();
  return catalog;
}

const std::vector<MutantInfo>& mutant_catalog() {
  static const std::vector<MutantInfo> catalog = build_catalog();
  return catalog;
}

const MutantInfo& mutant_info(Mutant mutant) {
  for (const auto& info : mutant_catalog())
    if (info.mutant == mutant) return info;
  throw std::logic_error("mutant missing from the catalog");
}

std::string_view mutant_name(Mutant mutant) { return mutant_info(mutant).name; }

std::string_view mutant_kind_name(MutantKind kind) {
  switch (kind) {
    case MutantKind::historical: return "historical";
    case MutantKind::slip: return "slip";
    case MutantKind::canary: return "canary";
    case MutantKind::interleaving: return "interleaving";
  }
  return "?";
}

std::optional<Mutant> parse_mutant(std::string_view name) {
  for (const auto& info : mutant_catalog())
    if (info.mutant && info.name == name) return info.mutant;
  return std::nullopt;
}

std::vector<Mutant> all_mutants() {
  std::vector<Mutant> out;
  for (std::size_t i = 1; i < kNrMutants; ++i)
    if (mutant_info(static_cast<Mutant>(i)).kind != MutantKind::interleaving)
      out.push_back(static_cast<Mutant>(i));
  return out;
}

std::vector<Mutant> interleaving_mutants() {
  std::vector<Mutant> out;
  for (std::size_t i = 1; i < kNrMutants; ++i)
    if (mutant_info(static_cast<Mutant>(i)).kind == MutantKind::interleaving)
      out.push_back(static_cast<Mutant>(i));
  return out;
}

std::vector<Mutant> interleaving_mutants(MutantLayer layer) {
  std::vector<Mutant> out;
  for (auto mutant : interleaving_mutants())
    if (mutant_in_layer(mutant, layer)) out.push_back(mutant);
  return out;
}

bool mutant_in_layer(Mutant mutant, MutantLayer layer) {
  return (mutant_info(mutant).layers & layer) != 0;
}

bool mutant_applies(Mutant mutant, const ProfileTraits& traits) {
  const auto& info = mutant_info(mutant);
  return !info.applies || info.applies(traits);
}

std::optional<Profile> mutant_profile(Mutant mutant, Profile preferred) {
  const auto& wanted = traits(preferred);
  if (wanted.modeled && mutant_applies(mutant, wanted)) return preferred;
  for (const auto& t : all_profiles())
    if (t.modeled && mutant_applies(mutant, t)) return t.profile;
  return std::nullopt;
}

std::string mutant_layers_text(std::uint8_t layers) {
  std::string text;
  if (layers & kLayerImpl) text += "impl";
  if (layers & kLayerOverlay) text += text.empty() ? "overlay" : ", overlay";
  return text.empty() ? "-" : text;
}

namespace {

// Markdown table cells: no raw pipes or line breaks.
std::string cell(std::string_view text) {
  std::string out;
  for (char ch : text) {
    if (ch == '|') out += "\\|";
    else if (ch == '\n') out += ' ';
    else out += ch;
  }
  return out;
}

}  // namespace

std::string render_mutants_markdown() {
  std::string md =
      "# Mutants\n\n"
      "Generated from `spec/mutant.cc` by `memcg-verify mutants --list --markdown`; do not edit by "
      "hand.\n\n"
      "Each mutant is a deliberately wrong version of the modeled kernel code, selected at run "
      "time (`check --mutant NAME`, `replay --mutant NAME`, `mutants`). `memcg-verify mutants` "
      "runs the conformance campaign against each one injected into the impl (the reference "
      "stays correct) and fails if any survives; `tests/properties_mutants_test.cc` proves "
      "every one is killed. Historical mutants re-inject real upstream bugs (the bug catalog at "
      "the end of this page), slips are classic arithmetic and refcount mistakes, the "
      "canary must die at once. Arithmetic slips are templates over the arithmetic domain "
      "(`arith/slips.h`), like the code they replace. Interleaving mutants are races: every "
      "sequential run of them is correct, so `mutants` leaves them out and `memcg-verify explore "
      "--mutant NAME` kills them (`tests/explore_explore_test.cc`).\n\n"
      "The profiles the impl does not model (v5.2, v5.3, davydov-2014) run on the "
      "reference alone, so their mutants (layer `overlay`) are **overlays**: `overlay/` rebuilds "
      "the operations of one kernel path from the reference's own functions with the mutated "
      "step, and every other operation is the reference's (`overlay/overlay.h`). The mutated "
      "reference runs alone (`replay --model reference --mutant NAME`, `check --profile P "
      "--mutant NAME`, which compares it with the correct reference), `memcg-verify mutants` "
      "runs the sequential ones (kind historical) in both seats, so that an invariant must "
      "kill them, with or without `--invariants-only`, and their counterexamples replay on the "
      "overlay alone, and `explore --profile P --mutant NAME` searches the race traces of "
      "small programs over the interleaving ones.\n\n"
      "A kill is a disagreement between the mutated impl and the correct reference, found when "
      "their results and snapshots are compared after a step; the mutated impl's own invariant "
      "monitor runs on the same step, and the table of `memcg-verify mutants` names the "
      "invariants that fired there too. With `--invariants-only` the mutated impl also "
      "takes the reference's seat (the reference itself has no mutant hooks: reading `reference/` "
      "shows only the kernel's semantics): the two models then agree step for step and only an "
      "invariant can kill it. Every mutant but three dies that way; "
      "`percpu_without_metadata`, `refill_obj_stock_at_page_size` and `refill_stock_at_batch` "
      "change a policy (a charge size, a threshold) while conserving every count, so only the "
      "comparison with the reference catches them.\n\n"
      "Run them: `memcg-verify mutants [--seed N] [--runs N] [--steps N] [--only NAME] [--json] "
      "[--out DIR] [--invariants-only]`; one: `memcg-verify check --mutant NAME`; replay a "
      "counterexample: `memcg-verify replay FILE --mutant auto` (its header note names the "
      "model and the mutant: `--model both --mutant NAME`).\n\n"
      "## Expressible mutants\n\n"
      "| mutant | kind | upstream fix | kernel function | bug | what the mutant does | layers | "
      "profiles |\n"
      "| --- | --- | --- | --- | --- | --- | --- | --- |\n";
  for (const auto& info : mutant_catalog()) {
    if (!info.mutant || *info.mutant == Mutant::none) continue;
    md += fmt::format("| `{}` | {} | {} | `{}` | {} | {} | {} | {} |\n", info.name,
                      mutant_kind_name(info.kind), info.commit.empty() ? "-" : cell(info.commit),
                      cell(info.function), cell(info.bug), cell(info.description),
                      mutant_layers_text(info.layers),
                      info.applies ? cell(info.applies_text) : std::string("all"));
  }
  md +=
      "\n## Catalog entries the v6.6 model cannot express\n\n"
      "| entry | upstream fix | kernel function | bug | why not |\n"
      "| --- | --- | --- | --- | --- |\n";
  for (const auto& info : mutant_catalog()) {
    if (info.mutant) continue;
    md += fmt::format("| `{}` | {} | `{}` | {} | {} |\n", info.name, cell(info.commit),
                      cell(info.function), cell(info.bug), cell(info.not_expressible));
  }
  md +=
      "\n## Bug catalog\n\n"
      "Real upstream fixes in the modeled code, each re-injected by the mutants named (or listed "
      "above as not expressible, with why). The catalog is deliberately short: the invariants are "
      "general, so that a campaign also catches bugs nobody listed. docs/KERNEL.md has the "
      "kernel facts around each.\n\n"
      "| upstream fix | subject | author | landed | kernel function | what was wrong | mutants |\n"
      "| --- | --- | --- | --- | --- | --- | --- |\n";
  for (const auto& bug : kernel_bug_catalog()) {
    std::string entries;
    for (auto name : bug.entries) entries += fmt::format("{}`{}`", entries.empty() ? "" : ", ", name);
    md += fmt::format("| {} | {} | {} | {} | `{}` | {} | {} |\n", cell(bug.fix), cell(bug.title),
                      bug.author.empty() ? "-" : cell(bug.author), cell(bug.landed),
                      cell(bug.function), cell(bug.bug), entries);
  }
  return md;
}

}  // namespace mv::spec
