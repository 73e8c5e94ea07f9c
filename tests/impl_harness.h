// Test harness for tests/impl_*_test.cc: drives a spec::Model (the impl, or
// the reference for side-by-side checks) with names instead of keys, the way
// the trace driver would.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "impl/model.h"
#include "reference/model.h"
#include "spec/model.h"

namespace mv::impl::testing {

using spec::Errno;
using Factory = std::function<std::unique_ptr<spec::Model>(const spec::Config&,
                                                           const spec::PathTable&)>;

inline Factory impl_factory() {
  return [](const spec::Config& c, const spec::PathTable& p) { return make_impl_model(c, p); };
}
inline Factory reference_factory() {
  return [](const spec::Config& c, const spec::PathTable& p) {
    return reference::make_reference_model(c, p);
  };
}

class Sim {
 public:
  explicit Sim(std::uint32_t ncpus = 4, std::uint64_t page_size_bytes = 4096,
               Factory factory = impl_factory()) {
    config_.profile = spec::Profile::v6_6;
    config_.ncpus = ncpus;
    config_.page_size_bytes = page_size_bytes;
    model_ = factory(config_, paths_);
  }

  spec::PathKey path(const std::string& p) { return paths_.intern(p).value(); }
  spec::TaskKey task(const std::string& t) { return key(tasks_, t); }
  spec::ObjKey obj(const std::string& o) { return key(objs_, o); }

  Errno apply(const spec::Op& op) { return model_->apply(op); }
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
    return apply(spec::Alloc{task(t), obj(o), kind, size_bytes, order, nofail});
  }
  Errno slab(const std::string& t, const std::string& o, std::uint64_t size, bool nofail = false) {
    return alloc(t, o, spec::AllocKind::slab, size, 0, nofail);
  }
  Errno free(const std::string& o, spec::Cpu cpu) { return apply(spec::Free{obj(o), cpu}); }
  Errno drain(spec::Cpu cpu) { return apply(spec::Drain{cpu}); }
  Errno drain_all(const std::string& p, spec::Cpu cpu = 0) {
    return apply(spec::DrainAll{path(p), cpu});
  }
  Errno set_max(const std::string& p, std::optional<std::uint64_t> pages, spec::Cpu cpu = 0) {
    return apply(spec::SetMax{path(p), pages, cpu});
  }
  Errno cpu_offline(spec::Cpu cpu) { return apply(spec::CpuOffline{cpu}); }
  Errno quiesce() { return apply(spec::Quiesce{}); }

  spec::Snapshot snap() const { return model_->snapshot(); }
  // The cgroup listed last with that path (a re-created path has a new memcg).
  spec::CgroupSnap cg(const std::string& p) {
    auto s = snap();
    auto key = path(p);
    for (auto it = s.cgroups.rbegin(); it != s.cgroups.rend(); ++it)
      if (it->path == key) return *it;
    throw std::out_of_range("no cgroup " + p);
  }
  spec::ObjcgSnap objcg_of(const std::string& p) { return snap().objcg(*first_objcg(p)); }
  spec::StockSnap stock(spec::Cpu cpu) { return snap().stocks.at(cpu); }
  const spec::PathTable& paths() const { return paths_; }
  const spec::Config& config() const { return config_; }

 private:
  std::optional<spec::ObjcgId> first_objcg(const std::string& p) {
    auto s = snap();
    auto key = path(p);
    for (auto it = s.cgroups.rbegin(); it != s.cgroups.rend(); ++it) {
      if (it->path != key) continue;
      for (const auto& o : s.objcgs)
        if (o.origin == it->id) return o.id;
    }
    throw std::out_of_range("no objcg for " + p);
  }
  static std::uint32_t key(std::map<std::string, std::uint32_t>& names, const std::string& n) {
    auto it = names.find(n);
    if (it != names.end()) return it->second;
    auto k = static_cast<std::uint32_t>(names.size());
    names.emplace(n, k);
    return k;
  }
  spec::Config config_;
  spec::PathTable paths_;
  std::unique_ptr<spec::Model> model_;
  std::map<std::string, std::uint32_t> tasks_, objs_;
};

}  // namespace mv::impl::testing
