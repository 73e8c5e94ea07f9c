#include "impl/page_stock.h"

#include "arith/page_stock.h"
#include "arith/slips.h"
#include "impl/kmem.h"
#include "impl/memcg.h"
#include "spec/coverage.h"

namespace mv::impl {

using arith::M;

namespace {

// Mutant::refill_stock_at_batch (out of line: the kernel's path stays as short).
[[gnu::cold, gnu::noinline]] arith::PageRefill<M> refill_stock_at_batch(
    std::uint32_t stock_nr_pages, std::uint32_t nr_pages, std::uint32_t batch_pages) {
  return arith::slips::page_stock_refill_at_batch<M>(M::lit32(stock_nr_pages), M::lit32(nr_pages),
                                                     batch_pages);
}

// drain_stock (v6.6; v6.16: drain_stock(stock, i) of one slot).
void drain_slot(Cpu& cur, MemcgStockPcp& stock, std::uint32_t i) {
  Memcg* old = stock.cached[i].load_relaxed();
  if (!old) return;
  if (std::uint32_t nr_pages = stock.nr_pages[i].load_relaxed()) {
    if (old->load_state() == spec::CgroupState::freed)
      cur.sys->events.record(spec::EventKind::memcg_use_after_free, old->id);
    page_counter_uncharge(&old->memory, nr_pages, cur.sys->events, cur.mutant);
    stock.nr_pages[i].store_relaxed(0);
  }
  // Mutant::stock_without_css_ref: the cached memcg holds no reference to drop.
  if (cur.mutant != spec::Mutant::stock_without_css_ref) [[likely]] css_put(cur, old);
  stock.cached[i].store(nullptr);
}

// The pages added to the slot caching the memcg, drained past a batch.
void add_to_slot(Cpu& cur, MemcgStockPcp& stock, std::uint32_t i, std::uint32_t nr_pages) {
  auto refill = arith::page_stock_refill<M>(M::lit32(stock.nr_pages[i].load_relaxed()),
                                            M::lit32(nr_pages), cur.batch_pages);
  if (cur.mutant == spec::Mutant::refill_stock_at_batch) [[unlikely]]
    refill = refill_stock_at_batch(stock.nr_pages[i].load_relaxed(), nr_pages, cur.batch_pages);
  stock.nr_pages[i].store_relaxed(refill.stock_nr_pages.v);
  if (static_cast<bool>(refill.drain)) drain_slot(cur, stock, i);
}

// refill_stock (v6.16, f735eebe55f8): past a batch the pages are uncharged
// directly; else the slot caching memcg, the first empty one, or the one
// arith::page_stock_evicted_slot names (drained first: the model's stand-in
// for get_random_u32_below(NR_MEMCG_STOCK)).
void refill_stock_slots(Cpu& cur, Memcg* memcg, std::uint32_t nr_pages) {
  if (nr_pages > cur.batch_pages) return memcg_uncharge(cur, memcg, nr_pages);
  MemcgStockPcp& stock = cur.stock();
  std::uint32_t empty_slot = kMaxPageStockSlots;
  for (std::uint32_t i = 0; i < cur.page_stock_slots; ++i) {
    Memcg* cached = stock.cached[i].load_relaxed();
    if (!cached && empty_slot == kMaxPageStockSlots) empty_slot = i;
    if (cached == memcg) return add_to_slot(cur, stock, i, nr_pages);
  }
  std::uint32_t i = empty_slot;
  if (i == kMaxPageStockSlots) [[unlikely]] {
    spec::mark_hit(spec::Mark::page_stock_slot_evicted);
    i = arith::page_stock_evicted_slot(cur.id, stock.evictions++, cur.page_stock_slots);
    // Mutant::evicted_slot_not_drained: the slot is overwritten as it is.
    if (cur.mutant != spec::Mutant::evicted_slot_not_drained) drain_slot(cur, stock, i);
  }
  if (cur.mutant != spec::Mutant::stock_without_css_ref) [[likely]] css_get(cur, memcg);
  stock.cached[i].store(memcg);
  stock.nr_pages[i].store_relaxed(nr_pages);
}

}  // namespace

void memcg_uncharge(Cpu& cur, Memcg* memcg, std::uint32_t nr_pages) {
  page_counter_uncharge(&memcg->memory, nr_pages, cur.sys->events, cur.mutant);
}

// drain_stock (v6.6), drain_stock_fully (v6.16).
void drain_stock(Cpu& cur, MemcgStockPcp& stock) {
  for (std::uint32_t i = 0; i < cur.page_stock_slots; ++i) drain_slot(cur, stock, i);
}

void refill_stock_locked(Cpu& cur, Memcg* memcg, std::uint32_t nr_pages) {
  if (cur.page_stock_slots > 1) return refill_stock_slots(cur, memcg, nr_pages);
  MemcgStockPcp& stock = cur.stock();
  if (stock.cached[0].load_relaxed() != memcg) {
    drain_slot(cur, stock, 0);
    if (cur.mutant != spec::Mutant::stock_without_css_ref) [[likely]] css_get(cur, memcg);
    stock.cached[0].store(memcg);
  }
  add_to_slot(cur, stock, 0, nr_pages);
}

void refill_stock(Cpu& cur, Memcg* memcg, std::uint32_t nr_pages) {
  MemcgStockPcp& stock = cur.stock();
  stock.stock_lock.lock();
  refill_stock_locked(cur, memcg, nr_pages);
  stock.stock_lock.unlock();
}

void drain_local_memcg_stock(Cpu& cur) {
  MemcgStockPcp& stock = cur.stock();
  stock.stock_lock.lock();
  drain_stock(cur, stock);
  stock.flags.fetch_and(~kFlushingCachedCharge);
  stock.stock_lock.unlock();
}

// drain_obj_stock (v6.16) puts the objcg itself.
void drain_local_obj_stock(Cpu& cur) {
  MemcgStockPcp& stock = cur.stock();
  stock.stock_lock.lock();
  drain_obj_stock(cur, stock);
  stock.obj_flags.fetch_and(~kFlushingCachedCharge);
  stock.stock_lock.unlock();
}

void drain_local_stock(Cpu& cur) {
  if (cur.traits->split_stocks) {
    drain_local_obj_stock(cur);
    drain_local_memcg_stock(cur);
    return;
  }
  MemcgStockPcp& stock = cur.stock();
  stock.stock_lock.lock();
  Objcg* old = drain_obj_stock(cur, stock);
  Objcg* hidden_old = nullptr;  // Mutant::dual_obj_stock: the hidden stock too
  if (cur.mutant == spec::Mutant::dual_obj_stock) [[unlikely]]
    hidden_old = drain_obj_stock(cur, *cur.sys->hidden_obj_stock(cur.id));
  drain_stock(cur, stock);
  stock.flags.fetch_and(~kFlushingCachedCharge);
  stock.stock_lock.unlock();
  if (old) obj_cgroup_put(cur, old);
  if (hidden_old) obj_cgroup_put(cur, hidden_old);
}

namespace {

// obj_stock_flush_required (v6.6): one READ_ONCE of the remote stock's
// cached_objcg (3b8abb323953).
bool obj_stock_flush_required(Cpu& cur, MemcgStockPcp& stock, Memcg* root_memcg) {
  Objcg* objcg = stock.cached_objcg.load();
  if (!objcg) return false;
  sync::preempt_point(spec::PreemptPoint::after_flush_required_check);
  // Mutant::flush_required_double_read: the code before 3b8abb323953 tested
  // stock->cached_objcg and read it again to dereference it; the owner's drain
  // may have set it to NULL in between.
  if (cur.mutant == spec::Mutant::flush_required_double_read) [[unlikely]] {
    objcg = stock.cached_objcg.load();
    if (!objcg) {
      cur.sys->events.record(spec::EventKind::null_dereference, cur.id);
      return false;
    }
  }
  Memcg* memcg = objcg->memcg.load();
  return memcg && mem_cgroup_is_descendant(memcg, root_memcg);
}

// is_memcg_drain_needed (v6.16; v6.6 drain_all_stock's test): racy reads of
// a remote stock's slots.
bool is_memcg_drain_needed(const Cpu& cur, MemcgStockPcp& stock, Memcg* root_memcg) {
  for (std::uint32_t i = 0; i < cur.page_stock_slots; ++i) {
    Memcg* memcg = stock.cached[i].load();
    if (memcg && stock.nr_pages[i].load_relaxed() && mem_cgroup_is_descendant(memcg, root_memcg))
      return true;
  }
  return false;
}

// test_and_set_bit(FLUSHING_CACHED_CHARGE): whether this call set it.
bool set_flushing(sync::Shared<std::uint32_t>& flags) {
  return !(flags.fetch_or(kFlushingCachedCharge) & kFlushingCachedCharge);
}

// drain_all_stock (v6.16): each stock of each online CPU on its own.
void drain_all_split_stocks(Cpu& cur, Memcg* root_memcg) {
  System& sys = *cur.sys;
  for (std::uint32_t i = 0; i < sys.ncpus(); ++i) {
    Cpu& cpu = sys.cpu(i);
    if (!cpu.pcp->online.load()) continue;
    MemcgStockPcp& stock = cpu.stock();
    sync::rcu_read_lock();
    bool memcg_drain = !(stock.flags.load() & kFlushingCachedCharge) &&
                       is_memcg_drain_needed(cur, stock, root_memcg);
    sync::rcu_read_unlock();
    if (memcg_drain && set_flushing(stock.flags)) {
      if (i == cur.id)
        drain_local_memcg_stock(cur);
      else
        sys.queue_work(cpu, stock.work, WorkKind::drain_stock, &stock, /*rcu=*/false);
    }
    sync::rcu_read_lock();
    bool obj_drain = !(stock.obj_flags.load() & kFlushingCachedCharge) &&
                     obj_stock_flush_required(cur, stock, root_memcg);
    sync::rcu_read_unlock();
    if (obj_drain && set_flushing(stock.obj_flags)) {
      if (i == cur.id)
        drain_local_obj_stock(cur);
      else
        sys.queue_work(cpu, stock.obj_work, WorkKind::drain_obj_stock, &stock, /*rcu=*/false);
    }
  }
}

}  // namespace

// drain_all_stock (v6.6): racy reads of every online CPU's stock; the current
// CPU drains itself now, the others get a drain work (at most one pending,
// guarded by FLUSHING_CACHED_CHARGE). A contended percpu_charge_mutex skips
// the whole drain, as in the kernel.
void drain_all_stock(Cpu& cur, Memcg* root_memcg) {
  System& sys = *cur.sys;
  if (!sys.percpu_charge_mutex.try_lock()) return;
  if (cur.traits->split_stocks) {
    drain_all_split_stocks(cur, root_memcg);
    sys.percpu_charge_mutex.unlock();
    return;
  }
  for (std::uint32_t i = 0; i < sys.ncpus(); ++i) {
    Cpu& cpu = sys.cpu(i);
    if (!cpu.pcp->online.load()) continue;
    MemcgStockPcp& stock = cpu.stock();
    sync::rcu_read_lock();
    bool flush = false;
    if (is_memcg_drain_needed(cur, stock, root_memcg))
      flush = true;
    else if (obj_stock_flush_required(cur, stock, root_memcg))
      flush = true;
    sync::rcu_read_unlock();
    if (flush && set_flushing(stock.flags)) {
      if (i == cur.id)
        drain_local_stock(cur);
      else
        sys.queue_work(cpu, stock.work, WorkKind::drain_stock, &stock, /*rcu=*/false);
    }
  }
  sys.percpu_charge_mutex.unlock();
}

}  // namespace mv::impl
