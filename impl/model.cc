// The spec::Model adapter: runs each operation sequentially on its CPU and
// shows the canonical snapshot (docs/MODEL-v6.6.md is the contract).
#include "impl/model.h"

#include <algorithm>
#include <deque>

#include <fmt/format.h>
#include <stdexcept>
#include <variant>
#include <vector>

#include "impl/kmem.h"
#include "impl/system.h"

namespace mv::impl {

namespace {

class ImplModel final : public spec::Model {
 public:
  ImplModel(const spec::Config& config, const spec::PathTable& paths, spec::Mutant mutant)
      : sys_(config, paths, SystemOptions{.mutant = mutant}) {}

  spec::Errno apply(const spec::Op& op) override {
    return std::visit([this](const auto& o) { return run(o); }, op);
  }

  spec::Snapshot snapshot() const override {
    spec::Snapshot snap = snapshot_without_objects();
    for (std::size_t key = 0; key < objects_.size(); ++key)
      if (auto o = live_object(static_cast<spec::ObjKey>(key))) snap.objects.push_back(*o);
    return snap;
  }

  // Everything but the objects: its cost does not grow with live objects
  // (properties' summary check mode).
  spec::Snapshot snapshot_without_objects() const override {
    spec::Snapshot snap;
    snapshot_without_objects_into(snap);
    return snap;
  }
  void snapshot_without_objects_into(spec::Snapshot& snap) const override {
    sys_.snapshot_into(snap);
    snap.tasks.reserve(live_tasks_.size());
    for (spec::TaskKey key : live_tasks_) {
      const Task& task = tasks_[key];
      std::optional<spec::ObjcgId> objcg;
      if (task.objcg) objcg = task.objcg->id;
      snap.tasks.push_back(
          spec::TaskSnap{key, task.memcg.load()->id, task.cpu.load(), objcg, task.objcg_update});
    }
  }

  std::optional<spec::ObjectSnap> live_object(spec::ObjKey key) const override {
    if (key >= objects_.size() || !objects_[key].live) return std::nullopt;
    const Object& obj = objects_[key];
    spec::ObjectSnap o;
    o.key = key;
    o.kind = obj.kind;
    o.charged_bytes = obj.charged_bytes;
    if (obj.objcg) o.objcg = obj.objcg->id;
    if (obj.memcg) o.memcg = obj.memcg->id;
    o.nr_kmem_pages = obj.nr_kmem_pages;
    return o;
  }

  std::string_view name() const override { return "impl"; }

  // Only the hooks build (MV_IMPL_SCHED_HOOKS) reaches the scheduler; it is
  // process-wide (sync::g_hook), so one scheduled impl at a time.
  bool set_scheduler(spec::Scheduler* scheduler) override {
#if MV_IMPL_SCHED_HOOKS
    sync::g_hook = scheduler;
    return true;
#else
    return scheduler == nullptr;
#endif
  }

 private:
  Cpu& cpu(spec::Cpu id) { return sys_.cpu(id); }
  // The driver resolves CPUs; one out of range is refused, never a crash.
  bool bad_cpu(spec::Cpu id) const { return id >= sys_.ncpus(); }
  Task& task(spec::TaskKey key) {
    while (tasks_.size() <= key) tasks_.emplace_back();
    return tasks_[key];
  }
  Object& object(spec::ObjKey key) {
    while (objects_.size() <= key) objects_.emplace_back();
    return objects_[key];
  }

