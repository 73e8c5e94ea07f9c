#include "impl/memcg.h"

#include <utility>

#include "arith/page_stock.h"
#include "impl/kmem.h"
#include "impl/page_stock.h"

namespace mv::impl {

using arith::M;

namespace {


// css_release -> css_release_work_fn -> queue_rcu_work(css_free_rwork_fn):
// one deferred item in the model.
void queue_css_free(Cpu& cur, Memcg* memcg) {
  cur.sys->queue_work(cur, memcg->free_work, WorkKind::css_free, memcg, /*rcu=*/true);
}

// mem_cgroup_margin (v6.6): pages left below max, 0 when at or over it.
std::uint64_t mem_cgroup_margin(const Memcg* memcg) {
  auto count = M::lit64(page_counter_read(&memcg->memory));
  auto limit = M::lit64(memcg->memory.max.load());
  return M::select(count < limit, limit - count, M::lit64(0)).v;
}

// mem_cgroup_from_counter(counter, memory).
Memcg* memcg_of_counter(PageCounter* counter) { return static_cast<Memcg*>(counter->owner); }

}  // namespace

void memcg_freed_event(Cpu& cur, Memcg* memcg) {
  cur.sys->events.record(spec::EventKind::memcg_use_after_free, memcg->id);
}

void css_ref_slow(Cpu& cur, Memcg* memcg, RefResult result) {
  switch (result) {
    case RefResult::released:
      queue_css_free(cur, memcg);
      break;
    case RefResult::underflow:
      cur.sys->events.record(spec::EventKind::css_ref_underflow, memcg->id, -1);
      break;
    case RefResult::was_zero:
      cur.sys->events.record(spec::EventKind::memcg_use_after_free, memcg->id);
      break;
    case RefResult::ok:
    case RefResult::failed:
      break;
  }
}

// MAX_RECLAIM_RETRIES (mm/internal.h).
constexpr int kMaxReclaimRetries = 16;

// try_charge_memcg (v6.6) for a GFP_KERNEL charge (plus __GFP_NOFAIL), with no
// reclaim and no OOM kill: stock, the batch, exactly nr_pages, one
// drain_all_stock of the level over its limit, then the MAX_RECLAIM_RETRIES
// retries, each failed page_counter_try_charge bumping the refusing level's
// failcnt (docs/MODEL-v6.6.md).
spec::Errno try_charge_memcg(Cpu& cur, Memcg* memcg, std::uint32_t nr_pages, bool nofail) {
  System& sys = *cur.sys;
  // try_charge (<= v5.13, and the objcg path until c5c8b16b596e in v5.14):
  // `if (mem_cgroup_is_root(memcg)) return 0;` the root is not charged.
  if (cur.traits->try_charge_skips_root && memcg->is_root()) return spec::Errno::ok;
  if (memcg_freed(memcg)) [[unlikely]] memcg_freed_event(cur, memcg);
  auto n = M::lit32(nr_pages);
  auto batch = arith::charge_batch<M>(n, sys.batch_pages());
  bool drained = false;
  int nr_retries = kMaxReclaimRetries;
  // The margin retry can loop only while racing uncharges keep making room;
  // bounded so that a broken subject cannot spin (never reached sequentially:
  // the level that just refused nr_pages has less margin than that).
  int nr_margin_retries = kMaxReclaimRetries;
  for (;;) {
    if (consume_stock(cur, memcg, nr_pages)) return spec::Errno::ok;
    PageCounter* fail = nullptr;
    if (page_counter_try_charge(&memcg->memory, batch.v, &fail, sys.events, cur.mutant)) {
      auto restock = arith::restock_pages<M>(batch, n);  // done_restock
      if (restock.v != 0) refill_stock(cur, memcg, restock.v);
      return spec::Errno::ok;
    }
    Memcg* mem_over_limit = memcg_of_counter(fail);
    if (static_cast<bool>(batch > n)) {
      batch = n;
      continue;
    }
    // try_to_free_mem_cgroup_pages reclaimed nothing.
    if (mem_cgroup_margin(mem_over_limit) >= nr_pages && nr_margin_retries-- > 0) continue;
    if (!drained) {
      drain_all_stock(cur, mem_over_limit);
      drained = true;
      continue;
    }
    if (nr_retries-- != 0) continue;
    break;  // mem_cgroup_oom finds no victim
  }
  if (!nofail) return spec::Errno::enomem;
  page_counter_charge(&memcg->memory, nr_pages);  // force
  return spec::Errno::ok;
}

// The kill's confirmation and css_killed_work_fn (v6.6), one deferred item
// after a grace period: the css count is atomic from here and the switch's
// confirm ref is put; mem_cgroup_css_offline (memcg_offline_kmem,
// drain_all_stock, mem_cgroup_id_put); then kill_css's ref is put.
void mem_cgroup_css_offline(Cpu& cur, Memcg* memcg) {
  System& sys = *cur.sys;
  if (memcg->css.complete_switch(sys.pcpu)) queue_css_free(cur, memcg);
  memcg_reparent_objcgs(cur, memcg, memcg->parent);
  drain_all_stock(cur, memcg);
  memcg->offlined.store(true);
  css_put(cur, memcg);  // mem_cgroup_id_put: the ID ref
  css_put(cur, memcg);  // css_killed_work_fn: kill_css's ref
}

// css_free_rwork_fn (v6.6): the memcg is gone; its parent loses the child's ref.
void css_free_rwork_fn(Cpu& cur, Memcg* memcg) {
  // v6.7+ __mem_cgroup_free: obj_cgroup_put(memcg->orig_objcg).
  if (Objcg* orig = std::exchange(memcg->orig_objcg, nullptr)) obj_cgroup_put(cur, orig);
  memcg->state.store(static_cast<std::uint8_t>(spec::CgroupState::freed));
  if (memcg->parent) css_put(cur, memcg->parent);
}

}  // namespace mv::impl
