// Test harness for the model tests (tests/reference_*, tests/impl_*): drives
// any spec::Model with names instead of keys, the way the trace driver would,
// and looks snapshot entries up by path. reference_harness.h and
// impl_harness.h bind it to their model.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "spec/model.h"

namespace mv::testing {

using spec::Errno;
using Factory = std::function<std::unique_ptr<spec::Model>(const spec::Config&,
                                                           const spec::PathTable&)>;

class ModelSim {
 public:
  ModelSim(const Factory& factory, std::uint32_t ncpus, std::uint64_t page_size_bytes,
           spec::Profile profile = spec::Profile::v6_6) {
    config_.profile = profile;
    config_.ncpus = ncpus;
    config_.page_size_bytes = page_size_bytes;
    model_ = factory(config_, paths_);
    last_ = model_->snapshot();
  }
  ModelSim(const ModelSim&) = delete;
  ModelSim& operator=(const ModelSim&) = delete;

  spec::PathKey path(const std::string& p) { return paths_.intern(p).value(); }
  spec::TaskKey task(const std::string& t) {
    auto [it, fresh] = tasks_.emplace(t, static_cast<spec::TaskKey>(tasks_.size()));
    return it->second;
  }
  spec::ObjKey obj(const std::string& o) {
    auto [it, fresh] = objs_.emplace(o, static_cast<spec::ObjKey>(objs_.size()));
    return it->second;
  }

  Errno apply(const spec::Op& op) {
    auto result = model_->apply(op);
    last_ = model_->snapshot();
    return result;
  }

  Errno mkdir(const std::string& p, spec::Cpu cpu = 0) { return apply(spec::Mkdir{path(p), cpu}); }
  Errno rmdir(const std::string& p, spec::Cpu cpu = 0) { return apply(spec::Rmdir{path(p), cpu}); }
  Errno spawn(const std::string& t, const std::string& p, spec::Cpu cpu) {
    return apply(spec::Spawn{task(t), path(p), cpu});
  }
  Errno exit(const std::string& t) { return apply(spec::Exit{task(t)}); }
  Errno migrate(const std::string& t, const std::string& p) {
    return apply(spec::Migrate{task(t), path(p)});
  }
  Errno run_on(const std::string& t, spec::Cpu cpu) { return apply(spec::RunOn{task(t), cpu}); }
  Errno alloc(const std::string& t, const std::string& o, spec::AllocKind kind,
              std::uint64_t size_bytes, std::uint32_t order = 0, bool nofail = false) {
    owner_[o] = t;
    return apply(spec::Alloc{task(t), obj(o), kind, size_bytes, order, nofail});
  }
  Errno slab(const std::string& t, const std::string& o, std::uint64_t size, bool nofail = false) {
    return alloc(t, o, spec::AllocKind::slab, size, 0, nofail);
  }
  Errno percpu(const std::string& t, const std::string& o, std::uint64_t size, bool nofail = false) {
    return alloc(t, o, spec::AllocKind::percpu, size, 0, nofail);
  }
  Errno page(const std::string& t, const std::string& o, std::uint32_t order, bool nofail = false) {
    return alloc(t, o, spec::AllocKind::page, 0, order, nofail);
  }
  Errno stack(const std::string& t, const std::string& o, bool nofail = false) {
    return alloc(t, o, spec::AllocKind::stack, 0, 0, nofail);
  }
  Errno free(const std::string& o, spec::Cpu cpu) { return apply(spec::Free{obj(o), cpu}); }
  // Like a trace line without "cpu": the allocating task's current CPU.
  Errno free(const std::string& o) { return free(o, task_snap(owner_.at(o)).cpu); }
  Errno drain(spec::Cpu cpu) { return apply(spec::Drain{cpu}); }
  Errno drain_all(const std::string& p, spec::Cpu cpu = 0) {
    return apply(spec::DrainAll{path(p), cpu});
  }
  Errno set_max(const std::string& p, std::optional<std::uint64_t> pages, spec::Cpu cpu = 0) {
    return apply(spec::SetMax{path(p), pages, cpu});
  }
  Errno cpu_offline(spec::Cpu cpu) { return apply(spec::CpuOffline{cpu}); }
  Errno quiesce() { return apply(spec::Quiesce{}); }

  const spec::Snapshot& snap() const { return last_; }
  spec::Snapshot fresh_snapshot() const { return model_->snapshot(); }

  // The newest memcg created for a path (a re-created path gets a new one).
  spec::MemcgId id(const std::string& p) {
    auto key = path(p);
    std::optional<spec::MemcgId> found;
    for (const auto& c : last_.cgroups)
      if (c.path == key) found = c.id;
    if (!found) throw std::logic_error("no memcg was created for " + p);
    return *found;
  }
  const spec::CgroupSnap& cg(const std::string& p) { return last_.cgroup(id(p)); }
  const spec::CgroupSnap& root() const { return last_.cgroup(0); }
  // The objcg created for the newest memcg of a path.
  const spec::ObjcgSnap& objcg_of(const std::string& p) {
    auto memcg = id(p);
    for (const auto& o : last_.objcgs)
      if (o.origin == memcg) return o;
    throw std::logic_error("no objcg for " + p);
  }
  const spec::StockSnap& stock(spec::Cpu cpu) const { return last_.stocks.at(cpu); }
  const spec::ObjectSnap& object(const std::string& o) const {
    auto key = objs_.at(o);
    for (const auto& x : last_.objects)
      if (x.key == key) return x;
    throw std::logic_error("object " + o + " is not live");
  }
  bool live(const std::string& o) const {
    auto it = objs_.find(o);
    if (it == objs_.end()) return false;
    for (const auto& x : last_.objects)
      if (x.key == it->second) return true;
    return false;
  }
  const spec::TaskSnap& task_snap(const std::string& t) const {
    auto key = tasks_.at(t);
    for (const auto& x : last_.tasks)
      if (x.key == key) return x;
    throw std::logic_error("task " + t + " is not live");
  }
  // The page stock slot of a CPU, if it caches a memcg.
  std::optional<spec::PageStockSlot> page_stock(spec::Cpu cpu) const {
    const auto& slots = stock(cpu).page_stock;
    if (slots.empty()) return std::nullopt;
    return slots.front();
  }

  const spec::Config& config() const { return config_; }
  const spec::PathTable& paths() const { return paths_; }

 private:

  spec::Config config_;
  spec::PathTable paths_;
  std::unique_ptr<spec::Model> model_;
  spec::Snapshot last_;
  std::map<std::string, spec::TaskKey> tasks_;
  std::map<std::string, spec::ObjKey> objs_;
  std::map<std::string, std::string> owner_;
};

}  // namespace mv::testing
