#include "reference/memcg.h"

#include <utility>

#include "arith/page_counter.h"
#include "arith/page_stock.h"
#include "reference/kernel_state.h"
#include "spec/coverage.h"

namespace mv::reference {

using arith::M;
using spec::CgroupState;
using spec::Cpu;
using spec::Errno;
using spec::MemcgId;
using spec::PathKey;

namespace {

std::optional<Cpu> lowest_online_cpu(const Kernel& k) {
  for (Cpu cpu = 0; cpu < k.stocks.size(); ++cpu)
    if (k.stock(cpu).online) return cpu;
  return std::nullopt;
}

// MAX_RECLAIM_RETRIES (mm/internal.h, v6.1 and v6.6).
constexpr int kMaxReclaimRetries = 16;

// mem_cgroup_margin (v6.6), memory only (no memsw on cgroup v2): the pages
// left below max, 0 at or above it.
std::uint64_t mem_cgroup_margin(const Kernel& k, MemcgId memcg) {
  const auto& counter = k.memcg(memcg).memory;
  auto count = M::lit64(counter.usage_bits);
  auto limit = M::lit64(counter.max_pages);
  return M::select(count < limit, limit - count, M::lit64(0)).v;
}

// css_has_online_children (v6.6): dying children do not count.
bool has_online_child(const Kernel& k, MemcgId memcg) {
  for (const auto& child : k.memcgs)
    if (child.parent == memcg && child.state == CgroupState::online) return true;
  return false;
}

}  // namespace

// mem_cgroup_is_root (v6.6): the root memcg is created first, id 0.
bool mem_cgroup_is_root(const Kernel& k, MemcgId memcg) { return memcg == 0; }

// mem_cgroup_is_descendant (v6.6)
bool mem_cgroup_is_descendant(const Kernel& k, MemcgId memcg, MemcgId root) {
  for (std::optional<MemcgId> m = memcg; m; m = k.memcg(*m).parent)
    if (*m == root) return true;
  return false;
}

// The kernfs lookup of a cgroup directory: only online cgroups have a name.
std::optional<MemcgId> online_memcg(const Kernel& k, PathKey path) {
  auto it = k.online_by_path.find(path);
  if (it == k.online_by_path.end()) return std::nullopt;
  return it->second;
}

// css_get (v6.6): the root's css is CSS_NO_REF.
void css_get(Kernel& k, MemcgId memcg) {
  if (mem_cgroup_is_root(k, memcg)) return;
  k.touch_memcg(memcg);
  k.memcg(memcg).css_refs += 1;
}

// css_tryget (v6.6) = percpu_ref_tryget: in percpu mode it always succeeds,
// and the count cannot reach zero before the switch to atomic mode (the ID
// reference lives until the offline), so "above zero" is the whole test.
bool css_tryget(Kernel& k, MemcgId memcg) {
  if (mem_cgroup_is_root(k, memcg)) return true;
  k.touch_memcg(memcg);
  auto& m = k.memcg(memcg);
  if (m.css_refs <= 0) return false;
  m.css_refs += 1;
  return true;
}

// css_put (v6.6). The css refcount is a percpu_ref killed at rmdir; reaching
// zero then runs css_release, which queues css_free_rwork_fn after RCU.
void css_put(Kernel& k, MemcgId memcg) { css_put_many(k, memcg, 1); }

// css_get_many / css_put_many (include/linux/cgroup.h): percpu_ref_get_many
// and percpu_ref_put_many, one addition of n (a charge of 2^k pages takes 2^k
// references at once).
void css_get_many(Kernel& k, MemcgId memcg, std::uint32_t n) {
  if (n == 0 || mem_cgroup_is_root(k, memcg)) return;
  k.touch_memcg(memcg);
  k.memcg(memcg).css_refs += n;
}

void css_put_many(Kernel& k, MemcgId memcg, std::uint32_t n) {
  if (n == 0 || mem_cgroup_is_root(k, memcg)) return;
  k.touch_memcg(memcg);
  auto& m = k.memcg(memcg);
  if (m.css_refs <= 0) {
    k.record(spec::EventKind::css_ref_underflow, memcg, m.css_refs - 1);
    m.css_refs = 0;
    return;
  }
  if (m.css_refs < n) {
    // The puts past zero: an underflow, as the first of them reports it.
    k.record(spec::EventKind::css_ref_underflow, memcg, -1);
    m.css_refs = n;
  }
  m.css_refs -= n;
  if (m.css_refs == 0 && m.state == CgroupState::dying && !m.free_queued) {
    m.free_queued = true;
    queue_work(k, DeferredWork{WorkKind::css_free, memcg, spec::kDefaultCpu});
  }
}

// cgroup_mkdir (v6.6). A dying memcg with the same path does not block:
// cgroup_destroy_locked removed its kernfs name at rmdir.
Errno cgroup_mkdir(Kernel& k, PathKey path) {
  if (online_memcg(k, path)) return Errno::eexist;
  if (path >= k.paths->size()) return Errno::enoent;  // not interned: no such parent
  auto parent_path = k.paths->parent(path);
  if (!parent_path) return Errno::eexist;  // "/": the root is always online
  auto parent = online_memcg(k, *parent_path);
  if (!parent) return Errno::enoent;
  MemcgId memcg = mem_cgroup_css_alloc(k, path, *parent);
  mem_cgroup_css_online(k, memcg);
  return Errno::ok;
}

// mem_cgroup_css_alloc (v6.6), with the cgroup core around it: css_create's
// percpu_ref_init (the base reference) and init_and_link_css (css_get(parent)).
MemcgId mem_cgroup_css_alloc(Kernel& k, PathKey path, MemcgId parent) {
  MemCgroup memcg;
  memcg.id = static_cast<MemcgId>(k.memcgs.size());
  memcg.path = path;
  memcg.parent = parent;
  memcg.memory.max_pages = arith::page_counter_max<M>(k.page).v;
  memcg.css_refs = 1;
  k.memcgs.push_back(memcg);
  k.online_by_path[path] = memcg.id;
  css_get(k, parent);
  return memcg.id;
}

// mem_cgroup_css_online (v6.6)
void mem_cgroup_css_online(Kernel& k, MemcgId memcg) {
  memcg_online_kmem(k, memcg);
  // refcount_set(&memcg->id.ref, 1); css_get(css): the ID reference.
  css_get(k, memcg);
}

// memcg_online_kmem (v6.6); before the objcg (v5.2, v5.4 from css_alloc;
// davydov-2014 at kmem activation): a kmemcg_id, the smallest free one
// (memcg_alloc_cache_id: ida_simple_get), and KMEM_ONLINE.
void memcg_online_kmem(Kernel& k, MemcgId memcg) {
  if (mem_cgroup_is_root(k, memcg)) return;
  if (!k.traits().has_objcg()) {
    std::uint32_t id = 0;
    while (k.kmemcg_ids.count(id) != 0) ++id;
    k.kmemcg_ids.insert(id);
    k.memcg(memcg).kmemcg_id = id;
    k.memcg(memcg).kmem_online = true;
    return;
  }
  auto objcg = obj_cgroup_alloc(k, memcg);
  k.objcg(objcg).memcg = memcg;
  k.memcg(memcg).objcg = objcg;
  // v6.7+ ("make memcg keep a reference to the original objcg"):
  // obj_cgroup_get(objcg); memcg->orig_objcg = objcg.
  if (k.traits().objcg_refs_from_memcg_and_task) {
    obj_cgroup_get(k, objcg);
    k.memcg(memcg).orig_objcg = objcg;
  }
}

// cgroup_rmdir (v6.6) -> cgroup_destroy_locked: refused while the cgroup has
// tasks or online children (dying children do not count), then kill_css.
Errno cgroup_rmdir(Kernel& k, Cpu this_cpu, PathKey path) {
  auto memcg = online_memcg(k, path);
  if (!memcg) return Errno::enoent;
  if (mem_cgroup_is_root(k, *memcg)) return Errno::ebusy;
  if (k.memcg(*memcg).nr_tasks != 0 || has_online_child(k, *memcg)) return Errno::ebusy;
  k.memcg(*memcg).state = CgroupState::dying;
  k.online_by_path.erase(path);
  kill_css(k, this_cpu, *memcg);
  return Errno::ok;
}

// kill_css (v6.6, kernel/cgroup/cgroup.c): css_get, held until after the
// offline ("Killing would put the base ref, but we need to keep it alive until
// after ->css_offline()"), then percpu_ref_kill_and_confirm: the switch to
// atomic mode takes its confirm reference (put by its RCU callback, which
// queues css_killed_work_fn), and the base reference is put.
void kill_css(Kernel& k, Cpu this_cpu, MemcgId memcg) {
  css_get(k, memcg);  // kill_css's own reference
  css_get(k, memcg);  // __percpu_ref_switch_to_atomic: "put after confirmation"
  queue_work(k, DeferredWork{WorkKind::css_offline, memcg, this_cpu});
  css_put(k, memcg);  // percpu_ref_kill_and_confirm: the base reference
}

// The kill's RCU callback and the work it queues, one deferred item in the
// model: percpu_ref_call_confirm_rcu (css_killed_ref_fn queues
// css_killed_work_fn; the confirm reference is put), then css_killed_work_fn
// (v6.6): offline_css -> mem_cgroup_css_offline, and kill_css's reference is
// put.
void css_killed_work_fn(Kernel& k, Cpu this_cpu, MemcgId memcg) {
  css_put(k, memcg);  // the confirm reference
  mem_cgroup_css_offline(k, this_cpu, memcg);
  css_put(k, memcg);  // kill_css's reference
}

// mem_cgroup_css_offline (v6.6), the steps the model has: memcg_offline_kmem,
// drain_all_stock, mem_cgroup_id_put.
void mem_cgroup_css_offline(Kernel& k, Cpu this_cpu, MemcgId memcg) {
  memcg_offline_kmem(k, this_cpu, memcg);
  drain_all_stock(k, this_cpu, memcg);
  k.memcg(memcg).offlined = true;
  mem_cgroup_id_put(k, memcg);
}

// memcg_offline_kmem (v6.6: reparent the objcgs). Before the objcg: v5.2
// and v5.4 deactivate (v5.4: and reparent) the memcg's kmem_caches, give the
// memcg and its descendants the parent's kmemcg_id and free the old one;
// Davydov's mem_cgroup_css_offline only frees the id (patch 5), so that the
// next memcg takes it over with its caches.
void memcg_offline_kmem(Kernel& k, Cpu this_cpu, MemcgId memcg) {
  if (mem_cgroup_is_root(k, memcg)) return;
  MemcgId parent = k.memcg(memcg).parent.value_or(0);
  if (k.traits().has_objcg()) {
    memcg_reparent_objcgs(k, this_cpu, memcg, parent);
    return;
  }
  auto& m = k.memcg(memcg);
  if (!m.kmem_online) return;
  m.kmem_online = false;  // kmem_state = KMEM_ALLOCATED
  memcg_deactivate_kmem_caches(k, this_cpu, memcg, parent);
  const auto kmemcg_id = m.kmemcg_id;
  if (k.traits().slab != spec::SlabCharging::recharged_cache_pages)
    for (auto& child : k.memcgs)
      if (child.kmemcg_id == kmemcg_id && mem_cgroup_is_descendant(k, child.id, memcg))
        child.kmemcg_id = k.memcg(parent).kmemcg_id;  // css_for_each_descendant_pre
  if (kmemcg_id) k.kmemcg_ids.erase(*kmemcg_id);  // memcg_free_cache_id
}

// mem_cgroup_id_put (v6.6): the ID's refcount was 1, so the css ref goes.
void mem_cgroup_id_put(Kernel& k, MemcgId memcg) { css_put(k, memcg); }

// css_free_rwork_fn (v6.6): mem_cgroup_css_free, then css_put(parent). v5.2's
// mem_cgroup_css_free -> memcg_free_kmem destroys the memcg's kmem_caches.
void css_free_rwork_fn(Kernel& k, MemcgId memcg) {
  memcg_destroy_kmem_caches(k, memcg);
  // v6.7+ __mem_cgroup_free: obj_cgroup_put(memcg->orig_objcg), from the
  // css free work (on any CPU: a release there touches no stock).
  if (auto orig = std::exchange(k.memcg(memcg).orig_objcg, std::nullopt))
    obj_cgroup_put(k, lowest_online_cpu(k).value_or(spec::kDefaultCpu), *orig);
  k.memcg(memcg).state = CgroupState::freed;
  if (auto parent = k.memcg(memcg).parent) css_put(k, *parent);
}

// copy_process -> cgroup_post_fork (v6.6): the child's css_set pins the memcg.
Errno task_spawn(Kernel& k, spec::TaskKey task, PathKey path, Cpu cpu) {
  if (k.tasks.count(task) != 0) return Errno::eexist;
  auto memcg = online_memcg(k, path);
  if (!memcg) return Errno::enoent;
  css_get(k, *memcg);
  k.memcg(*memcg).nr_tasks += 1;
  // v6.7+ mem_cgroup_fork: task->objcg = CURRENT_OBJCG_UPDATE_FLAG (looked up
  // at the first allocation).
  k.tasks[task] = Task{task, *memcg, cpu, std::nullopt, k.traits().objcg_refs_from_memcg_and_task};
  return Errno::ok;
}

// cgroup_exit / cgroup_free (v6.6): the css_set reference goes with the task.
Errno task_exit(Kernel& k, spec::TaskKey task) {
  auto it = k.tasks.find(task);
  if (it == k.tasks.end()) return Errno::enoent;
  MemcgId memcg = it->second.memcg;
  // v6.7+ mem_cgroup_exit (from cgroup_exit): obj_cgroup_put(task->objcg).
  const auto objcg = it->second.objcg;
  const Cpu cpu = it->second.cpu;
  k.tasks.erase(it);
  if (objcg) obj_cgroup_put(k, cpu, *objcg);
  k.memcg(memcg).nr_tasks -= 1;
  css_put(k, memcg);
  return Errno::ok;
}

// cgroup_migrate (v6.6): the task's new css_set is referenced before the old
// one is put.
Errno task_migrate(Kernel& k, spec::TaskKey task, PathKey path) {
  auto it = k.tasks.find(task);
  if (it == k.tasks.end()) return Errno::enoent;
  auto to = online_memcg(k, path);
  if (!to) return Errno::enoent;
  MemcgId from = it->second.memcg;
  css_get(k, *to);
  k.memcg(*to).nr_tasks += 1;
  it->second.memcg = *to;
  // v6.7+ mem_cgroup_kmem_attach: set_bit(CURRENT_OBJCG_UPDATE_BIT); the
  // cached objcg (and its reference) stays until the next allocation or exit.
  if (k.traits().objcg_refs_from_memcg_and_task) it->second.objcg_update = true;
  k.memcg(from).nr_tasks -= 1;
  css_put(k, from);
  return Errno::ok;
}

// The scheduler moving a task: only which CPU's stocks it uses changes.
Errno task_run_on(Kernel& k, spec::TaskKey task, Cpu cpu) {
  auto it = k.tasks.find(task);
  if (it == k.tasks.end()) return Errno::enoent;
  it->second.cpu = cpu;
  return Errno::ok;
}

// try_charge_memcg (v6.6), for the charges the model makes: GFP_KERNEL (a
// blocking charge without __GFP_NORETRY, __GFP_RETRY_MAYFAIL or __GFP_HIGH),
// plus __GFP_NOFAIL when `nofail`, from a task that is not PF_MEMALLOC nor in
// a v1 OOM. There is no reclaim (try_to_free_mem_cgroup_pages frees nothing)
// and no OOM kill (mem_cgroup_oom fails), so every failed attempt goes the
// same way: after the first drain_all_stock of mem_over_limit, the
// MAX_RECLAIM_RETRIES retries run out, then nomem. Each attempt is a
// page_counter_try_charge, and each failed one bumps the failcnt of the level
// that refused. No MEMCG_MAX/OOM events and no memory.high work: no vmstat in
// the model.
Errno try_charge_memcg(Kernel& k, Cpu this_cpu, MemcgId memcg, std::uint32_t nr_pages,
                       bool nofail) {
  // try_charge (<= v5.13; the objcg path until c5c8b16b596e): the root memcg
  // is not charged at all.
  if (k.traits().try_charge_skips_root && mem_cgroup_is_root(k, memcg)) return Errno::ok;
  // Before v5.9 (1a3e1f40962c) every page try_charge hands out, to the caller
  // or to the stock, carries a css reference (css_get_many).
  const bool ref_per_page = k.traits().stock_refs != spec::StockCssRefs::cached;
  auto want = M::lit32(nr_pages);
  auto batch = arith::charge_batch<M>(want, k.charge_batch_pages());
  int nr_retries = kMaxReclaimRetries;
  bool drained = false;
  for (;;) {  // retry:
    if (consume_stock(k, this_cpu, memcg, nr_pages)) return Errno::ok;
    auto mem_over_limit = page_counter_try_charge(k, memcg, M::zext(batch).v);
    if (!mem_over_limit) {
      // done_restock:
      if (ref_per_page) css_get_many(k, memcg, M::zext(batch).v);
      auto restock = arith::restock_pages<M>(batch, want);
      if (restock.v != 0) refill_stock(k, this_cpu, memcg, restock.v);
      return Errno::ok;
    }
    if (static_cast<bool>(batch > want)) {
      batch = want;
      continue;
    }
    // try_to_free_mem_cgroup_pages: nr_reclaimed = 0.
    if (mem_cgroup_margin(k, *mem_over_limit) >= nr_pages) continue;
    if (!drained) {
      drain_all_stock(k, this_cpu, *mem_over_limit);
      drained = true;
      continue;
    }
    // nr_reclaimed is 0, so no retry for a small charge; no task move.
    if (nr_retries-- != 0) continue;
    break;  // mem_cgroup_oom: no OOM victim in the model
  }
  // nomem:
  if (!nofail) return Errno::enomem;
  // force: exactly nr_pages, past the limit, no stock refill.
  spec::mark_hit(spec::Mark::forced_charge);
  page_counter_charge(k, memcg, nr_pages);
  if (ref_per_page) css_get_many(k, memcg, nr_pages);
  return Errno::ok;
}

// mem_cgroup_resize_max (v6.6) on memory: page_counter_set_max, else one
// drain_all_stock and a second try, else reclaim (nothing in the model): -EBUSY.
Errno mem_cgroup_resize_max(Kernel& k, Cpu this_cpu, PathKey path,
                            std::optional<std::uint64_t> max_pages) {
  if (path == spec::kRootPath) return Errno::einval;  // the root has no memory.max
  auto memcg = online_memcg(k, path);
  if (!memcg) return Errno::enoent;
  auto limit = max_pages ? arith::page_counter_clamp_max<M>(M::lit64(*max_pages), k.page)
                         : arith::page_counter_max<M>(k.page);
  bool drained = false;
  for (;;) {
    if (page_counter_set_max(k, *memcg, limit.v)) return Errno::ok;
    if (drained) return Errno::ebusy;
    drain_all_stock(k, this_cpu, *memcg);
    drained = true;
  }
}

// memcg_hotplug_cpu_dead (v6.6; with 9f01b4954490 where the profile has it).
// It is a teardown callback of the PREPARE section: it runs on the CPU driving
// the hotplug (the "control" CPU, here the lowest online CPU), not on the dead
// one. Without the fix it drains only the page stock (drain_stock uncharges
// the page_counter directly): the dead CPU's obj stock keeps its bytes and its
// objcg reference (the known bug hotplug_obj_stock_leak). With the fix,
// drain_obj_stock's __refill_stock puts whole pages of the dead CPU's byte
// stock into the control CPU's page stock (this_cpu_ptr), and the old objcg
// is put there.
Errno memcg_hotplug_cpu_dead(Kernel& k, Cpu cpu) {
  if (!k.stock(cpu).online) return Errno::einval;
  k.stock(cpu).online = false;
  auto control = lowest_online_cpu(k);
  if (!control) {
    k.stock(cpu).online = true;
    return Errno::ebusy;  // the last online CPU cannot go
  }
  for (auto& [key, task] : k.tasks)
    if (task.cpu == cpu) task.cpu = *control;
  std::optional<spec::ObjcgId> old;
  if (k.traits().hotplug_drains_obj_stock) old = drain_obj_stock(k, cpu, *control);
  drain_stock(k, cpu);
  if (old) obj_cgroup_put(k, *control, *old);
  return Errno::ok;
}

}  // namespace mv::reference
