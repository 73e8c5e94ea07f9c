#include "kernel/kernel_model.h"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <variant>

#include <fmt/format.h>

#include "kernel/c/mvk_api.h"
#include "spec/overloaded.h"

namespace mv::kernel {

namespace fs = std::filesystem;
using spec::Cpu;
using spec::Errno;

namespace {

[[noreturn]] void throw_kernel_failure(const char* message) { throw KernelFailure(message); }

// A private copy of `path` (unlinked once loaded: the mapping stays).
fs::path private_copy(const fs::path& path) {
  std::string pattern = (fs::temp_directory_path() / "mv-kernel-model-XXXXXX").string();
  int fd = mkstemp(pattern.data());
  if (fd < 0) throw std::runtime_error("cannot create a temporary copy of the kernel model");
  close(fd);
  std::error_code ec;
  fs::copy_file(path, pattern, fs::copy_options::overwrite_existing, ec);
  if (ec) {
    fs::remove(pattern);
    throw std::runtime_error(fmt::format("{}: cannot copy the kernel model: {}", path.string(), ec.message()));
  }
  return pattern;
}

Errno to_errno(int result) {
  switch (result) {
    case MVK_OK: return Errno::ok;
    case MVK_EBUSY: return Errno::ebusy;
    case MVK_ENOENT: return Errno::enoent;
    case MVK_ENOMEM: return Errno::enomem;
    case MVK_EEXIST: return Errno::eexist;
    default: return Errno::einval;
  }
}

struct Object {
  spec::AllocKind kind;
  void* handle;
};

struct Task {
  spec::MemcgId memcg;
  Cpu cpu;
};

class KernelModel final : public spec::Model {
 public:
  KernelModel(std::shared_ptr<KernelModule> module, const spec::Config& config,
              const spec::PathTable& paths)
      : module_(std::move(module)), api_(module_->api()), config_(config), paths_(paths) {
    if (auto problem = spec::config_problem(config); !problem.empty()) throw std::invalid_argument(problem);
    api_.set_bug_handler(throw_kernel_failure);
    api_.boot(config.ncpus, static_cast<unsigned long>(config.page_size_bytes));
    cpu_online_.assign(config.ncpus, true);
    memcg_paths_.push_back(spec::kRootPath);
    memcg_tasks_.push_back(0);
    online_by_path_[spec::kRootPath] = 0;
  }

  Errno apply(const spec::Op& op) override {
    return std::visit(
        spec::Overloaded{
            [&](const spec::Mkdir& o) { return in_range(o.cpu) ? mkdir(o) : Errno::einval; },
            [&](const spec::Rmdir& o) { return in_range(o.cpu) ? rmdir(o) : Errno::einval; },
            [&](const spec::Spawn& o) { return in_range(o.cpu) ? spawn(o) : Errno::einval; },
            [&](const spec::Exit& o) { return exit(o); },
            [&](const spec::Migrate& o) { return migrate(o); },
            [&](const spec::RunOn& o) {
              if (!in_range(o.cpu)) return Errno::einval;
              auto it = tasks_.find(o.task);
              if (it == tasks_.end()) return Errno::enoent;
              it->second.cpu = o.cpu;
              return Errno::ok;
            },
            [&](const spec::Alloc& o) { return alloc(o); },
            [&](const spec::Free& o) { return in_range(o.cpu) ? free(o) : Errno::einval; },
            [&](const spec::Drain& o) {
              if (!in_range(o.cpu)) return Errno::einval;
              api_.drain_local(o.cpu);
              return Errno::ok;
            },
            [&](const spec::DrainAll& o) {
              if (!in_range(o.cpu)) return Errno::einval;
              auto memcg = online(o.cg);
              if (!memcg) return Errno::enoent;
              api_.drain_all(static_cast<int>(*memcg), o.cpu);
              return Errno::ok;
            },
            [&](const spec::SetMax& o) { return in_range(o.cpu) ? set_max(o) : Errno::einval; },
            [&](const spec::CpuOffline& o) { return in_range(o.cpu) ? cpu_offline(o.cpu) : Errno::einval; },
            [&](const spec::Quiesce&) {
              api_.quiesce();
              return Errno::ok;
            },
        },
        op);
  }

