#include "reference/obj_stock.h"

#include "arith/obj_stock.h"
#include "reference/kernel_state.h"
#include "spec/coverage.h"

namespace mv::reference {

using arith::M;
using spec::Cpu;
using spec::MemcgId;
using spec::ObjcgId;

namespace {

bool split_stocks(const Kernel& k) { return k.traits().split_stocks; }

// drain_obj_stock (v6.6) of one CPU's byte stock; whole pages go to
// this_cpu's page stock. v6.16 (c80509ef65e4 "completely decouple memcg and
// obj stocks", and the cleanup series before it): the whole pages are
// uncharged from the objcg's memcg directly (memcg_uncharge, skipped for the
// root), and the stock's objcg reference is put here ("do obj_cgroup_put
// inside drain_obj_stock"): nothing is returned for the caller to put.
std::optional<ObjcgId> drain_one_obj_stock(Kernel& k, ObjStock& stock, Cpu this_cpu) {
  if (!stock.cached_objcg) return std::nullopt;
  ObjcgId old = *stock.cached_objcg;
  k.touch_objcg(old);
  if (stock.nr_bytes != 0) {
    auto split = arith::obj_stock_drain_split<M>(M::lit32(stock.nr_bytes), k.page);
    if (split.nr_pages.v != 0) {
      MemcgId memcg = get_mem_cgroup_from_objcg(k, old);
      if (!split_stocks(k))
        refill_stock_locked(k, this_cpu, memcg, split.nr_pages.v);
      else if (!mem_cgroup_is_root(k, memcg))
        memcg_uncharge(k, memcg, split.nr_pages.v);
      k.objcg(old).charged_pages -= split.nr_pages.v;
      css_put(k, memcg);
    }
    auto& drained = k.objcg(old);
    drained.nr_charged_bytes =
        arith::charged_bytes_add<M>(M::lit32(drained.nr_charged_bytes), split.nr_bytes).v;
    stock.nr_bytes = 0;
  }
  stock.cached_objcg.reset();
  if (!split_stocks(k)) return old;
  obj_cgroup_put(k, this_cpu, old);
  return std::nullopt;
}

// The replaced objcg's stock reference is put once the new one is cached.
void put_replaced_objcg(Kernel& k, Cpu this_cpu, const std::optional<ObjcgId>& old) {
  if (old) obj_cgroup_put(k, this_cpu, *old);
}

// The block refill_obj_stock and mod_objcg_state (v6.6) both open-code when
// this CPU's stock caches another objcg (later kernels call it
// replace_stock_objcg): drain the old one, cache objcg with a reference of its
// own, and take over its nr_charged_bytes
// (`atomic_read(...) ? atomic_xchg(..., 0) : 0`). Returns the old objcg,
// which the caller puts after leaving the stock lock.
std::optional<ObjcgId> replace_stock_objcg(Kernel& k, ObjStock& stock, Cpu this_cpu,
                                           ObjcgId objcg) {
  if (stock.cached_objcg) spec::mark_hit(spec::Mark::obj_stock_replace);
  auto old = drain_one_obj_stock(k, stock, this_cpu);
  obj_cgroup_get(k, objcg);
  auto& taken = k.objcg(objcg);
  stock.cached_objcg = objcg;
  stock.nr_bytes = taken.nr_charged_bytes;
  taken.nr_charged_bytes = 0;  // atomic_xchg(&objcg->nr_charged_bytes, 0)
  return old;
}

arith::ObjRefill<M> obj_stock_refill(const Kernel& k, std::uint32_t stock_nr_bytes,
                                     std::uint32_t nr_bytes, bool allow_uncharge) {
  return arith::obj_stock_refill<M>(M::lit32(stock_nr_bytes), M::lit32(nr_bytes),
                                    M::lit_bool(allow_uncharge), k.page);
}

}  // namespace

// consume_obj_stock (v6.6; v6.16: a failed local_trylock is a miss)
bool consume_obj_stock(Kernel& k, Cpu this_cpu, ObjcgId objcg, std::uint32_t nr_bytes) {
  k.touch_objcg(objcg);
  if (!local_trylock(k, this_cpu, StockLock::obj)) return false;
  auto& stock = k.stock(this_cpu).obj;
  const bool hit =
      stock.cached_objcg == objcg &&
      static_cast<bool>(arith::obj_stock_covers<M>(M::lit32(stock.nr_bytes), M::lit32(nr_bytes)));
  spec::mark_hit(hit ? spec::Mark::obj_stock_hit : spec::Mark::obj_stock_miss);
  if (hit) stock.nr_bytes = arith::obj_stock_consume<M>(M::lit32(stock.nr_bytes), M::lit32(nr_bytes)).v;
  local_unlock(k, this_cpu, StockLock::obj);
  return hit;
}

// drain_obj_stock (v6.6)
std::optional<ObjcgId> drain_obj_stock(Kernel& k, Cpu stock_cpu, Cpu this_cpu) {
  return drain_one_obj_stock(k, k.stock(stock_cpu).obj, this_cpu);
}

// obj_stock_flush_required (v6.6): `objcg = READ_ONCE(stock->cached_objcg)`
// once (3b8abb323953), then its memcg.
bool obj_stock_flush_required(Kernel& k, Cpu stock_cpu, MemcgId root_memcg) {
  auto objcg = k.stock(stock_cpu).obj.cached_objcg;
  if (!objcg) return false;
  k.preemption_point(spec::PreemptPoint::after_flush_required_check);
  return mem_cgroup_is_descendant(k, k.objcg(*objcg).memcg, root_memcg);
}

// refill_obj_stock (v6.16) when local_trylock fails: the whole pages are
// uncharged and the rest goes to nr_charged_bytes, the stock untouched.
void refill_obj_stock_unlocked(Kernel& k, Cpu this_cpu, ObjcgId objcg, std::uint32_t nr_bytes) {
  auto split = arith::obj_stock_drain_split<M>(M::lit32(nr_bytes), k.page);
  auto& o = k.objcg(objcg);
  o.nr_charged_bytes = arith::charged_bytes_add<M>(M::lit32(o.nr_charged_bytes), split.nr_bytes).v;
  if (split.nr_pages.v != 0) obj_cgroup_uncharge_pages(k, this_cpu, objcg, split.nr_pages.v);
}

// refill_obj_stock (v6.6; v6.16 the same under the obj stock's trylock)
void refill_obj_stock(Kernel& k, Cpu this_cpu, ObjcgId objcg, std::uint32_t nr_bytes,
                      bool allow_uncharge) {
  k.touch_objcg(objcg);
  if (!local_trylock(k, this_cpu, StockLock::obj))
    return refill_obj_stock_unlocked(k, this_cpu, objcg, nr_bytes);
  std::optional<ObjcgId> old;
  auto& stock = k.stock(this_cpu).obj;
  if (stock.cached_objcg != objcg) {
    old = replace_stock_objcg(k, stock, this_cpu, objcg);
    allow_uncharge = true;  // a freshly cached objcg may give back whole pages
  }
  if (k.traits().obj_refill == spec::ObjRefillRule::drain_whole_stock) {
    // refill_obj_stock (v5.9-v5.13): `if (stock->nr_bytes > PAGE_SIZE)
    // drain_obj_stock(stock)`, whose obj_cgroup_put drops the stock's
    // reference there and then.
    put_replaced_objcg(k, this_cpu, old);
    stock.nr_bytes += nr_bytes;
    if (stock.nr_bytes > k.page.size_bytes) {
      spec::mark_hit(spec::Mark::obj_stock_uncharge_pages);
      put_replaced_objcg(k, this_cpu, drain_one_obj_stock(k, stock, this_cpu));
    }
    local_unlock(k, this_cpu, StockLock::obj);
    return;
  }
  auto refill = obj_stock_refill(k, stock.nr_bytes, nr_bytes, allow_uncharge);
  stock.nr_bytes = refill.stock_nr_bytes.v;
  local_unlock(k, this_cpu, StockLock::obj);
  put_replaced_objcg(k, this_cpu, old);
  if (refill.nr_pages.v != 0) {
    spec::mark_hit(spec::Mark::obj_stock_uncharge_pages);
    obj_cgroup_uncharge_pages(k, this_cpu, objcg, refill.nr_pages.v);
  }
}

// mod_objcg_state (v6.6): the vmstat bookkeeping is not modeled, but it caches
// objcg in this CPU's stock like refill_obj_stock does.
void mod_objcg_state(Kernel& k, Cpu this_cpu, ObjcgId objcg) {
  k.touch_objcg(objcg);
  // v5.10 mm/slab.h mod_objcg_state: only mod_memcg_lruvec_state on
  // obj_cgroup_memcg(objcg); the stock took over vmstat caching in v5.14.
  if (!k.traits().mod_objcg_state_uses_stock) return;
  std::optional<ObjcgId> old;
  auto& stock = k.stock(this_cpu).obj;
  if (stock.cached_objcg != objcg) old = replace_stock_objcg(k, stock, this_cpu, objcg);
  put_replaced_objcg(k, this_cpu, old);
}

// drain_local_stock (v6.6)
void drain_local_stock(Kernel& k, Cpu cpu) {
  if (split_stocks(k)) {
    drain_local_obj_stock(k, cpu);
    drain_local_memcg_stock(k, cpu);
    return;
  }
  auto old = drain_obj_stock(k, cpu, cpu);
  drain_stock(k, cpu);
  k.stock(cpu).flushing = false;
  if (old) obj_cgroup_put(k, cpu, *old);
}

// drain_local_memcg_stock (v6.16): every slot, then FLUSHING cleared.
void drain_local_memcg_stock(Kernel& k, Cpu cpu) {
  drain_stock(k, cpu);
  k.stock(cpu).flushing = false;
}

// drain_local_obj_stock (v6.16): the byte stock, then its FLUSHING cleared.
void drain_local_obj_stock(Kernel& k, Cpu cpu) {
  drain_obj_stock(k, cpu, cpu);
  k.stock(cpu).obj_flushing = false;
}

namespace {

// is_memcg_drain_needed (v6.16): a slot with pages caching a memcg of the subtree.
bool is_memcg_drain_needed(const Kernel& k, Cpu cpu, MemcgId root_memcg) {
  const auto& stock = k.stock(cpu).page;
  for (std::uint32_t i = 0; i < k.traits().page_stock_slots; ++i) {
    const auto& slot = stock.slots[i];
    if (slot.cached && slot.nr_pages != 0 && mem_cgroup_is_descendant(k, *slot.cached, root_memcg))
      return true;
  }
  return false;
}

// drain_all_stock (v6.16): each stock of each online CPU on its own: one
// found to need a drain whose FLUSHING bit this call sets is drained now on
// this CPU, else gets its own drain work.
void drain_all_split_stocks(Kernel& k, Cpu this_cpu, MemcgId root_memcg) {
  for (Cpu cpu = 0; cpu < k.stocks.size(); ++cpu) {
    if (!k.stock(cpu).online) continue;
    k.rcu_read_lock();
    const bool memcg_drain = !k.stock(cpu).flushing && is_memcg_drain_needed(k, cpu, root_memcg);
    k.rcu_read_unlock();
    if (memcg_drain) {
      k.stock(cpu).flushing = true;  // !test_and_set_bit(FLUSHING_CACHED_CHARGE)
      if (cpu == this_cpu)
        drain_local_memcg_stock(k, cpu);
      else
        schedule_drain_work(k, cpu, WorkKind::drain_work);
    }
    k.rcu_read_lock();
    const bool obj_drain = !k.stock(cpu).obj_flushing && obj_stock_flush_required(k, cpu, root_memcg);
    k.rcu_read_unlock();
    if (obj_drain) {
      k.stock(cpu).obj_flushing = true;
      if (cpu == this_cpu)
        drain_local_obj_stock(k, cpu);
      else
        schedule_drain_work(k, cpu, WorkKind::obj_drain_work);
    }
  }
}

}  // namespace

// drain_all_stock (v6.6). No CPU is isolated. percpu_charge_mutex's trylock
// fails only while another drain is preempted inside it (a race trace).
void drain_all_stock(Kernel& k, Cpu this_cpu, MemcgId root_memcg) {
  if (k.percpu_charge_mutex_locked) return;  // !mutex_trylock(&percpu_charge_mutex)
  k.percpu_charge_mutex_locked = true;
  if (split_stocks(k)) {
    drain_all_split_stocks(k, this_cpu, root_memcg);
    k.percpu_charge_mutex_locked = false;
    return;
  }
  for (Cpu cpu = 0; cpu < k.stocks.size(); ++cpu) {
    auto& stock = k.stock(cpu);
    if (!stock.online) continue;
    bool flush = false;
    k.rcu_read_lock();
    // A stock caching a memcg with nr_pages == 0 is not flushed.
    if (is_memcg_drain_needed(k, cpu, root_memcg))
      flush = true;
    else if (obj_stock_flush_required(k, cpu, root_memcg))
      flush = true;
    k.rcu_read_unlock();
    if (!flush || stock.flushing) continue;
    stock.flushing = true;  // test_and_set_bit(FLUSHING_CACHED_CHARGE)
    if (cpu == this_cpu)
      drain_local_stock(k, cpu);
    else
      schedule_drain_work(k, cpu, WorkKind::drain_work);
  }
  k.percpu_charge_mutex_locked = false;
}

}  // namespace mv::reference
