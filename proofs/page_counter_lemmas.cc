#include "proofs/page_counter_lemmas.h"

namespace mv::proofs {

void register_page_counter_lemmas(std::vector<Lemma>& out) {
  const std::string stem = "page_counter_lemmas";
  out.push_back({"page_counter_try_charge_limit", stem, {"INV-LIMIT", "INV-NO-UNDERFLOW"},
                 "page_counter_try_charge: success => every level charged nr_pages and <= max; failure => "
                 "every level unchanged and some level would exceed max; rollback never underflows",
                 "depth 1..4; usage, max, nr_pages <= PAGE_COUNTER_MAX (unsigned long)", {32, 64},
                 always_proved, page_counter_try_charge_limit<>});
  out.push_back({"page_counter_cancel_clamps", stem, {"INV-NO-UNDERFLOW"},
                 "page_counter_cancel: usage - nr_pages when it fits, else WARN and 0; never grows",
                 "usage, nr_pages <= PAGE_COUNTER_MAX (unsigned long)", {32, 64}, always_proved,
                 page_counter_cancel_clamps<>});
}

}  // namespace mv::proofs
