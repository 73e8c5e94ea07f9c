#include "proofs/page_stock_lemmas.h"

namespace mv::proofs {

void register_page_stock_lemmas(std::vector<Lemma>& out) {
  const std::string stem = "page_stock_lemmas";
  out.push_back({"page_stock_refill_bound", stem, {"INV-STOCK-BOUNDS", "INV-PAGE-CONSERVATION"},
                 "__refill_stock: before + added == kept + drained; kept <= MEMCG_CHARGE_BATCH; drains iff "
                 "the sum exceeds the batch",
                 "u32 stock <= 64, u32 nr_pages, sum < 2^32; batch 64", {64}, always_proved,
                 page_stock_refill_bound<>});
  out.push_back({"charge_batch_restock", stem, {"INV-PAGE-CONSERVATION", "INV-STOCK-BOUNDS", "INV-NO-UNDERFLOW"},
                 "try_charge_memcg: batch >= nr_pages, restock + nr_pages == batch, restock < 64; "
                 "consume_stock hits iff nr_pages <= 64 and the stock covers it",
                 "u32 nr_pages >= 1, u32 stock <= 64; batch 64", {64}, always_proved,
                 charge_batch_restock<>});
  out.push_back({"memcg_page_invariant_inductive", stem, {"INV-PAGE-CONSERVATION", "INV-STOCK-BOUNDS", "INV-NO-UNDERFLOW"},
                 "usage == page stocks + objcg pages and page stock <= 64 survive obj_cgroup_charge_pages "
                 "(consume_stock, batch charge + restock, exact retry, ENOMEM, forced), uncharge_pages / "
                 "__refill_stock, drain_stock",
                 fmt::format("1..{} CPUs (CPU 0 + aggregate); usage <= PAGE_COUNTER_MAX; 1 <= nr_pages <= {}; "
                             "batch 64; induction: any history length",
                             stock_model::kMaxCpus, stock_model::kMaxPagesPerCall),
                 {32, 64}, always_proved, memcg_page_invariant_inductive<>});
}

}  // namespace mv::proofs
