#include "reference/page_stock.h"

#include "arith/page_stock.h"
#include "reference/kernel_state.h"
#include "spec/coverage.h"

namespace mv::reference {

using arith::M;
using spec::Cpu;
using spec::MemcgId;

// consume_stock (v6.6)
bool consume_stock(Kernel& k, Cpu this_cpu, MemcgId memcg, std::uint32_t nr_pages) {
  auto& stock = k.stock(this_cpu).page;
  auto covers = arith::page_stock_covers<M>(M::lit32(stock.nr_pages), M::lit32(nr_pages),
                                            k.charge_batch_pages());
  if (!static_cast<bool>(covers) || stock.cached != memcg) return false;
  stock.nr_pages = arith::page_stock_consume<M>(M::lit32(stock.nr_pages), M::lit32(nr_pages)).v;
  return true;
}

namespace {

// The css references of the stock (spec::StockCssRefs): per stocked page
// before v5.9, for the cached memcg from v5.9 (and in the 4.19.y/5.4.y
// stable fix of GONG Ruiqi).
bool stock_ref_per_page(const Kernel& k) {
  return k.traits().stock_refs != spec::StockCssRefs::cached;
}
bool stock_ref_for_cached(const Kernel& k) {
  return k.traits().stock_refs != spec::StockCssRefs::per_page;
}

}  // namespace

// drain_stock (v6.6; v5.2 and v5.4 also css_put_many the stocked pages'
// references, and only v5.4's stable text puts one for the cached memcg)
void drain_stock(Kernel& k, Cpu stock_cpu) {
  auto& stock = k.stock(stock_cpu).page;
  if (!stock.cached) return;
  MemcgId old = *stock.cached;
  if (stock.nr_pages != 0) {
    page_counter_uncharge(k, old, stock.nr_pages);
    if (stock_ref_per_page(k)) css_put_many(k, old, stock.nr_pages);
    stock.nr_pages = 0;
  }
  if (stock_ref_for_cached(k)) css_put(k, old);
  stock.cached.reset();
}

// __refill_stock (v6.6)
void refill_stock_locked(Kernel& k, Cpu this_cpu, MemcgId memcg, std::uint32_t nr_pages) {
  auto& stock = k.stock(this_cpu).page;
  if (stock.cached != memcg) {
    drain_stock(k, this_cpu);
    if (stock_ref_for_cached(k)) css_get(k, memcg);
    stock.cached = memcg;
  }
  auto refill = arith::page_stock_refill<M>(M::lit32(stock.nr_pages), M::lit32(nr_pages),
                                            k.charge_batch_pages());
  stock.nr_pages = refill.stock_nr_pages.v;
  if (static_cast<bool>(refill.drain)) {
    spec::mark_hit(spec::Mark::page_stock_overflow_drain);
    drain_stock(k, this_cpu);
  }
}

// refill_stock (v6.6): the local lock is the only difference from
// __refill_stock, and the model is sequential.
void refill_stock(Kernel& k, Cpu this_cpu, MemcgId memcg, std::uint32_t nr_pages) {
  refill_stock_locked(k, this_cpu, memcg, nr_pages);
}

}  // namespace mv::reference
