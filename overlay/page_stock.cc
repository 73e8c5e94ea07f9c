// Overlays of reference/page_stock.cc (the per-CPU page stock).
#include "overlay/overlay.h"

namespace mv::overlay {

namespace {

// The v5.3 profile's traits with the page stock of every 5.3 and 5.4 kernel
// released before February 2024: the css references of the stocked pages only
// (try_charge's css_get_many, drain_stock's css_put_many), none for
// stock->cached. That is spec::StockCssRefs::per_page, the stock of v5.2 too.
const spec::ProfileTraits& v5_3_before_stock_ref_fix() {
  static const spec::ProfileTraits traits = [] {
    spec::ProfileTraits t = spec::traits(spec::Profile::v5_3);
    t.stock_refs = spec::StockCssRefs::per_page;
    return t;
  }();
  return traits;
}

}  // namespace

// stock_cached_unreferenced: v5.3's stock without GONG Ruiqi's "memcg: add
// refcnt for pcpu stock to avoid UAF problem in drain_all_stock()" (the
// 4.19.y/5.4.y partial backport of 1a3e1f40962c): refill_stock caches the
// memcg without css_get and drain_stock drops it without css_put. Every
// function is the reference's own; the kernel runs with the unfixed stock's
// traits (reference/page_stock.cc drain_slot, reference/memcg.cc try_charge
// read them), and the spec judges it as v5.3, whose stock holds a reference
// for the cached memcg.
void stock_cached_unreferenced(reference::Kernel& k) {
  if (k.config.profile == spec::Profile::v5_3) k.code_traits = &v5_3_before_stock_ref_fix();
}

}  // namespace mv::overlay
