#include "proofs/obj_stock_lemmas.h"

namespace mv::proofs {

void register_obj_stock_lemmas(std::vector<Lemma>& out) {
  const std::string stem = "obj_stock_lemmas";
  out.push_back({"obj_charge_split_exact", stem, {"INV-BYTE-CONSERVATION"},
                 "obj_cgroup_charge: nr_pages * PAGE_SIZE - (PAGE_SIZE - nr_bytes if nr_bytes) == size",
                 "size_t size <= (2^32-1)*PAGE_SIZE; u32 nr_pages/nr_bytes", {32, 64}, always_proved,
                 obj_charge_split_exact<>});
  out.push_back({"obj_charge_split_any_size", stem, {"INV-BYTE-CONSERVATION"},
                 "the same split for every size_t; on LP64 the smallest counterexample is the threshold",
                 "size_t size unbounded; u32 nr_pages/nr_bytes", {32, 64}, refuted_on_lp64,
                 obj_charge_split_any_size<>});
  out.push_back({"obj_cgroup_charge_exact", stem, {"INV-BYTE-CONSERVATION"},
                 "obj_cgroup_charge takes exactly size bytes (stock hit: (unsigned int)size; miss: the split)",
                 "size_t size unbounded; u32 stock; stock cached or not", {32, 64}, refuted_on_lp64,
                 obj_cgroup_charge_exact<>});
  out.push_back({"obj_stock_consume_no_underflow", stem, {"INV-NO-UNDERFLOW"},
                 "consume_obj_stock: a hit takes exactly nr_bytes and never wraps the stock",
                 "u32 stock, u32 nr_bytes", {64}, always_proved, obj_stock_consume_no_underflow<>});
  out.push_back({"obj_stock_refill_conserves", stem, {"INV-BYTE-CONSERVATION", "INV-STOCK-BOUNDS"},
                 "refill_obj_stock: before + added == after + PAGE_SIZE*nr_pages; allow_uncharge => "
                 "after <= PAGE_SIZE; no uncharge without it; exactly PAGE_SIZE stays",
                 "u32 stock, u32 nr_bytes, before + added < 2^32", {64}, always_proved,
                 obj_stock_refill_conserves<>});
  out.push_back({"obj_stock_charge_refill_bound", stem, {"INV-STOCK-BOUNDS"},
                 "after a stock miss, the charge-path refill leaves <= size + PAGE_SIZE - 2 bytes",
                 "1 <= size <= 2^32 - PAGE_SIZE; stock < (unsigned int)size", {32, 64}, always_proved,
                 obj_stock_charge_refill_bound<>});
  out.push_back({"obj_stock_drain_conserves", stem, {"INV-BYTE-CONSERVATION"},
                 "drain_obj_stock: stock == PAGE_SIZE*nr_pages + nr_bytes, nr_bytes < PAGE_SIZE, "
                 "nr_charged_bytes grows by nr_bytes",
                 "u32 stock, u32 nr_charged_bytes <= 2^32 - PAGE_SIZE", {64}, always_proved,
                 obj_stock_drain_conserves<>});
}

}  // namespace mv::proofs
