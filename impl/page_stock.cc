#include "impl/page_stock.h"

#include "arith/page_stock.h"
#include "arith/slips.h"
#include "impl/kmem.h"
#include "impl/memcg.h"

namespace mv::impl {

using arith::M;

namespace {

// Mutant::refill_stock_at_batch (out of line: the kernel's path stays as short).
[[gnu::cold, gnu::noinline]] arith::PageRefill<M> refill_stock_at_batch(
    std::uint32_t stock_nr_pages, std::uint32_t nr_pages, std::uint32_t batch_pages) {
  return arith::slips::page_stock_refill_at_batch<M>(M::lit32(stock_nr_pages), M::lit32(nr_pages),
                                                     batch_pages);
}

}  // namespace

void drain_stock(Cpu& cur, MemcgStockPcp& stock) {
  Memcg* old = stock.cached.load_relaxed();
  if (!old) return;
  if (std::uint32_t nr_pages = stock.nr_pages.load_relaxed()) {
    if (old->load_state() == spec::CgroupState::freed)
      cur.sys->events.record(spec::EventKind::memcg_use_after_free, old->id);
    page_counter_uncharge(&old->memory, nr_pages, cur.sys->events, cur.mutant);
    stock.nr_pages.store_relaxed(0);
  }
  // Mutant::stock_without_css_ref: the cached memcg holds no reference to drop.
  if (cur.mutant != spec::Mutant::stock_without_css_ref) [[likely]] css_put(cur, old);
  stock.cached.store(nullptr);
}

void refill_stock_locked(Cpu& cur, Memcg* memcg, std::uint32_t nr_pages) {
  MemcgStockPcp& stock = cur.stock();
  if (stock.cached.load_relaxed() != memcg) {
    drain_stock(cur, stock);
    if (cur.mutant != spec::Mutant::stock_without_css_ref) [[likely]] css_get(cur, memcg);
    stock.cached.store(memcg);
  }
  auto refill = arith::page_stock_refill<M>(M::lit32(stock.nr_pages.load_relaxed()),
                                            M::lit32(nr_pages), cur.batch_pages);
  if (cur.mutant == spec::Mutant::refill_stock_at_batch) [[unlikely]]
    refill = refill_stock_at_batch(stock.nr_pages.load_relaxed(), nr_pages, cur.batch_pages);
  stock.nr_pages.store_relaxed(refill.stock_nr_pages.v);
  if (static_cast<bool>(refill.drain)) drain_stock(cur, stock);
}

void refill_stock(Cpu& cur, Memcg* memcg, std::uint32_t nr_pages) {
  MemcgStockPcp& stock = cur.stock();
  stock.stock_lock.lock();
  refill_stock_locked(cur, memcg, nr_pages);
  stock.stock_lock.unlock();
}

void drain_local_stock(Cpu& cur) {
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

}  // namespace

// drain_all_stock (v6.6): racy reads of every online CPU's stock; the current
// CPU drains itself now, the others get a drain work (at most one pending,
// guarded by FLUSHING_CACHED_CHARGE). A contended percpu_charge_mutex skips
// the whole drain, as in the kernel.
void drain_all_stock(Cpu& cur, Memcg* root_memcg) {
  System& sys = *cur.sys;
  if (!sys.percpu_charge_mutex.try_lock()) return;
  for (std::uint32_t i = 0; i < sys.ncpus(); ++i) {
    Cpu& cpu = sys.cpu(i);
    if (!cpu.pcp->online.load()) continue;
    MemcgStockPcp& stock = cpu.stock();
    sync::rcu_read_lock();
    Memcg* memcg = stock.cached.load();
    bool flush = false;
    if (memcg && stock.nr_pages.load_relaxed() && mem_cgroup_is_descendant(memcg, root_memcg))
      flush = true;
    else if (obj_stock_flush_required(cur, stock, root_memcg))
      flush = true;
    sync::rcu_read_unlock();
    if (flush && !(stock.flags.fetch_or(kFlushingCachedCharge) & kFlushingCachedCharge)) {
      if (i == cur.id)
        drain_local_stock(cur);
      else
        sys.queue_work(cpu, stock.work, WorkKind::drain_stock, &stock, /*rcu=*/false);
    }
  }
  sys.percpu_charge_mutex.unlock();
}

}  // namespace mv::impl
