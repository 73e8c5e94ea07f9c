#include "impl/system.h"

#include <algorithm>
#include <utility>

#include "arith/page_counter.h"

#include "impl/kmem.h"
#include "impl/page_stock.h"

namespace mv::impl {

System::System(const spec::Config& config, const spec::PathTable& paths, SystemOptions options)
    : pcpu(config.ncpus, options.pcpu_slots),
      config_(config),
      paths_(paths),
      page_(arith::PageGeometry::of(config.page_size_bytes)),
      batch_pages_(config.profile_traits().charge_batch_pages),
      page_counter_max_(arith::page_counter_max<arith::M>(page_).v),
      mutant_(options.mutant) {
  if (mutant_ == spec::Mutant::dual_obj_stock)
    hidden_obj_stocks_ = std::make_unique<std::array<MemcgStockPcp, spec::kMaxCpus>>();
  for (std::uint32_t i = 0; i < config_.ncpus; ++i) {
    cpus_[i].online.store(true);
    cpus_[i].pcpu_base = pcpu.cpu_base(i);
    cpu_handles_[i].sys = this;
    cpu_handles_[i].pcp = &cpus_[i];
    cpu_handles_[i].id = i;
    cpu_handles_[i].page = page_;
    cpu_handles_[i].batch_pages = batch_pages_;
    cpu_handles_[i].traits = &config_.profile_traits();
    cpu_handles_[i].obj_refill_drains_stock =
        config_.profile_traits().obj_refill == spec::ObjRefillRule::drain_whole_stock;
    cpu_handles_[i].page_stock_slots = config_.profile_traits().page_stock_slots;
    cpu_handles_[i].task_caches_objcg = config_.profile_traits().objcg_refs_from_memcg_and_task;
    cpu_handles_[i].mutant = mutant_;
  }
  // The root memcg: CSS_NO_REF, unlimited, no objcg (memcg_online_kmem skips it).
  Memcg& root = memcgs_.emplace_back();
  root.id = 0;
  root.path = spec::kRootPath;
  root.level = 0;
  page_counter_init(root.memory, nullptr, &root, 0, page_counter_max_);
  root.css.init(pcpu, 0, /*no_ref=*/true);
  root_ = &root;
  online_by_path_.assign(paths_.size(), nullptr);
  online_by_path_[spec::kRootPath] = root_;
}

Memcg* System::online_memcg(spec::PathKey path) {
  if (path >= online_by_path_.size()) online_by_path_.resize(path + 1, nullptr);
  return online_by_path_[path];
}

std::uint32_t System::lowest_online_cpu() const {
  for (std::uint32_t i = 0; i < config_.ncpus; ++i)
    if (cpus_[i].online.load()) return i;
  return 0;
}

// obj_cgroup_alloc + memcg_online_kmem (v6.6).
Objcg* System::new_objcg(Cpu& cur, Memcg* memcg) {
  Objcg& objcg = objcgs_.emplace_back();
  objcg.id = static_cast<spec::ObjcgId>(objcgs_.size());
  objcg.origin = memcg;
  objcg.list.owner = &objcg;
  objcg.ghost_slot = pcpu.alloc_slot();
  // The memcg's initial ref (Mutant::canary: two).
  objcg.refcnt.init(pcpu, mutant_ == spec::Mutant::canary ? 2 : 1, /*no_ref=*/false);
  objcg.memcg.store(memcg);
  return &objcg;
}

// mem_cgroup_css_alloc + css_online (v6.6); cgroup_mutex held.
Memcg* System::new_memcg(Cpu& cur, Memcg* parent, spec::PathKey path) {
  Memcg& memcg = memcgs_.emplace_back();
  memcg.id = static_cast<spec::MemcgId>(memcgs_.size() - 1);
  memcg.path = path;
  memcg.parent = parent;
  memcg.level = parent->level + 1;
  page_counter_init(memcg.memory, &parent->memory, &memcg, memcg.id, page_counter_max_);
  memcg.css.init(pcpu, 2, /*no_ref=*/false);  // base ref + the ID ref of css_online
  css_get(cur, parent);                       // init_and_link_css
  ++parent->nr_online_children;
  Objcg* objcg = new_objcg(cur, &memcg);
  memcg.objcg.store(objcg);
  // v6.7+ memcg_online_kmem: obj_cgroup_get(objcg); memcg->orig_objcg = objcg.
  if (cur.task_caches_objcg) {
    obj_cgroup_get(cur, objcg);
    memcg.orig_objcg = objcg;
  }
  online_by_path_[path] = &memcg;
  return &memcg;
}

spec::Errno System::mkdir(Cpu& cur, spec::PathKey path) {
  sync::Guard g(cgroup_mutex);
  if (online_memcg(path)) return spec::Errno::eexist;
  if (path >= paths_.size()) return spec::Errno::enoent;  // not interned: no parent
  auto parent_path = paths_.parent(path);
  if (!parent_path) return spec::Errno::eexist;  // "/" always exists
  Memcg* parent = online_memcg(*parent_path);
  if (!parent) return spec::Errno::enoent;
  new_memcg(cur, parent, path);
  return spec::Errno::ok;
}

// cgroup_rmdir -> cgroup_destroy_locked (v6.6): kill the css now; the offline
// runs after the kill is confirmed.
spec::Errno System::rmdir(Cpu& cur, spec::PathKey path) {
  sync::Guard g(cgroup_mutex);
  Memcg* memcg = online_memcg(path);
  if (!memcg) return spec::Errno::enoent;
  if (memcg->is_root() || memcg->nr_tasks.load() || memcg->nr_online_children)
    return spec::Errno::ebusy;
  memcg->state.store(static_cast<std::uint8_t>(spec::CgroupState::dying));
  --memcg->parent->nr_online_children;
  online_by_path_[path] = nullptr;
  // kill_css: its own css_get (held until after the offline), then
  // percpu_ref_kill_and_confirm (the switch's confirm ref, the base ref put).
  css_get(cur, memcg);
  RefResult r = memcg->css.kill();
  if (r == RefResult::underflow) events.record(spec::EventKind::css_ref_underflow, memcg->id, -1);
  memcg->offline_cpu = cur.id;
  queue_work(cur, memcg->offline_work, WorkKind::css_offline, memcg, /*rcu=*/true);
  return spec::Errno::ok;
}

spec::Errno System::spawn(Cpu& cur, Task& task, spec::PathKey path, std::uint32_t cpu) {
  sync::Guard g(cgroup_mutex);
  Memcg* memcg = online_memcg(path);
  if (!memcg) return spec::Errno::enoent;
  css_get(cur, memcg);
  memcg->nr_tasks.fetch_add(1);
  task.memcg.store(memcg);
  task.cpu.store(cpu);
  task.live = true;
  // v6.7+ mem_cgroup_fork: the objcg is looked up at the first allocation.
  task.objcg = nullptr;
  task.objcg_update = cur.task_caches_objcg;
  return spec::Errno::ok;
}

void System::exit(Cpu& cur, Task& task) {
  sync::Guard g(cgroup_mutex);
  Memcg* memcg = task.memcg.load();
  // v6.7+ mem_cgroup_exit: obj_cgroup_put(task->objcg).
  if (Objcg* objcg = std::exchange(task.objcg, nullptr)) obj_cgroup_put(cur, objcg);
  memcg->nr_tasks.fetch_sub(1);
  css_put(cur, memcg);
  task.live = false;
}

spec::Errno System::migrate(Cpu& cur, Task& task, spec::PathKey path) {
  sync::Guard g(cgroup_mutex);
  Memcg* to = online_memcg(path);
  if (!to) return spec::Errno::enoent;
  Memcg* from = task.memcg.load();
  css_get(cur, to);
  to->nr_tasks.fetch_add(1);
  task.memcg.store(to);
  // v6.7+ mem_cgroup_kmem_attach: set_bit(CURRENT_OBJCG_UPDATE_BIT).
  if (cur.task_caches_objcg) task.objcg_update = true;
  from->nr_tasks.fetch_sub(1);
  css_put(cur, from);
  return spec::Errno::ok;
}

spec::Errno System::drain_all(Cpu& cur, spec::PathKey path) {
  sync::Guard g(cgroup_mutex);
  Memcg* memcg = online_memcg(path);
  if (!memcg) return spec::Errno::enoent;
  drain_all_stock(cur, memcg);
  return spec::Errno::ok;
}

// mem_cgroup_resize_max (v6.6) without reclaim: set, else drain every stock
// and try once more.
spec::Errno System::set_max(Cpu& cur, spec::PathKey path, std::optional<std::uint64_t> max_pages) {
  sync::Guard g(cgroup_mutex);
  if (path == spec::kRootPath) return spec::Errno::einval;
  Memcg* memcg = online_memcg(path);
  if (!memcg) return spec::Errno::enoent;
  unsigned long max =
      max_pages ? arith::page_counter_clamp_max<arith::M>(arith::M::lit64(*max_pages), page_).v
                : page_counter_max_;
  for (bool drained = false;; drained = true) {
    bool ok;
    {
      sync::Guard m(memcg_max_mutex);
      ok = page_counter_set_max(&memcg->memory, max);
    }
    if (ok) return spec::Errno::ok;
    if (drained) return spec::Errno::ebusy;
    drain_all_stock(cur, memcg);
  }
}

// memcg_hotplug_cpu_dead (v6.6), run on `cur`: the dead CPU's page stock is
// uncharged. With 9f01b4954490 (the profile's hotplug_drains_obj_stock) its
// byte stock is drained first, into cur's page stock (__refill_stock is
// this_cpu); without, the byte stock keeps its bytes and objcg ref.
spec::Errno System::cpu_offline(Cpu& cur, std::uint32_t dead) {
  CpuData& data = cpus_[dead];
  if (!data.online.load()) return spec::Errno::einval;
  std::uint32_t nr_online = 0;
  for (std::uint32_t i = 0; i < config_.ncpus; ++i) nr_online += cpus_[i].online.load();
  if (nr_online == 1) return spec::Errno::ebusy;
  data.online.store(false);
  MemcgStockPcp& stock = data.stock;
  Objcg* old = nullptr;
  Objcg* hidden_old = nullptr;
  // Mutant::hotplug_drains_page_stock_only: 9f01b4954490 reverted.
  if (config_.profile_traits().hotplug_drains_obj_stock &&
      mutant_ != spec::Mutant::hotplug_drains_page_stock_only) {
    cur.stock().stock_lock.lock();
    old = drain_obj_stock(cur, stock);
    if (MemcgStockPcp* hidden = hidden_obj_stock(dead)) hidden_old = drain_obj_stock(cur, *hidden);
    cur.stock().stock_lock.unlock();
  }
  drain_stock(cur, stock);
  if (old) obj_cgroup_put(cur, old);
  if (hidden_old) obj_cgroup_put(cur, hidden_old);
  return spec::Errno::ok;
}

spec::Snapshot System::snapshot() const {
  spec::Snapshot snap;
  snapshot_into(snap);
  return snap;
}

void System::snapshot_into(spec::Snapshot& snap) const {
  spec::reset_keeping_storage(snap);
  snap.config = config_;
  // Taken after every checked step: at most one allocation per table, none
  // once `snap` has been filled before.
  snap.cgroups.reserve(memcgs_.size());
  snap.objcgs.reserve(objcgs_.size());
  snap.stocks.resize(config_.ncpus);
  for (const Memcg& memcg : memcgs_) {
    spec::CgroupSnap& c = snap.cgroups.emplace_back();
    c.id = memcg.id;
    c.path = memcg.path;
    if (memcg.parent) c.parent = memcg.parent->id;
    c.state = memcg.load_state();
    c.offlined = memcg.offlined.load();
    c.usage_pages = memcg.memory.usage.load();
    unsigned long max = memcg.memory.max.load();
    if (max != page_counter_max_) c.max_pages = max;
    c.failcnt = memcg.memory.failcnt.load();
    c.watermark_pages = memcg.memory.watermark.load();
    c.css_refs = memcg.css.total(pcpu);
    if (Objcg* objcg = memcg.objcg.load()) c.objcg = objcg->id;
    c.nr_tasks = memcg.nr_tasks.load();
  }
  for (const Objcg& objcg : objcgs_) {
    spec::ObjcgSnap& o = snap.objcgs.emplace_back();
    o.id = objcg.id;
    o.origin = objcg.origin->id;
    o.memcg = objcg.memcg.load()->id;
    o.state = objcg.load_state();
    bool released = o.state == spec::ObjcgState::released;
    o.refs = released ? 0 : objcg.refcnt.total(pcpu);
    o.nr_charged_bytes =
        released ? objcg.released_nr_charged_bytes : objcg.nr_charged_bytes.load();
    o.charged_pages = objcg_ghost_total(pcpu, &objcg);
    o.switch_pending = !released && objcg.refcnt.killed() && !objcg.refcnt.switched();
  }
  for (std::uint32_t i = 0; i < config_.ncpus; ++i) {
    const CpuData& cpu = cpus_[i];
    spec::StockSnap& s = snap.stocks[i];  // reset, its slot list's storage kept
    s.cpu = i;
    s.online = cpu.online.load();
    for (std::uint32_t slot = 0; slot < kMaxPageStockSlots; ++slot)
      if (Memcg* cached = cpu.stock.cached[slot].load())
        s.page_stock.push_back(spec::PageStockSlot{cached->id, cpu.stock.nr_pages[slot].load()});
    if (Objcg* cached = cpu.stock.cached_objcg.load()) s.cached_objcg = cached->id;
    s.nr_bytes = cpu.stock.nr_bytes;
    s.flushing = (cpu.stock.flags.load() & kFlushingCachedCharge) != 0;
    s.obj_flushing = (cpu.stock.obj_flags.load() & kFlushingCachedCharge) != 0;
    s.evictions = cpu.stock.evictions;
  }
  snap.events = events.events();
  snap.pending_work = nr_pending_work();
}

}  // namespace mv::impl