  spec::Snapshot snapshot() const override {
    spec::Snapshot snap = snapshot_without_objects();
    snap.objects.reserve(objects_.size());
    for (const auto& [key, object] : objects_) snap.objects.push_back(object_snap(key, object));
    return snap;
  }

  spec::Snapshot snapshot_without_objects() const override {
    spec::Snapshot snap;
    snap.config = config_;
    const int nr_memcgs = api_.nr_memcgs();
    snap.cgroups.reserve(nr_memcgs);
    for (int id = 0; id < nr_memcgs; ++id) snap.cgroups.push_back(cgroup_snap(id));
    const int nr_objcgs = api_.nr_objcgs();
    for (int id = 1; id <= nr_objcgs; ++id) snap.objcgs.push_back(objcg_snap(id));
    for (Cpu cpu = 0; cpu < config_.ncpus; ++cpu) snap.stocks.push_back(stock_snap(cpu));
    for (const auto& [key, task] : tasks_) snap.tasks.push_back(spec::TaskSnap{key, task.memcg, task.cpu});
    const unsigned nr_events = api_.nr_events();
    for (unsigned i = 0; i < nr_events; ++i) {
      mvk_event e{};
      api_.event(i, &e);
      snap.events.push_back(spec::Event{static_cast<spec::EventKind>(e.kind), e.subject, e.value});
    }
    snap.pending_work = api_.pending_work();
    return snap;
  }

  std::optional<spec::ObjectSnap> live_object(spec::ObjKey key) const override {
    auto it = objects_.find(key);
    if (it == objects_.end()) return std::nullopt;
    return object_snap(key, it->second);
  }

  std::string_view name() const override { return "kernel"; }

  std::vector<std::string> warnings() const {
    std::vector<std::string> out;
    const unsigned n = std::min(api_.nr_warnings(), 16u);
    for (unsigned i = 0; i < n; ++i) out.emplace_back(api_.warning(i));
    return out;
  }

 private:
  bool in_range(Cpu cpu) const { return cpu < config_.ncpus; }

  std::optional<spec::MemcgId> online(spec::PathKey path) const {
    auto it = online_by_path_.find(path);
    if (it == online_by_path_.end()) return std::nullopt;
    return it->second;
  }

  // cgroup_mkdir: a dying memcg of the same path does not block (its kernfs
  // name went at rmdir).
  Errno mkdir(const spec::Mkdir& o) {
    if (online(o.cg)) return Errno::eexist;
    if (o.cg >= paths_.size()) return Errno::enoent;
    auto parent_path = paths_.parent(o.cg);
    if (!parent_path) return Errno::eexist;  // "/"
    auto parent = online(*parent_path);
    if (!parent) return Errno::enoent;
    int id = api_.mkdir(static_cast<int>(*parent), o.cpu);
    memcg_paths_.push_back(o.cg);
    memcg_tasks_.push_back(0);
    online_by_path_[o.cg] = static_cast<spec::MemcgId>(id);
    return Errno::ok;
  }

  // cgroup_rmdir -> cgroup_destroy_locked: refused while it has tasks or an
  // online child (css_has_online_children), and for the root.
  Errno rmdir(const spec::Rmdir& o) {
    auto memcg = online(o.cg);
    if (!memcg) return Errno::enoent;
    if (*memcg == 0 || memcg_tasks_[*memcg] != 0) return Errno::ebusy;
    for (const auto& [path, child] : online_by_path_) {
      mvk_memcg_info info{};
      api_.memcg_info(static_cast<int>(child), &info);
      if (info.parent == static_cast<int>(*memcg)) return Errno::ebusy;
    }
    api_.rmdir(static_cast<int>(*memcg), o.cpu);
    online_by_path_.erase(o.cg);
    return Errno::ok;
  }

  Errno spawn(const spec::Spawn& o) {
    if (tasks_.count(o.task)) return Errno::eexist;
    auto memcg = online(o.cg);
    if (!memcg) return Errno::enoent;
    api_.task_attach(static_cast<int>(*memcg));
    memcg_tasks_[*memcg] += 1;
    tasks_[o.task] = Task{*memcg, o.cpu};
    return Errno::ok;
  }

