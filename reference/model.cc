// The reference model: boot, dispatch of each spec::Op to the function that
// models the kernel path it stands for, and the canonical snapshot.
#include "reference/model.h"

#include <algorithm>
#include <stdexcept>
#include <variant>

#include <fmt/format.h>

#include "arith/page_counter.h"
#include "reference/kernel_state.h"
#include "spec/overloaded.h"

namespace mv::reference {

using arith::M;
using spec::Cpu;
using spec::Errno;

namespace {

bool cpu_in_range(const Kernel& k, Cpu cpu) { return cpu < k.stocks.size(); }

Errno drain_all(Kernel& k, const spec::DrainAll& op) {
  auto memcg = online_memcg(k, op.cg);
  if (!memcg) return Errno::enoent;
  drain_all_stock(k, op.cpu, *memcg);
  return Errno::ok;
}

spec::CgroupSnap cgroup_snap(const Kernel& k, const MemCgroup& m) {
  spec::CgroupSnap snap;
  snap.id = m.id;
  snap.path = m.path;
  snap.parent = m.parent;
  snap.state = m.state;
  snap.offlined = m.offlined;
  snap.usage_pages = static_cast<std::int64_t>(m.memory.usage_bits);
  if (m.memory.max_pages != arith::page_counter_max<M>(k.page).v) snap.max_pages = m.memory.max_pages;
  snap.failcnt = m.memory.failcnt;
  snap.watermark_pages = m.memory.watermark_pages;
  snap.css_refs = mem_cgroup_is_root(k, m.id) ? 0 : m.css_refs;
  snap.objcg = m.objcg;
  snap.nr_tasks = m.nr_tasks;
  snap.kmemcg_id = m.kmemcg_id;
  snap.cache_work_refs = m.cache_work_refs;
  return snap;
}

spec::KmemCacheSnap cache_snap(const KmemCache& c) {
  return spec::KmemCacheSnap{.id = c.id,
                             .name = c.name,
                             .root = c.root,
                             .object_size_bytes = c.object_size_bytes,
                             .order = c.order,
                             .objects_per_slab = c.objects_per_slab,
                             .kmemcg_id = c.kmemcg_id,
                             .origin = c.origin,
                             .memcg = c.memcg,
                             .state = c.state,
                             .killed = c.killed,
                             .refs = c.refs};
}

spec::SlabPageSnap slab_page_snap(const SlabPage& p) {
  return spec::SlabPageSnap{.id = p.id,
                            .cache = p.cache,
                            .order = p.order,
                            .nr_objects = p.nr_objects,
                            .charged_pages = p.charged_pages,
                            .memcg = p.memcg};
}

spec::ObjcgSnap objcg_snap(const ObjCgroup& o) {
  spec::ObjcgSnap snap;
  snap.id = o.id;
  snap.origin = o.origin;
  snap.memcg = o.memcg;
  snap.state = o.state;
  snap.refs = o.state == spec::ObjcgState::released ? 0 : o.refs;
  snap.nr_charged_bytes = o.nr_charged_bytes;
  snap.charged_pages = o.charged_pages;
  snap.switch_pending = o.switch_pending;
  return snap;
}

// The page stock's slots that cache a memcg, in slot order; written over
// `snap` in place (the storage of its slot list kept).
void fill_stock_snap(Cpu cpu, const MemcgStockPcp& s, spec::StockSnap& snap) {
  spec::reset_keeping_storage(snap);
  snap.cpu = cpu;
  snap.online = s.online;
  for (const auto& slot : s.page.slots)
    if (slot.cached) snap.page_stock.push_back(spec::PageStockSlot{*slot.cached, slot.nr_pages});
  snap.cached_objcg = s.obj.cached_objcg;
  snap.nr_bytes = s.obj.nr_bytes;
  snap.flushing = s.flushing;
  snap.obj_flushing = s.obj_flushing;
  snap.evictions = s.page.evictions;
}

spec::StockSnap stock_snap(Cpu cpu, const MemcgStockPcp& s) {
  spec::StockSnap snap;
  fill_stock_snap(cpu, s, snap);
  return snap;
}

spec::TaskSnap task_snap(spec::TaskKey key, const Task& task) {
  return spec::TaskSnap{key, task.memcg, task.cpu, task.objcg, task.objcg_update};
}

spec::ObjectSnap object_snap(spec::ObjKey key, const KmemObject& obj) {
  return spec::ObjectSnap{key,         obj.kind,          obj.charged_bytes, obj.objcg,
                          obj.memcg,   obj.nr_kmem_pages, obj.slab_page};
}

// take_snapshot without the live objects (spec::Model::snapshot_without_objects),
// written over `snap` in place (spec::reset_keeping_storage).
void snapshot_without_objects_into(const Kernel& k, spec::Snapshot& snap) {
  spec::reset_keeping_storage(snap);
  snap.config = k.config;
  snap.cgroups.reserve(k.memcgs.size());
  snap.objcgs.reserve(k.objcgs.size());
  snap.stocks.resize(k.stocks.size());
  snap.tasks.reserve(k.tasks.size());
  for (const auto& m : k.memcgs) snap.cgroups.push_back(cgroup_snap(k, m));
  for (const auto& o : k.objcgs) snap.objcgs.push_back(objcg_snap(o));
  for (Cpu cpu = 0; cpu < k.stocks.size(); ++cpu) fill_stock_snap(cpu, k.stock(cpu), snap.stocks[cpu]);
  for (const auto& [key, task] : k.tasks) snap.tasks.push_back(task_snap(key, task));
  snap.caches.reserve(k.caches.size());
  for (const auto& c : k.caches) snap.caches.push_back(cache_snap(c));
  snap.slab_pages.reserve(k.slab_pages.size());
  for (const auto& [id, p] : k.slab_pages) snap.slab_pages.push_back(slab_page_snap(p));
  snap.events = k.events;
  snap.pending_work = static_cast<std::uint32_t>(k.deferred.size());
}

spec::Snapshot snapshot_without_objects(const Kernel& k) {
  spec::Snapshot snap;
  snapshot_without_objects_into(k, snap);
  return snap;
}

class ReferenceModel final : public spec::Model {
 public:
  ReferenceModel(const spec::Config& config, const spec::PathTable& paths)
      : kernel_(boot_kernel(config, paths)),
        nr_memcgs_(kernel_.memcgs.size()),
        nr_objcgs_(kernel_.objcgs.size()),
        nr_events_(kernel_.events.size()) {
    kernel_.written_memcgs.take();
    kernel_.written_objcgs.take();
    kernel_.written_stocks.take();
  }
  Errno apply(const spec::Op& op) override { return apply_op(kernel_, op); }
  spec::Snapshot snapshot() const override { return take_snapshot(kernel_); }
  std::string_view name() const override { return "reference"; }
  bool set_scheduler(spec::Scheduler* scheduler) override {
    kernel_.sched = scheduler;
    return true;
  }
  spec::Snapshot snapshot_without_objects() const override {
    return reference::snapshot_without_objects(kernel_);
  }
  void snapshot_without_objects_into(spec::Snapshot& out) const override {
    reference::snapshot_without_objects_into(kernel_, out);
  }
  std::optional<spec::ObjectSnap> live_object(spec::ObjKey key) const override {
    auto it = kernel_.objects.find(key);
    if (it == kernel_.objects.end()) return std::nullopt;
    return object_snap(key, it->second);
  }
  std::optional<spec::SnapshotDelta> take_changes() override;

