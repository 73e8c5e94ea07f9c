#include "impl/obj_stock.h"

#include "arith/obj_stock.h"
#include "arith/slips.h"
#include "impl/kmem.h"
#include "impl/page_stock.h"

namespace mv::impl {

using arith::M;

namespace {

// `atomic_add(nr_bytes, &objcg->nr_charged_bytes)`, the sum from the one
// arithmetic source.
void charged_bytes_add(Objcg* objcg, std::uint32_t nr_bytes) {
  std::uint32_t old = objcg->nr_charged_bytes.load_relaxed();
  while (!objcg->nr_charged_bytes.cas(
      old, arith::charged_bytes_add<M>(M::lit32(old), M::lit32(nr_bytes)).v)) {
  }
}

// The objcg switch shared by refill_obj_stock and mod_objcg_state (v6.6):
// drain the old objcg, take a ref on the new one, and start from the bytes
// that other CPUs' drains left in nr_charged_bytes. Lock held; returns the old
// objcg for the caller to put after unlocking.
Objcg* replace_stock_objcg(Cpu& cur, MemcgStockPcp& stock, Objcg* objcg) {
  Objcg* old = drain_obj_stock(cur, stock);
  obj_cgroup_get(cur, objcg);
  if (cur.mutant == spec::Mutant::charged_bytes_not_cleared) [[unlikely]]
    stock.nr_bytes = objcg->nr_charged_bytes.load();  // atomic_read for atomic_xchg
  else
    stock.nr_bytes =
        objcg->nr_charged_bytes.load() ? objcg->nr_charged_bytes.xchg(0) : 0;
  stock.cached_objcg.store(objcg);
  return old;
}

// Mutant::old_objcg_not_put: the replaced objcg's stock reference is leaked.
void put_replaced_objcg(Cpu& cur, Objcg* old) {
  if (old && cur.mutant != spec::Mutant::old_objcg_not_put) obj_cgroup_put(cur, old);
}

}  // namespace

Objcg* drain_obj_stock(Cpu& cur, MemcgStockPcp& stock) {
  Objcg* old = stock.cached_objcg.load_relaxed();
  if (!old) return nullptr;
  if (stock.nr_bytes) {
    auto drain = cur.mutant == spec::Mutant::drain_split_wrong_mask
                     ? arith::slips::obj_stock_drain_split_wrong_mask<M>(M::lit32(stock.nr_bytes),
                                                                          cur.page)
                     : arith::obj_stock_drain_split<M>(M::lit32(stock.nr_bytes), cur.page);
    if (drain.nr_pages.v) {
      Memcg* memcg = get_mem_cgroup_from_objcg(cur, old);
      if (cur.traits->split_stocks) {
        // drain_obj_stock (v6.16): memcg_uncharge directly, not for the root.
        if (!memcg->is_root()) memcg_uncharge(cur, memcg, drain.nr_pages.v);
      } else if (!(cur.mutant == spec::Mutant::root_skipped_on_uncharge && memcg->is_root())) {
        // Mutant::root_skipped_on_uncharge: the root's pages are dropped.
        refill_stock_locked(cur, memcg, drain.nr_pages.v);  // __refill_stock: this CPU's stock
      }
      objcg_ghost_add(cur, old, -static_cast<long>(drain.nr_pages.v));
      css_put(cur, memcg);
    }
    charged_bytes_add(old, drain.nr_bytes.v);
    stock.nr_bytes = 0;
  }
  stock.cached_objcg.store(nullptr);
  // v6.16 ("do obj_cgroup_put inside drain_obj_stock"): nothing for the caller to put.
  if (cur.traits->split_stocks) {
    obj_cgroup_put(cur, old);
    return nullptr;
  }
  return old;
}

// drain_obj_stock (v5.10) ends in obj_cgroup_put(old): the stock's
// reference goes inside the drain, not after the stock lock.
void refill_obj_stock_whole_stock(Cpu& cur, MemcgStockPcp& stock, std::uint32_t nr_bytes) {
  auto refill =
      arith::obj_stock_refill_whole_stock<M>(M::lit32(stock.nr_bytes), M::lit32(nr_bytes), cur.page);
  stock.nr_bytes = refill.stock_nr_bytes.v;
  Objcg* old = static_cast<bool>(refill.drain) ? drain_obj_stock(cur, stock) : nullptr;
  stock.stock_lock.unlock();
  if (old) obj_cgroup_put(cur, old);
}

void refill_obj_stock_slow(Cpu& cur, Objcg* objcg, std::uint32_t nr_bytes, bool allow_uncharge) {
  MemcgStockPcp& stock = cur.stock();
  stock.stock_lock.lock();
  Objcg* old = nullptr;
  if (stock.cached_objcg.load_relaxed() != objcg) {
    old = replace_stock_objcg(cur, stock, objcg);
    allow_uncharge = true;  // allow uncharge when objcg changes
  }
  if (cur.obj_refill_drains_stock) {
    // refill_obj_stock (v5.10): "reset if necessary" drained the old objcg,
    // and its drain_obj_stock put it, before the bytes are added. The put
    // may release it (refill_stock of this CPU): outside the lock here.
    stock.stock_lock.unlock();
    put_replaced_objcg(cur, old);
    stock.stock_lock.lock();
    return refill_obj_stock_whole_stock(cur, stock, nr_bytes);
  }
  auto refill = obj_stock_refill_of<true>(cur, stock.nr_bytes, nr_bytes, allow_uncharge);
  stock.nr_bytes = refill.stock_nr_bytes.v;
  stock.stock_lock.unlock();
  put_replaced_objcg(cur, old);
  if (refill.nr_pages.v) obj_cgroup_uncharge_pages(cur, objcg, refill.nr_pages.v);
}

void refill_hidden_obj_stock(Cpu& cur, Objcg* objcg, std::uint32_t nr_bytes) {
  MemcgStockPcp& stock = *cur.sys->hidden_obj_stock(cur.id);
  stock.stock_lock.lock();
  Objcg* old = nullptr;
  if (stock.cached_objcg.load_relaxed() != objcg) old = replace_stock_objcg(cur, stock, objcg);
  auto refill = obj_stock_refill_of<true>(cur, stock.nr_bytes, nr_bytes, true);
  stock.nr_bytes = refill.stock_nr_bytes.v;
  stock.stock_lock.unlock();
  put_replaced_objcg(cur, old);
  if (refill.nr_pages.v) obj_cgroup_uncharge_pages(cur, objcg, refill.nr_pages.v);
}

void mod_objcg_state_slow(Cpu& cur, Objcg* objcg) {
  MemcgStockPcp& stock = cur.stock();
  stock.stock_lock.lock();
  Objcg* old = nullptr;
  if (stock.cached_objcg.load_relaxed() != objcg) old = replace_stock_objcg(cur, stock, objcg);
  stock.stock_lock.unlock();
  put_replaced_objcg(cur, old);
}

}  // namespace mv::impl