  Errno exit(const spec::Exit& o) {
    auto it = tasks_.find(o.task);
    if (it == tasks_.end()) return Errno::enoent;
    spec::MemcgId memcg = it->second.memcg;
    tasks_.erase(it);
    memcg_tasks_[memcg] -= 1;
    api_.task_detach(static_cast<int>(memcg));
    return Errno::ok;
  }

  // cgroup_migrate: the new css_set is referenced before the old one is put.
  Errno migrate(const spec::Migrate& o) {
    auto it = tasks_.find(o.task);
    if (it == tasks_.end()) return Errno::enoent;
    auto to = online(o.cg);
    if (!to) return Errno::enoent;
    spec::MemcgId from = it->second.memcg;
    api_.task_attach(static_cast<int>(*to));
    memcg_tasks_[*to] += 1;
    it->second.memcg = *to;
    memcg_tasks_[from] -= 1;
    api_.task_detach(static_cast<int>(from));
    return Errno::ok;
  }

  Errno alloc(const spec::Alloc& o) {
    auto task = tasks_.find(o.task);
    if (task == tasks_.end()) return Errno::enoent;
    if (objects_.count(o.obj)) return Errno::eexist;
    void* handle = nullptr;
    int ret = api_.alloc(static_cast<int>(o.kind), static_cast<int>(task->second.memcg),
                         task->second.cpu, o.size_bytes, o.order, o.nofail ? 1 : 0, &handle);
    if (ret == MVK_OK) objects_[o.obj] = Object{o.kind, handle};
    return to_errno(ret);
  }

  Errno free(const spec::Free& o) {
    auto it = objects_.find(o.obj);
    if (it == objects_.end()) return Errno::enoent;
    Object object = it->second;
    objects_.erase(it);
    api_.free(static_cast<int>(object.kind), object.handle, o.cpu);
    return Errno::ok;
  }

  Errno set_max(const spec::SetMax& o) {
    if (o.cg == spec::kRootPath) return Errno::einval;  // the root has no memory.max
    auto memcg = online(o.cg);
    if (!memcg) return Errno::enoent;
    return to_errno(api_.set_max(static_cast<int>(*memcg), o.max_pages.value_or(0),
                                 o.max_pages ? 0 : 1, o.cpu));
  }

  // The hotplug core: EINVAL for an offline CPU, EBUSY for the last one; the
  // dead CPU's tasks move to the lowest online CPU, which drives the
  // teardown.
  Errno cpu_offline(Cpu cpu) {
    if (!cpu_online_[cpu]) return Errno::einval;
    cpu_online_[cpu] = false;
    auto control = std::find(cpu_online_.begin(), cpu_online_.end(), true);
    if (control == cpu_online_.end()) {
      cpu_online_[cpu] = true;
      return Errno::ebusy;
    }
    const Cpu control_cpu = static_cast<Cpu>(control - cpu_online_.begin());
    for (auto& [key, task] : tasks_)
      if (task.cpu == cpu) task.cpu = control_cpu;
    api_.cpu_offline(cpu, control_cpu);
    return Errno::ok;
  }

  spec::CgroupSnap cgroup_snap(int id) const {
    mvk_memcg_info info{};
    api_.memcg_info(id, &info);
    spec::CgroupSnap snap;
    snap.id = static_cast<spec::MemcgId>(id);
    snap.path = memcg_paths_.at(id);
    if (info.parent >= 0) snap.parent = static_cast<spec::MemcgId>(info.parent);
    snap.state = static_cast<spec::CgroupState>(info.state);
    snap.offlined = info.offlined != 0;
    snap.usage_pages = info.usage_pages;
    if (!info.max_unlimited) snap.max_pages = info.max_pages;
    snap.failcnt = info.failcnt;
    snap.watermark_pages = info.watermark_pages;
    snap.css_refs = info.css_refs;
    if (info.objcg != 0) snap.objcg = static_cast<spec::ObjcgId>(info.objcg);
    snap.nr_tasks = memcg_tasks_.at(id);
    return snap;
  }

