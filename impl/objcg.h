// struct obj_cgroup (v6.6): a percpu_ref count, the memcg pointer that
// reparenting swaps (READ_ONCE/WRITE_ONCE), nr_charged_bytes (atomic_t, moved
// with xchg), and the objcg_list link. Like memcgs, objcgs are never reused
// (kfree_rcu is a state change, the memory stays as a tombstone).
#pragma once

#include <cstdint>

#include "impl/deferred.h"
#include "impl/memcg.h"
#include "impl/percpu_ref.h"

namespace mv::impl {

struct Objcg {
  PcpuRef refcnt;
  sync::Shared<Memcg*> memcg{nullptr};
  sync::Shared<std::uint32_t> nr_charged_bytes{0};
  // Ghost (no kernel field): pages charged through this objcg minus pages
  // uncharged through it, kept per CPU like a vmstat so that the charge path
  // writes no shared line; folded into ghost_folded_pages at release.
  std::uint32_t ghost_slot = PercpuArea::kNoSlot;
  sync::Shared<long> ghost_folded_pages{0};
  sync::Shared<bool> ghost_folded{false};

  spec::ObjcgId id = 0;
  Memcg* origin = nullptr;
  ListNode list;  // on a memcg's objcg_list once reparented (objcg_lock)
  sync::Shared<std::uint8_t> state{static_cast<std::uint8_t>(spec::ObjcgState::active)};
  std::uint32_t released_nr_charged_bytes = 0;
  Work to_atomic_work;
  Work free_work;

  spec::ObjcgState load_state() const {
    return static_cast<spec::ObjcgState>(state.load());
  }
};

}  // namespace mv::impl

namespace mv::impl {

class Cpu;

// Slow halves of obj_cgroup_get/put/tryget (atomic mode): release at zero,
// events on misuse.
[[gnu::cold]] void obj_cgroup_ref_slow(Cpu& cur, Objcg* objcg, RefResult result);
// get_mem_cgroup_from_objcg (v6.6): `retry: memcg = obj_cgroup_memcg(objcg);
// if (!css_tryget(&memcg->css)) goto retry;` A failed tryget means a reparent
// is racing and objcg->memcg is about to point at the parent.
inline Memcg* get_mem_cgroup_from_objcg(Cpu& cur, Objcg* objcg) {
  sync::rcu_read_lock();
  for (;;) {
    Memcg* memcg = objcg->memcg.load();
    sync::preempt_point(spec::PreemptPoint::before_css_tryget);
    // A freed memcg behind a live objcg is the model's use after free (already
    // recorded by css_tryget): go on without a ref rather than spin.
    if (css_tryget(cur, memcg) || memcg_freed(memcg)) [[likely]] {
      sync::rcu_read_unlock();
      return memcg;
    }
  }
}
// Mutant::css_get_not_tryget (obj_cgroup_charge before eefbfa7fd678):
// `memcg = obj_cgroup_memcg(objcg); css_get(&memcg->css);` under RCU, which
// revives a css whose count reached zero while its memory is still RCU-alive.
Memcg* get_mem_cgroup_from_objcg_without_tryget(Cpu& cur, Objcg* objcg);
// The ghost charged_pages counter: this CPU's part, or the folded total.
[[gnu::cold]] void objcg_ghost_add_folded(Objcg* objcg, long nr_pages);
inline void objcg_ghost_add(Cpu& cur, Objcg* objcg, long nr_pages) {
  if (objcg->ghost_slot != PercpuArea::kNoSlot && !objcg->ghost_folded.load_relaxed()) [[likely]]
    cur.pcpu_base()[objcg->ghost_slot].owner_add(nr_pages);
  else
    objcg_ghost_add_folded(objcg, nr_pages);
}
long objcg_ghost_total(const PercpuArea& area, const Objcg* objcg);
// memcg_reparent_objcgs (v6.6).
void memcg_reparent_objcgs(Cpu& cur, Memcg* memcg, Memcg* parent);
// The percpu_ref switch callback after kill; releases if the count is zero.
void obj_cgroup_to_atomic(Cpu& cur, Objcg* objcg);
// obj_cgroup_release (v6.6).
void obj_cgroup_release(Cpu& cur, Objcg* objcg);
// Records objcg_use_after_free and returns true when objcg was released.
[[gnu::cold]] void objcg_released_event(Cpu& cur, Objcg* objcg);
inline bool objcg_released_check(Cpu& cur, Objcg* objcg) {
  if (objcg->state.load_relaxed() != static_cast<std::uint8_t>(spec::ObjcgState::released))
      [[likely]]
    return false;
  objcg_released_event(cur, objcg);
  return true;
}

}  // namespace mv::impl
