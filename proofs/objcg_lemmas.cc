#include "proofs/objcg_lemmas.h"

namespace mv::proofs {

void register_objcg_lemmas(std::vector<Lemma>& out) {
  using namespace stock_model;
  const std::string stem = "objcg_lemmas";
  const std::string one_step = fmt::format(
      "1..{} CPUs (CPU 0 + aggregate of the others); induction: any history length; object sizes <= max_size <= "
      "2^24; charged pages <= PAGE_COUNTER_MAX",
      kMaxCpus);
  const std::string history = fmt::format(
      "{} CPUs; symbolic history of {} ops of 8 kinds (slab/percpu/page alloc, frees, byte and page stock "
      "replacement, drain_all_stock) from a fresh objcg; sizes <= max_size <= 2^24; batch 64",
      kMaxCpus, kHistoryLength);
  out.push_back({"objcg_byte_invariant_inductive", stem,
                 {"INV-BYTE-CONSERVATION", "INV-STOCK-BOUNDS", "INV-NO-UNDERFLOW"},
                 "live + stocks + nr_charged_bytes == PAGE_SIZE * charged pages; byte stock <= max(PAGE_SIZE, "
                 "max_size + PAGE_SIZE - 2, ncpus * (PAGE_SIZE - 1)); nr_charged_bytes <= (ncpus - cached) * "
                 "(PAGE_SIZE - 1): hold for a fresh objcg and after every operation",
                 one_step, {64}, always_proved, objcg_byte_invariant_inductive<>});
  out.push_back({"objcg_release_aligned", stem, {"INV-RELEASE-ALIGNED", "INV-BYTE-CONSERVATION"},
                 "obj_cgroup_release with no live bytes and no stock caching the objcg: nr_charged_bytes is "
                 "page-aligned and is exactly the objcg's charged pages",
                 one_step, {32, 64}, always_proved, objcg_release_aligned<>});
  out.push_back({"memcg_slack_bound", stem, {"INV-PAGE-CONSERVATION", "INV-STOCK-BOUNDS"},
                 "0 <= usage_pages * PAGE_SIZE - live_bytes <= ncpus * (64 * PAGE_SIZE + max(PAGE_SIZE, "
                 "max_size + PAGE_SIZE - 2, ncpus * (PAGE_SIZE - 1)))",
                 one_step, {32, 64}, always_proved, memcg_slack_bound<>});
  out.push_back({"objcg_release_witness", stem, {"INV-RELEASE-ALIGNED"},
                 "expected refuted: a history reaches obj_cgroup_release with whole pages in nr_charged_bytes "
                 "(the witness)",
                 history, {64}, [](unsigned) { return Outcome::refuted; }, objcg_release_witness<>});
  out.push_back({"obj_stock_comment_bound", stem, {"INV-STOCK-BOUNDS"},
                 "expected refuted: the kernel comment's bound (byte stock <= max(PAGE_SIZE, max_size + "
                 "PAGE_SIZE - 2)) is exceeded through mod_objcg_state taking nr_charged_bytes",
                 history, {64}, [](unsigned) { return Outcome::refuted; }, obj_stock_comment_bound<>});
  out.push_back({"objcg_reparent_conservation", stem, {"INV-REPARENT", "INV-PAGE-CONSERVATION", "INV-NO-UNDERFLOW"},
                 "memcg_reparent_objcgs, drain_all_stock(child), uncharges via the parent: parent's and root's "
                 "usage == pages held in their subtree; nothing left counted at the child; no underflow",
                 fmt::format("child/parent/root page_counters; page stocks <= 64 on up to {} CPUs; usage <= "
                             "PAGE_COUNTER_MAX; each step from any state of the identities",
                             kMaxCpus),
                 {32, 64}, always_proved, objcg_reparent_conservation<>});
}

}  // namespace mv::proofs
