// The accounted-allocation hooks and the charge/uncharge hot path (v6.6
// mm/memcontrol.c, mm/slab.h): inline here so that a byte-stock hit is a few
// dozen instructions with no locked instruction, no shared cache line written,
// and no heap allocation. Everything else is out of line in kmem.cc,
// obj_stock.cc, objcg.cc, page_stock.cc and memcg.cc.
#pragma once

#include <cstdint>

#include "arith/kmem_size.h"
#include "arith/obj_stock.h"
#include "arith/slips.h"
#include "impl/obj_stock.h"
#include "impl/objcg.h"
#include "impl/system.h"

// The hit path is forced inline into its caller, the slow paths are cold and
// out of line: a byte-stock hit then runs with everything in registers (not in
// the coverage build: MV_ALWAYS_INLINE, impl/sync.h).
#define MV_HOT MV_ALWAYS_INLINE inline

namespace mv::impl {

using arith::M;

// obj_cgroup_get / obj_cgroup_put / obj_cgroup_tryget (percpu_ref).
MV_HOT void obj_cgroup_get(Cpu& cur, Objcg* objcg) {
  RefResult r = objcg->refcnt.get(cur.pcpu_base());
  if (r != RefResult::ok) [[unlikely]] obj_cgroup_ref_slow(cur, objcg, r);
}
MV_HOT void obj_cgroup_put(Cpu& cur, Objcg* objcg) {
  RefResult r = objcg->refcnt.put(cur.pcpu_base());
  if (r != RefResult::ok) [[unlikely]] obj_cgroup_ref_slow(cur, objcg, r);
}
MV_HOT bool obj_cgroup_tryget(Cpu& cur, Objcg* objcg) {
  return objcg->refcnt.tryget(cur.pcpu_base()) == RefResult::ok;
}

// get_obj_cgroup_from_current -> __get_obj_cgroup_from_memcg (v6.6): the first
// memcg from the task's towards the root (excluded) whose objcg is set and
// whose tryget succeeds. Under RCU: the task's memcg and every objcg read here
// stay valid until this CPU's next quiescent state.
MV_HOT Objcg* get_obj_cgroup_from_current(Cpu& cur, Task& task) {
  Objcg* found = nullptr;
  sync::rcu_read_lock();
  for (Memcg* memcg = task.memcg.load(); !memcg->is_root(); memcg = memcg->parent) {
    Objcg* objcg = memcg->objcg.load();
    if (!objcg) continue;
    sync::preempt_point(spec::PreemptPoint::before_objcg_tryget);
    if (obj_cgroup_tryget(cur, objcg)) {
      found = objcg;
      break;
    }
  }
  sync::rcu_read_unlock();
  if (found) sync::preempt_point(spec::PreemptPoint::after_get_obj_cgroup_from_current);
  return found;
}

// current_obj_cgroup (v6.7+, the v6.16 profile): the task's cached objcg,
// looked up again after fork or migration (current_objcg_update, out of
// line). The caller gets no reference of its own.
Objcg* current_objcg_update(Cpu& cur, Task& task);
MV_HOT Objcg* current_obj_cgroup(Cpu& cur, Task& task) {
  if (task.objcg_update) [[unlikely]] return current_objcg_update(cur, task);
  Objcg* objcg = task.objcg;
  if (objcg) sync::preempt_point(spec::PreemptPoint::after_get_obj_cgroup_from_current);
  return objcg;
}

// The objcg an allocation charges. v6.6: get_obj_cgroup_from_current, whose
// reference the object keeps (or the failed charge puts). v6.16
// (kTaskCaches, Cpu::task_caches_objcg): current_obj_cgroup, and
// obj_cgroup_get for the object once charged.
template <bool kTaskCaches>
MV_HOT Objcg* alloc_objcg_as(Cpu& cur, Task& task) {
  if constexpr (kTaskCaches) return current_obj_cgroup(cur, task);
  return get_obj_cgroup_from_current(cur, task);
}
template <bool kTaskCaches>
MV_HOT void hold_charged_objcg_as(Cpu& cur, Objcg* objcg) {
  if constexpr (kTaskCaches) obj_cgroup_get(cur, objcg);
}
template <bool kTaskCaches>
MV_HOT void drop_uncharged_objcg_as(Cpu& cur, Objcg* objcg) {
  if constexpr (!kTaskCaches) obj_cgroup_put(cur, objcg);
}
MV_HOT Objcg* alloc_objcg(Cpu& cur, Task& task) {
  return cur.task_caches_objcg ? alloc_objcg_as<true>(cur, task) : alloc_objcg_as<false>(cur, task);
}
MV_HOT void hold_charged_objcg(Cpu& cur, Objcg* objcg) {
  if (cur.task_caches_objcg) hold_charged_objcg_as<true>(cur, objcg);
}
MV_HOT void drop_uncharged_objcg(Cpu& cur, Objcg* objcg) {
  if (!cur.task_caches_objcg) drop_uncharged_objcg_as<false>(cur, objcg);
}

// consume_obj_stock (v6.6).
MV_HOT bool consume_obj_stock(Cpu& cur, Objcg* objcg, std::uint32_t nr_bytes) {
  MemcgStockPcp& stock = cur.stock();
  stock.stock_lock.lock();
  bool hit = stock.cached_objcg.load_relaxed() == objcg &&
             static_cast<bool>(
                 arith::obj_stock_covers<M>(M::lit32(stock.nr_bytes), M::lit32(nr_bytes)));
  if (hit) stock.nr_bytes = arith::obj_stock_consume<M>(M::lit32(stock.nr_bytes), M::lit32(nr_bytes)).v;
  stock.stock_lock.unlock();
  return hit;
}

void obj_cgroup_uncharge_pages(Cpu& cur, Objcg* objcg, std::uint32_t nr_pages);
spec::Errno obj_cgroup_charge_pages(Cpu& cur, Objcg* objcg, std::uint32_t nr_pages, bool nofail);
// obj_cgroup_charge (v6.6) after a byte-stock miss; with a pgdat (v6.16's
// obj_cgroup_charge_account for a slab object) the refill runs for a page
// multiple too.
spec::Errno obj_cgroup_charge_slow(Cpu& cur, Objcg* objcg, std::uint64_t size_bytes, bool nofail,
                                   bool pgdat = false);
// slab_alloc after a byte-stock miss: charge, then mod_objcg_state.
spec::Errno slab_charge_slow(Cpu& cur, Objcg* objcg, std::uint64_t size_bytes, bool nofail);

// Mutants (spec/mutant.h): the functions of the hit path below take
// `kMutable`. The kernel's code is the default instantiation (false), which
// never reads Cpu::mutant; Cpu::free runs the `true` one only when a mutant is
// selected, so the hit path costs the same with or without the catalog.

// arith::obj_stock_refill, or its `>=` slip (Mutant::refill_obj_stock_at_page_size).
template <bool kMutable>
MV_HOT arith::ObjRefill<M> obj_stock_refill_of(const Cpu& cur, std::uint32_t stock_nr_bytes,
                                               std::uint32_t nr_bytes, bool allow_uncharge) {
  if constexpr (kMutable) {
    if (cur.mutant == spec::Mutant::refill_obj_stock_at_page_size)
      return arith::slips::obj_stock_refill_at_page_size<M>(
          M::lit32(stock_nr_bytes), M::lit32(nr_bytes), M::lit_bool(allow_uncharge), cur.page);
  }
  return arith::obj_stock_refill<M>(M::lit32(stock_nr_bytes), M::lit32(nr_bytes),
                                    M::lit_bool(allow_uncharge), cur.page);
}

// refill_obj_stock (v6.6); the common case (objcg already cached, no whole
// page to give back) stays inline.
template <bool kMutable = false>
MV_HOT void refill_obj_stock(Cpu& cur, Objcg* objcg, std::uint32_t nr_bytes,
                             bool allow_uncharge) {
  MemcgStockPcp& stock = cur.stock();
  stock.stock_lock.lock();
  if (stock.cached_objcg.load_relaxed() != objcg) [[unlikely]] {
    stock.stock_lock.unlock();
    refill_obj_stock_slow(cur, objcg, nr_bytes, allow_uncharge);
    return;
  }
  // v5.9-v5.13 drain the whole stock once it passes PAGE_SIZE, whoever
  // refills: v6.6's allow_uncharge test (the same `> PAGE_SIZE`) finds that
  // point, and the drain is out of line.
  auto refill = obj_stock_refill_of<kMutable>(cur, stock.nr_bytes, nr_bytes,
                                              allow_uncharge || cur.obj_refill_drains_stock);
  if (refill.nr_pages.v != 0) [[unlikely]] {
    if (cur.obj_refill_drains_stock) return refill_obj_stock_whole_stock(cur, stock, nr_bytes);
    stock.nr_bytes = refill.stock_nr_bytes.v;
    stock.stock_lock.unlock();
    obj_cgroup_uncharge_pages(cur, objcg, refill.nr_pages.v);
    return;
  }
  stock.nr_bytes = refill.stock_nr_bytes.v;
  stock.stock_lock.unlock();
}

// mod_objcg_state (v6.6): only its stock effect is modeled; a no-op when the
// objcg is already cached (every hit). Before v5.14 (68ac5b3c8db2) it only
// updated the lruvec stat: no stock effect at all.
MV_HOT void mod_objcg_state(Cpu& cur, Objcg* objcg) {
  if (cur.stock().cached_objcg.load_relaxed() != objcg &&
      cur.traits->mod_objcg_state_uses_stock) [[unlikely]]
    mod_objcg_state_slow(cur, objcg);
}

// obj_cgroup_charge (v6.6).
MV_HOT spec::Errno obj_cgroup_charge(Cpu& cur, Objcg* objcg, std::uint64_t size_bytes,
                                     bool nofail) {
  auto request = arith::consume_request_bytes<M>(M::lit64(size_bytes));
  if (consume_obj_stock(cur, objcg, request.v)) [[likely]] return spec::Errno::ok;
  return obj_cgroup_charge_slow(cur, objcg, size_bytes, nofail);
}

// obj_cgroup_uncharge (v6.6): refill_obj_stock(objcg, size, true), size_t
// passed as unsigned int.
template <bool kMutable = false>
MV_HOT void obj_cgroup_uncharge(Cpu& cur, Objcg* objcg, std::uint64_t size_bytes) {
  if constexpr (kMutable) {
    // Mutant::dual_obj_stock: uncharges refill the hidden second stock.
    if (cur.mutant == spec::Mutant::dual_obj_stock) {
      refill_hidden_obj_stock(cur, objcg, M::trunc32(M::lit64(size_bytes)).v);
      return;
    }
  }
  refill_obj_stock<kMutable>(cur, objcg, M::trunc32(M::lit64(size_bytes)).v, true);
}

// memcg_slab_pre_alloc_hook + memcg_slab_post_alloc_hook (v6.6) for one
// object. The post hook's obj_cgroup_get (the object's ref) and its
// obj_cgroup_put (the pre hook's ref) are fused: the pre hook's ref is handed
// to the object, the count is the same at every point another CPU can see.
// The profile's choice is made once, so that each hit path tests nothing of it.
template <bool kTaskCaches>
MV_HOT spec::Errno slab_alloc_as(Cpu& cur, Task& task, Object& obj, std::uint64_t size_bytes,
                                 bool nofail) {
  obj.kind = spec::AllocKind::slab;
  obj.nr_kmem_pages = 0;
  Objcg* objcg = alloc_objcg_as<kTaskCaches>(cur, task);
  obj.objcg = objcg;
  if (!objcg) [[unlikely]] {
    obj.charged_bytes = 0;
    obj.live = true;
    return spec::Errno::ok;
  }
  std::uint64_t full_bytes = arith::slab_obj_full_size<M>(M::lit64(size_bytes)).v;
  // obj_cgroup_charge: a byte-stock hit leaves objcg cached, so the post
  // hook's mod_objcg_state has nothing to do; the miss path runs both.
  auto request = arith::consume_request_bytes<M>(M::lit64(full_bytes));
  if (!consume_obj_stock(cur, objcg, request.v)) [[unlikely]] {
    if (slab_charge_slow(cur, objcg, full_bytes, nofail) != spec::Errno::ok) {
      drop_uncharged_objcg_as<kTaskCaches>(cur, objcg);
      obj.objcg = nullptr;
      obj.live = false;
      return spec::Errno::enomem;
    }
  }
  hold_charged_objcg_as<kTaskCaches>(cur, objcg);
  obj.charged_bytes = full_bytes;
  obj.live = true;
  return spec::Errno::ok;
}
MV_HOT spec::Errno slab_alloc(Cpu& cur, Task& task, Object& obj, std::uint64_t size_bytes,
                              bool nofail) {
  if (cur.task_caches_objcg) [[unlikely]]
    return slab_alloc_as<true>(cur, task, obj, size_bytes, nofail);
  return slab_alloc_as<false>(cur, task, obj, size_bytes, nofail);
}

// memcg_slab_free_hook (v6.6) for one object.
template <bool kMutable = false>
MV_HOT void slab_free(Cpu& cur, Object& obj) {
  obj.live = false;
  Objcg* objcg = obj.objcg;
  if (!objcg) [[unlikely]] return;
  if constexpr (kMutable) {
    // Mutant::free_without_uncharge: a free path that skips this hook.
    if (cur.mutant == spec::Mutant::free_without_uncharge) return;
  }
  obj_cgroup_uncharge<kMutable>(cur, objcg, obj.charged_bytes);
  // mod_objcg_state(objcg, -size) would find objcg cached: refill_obj_stock
  // always leaves it cached (nothing it calls afterwards touches the byte
  // stock), so the call has no modeled effect and is left out. Not so when a
  // mutant sends the uncharge to another stock (Mutant::dual_obj_stock).
  if constexpr (kMutable) mod_objcg_state(cur, objcg);
  obj_cgroup_put(cur, objcg);
}

}  // namespace mv::impl
