#include "spec/mutant.h"

#include <stdexcept>

#include <fmt/format.h>

namespace mv::spec {

namespace {

constexpr std::uint8_t kBoth = kLayerImpl | kLayerReference;

std::vector<MutantInfo> build_catalog() {
  std::vector<MutantInfo> c;
  c.push_back({Mutant::none, "none", MutantKind::slip, "", "the correct model", "", "no mutation",
               kBoth, ""});
  c.push_back({Mutant::canary, "canary", MutantKind::canary, "",
               "an obviously broken model: every new objcg starts with two references",
               "obj_cgroup_alloc",
               "percpu_ref_init of a new objcg counts 2 instead of 1: the first mkdir already "
               "differs, and the objcg can never be released",
               kBoth, ""});
  c.push_back({Mutant::stock_without_css_ref, "stock_without_css_ref", MutantKind::historical,
               "GONG Ruiqi, \"memcg: add refcnt for pcpu stock to avoid UAF problem in "
               "drain_all_stock()\" (stable 4.19/5.4, 2024; partial backport of 1a3e1f40962c)",
               "the page stock cached a memcg without a css reference: the memcg could be freed "
               "while still cached, and drain_all_stock read it after free",
               "__refill_stock, drain_stock",
               "__refill_stock caches the memcg without css_get, and drain_stock drops it "
               "without css_put",
               kBoth, ""});
  c.push_back({Mutant::free_without_uncharge, "free_without_uncharge", MutantKind::historical,
               "d1b2cf6cb84a \"mm: memcg/slab: uncharge during kmem_cache_free_bulk()\" (v5.10-rc; "
               "related: ae085d7f9365, the kfence path for SLAB)",
               "SLUB's bulk free skipped memcg_slab_free_hook: objcg references and charged bytes "
               "leaked",
               "kmem_cache_free_bulk -> memcg_slab_free_hook",
               "every slab free takes a path without memcg_slab_free_hook: the object goes, its "
               "bytes are never uncharged and its objcg reference is never put",
               kBoth, ""});
  c.push_back({Mutant::root_skipped_on_uncharge, "root_skipped_on_uncharge",
               MutantKind::historical,
               "c5c8b16b596e \"mm: memcontrol: fix root_mem_cgroup charging\" (v5.14-rc1); the "
               "uncharge side as 6.15+ writes it (kernel-notes.md, open questions)",
               "charge and uncharge disagreed on whether the root memcg's page_counter is "
               "touched: the root's usage drifted from what it holds",
               "obj_cgroup_uncharge_pages, drain_obj_stock (and obj_cgroup_release through them)",
               "an objcg reparented to the root is charged to the root (try_charge_memcg, as in "
               "v6.6) but its pages are not given back there: obj_cgroup_uncharge_pages and "
               "drain_obj_stock drop them when objcg->memcg is the root",
               kBoth, ""});
  c.push_back({Mutant::percpu_without_metadata, "percpu_without_metadata", MutantKind::historical,
               "8c57c07741bf \"mm: memcg/percpu: account extra objcg space to memory cgroups\" "
               "(v5.17-rc1)",
               "percpu allocations charged size * num_possible_cpus() without the obj_cgroup "
               "pointer array: under-accounting",
               "pcpu_obj_full_size (pcpu_memcg_pre_alloc_hook)",
               "pcpu_obj_full_size without its `size / PCPU_MIN_ALLOC_SIZE * sizeof(struct "
               "obj_cgroup *)` term (arith/slips.h)",
               kBoth, ""});
  c.push_back({Mutant::hotplug_drains_page_stock_only, "hotplug_drains_page_stock_only",
               MutantKind::historical,
               "9f01b4954490 \"memcg: drain obj stock on cpu hotplug teardown\" (v6.15-rc; stable "
               "to 6.1)",
               "a dead CPU's byte stock kept its bytes and its objcg reference forever",
               "memcg_hotplug_cpu_dead",
               "cpu_offline drains only the page stock: the dead CPU's byte stock keeps nr_bytes "
               "and its cached objcg's reference",
               kBoth, ""});
  c.push_back({Mutant::dual_obj_stock, "dual_obj_stock", MutantKind::historical,
               "fead2b869764, the revert of 559271146efc \"mm/memcg: optimize user context "
               "object stock access\" (~v5.19)",
               "two byte stocks per CPU (task and irq context): a charge and its uncharge could "
               "use different stocks, stranding bytes until a drain",
               "refill_obj_stock, drain_local_stock",
               "every uncharge of a slab or percpu object refills a second, hidden byte stock of "
               "the CPU (charges use the visible one); only drain_local_stock (the drain op, "
               "drain work) and cpu_offline drain it",
               kBoth, ""});
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
               kBoth, ""});
  c.push_back({Mutant::double_uncharge, "double_uncharge", MutantKind::slip, "",
               "a double uncharge: the kind of bug 9317d0fffeb4 made survivable",
               "__memcg_kmem_uncharge_page",
               "freeing a kmem page (kind page) uncharges its pages twice "
               "(obj_cgroup_uncharge_pages twice, one obj_cgroup_put)",
               kBoth, ""});
  c.push_back({Mutant::refill_obj_stock_at_page_size, "refill_obj_stock_at_page_size",
               MutantKind::slip, "",
               "`>=` for `>` in refill_obj_stock's PAGE_SIZE threshold",
               "refill_obj_stock",
               "a byte stock of exactly PAGE_SIZE bytes gives its page back "
               "(arith/slips.h obj_stock_refill_at_page_size)",
               kBoth, ""});
  c.push_back({Mutant::refill_stock_at_batch, "refill_stock_at_batch", MutantKind::slip, "",
               "`>=` for `>` in __refill_stock's MEMCG_CHARGE_BATCH threshold", "__refill_stock",
               "a page stock of exactly MEMCG_CHARGE_BATCH pages is drained "
               "(arith/slips.h page_stock_refill_at_batch)",
               kBoth, ""});
  c.push_back({Mutant::drain_split_wrong_mask, "drain_split_wrong_mask", MutantKind::slip, "",
               "`& PAGE_SIZE` for `& (PAGE_SIZE - 1)` in drain_obj_stock's split",
               "drain_obj_stock",
               "the sub-page remainder added to nr_charged_bytes is `nr_bytes & PAGE_SIZE` "
               "(arith/slips.h obj_stock_drain_split_wrong_mask)",
               kBoth, ""});
  c.push_back({Mutant::charged_bytes_not_cleared, "charged_bytes_not_cleared", MutantKind::slip,
               "", "atomic_read for atomic_xchg(&objcg->nr_charged_bytes, 0)",
               "refill_obj_stock, mod_objcg_state (replace_stock_objcg)",
               "a newly cached objcg's nr_charged_bytes is copied into the stock but not cleared: "
               "the bytes exist twice",
               kBoth, ""});
  c.push_back({Mutant::old_objcg_not_put, "old_objcg_not_put", MutantKind::slip, "",
               "the old objcg's obj_cgroup_put missing after a stock replacement",
               "refill_obj_stock, mod_objcg_state",
               "when the byte stock switches to another objcg the old one is drained but its "
               "stock reference is never put",
               kBoth, ""});
  c.push_back({Mutant::charge_split_no_round_up, "charge_split_no_round_up", MutantKind::slip, "",
               "`if (nr_bytes) nr_pages += 1` missing in obj_cgroup_charge", "obj_cgroup_charge",
               "a charge with a sub-page remainder charges one page too few but still puts "
               "PAGE_SIZE - remainder bytes in the stock (arith/slips.h "
               "obj_charge_split_no_round_up)",
               kBoth, ""});
  c.push_back({Mutant::rollback_misses_level, "rollback_misses_level", MutantKind::slip, "",
               "page_counter_try_charge's rollback stops one level short",
               "page_counter_try_charge",
               "when a level above the charged counter refuses, the level just below it keeps "
               "the speculative charge",
               kBoth, ""});