 private:
  Kernel kernel_;
  // What the last take_changes() reported.
  std::size_t nr_memcgs_, nr_objcgs_, nr_events_;
  std::map<spec::TaskKey, spec::TaskSnap> tasks_;  // none at boot
};

// The entries written (Kernel's accessors noted them) and those appended since.
std::vector<std::uint32_t> written_or_new(WrittenIds& written, std::size_t& known, std::size_t now,
                                          std::uint32_t first_id) {
  std::vector<std::uint32_t> ids = written.take();
  for (; known < now; ++known) ids.push_back(static_cast<std::uint32_t>(known) + first_id);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

std::optional<spec::SnapshotDelta> ReferenceModel::take_changes() {
  const Kernel& k = kernel_;
  spec::SnapshotDelta d;
  for (auto id : written_or_new(kernel_.written_memcgs, nr_memcgs_, k.memcgs.size(), 0))
    d.cgroups.push_back(cgroup_snap(k, k.memcgs.at(id)));
  for (auto id : written_or_new(kernel_.written_objcgs, nr_objcgs_, k.objcgs.size(), 1))
    d.objcgs.push_back(objcg_snap(k.objcgs.at(id - 1)));
  std::size_t nr_stocks = k.stocks.size();
  for (auto cpu : written_or_new(kernel_.written_stocks, nr_stocks, nr_stocks, 0))
    d.stocks.push_back(stock_snap(cpu, k.stocks.at(cpu)));
  // Tasks (written directly, and few) are compared whole.
  for (const auto& [key, task] : k.tasks) {
    const spec::TaskSnap snap = task_snap(key, task);
    auto [it, added] = tasks_.try_emplace(key, snap);
    if (!added && it->second == snap) continue;
    it->second = snap;
    d.tasks.push_back(snap);
  }
  if (tasks_.size() != k.tasks.size()) {
    for (auto it = tasks_.begin(); it != tasks_.end();) {
      if (k.tasks.count(it->first)) {
        ++it;
      } else {
        d.tasks_gone.push_back(it->first);
        it = tasks_.erase(it);
      }
    }
  }
  d.events.assign(k.events.begin() + static_cast<std::ptrdiff_t>(std::min(nr_events_, k.events.size())),
                  k.events.end());
  nr_events_ = k.events.size();
  d.pending_work = static_cast<std::uint32_t>(k.deferred.size());
  return d;
}

}  // namespace

Kernel boot_kernel(const spec::Config& config, const spec::PathTable& paths) {
  Kernel k;
  k.config = config;
  k.page = arith::PageGeometry::of(config.page_size_bytes);
  k.paths = &paths;
  MemCgroup root;
  root.id = 0;
  root.path = spec::kRootPath;
  root.memory.max_pages = arith::page_counter_max<M>(k.page).v;
  k.memcgs.push_back(root);
  k.online_by_path[spec::kRootPath] = 0;
  k.stocks.assign(config.ncpus, MemcgStockPcp{});
  return k;
}

spec::Snapshot take_snapshot(const Kernel& k) {
  spec::Snapshot snap = snapshot_without_objects(k);
  snap.objects.reserve(k.objects.size());
  for (const auto& [key, obj] : k.objects) snap.objects.push_back(object_snap(key, obj));
  return snap;
}

Errno apply_op(Kernel& k, const spec::Op& op) {
  // The driver resolves CPUs; a CPU out of range is refused, never a crash.
  return std::visit(
      spec::Overloaded{
          [&](const spec::Mkdir& o) { return cgroup_mkdir(k, o.cg); },
          [&](const spec::Rmdir& o) {
            return cpu_in_range(k, o.cpu) ? cgroup_rmdir(k, o.cpu, o.cg) : Errno::einval;
          },
          [&](const spec::Spawn& o) {
            return cpu_in_range(k, o.cpu) ? task_spawn(k, o.task, o.cg, o.cpu) : Errno::einval;
          },
          [&](const spec::Exit& o) { return task_exit(k, o.task); },
          [&](const spec::Migrate& o) { return task_migrate(k, o.task, o.cg); },
          [&](const spec::RunOn& o) {
            return cpu_in_range(k, o.cpu) ? task_run_on(k, o.task, o.cpu) : Errno::einval;
          },
          [&](const spec::Alloc& o) { return kmem_alloc(k, o); },
          [&](const spec::Free& o) {
            return cpu_in_range(k, o.cpu) ? kmem_free(k, o) : Errno::einval;
          },
          [&](const spec::Drain& o) {
            if (!cpu_in_range(k, o.cpu)) return Errno::einval;
            drain_local_stock(k, o.cpu);
            return Errno::ok;
          },
          [&](const spec::DrainAll& o) {
            return cpu_in_range(k, o.cpu) ? drain_all(k, o) : Errno::einval;
          },
          [&](const spec::SetMax& o) {
            return cpu_in_range(k, o.cpu) ? mem_cgroup_resize_max(k, o.cpu, o.cg, o.max_pages)
                                          : Errno::einval;
          },
          [&](const spec::CpuOffline& o) {
            return cpu_in_range(k, o.cpu) ? memcg_hotplug_cpu_dead(k, o.cpu) : Errno::einval;
          },
          [&](const spec::Quiesce&) {
            quiesce(k);
            return Errno::ok;
          },
      },
      op);
}

std::unique_ptr<spec::Model> make_reference_model(const spec::Config& config,
                                                  const spec::PathTable& paths) {
  if (auto problem = spec::config_problem(config); !problem.empty())
    throw std::invalid_argument(problem);
  return std::make_unique<ReferenceModel>(config, paths);
}

}  // namespace mv::reference