  spec::ObjcgSnap objcg_snap(int id) const {
    mvk_objcg_info info{};
    api_.objcg_info(id, &info);
    spec::ObjcgSnap snap;
    snap.id = static_cast<spec::ObjcgId>(id);
    snap.origin = static_cast<spec::MemcgId>(info.origin);
    snap.memcg = static_cast<spec::MemcgId>(info.memcg);
    snap.state = static_cast<spec::ObjcgState>(info.state);
    snap.refs = info.refs;
    snap.nr_charged_bytes = info.nr_charged_bytes;
    snap.charged_pages = info.charged_pages;
    return snap;
  }

  spec::StockSnap stock_snap(Cpu cpu) const {
    mvk_stock_info info{};
    api_.stock_info(cpu, &info);
    spec::StockSnap snap;
    snap.cpu = cpu;
    snap.online = info.online != 0;
    if (info.cached_memcg >= 0)
      snap.page_stock.push_back(spec::PageStockSlot{static_cast<spec::MemcgId>(info.cached_memcg), info.nr_pages});
    if (info.cached_objcg != 0) snap.cached_objcg = static_cast<spec::ObjcgId>(info.cached_objcg);
    snap.nr_bytes = info.nr_bytes;
    snap.flushing = info.flushing != 0;
    return snap;
  }

  spec::ObjectSnap object_snap(spec::ObjKey key, const Object& object) const {
    mvk_object_info info{};
    api_.object_info(static_cast<int>(object.kind), object.handle, &info);
    spec::ObjectSnap snap;
    snap.key = key;
    snap.kind = object.kind;
    snap.charged_bytes = info.charged_bytes;
    if (info.objcg != 0) snap.objcg = static_cast<spec::ObjcgId>(info.objcg);
    snap.nr_kmem_pages = info.nr_kmem_pages;
    return snap;
  }

  std::shared_ptr<KernelModule> module_;
  const mvk_api& api_;
  spec::Config config_;
  const spec::PathTable& paths_;
  std::vector<bool> cpu_online_;
  std::vector<spec::PathKey> memcg_paths_;   // by memcg id
  std::vector<std::uint32_t> memcg_tasks_;   // by memcg id
  std::map<spec::PathKey, spec::MemcgId> online_by_path_;
  std::map<spec::TaskKey, Task> tasks_;
  std::map<spec::ObjKey, Object> objects_;
};

}  // namespace

std::shared_ptr<KernelModule> KernelModule::load(const fs::path& path, bool fresh) {
  if (!fs::is_regular_file(path))
    throw std::runtime_error(fmt::format("{}: no such kernel model", path.string()));
  const fs::path file = fresh ? private_copy(path) : path;
  void* handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (fresh) fs::remove(file);
  if (!handle) throw std::runtime_error(fmt::format("{}: cannot load: {}", path.string(), dlerror()));
  auto get_api = reinterpret_cast<const mvk_api* (*)()>(dlsym(handle, "mvk_get_api"));
  if (!get_api) {
    dlclose(handle);
    throw std::runtime_error(fmt::format("{}: not a kernel model (no mvk_get_api)", path.string()));
  }
  const mvk_api* api = get_api();
  if (!api || api->api_version != MVK_API_VERSION) {
    dlclose(handle);
    throw std::runtime_error(fmt::format("{}: kernel model of another interface version ({}, want {})",
                                         path.string(), api ? api->api_version : -1, MVK_API_VERSION));
  }
  std::shared_ptr<KernelModule> module(new KernelModule());
  module->handle_ = handle;
  module->api_ = api;
  module->path_ = path;
  return module;
}

KernelModule::~KernelModule() {
  if (handle_) dlclose(handle_);
}

std::string KernelModule::tree_version() const { return api_->tree_version; }
std::string KernelModule::tree_profile() const { return api_->tree_profile; }
std::string KernelModule::tree_path() const { return api_->tree_path; }

std::unique_ptr<spec::Model> make_kernel_model(std::shared_ptr<KernelModule> module,
                                               const spec::Config& config,
                                               const spec::PathTable& paths) {
  return std::make_unique<KernelModel>(std::move(module), config, paths);
}

std::vector<std::string> kernel_warnings(const spec::Model& model) {
  if (const auto* k = dynamic_cast<const KernelModel*>(&model)) return k->warnings();
  return {};
}

}  // namespace mv::kernel