  // Entries of bug-catalog.md the sequential v6.6 model cannot express.
  c.push_back({std::nullopt, "css_get_not_tryget", MutantKind::historical,
               "eefbfa7fd678 \"mm: memcg/slab: fix use after free in obj_cgroup_charge\" (v5.11-rc1)",
               "css_get on objcg->memcg under RCU could revive a css whose count reached 0",
               "obj_cgroup_charge (get_mem_cgroup_from_objcg)", "", 0,
               "a race with RCU: the css count of objcg->memcg can reach 0 only after "
               "mem_cgroup_css_offline drops the ID reference, and memcg_reparent_objcgs has moved "
               "objcg->memcg to the parent before that. In a sequential model every read of "
               "objcg->memcg sees a memcg with a non-zero count, so css_get and css_tryget "
               "behave the same; only a reader between the read and the reparenting (another "
               "CPU) can see the zero."});
  c.push_back({std::nullopt, "objcg_not_reset", MutantKind::historical,
               "2f7659a31473 \"mm: memcg/slab: fix return of child memcg objcg for root memcg\" "
               "(v5.11-rc1)",
               "a failed obj_cgroup_tryget left objcg set: the loop returned an objcg without a "
               "reference",
               "get_obj_cgroup_from_current", "", 0,
               "a race with RCU: obj_cgroup_tryget fails only on an objcg whose count reached 0, "
               "and memcg_reparent_objcgs clears memcg->objcg before its percpu_ref_kill drops the "
               "initial reference. Sequentially memcg->objcg is either NULL or holds that "
               "reference, so the tryget never fails and the missing reset is unreachable."});
  c.push_back({std::nullopt, "root_skipped_on_charge", MutantKind::historical,
               "c5c8b16b596e \"mm: memcontrol: fix root_mem_cgroup charging\" (v5.14-rc1), as it "
               "was",
               "try_charge skipped the root for an objcg reparented to it, while the uncharge "
               "gave pages back to the root: root usage underflow",
               "obj_cgroup_charge_pages (try_charge)", "", 0,
               "a race: a charge reaches the root only through an objcg reparented to it between "
               "get_obj_cgroup_from_current and the charge. Sequentially the charging objcg is "
               "always that of the task's online memcg, never the root, so skipping the root on "
               "charge is equivalent. The other direction is root_skipped_on_uncharge."});
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

}  // namespace

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
  for (std::size_t i = 1; i < kNrMutants; ++i) out.push_back(static_cast<Mutant>(i));
  return out;
}

