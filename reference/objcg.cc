#include "reference/objcg.h"

#include <algorithm>
#include <utility>

#include "arith/obj_stock.h"
#include "reference/kernel_state.h"
#include "spec/coverage.h"

namespace mv::reference {

using arith::M;
using spec::Cpu;
using spec::Errno;
using spec::MemcgId;
using spec::ObjcgId;

// obj_cgroup_alloc (v6.6): percpu_ref_init with one (initial) reference.
// `origin` only names it in snapshots; memcg_online_kmem sets objcg->memcg.
ObjcgId obj_cgroup_alloc(Kernel& k, MemcgId origin) {
  ObjCgroup objcg;
  objcg.id = static_cast<ObjcgId>(k.objcgs.size() + 1);
  objcg.origin = origin;
  objcg.memcg = origin;
  objcg.refs = 1;
  k.objcgs.push_back(objcg);
  return objcg.id;
}

// obj_cgroup_get (v6.6)
void obj_cgroup_get(Kernel& k, ObjcgId objcg) {
  k.touch_objcg(objcg);
  k.objcg(objcg).refs += 1;
}

// obj_cgroup_tryget (v6.6): percpu_ref_tryget succeeds in percpu mode and,
// in atomic mode (from the kill on), while the count is not zero
// (atomic_long_inc_not_zero).
bool obj_cgroup_tryget(Kernel& k, ObjcgId objcg) {
  k.touch_objcg(objcg);
  auto& o = k.objcg(objcg);
  if (o.state == spec::ObjcgState::released || (o.killed && o.refs == 0)) return false;
  o.refs += 1;
  return true;
}

// obj_cgroup_put (v6.6): percpu_ref_put; in atomic mode the put that reaches
// zero runs the release function right there, on this CPU. While the switch
// is pending its confirm ref keeps the count above zero.
void obj_cgroup_put(Kernel& k, Cpu this_cpu, ObjcgId objcg) {
  k.touch_objcg(objcg);
  auto& o = k.objcg(objcg);
  if (o.refs <= 0) {
    k.record(spec::EventKind::objcg_ref_underflow, objcg, o.refs - 1);
    o.refs = 0;
    return;
  }
  o.refs -= 1;
  if (o.refs == 0 && o.killed && o.state != spec::ObjcgState::released)
    obj_cgroup_release(k, this_cpu, objcg);
}

// percpu_ref_kill (v6.6) = percpu_ref_kill_and_confirm(ref, NULL): mark dead;
// __percpu_ref_switch_to_atomic takes a reference "put after confirmation"
// and queues percpu_ref_switch_to_atomic_rcu (call_rcu on this CPU); then the
// initial reference is put (the confirm ref keeps the count above zero).
void percpu_ref_kill(Kernel& k, Cpu this_cpu, ObjcgId objcg) {
  k.objcg(objcg).killed = true;
  obj_cgroup_get(k, objcg);  // the confirm reference
  k.objcg(objcg).switch_pending = true;
  queue_work(k, DeferredWork{WorkKind::objcg_to_atomic, objcg, this_cpu});
  obj_cgroup_put(k, this_cpu, objcg);
}

// percpu_ref_switch_to_atomic_rcu (v6.6) -> percpu_ref_call_confirm_rcu: the
// count is exact from here; the confirm reference is put, which releases the
// objcg on this CPU if every other holder is already gone.
void percpu_ref_switch_to_atomic_rcu(Kernel& k, Cpu this_cpu, ObjcgId objcg) {
  k.objcg(objcg).switch_pending = false;
  obj_cgroup_put(k, this_cpu, objcg);
}

namespace {

// obj_cgroup_release (v6.16, "no refilling stock from obj_cgroup_release"):
// the whole pages left in nr_charged_bytes are uncharged from the objcg's
// memcg directly (memcg_uncharge; not for the root), not given to a stock.
void release_uncharge_pages(Kernel& k, ObjcgId objcg, std::uint32_t nr_pages) {
  MemcgId memcg = get_mem_cgroup_from_objcg(k, objcg);
  if (!mem_cgroup_is_root(k, memcg)) memcg_uncharge(k, memcg, nr_pages);
  k.objcg(objcg).charged_pages -= nr_pages;
  css_put(k, memcg);  // mem_cgroup_put
}

}  // namespace

// obj_cgroup_release (v6.6)
void obj_cgroup_release(Kernel& k, Cpu this_cpu, ObjcgId objcg) {
  // WARN_ON_ONCE(nr_bytes & (PAGE_SIZE - 1)): recorded as an event, which
  // INV-RELEASE-ALIGNED checks against the nr_charged_bytes the snapshot keeps.
  const std::uint32_t nr_bytes = k.objcg(objcg).nr_charged_bytes;
  auto release = arith::obj_release_split<M>(M::lit32(nr_bytes), k.page);
  if (!static_cast<bool>(release.aligned)) k.record(spec::EventKind::release_unaligned, objcg, nr_bytes);
  if (release.nr_pages.v != 0) {
    if (static_cast<bool>(release.aligned)) spec::mark_hit(spec::Mark::release_with_pages);
    if (k.traits().split_stocks)
      release_uncharge_pages(k, objcg, release.nr_pages.v);
    else
      obj_cgroup_uncharge_pages(k, this_cpu, objcg, release.nr_pages.v);
  }
  // list_del(&objcg->list): it is on the list of the memcg it points to.
  const MemcgId memcg = k.objcg(objcg).memcg;
  auto& list = k.memcg(memcg).objcg_list;
  list.erase(std::remove(list.begin(), list.end(), objcg), list.end());
  // v5.10 obj_cgroup_release: mem_cgroup_put(memcg), the reference the
  // reparenting took.
  if (k.traits().reparented_objcg_holds_css) css_put(k, memcg);
  auto& o = k.objcg(objcg);
  o.state = spec::ObjcgState::released;
  o.refs = 0;
  queue_work(k, DeferredWork{WorkKind::objcg_free, objcg, this_cpu});  // kfree_rcu
}

// obj_cgroup_charge (v6.6)
Errno obj_cgroup_charge(Kernel& k, Cpu this_cpu, ObjcgId objcg, std::uint64_t size_bytes,
                        bool nofail) {
  return obj_cgroup_charge_account(k, this_cpu, objcg, size_bytes, nofail, /*pgdat=*/false);
}

// obj_cgroup_charge (v6.6), obj_cgroup_charge_account (v6.16): with a pgdat
// (a slab object's vmstat) the refill runs for a page multiple too, with 0
// bytes: `if (!ret && (nr_bytes || pgdat))`.
Errno obj_cgroup_charge_account(Kernel& k, Cpu this_cpu, ObjcgId objcg, std::uint64_t size_bytes,
                                bool nofail, bool pgdat) {
  auto request = arith::consume_request_bytes<M>(M::lit64(size_bytes));
  if (consume_obj_stock(k, this_cpu, objcg, request.v)) return Errno::ok;
  // nr_charged_bytes is deliberately not consumed here: only a stock refill
  // takes it over.
  auto split = arith::obj_charge_split<M>(M::lit64(size_bytes), k.page);
  auto ret = obj_cgroup_charge_pages(k, this_cpu, objcg, split.nr_pages.v, nofail);
  if (ret != Errno::ok || (split.nr_bytes.v == 0 && !pgdat)) return ret;
  const std::uint32_t tail =
      split.nr_bytes.v != 0 ? arith::charge_tail_bytes<M>(split.nr_bytes, k.page).v : 0;
  refill_obj_stock(k, this_cpu, objcg, tail, false);
  return ret;
}

// obj_cgroup_uncharge (v6.6): size_t size passed as unsigned int nr_bytes.
void obj_cgroup_uncharge(Kernel& k, Cpu this_cpu, ObjcgId objcg, std::uint64_t size_bytes) {
  refill_obj_stock(k, this_cpu, objcg, M::trunc32(M::lit64(size_bytes)).v, true);
}

// get_mem_cgroup_from_objcg (v6.6): under RCU, `retry: memcg =
// obj_cgroup_memcg(objcg); if (!css_tryget(&memcg->css)) goto retry;`. The
// tryget fails only while a reparenting races: objcg->memcg already points at
// the parent by the time the old memcg's count reaches zero. A freed memcg
// behind a live objcg is a use after free (css_tryget records it): the model
// goes on without a reference rather than spin.
MemcgId get_mem_cgroup_from_objcg(Kernel& k, ObjcgId objcg) {
  k.rcu_read_lock();
  MemcgId memcg;
  for (;;) {
    memcg = k.objcg(objcg).memcg;
    k.preemption_point(spec::PreemptPoint::before_css_tryget);
    if (css_tryget(k, memcg) || k.memcg(memcg).state == spec::CgroupState::freed) break;
  }
  k.rcu_read_unlock();
  return memcg;
}

// obj_cgroup_charge_pages (v6.6).
Errno obj_cgroup_charge_pages(Kernel& k, Cpu this_cpu, ObjcgId objcg, std::uint32_t nr_pages,
                              bool nofail) {
  k.touch_objcg(objcg);
  MemcgId memcg = get_mem_cgroup_from_objcg(k, objcg);
  // v5.10: __memcg_kmem_charge -> try_charge returns 0 for the root, which
  // an objcg reparented to it reaches (the known bug root_charge_skipped).
  if (k.traits().try_charge_skips_root && mem_cgroup_is_root(k, memcg))
    k.record(spec::EventKind::root_charge_skipped, objcg, nr_pages);
  auto ret = try_charge_memcg(k, this_cpu, memcg, nr_pages, nofail);
  if (ret == Errno::ok) k.objcg(objcg).charged_pages += nr_pages;
  css_put(k, memcg);
  return ret;
}

// obj_cgroup_uncharge_pages (v6.6): into this CPU's page stock, no root
// check. v6.16: `if (!mem_cgroup_is_root(memcg)) refill_stock(memcg, nr_pages)`.
void obj_cgroup_uncharge_pages(Kernel& k, Cpu this_cpu, ObjcgId objcg, std::uint32_t nr_pages) {
  k.touch_objcg(objcg);
  MemcgId memcg = get_mem_cgroup_from_objcg(k, objcg);
  if (!k.traits().split_stocks || !mem_cgroup_is_root(k, memcg))
    refill_stock(k, this_cpu, memcg, nr_pages);
  k.objcg(objcg).charged_pages -= nr_pages;
  css_put(k, memcg);
}

// get_obj_cgroup_from_current (v6.6) -> __get_obj_cgroup_from_memcg: no
// active_memcg, a task context (memcg_kmem_bypass is false).
std::optional<ObjcgId> get_obj_cgroup_from_current(Kernel& k, spec::TaskKey task) {
  std::optional<ObjcgId> found;
  k.rcu_read_lock();
  for (std::optional<MemcgId> memcg = k.tasks.at(task).memcg;
       memcg && !mem_cgroup_is_root(k, *memcg); memcg = k.memcg(*memcg).parent) {
    auto objcg = k.memcg(*memcg).objcg;
    if (!objcg) continue;
    k.preemption_point(spec::PreemptPoint::before_objcg_tryget);
    if (obj_cgroup_tryget(k, *objcg)) {
      found = objcg;
      break;
    }
  }
  k.rcu_read_unlock();
  if (found) k.preemption_point(spec::PreemptPoint::after_get_obj_cgroup_from_current);
  return found;
}

// __get_obj_cgroup_from_memcg (v6.6, v6.16): the first memcg from `memcg`
// towards the root (excluded) whose objcg is set and can be tryget.
std::optional<ObjcgId> get_obj_cgroup_from_memcg(Kernel& k, MemcgId memcg) {
  for (std::optional<MemcgId> m = memcg; m && !mem_cgroup_is_root(k, *m); m = k.memcg(*m).parent) {
    auto objcg = k.memcg(*m).objcg;
    if (!objcg) continue;
    k.preemption_point(spec::PreemptPoint::before_objcg_tryget);
    if (obj_cgroup_tryget(k, *objcg)) return objcg;
  }
  return std::nullopt;
}

// current_obj_cgroup (v6.7+; v6.16): the objcg current->objcg caches, with
// the task's own reference. While CURRENT_OBJCG_UPDATE_FLAG is set (from
// fork, or a migration) current_objcg_update first puts the cached one and
// looks the objcg up again (__get_obj_cgroup_from_memcg, a tryget). The
// caller gets no reference of its own.
std::optional<ObjcgId> current_obj_cgroup(Kernel& k, spec::TaskKey task) {
  auto& t = k.tasks.at(task);
  if (t.objcg_update) {
    // current_objcg_update: xchg(&current->objcg, NULL), put the old one.
    if (auto old = std::exchange(t.objcg, std::nullopt)) obj_cgroup_put(k, t.cpu, *old);
    k.rcu_read_lock();
    auto& again = k.tasks.at(task);  // the put cannot remove the task; re-read anyway
    again.objcg = get_obj_cgroup_from_memcg(k, again.memcg);
    again.objcg_update = false;
    k.rcu_read_unlock();
  }
  auto objcg = k.tasks.at(task).objcg;
  if (objcg) k.preemption_point(spec::PreemptPoint::after_get_obj_cgroup_from_current);
  return objcg;
}

// memcg_reparent_objcgs (v6.6)
void memcg_reparent_objcgs(Kernel& k, Cpu this_cpu, MemcgId memcg, MemcgId parent) {
  auto objcg = k.memcg(memcg).objcg;
  k.memcg(memcg).objcg.reset();  // rcu_replace_pointer(memcg->objcg, NULL)
  if (!objcg) return;
  auto& list = k.memcg(memcg).objcg_list;
  list.insert(list.begin(), *objcg);  // list_add: at the head
  // v5.9-v5.13: every objcg moved to the parent holds a css reference on it:
  // css_get(&parent->css) for the memcg's own objcg, and for each inherited
  // one css_get(&parent->css), css_put(&memcg->css).
  const bool hold_css = k.traits().reparented_objcg_holds_css;
  for (ObjcgId iter : list) {
    if (hold_css) {
      css_get(k, parent);
      if (iter != *objcg) css_put(k, memcg);
    }
    k.objcg(iter).memcg = parent;  // WRITE_ONCE(iter->memcg, parent)
    k.objcg(iter).state = spec::ObjcgState::reparented;
    for (const auto& stock : k.stocks)
      if (stock.obj.cached_objcg == iter) spec::mark_hit(spec::Mark::reparent_with_cached_objcg);
  }
  auto& parent_list = k.memcg(parent).objcg_list;
  parent_list.insert(parent_list.begin(), list.begin(), list.end());  // list_splice
  list.clear();
  percpu_ref_kill(k, this_cpu, *objcg);
}

}  // namespace mv::reference
