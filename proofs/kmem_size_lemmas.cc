#include "proofs/kmem_size_lemmas.h"

namespace mv::proofs {

void register_kmem_size_lemmas(std::vector<Lemma>& out) {
  const std::string stem = "kmem_size_lemmas";
  // x86_64 constants (sizeof(struct obj_cgroup *) = 8): LP64 only.
  out.push_back({"kmem_charge_sizes_exact", stem, {"INV-BYTE-CONSERVATION"},
                 "percpu: ALIGN(size, 4) and pcpu_obj_full_size are exact and < 2^32; slab: obj_full_size = "
                 "size + 8 < 2^32 (below consume_obj_stock's truncation)",
                 "percpu size 1..32K on 1/2/4/64/8192 possible CPUs; slab size 1..2*PAGE_SIZE", {64},
                 always_proved, kmem_charge_sizes_exact<>});
  out.push_back({"kmem_page_bytes_exact", stem, {"INV-BYTE-CONSERVATION"},
                 "an order-n kmem page charges (1 << n) pages = (1 << n) * PAGE_SIZE bytes; a kernel stack "
                 "charges THREAD_SIZE",
                 "order 0..10; THREAD_SIZE = max(16K, PAGE_SIZE)", {64}, always_proved,
                 kmem_page_bytes_exact<>});
}

}  // namespace mv::proofs