bool mutant_in_layer(Mutant mutant, MutantLayer layer) {
  return (mutant_info(mutant).layers & layer) != 0;
}

std::string mutant_layers_text(std::uint8_t layers) {
  std::string text;
  if (layers & kLayerImpl) text += "impl";
  if (layers & kLayerReference) text += text.empty() ? "reference" : ", reference";
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
      "every one is killed. Historical mutants re-inject real upstream bugs "
      "(`../shared/bug-catalog.md`), slips are classic arithmetic and refcount mistakes, the "
      "canary must die at once. Arithmetic slips are templates over the arithmetic domain "
      "(`arith/slips.h`), like the code they replace.\n\n"
      "A kill is a disagreement between the mutated impl and the correct reference, found when "
      "their results and snapshots are compared after a step; the mutated impl's own invariant "
      "monitor runs on the same step, and the table of `memcg-verify mutants` names the "
      "invariants that fired there too. With `--invariants-only` the mutant goes into the "
      "reference as well: the two models then agree step for step (the same bug in both layers) "
      "and only an invariant can kill it. Every mutant but three dies that way; "
      "`percpu_without_metadata`, `refill_obj_stock_at_page_size` and `refill_stock_at_batch` "
      "change a policy (a charge size, a threshold) while conserving every count, so only the "
      "comparison with the reference catches them.\n\n"
      "Run them: `memcg-verify mutants [--seed N] [--runs N] [--steps N] [--only NAME] [--json] "
      "[--out DIR] [--invariants-only]`; one: `memcg-verify check --mutant NAME`; replay a "
      "counterexample: `memcg-verify replay FILE --model both --mutant NAME`.\n\n"
      "## Expressible mutants\n\n"
      "| mutant | kind | upstream fix | kernel function | bug | what the mutant does | layers |\n"
      "| --- | --- | --- | --- | --- | --- | --- |\n";
  for (const auto& info : mutant_catalog()) {
    if (!info.mutant || *info.mutant == Mutant::none) continue;
    md += fmt::format("| `{}` | {} | {} | `{}` | {} | {} | {} |\n", info.name,
                      mutant_kind_name(info.kind), info.commit.empty() ? "-" : cell(info.commit),
                      cell(info.function), cell(info.bug), cell(info.description),
                      mutant_layers_text(info.layers));
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
  return md;
}

}  // namespace mv::spec