  spec::Errno run(const spec::Mkdir& op) {
    return sys_.mkdir(cpu(bad_cpu(op.cpu) ? spec::kDefaultCpu : op.cpu), op.cg);
  }
  spec::Errno run(const spec::Rmdir& op) {
    if (bad_cpu(op.cpu)) return spec::Errno::einval;
    return sys_.rmdir(cpu(op.cpu), op.cg);
  }
  spec::Errno run(const spec::Spawn& op) {
    if (bad_cpu(op.cpu)) return spec::Errno::einval;
    Task& t = task(op.task);
    if (t.live) return spec::Errno::eexist;
    spec::Errno err = sys_.spawn(cpu(op.cpu), t, op.cg, op.cpu);
    if (t.live) live_tasks_.insert(std::upper_bound(live_tasks_.begin(), live_tasks_.end(), op.task), op.task);
    return err;
  }
  spec::Errno run(const spec::Exit& op) {
    Task& t = task(op.task);
    if (!t.live) return spec::Errno::enoent;
    sys_.exit(cpu(t.cpu.load()), t);
    live_tasks_.erase(std::lower_bound(live_tasks_.begin(), live_tasks_.end(), op.task));
    return spec::Errno::ok;
  }
  // The CPU of a migration (of a mkdir too) is only where it runs: one out of
  // range runs it on the default CPU, as the reference and the kernel's code
  // take no CPU for them at all.
  spec::Errno run(const spec::Migrate& op) {
    Task& t = task(op.task);
    if (!t.live) return spec::Errno::enoent;
    return sys_.migrate(cpu(bad_cpu(op.cpu) ? spec::kDefaultCpu : op.cpu), t, op.cg);
  }
  spec::Errno run(const spec::RunOn& op) {
    if (bad_cpu(op.cpu)) return spec::Errno::einval;
    Task& t = task(op.task);
    if (!t.live) return spec::Errno::enoent;
    t.cpu.store(op.cpu);
    return spec::Errno::ok;
  }
  spec::Errno run(const spec::Alloc& op) {
    Task& t = task(op.task);
    if (!t.live) return spec::Errno::enoent;
    Object& obj = object(op.obj);
    if (obj.live) return spec::Errno::eexist;
    spec::Errno ret =
        cpu(t.cpu.load()).alloc(t, obj, op.kind, op.size_bytes, op.order, op.nofail);
    if (ret != spec::Errno::ok) obj = Object{};
    return ret;
  }
  spec::Errno run(const spec::Free& op) {
    if (bad_cpu(op.cpu)) return spec::Errno::einval;
    Object& obj = object(op.obj);
    if (!obj.live) return spec::Errno::enoent;
    cpu(op.cpu).free(obj);
    return spec::Errno::ok;
  }
  spec::Errno run(const spec::Drain& op) {
    if (bad_cpu(op.cpu)) return spec::Errno::einval;
    cpu(op.cpu).drain();
    return spec::Errno::ok;
  }
  spec::Errno run(const spec::DrainAll& op) {
    if (bad_cpu(op.cpu)) return spec::Errno::einval;
    return sys_.drain_all(cpu(op.cpu), op.cg);
  }
  spec::Errno run(const spec::SetMax& op) {
    if (bad_cpu(op.cpu)) return spec::Errno::einval;
    return sys_.set_max(cpu(op.cpu), op.cg, op.max_pages);
  }
  // memcg_hotplug_cpu_dead runs on the CPU driving the hotplug: the lowest
  // other online CPU. Tasks on the dead CPU move to the lowest online CPU.
  spec::Errno run(const spec::CpuOffline& op) {
    if (bad_cpu(op.cpu)) return spec::Errno::einval;
    spec::Cpu runner = op.cpu;
    for (spec::Cpu i = 0; i < sys_.ncpus(); ++i) {
      if (i != op.cpu && sys_.cpu(i).pcp->online.load()) {
        runner = i;
        break;
      }
    }
    spec::Errno ret = sys_.cpu_offline(cpu(runner), op.cpu);
    if (ret != spec::Errno::ok) return ret;
    std::uint32_t to = sys_.lowest_online_cpu();
    for (Task& t : tasks_)
      if (t.live && t.cpu.load() == op.cpu) t.cpu.store(to);
    return spec::Errno::ok;
  }
  spec::Errno run(const spec::Quiesce&) {
    sys_.quiesce();
    return spec::Errno::ok;
  }

  System sys_;
  std::deque<Task> tasks_;      // by TaskKey
  // The keys of the live tasks, in order: the snapshot taken after every
  // checked step lists them without walking every task a run ever spawned.
  std::vector<spec::TaskKey> live_tasks_;
  std::deque<Object> objects_;  // by ObjKey
};

}  // namespace

bool models_profile(spec::Profile profile) {
  return profile == spec::Profile::v5_10 || profile == spec::Profile::v6_1 ||
         profile == spec::Profile::v6_6 || profile == spec::Profile::v6_6_hotplug_fix ||
         profile == spec::Profile::v6_16;
}

std::unique_ptr<spec::Model> make_impl_model(const spec::Config& config,
                                             const spec::PathTable& paths) {
  return make_impl_model(config, paths, spec::Mutant::none);
}

std::unique_ptr<spec::Model> make_impl_model(const spec::Config& config,
                                             const spec::PathTable& paths, spec::Mutant mutant) {
  if (auto problem = spec::config_problem(config); !problem.empty())
    throw std::invalid_argument(problem);
  if (!models_profile(config.profile))
    throw std::invalid_argument(fmt::format("the impl has no {} model (it runs on the reference only)",
                                            spec::profile_name(config.profile)));
  if (!spec::mutant_applies(mutant, config.profile_traits()))
    throw std::invalid_argument(fmt::format("mutant {} does not apply to profile {}",
                                            spec::mutant_name(mutant),
                                            spec::profile_name(config.profile)));
  if (!spec::mutant_in_layer(mutant, spec::kLayerImpl))
    throw std::invalid_argument("this mutant has no impl version");
  return std::make_unique<ImplModel>(config, paths, mutant);
}

}  // namespace mv::impl
