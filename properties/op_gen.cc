#include "properties/op_gen.h"

#include <algorithm>
#include <stdexcept>
#include <array>
#include <memory>
#include <type_traits>
#include <variant>

#include <fmt/format.h>


namespace mv::properties {

namespace {

constexpr std::size_t kind_index_v(OpKind kind) { return static_cast<std::size_t>(kind); }

constexpr std::array<std::string_view, kNrOpKinds> kOpKindNames = {
    "mkdir", "rmdir", "spawn", "exit", "migrate", "run_on", "alloc",
    "free",  "drain", "drain_all", "set_max", "cpu_offline", "quiesce"};

// Few live tasks keep rmdir possible (a cgroup with tasks is EBUSY).
constexpr std::size_t kMaxLiveTasks = 6;

std::size_t kind_index(OpKind kind) { return static_cast<std::size_t>(kind); }

// OpKind follows spec::Op's alternatives (campaign statistics index by both).
static_assert(std::variant_size_v<spec::Op> == kNrOpKinds);
static_assert(std::is_same_v<std::variant_alternative_t<kind_index_v(OpKind::set_max), spec::Op>,
                             spec::SetMax>);

}  // namespace

std::string_view op_kind_name(OpKind kind) { return kOpKindNames[kind_index(kind)]; }

const std::vector<std::string>& path_pool() {
  static const std::vector<std::string> pool = {"/",    "/a",   "/b",     "/c",    "/a/x",
                                                "/a/y", "/b/x", "/a/x/p", "/a/x/q"};
  return pool;
}

std::size_t path_pool_parent(std::size_t index) {
  // Computed once: the generator asks for parents on every recipe it draws
  // (the paths worth an mkdir, an rmdir, a migrate), and the string search was
  // a tenth of a checked step's cost.
  static const std::vector<std::size_t> parents = [] {
    const auto& pool = path_pool();
    std::vector<std::size_t> out;
    for (const auto& path : pool) {
      auto slash = path.rfind('/');
      std::string parent = slash == 0 ? "/" : path.substr(0, slash);
      out.push_back(static_cast<std::size_t>(std::find(pool.begin(), pool.end(), parent) - pool.begin()));
    }
    return out;
  }();
  return parents.at(index);
}

std::string describe_recipe(const OpRecipe& r) {
  std::string out(op_kind_name(r.kind));
  switch (r.kind) {
    case OpKind::mkdir:
    case OpKind::rmdir:
    case OpKind::drain_all: out += " " + path_pool().at(r.path); break;
    case OpKind::spawn: out += fmt::format(" in {} cpu#{}", path_pool().at(r.path), r.cpu); break;
    case OpKind::exit: out += fmt::format(" task#{}", r.task); break;
    case OpKind::migrate: out += fmt::format(" task#{} to {}", r.task, path_pool().at(r.path)); break;
    case OpKind::run_on: out += fmt::format(" task#{} cpu#{}", r.task, r.cpu); break;
    case OpKind::alloc:
      out += fmt::format(" task#{} {}", r.task, spec::alloc_kind_name(r.alloc_kind));
      if (r.alloc_kind == spec::AllocKind::slab || r.alloc_kind == spec::AllocKind::percpu)
        out += fmt::format(" size {}", r.size_bytes);
      if (r.alloc_kind == spec::AllocKind::page) out += fmt::format(" order {}", r.order);
      if (r.nofail) out += " nofail";
      return out;
    case OpKind::free: out += fmt::format(" object#{}", r.object); break;
    case OpKind::drain: out += fmt::format(" cpu#{}", r.cpu); return out;
    case OpKind::set_max:
      out += " " + path_pool().at(r.path) +
             (r.max_unlimited ? std::string(" max") : fmt::format(" usage{:+}", r.max_delta_pages));
      break;
    case OpKind::cpu_offline: out += fmt::format(" cpu {}", r.cpu); return out;
    case OpKind::quiesce: return out;
  }
  if (r.kind != OpKind::spawn && r.kind != OpKind::run_on && r.kind != OpKind::exit &&
      r.kind != OpKind::migrate)
    out += r.cpu_given ? fmt::format(" cpu#{}", r.cpu) : std::string(" (default cpu)");
  return out;
}

Flags::Flags(std::size_t n, bool value) : n_(n) {
  if (n > kCapacity) throw std::invalid_argument("Flags: more than 64 indexes");
  for (std::size_t i = 0; i < n; ++i) bits_[i] = value;
}

GenState::GenState(const spec::Config& cfg)
    : config(cfg),
      path_online(path_pool().size(), false),
      path_charged(path_pool().size(), false),
      cpu_online(cfg.ncpus, true),
      slot_streak(path_pool().size(), false),
      path_limited(path_pool().size(), false) {
  path_online[0] = true;
}

std::vector<spec::Cpu> GenState::online_cpus() const {
  std::vector<spec::Cpu> cpus;
  for (spec::Cpu cpu = 0; cpu < cpu_online.size(); ++cpu)
    if (cpu_online[cpu]) cpus.push_back(cpu);
  return cpus;
}

bool GenState::path_has_tasks(std::uint32_t path) const {
  return std::any_of(tasks.begin(), tasks.end(), [&](const Task& t) { return t.path == path; });
}

bool GenState::path_has_online_child(std::uint32_t path) const {
  for (std::size_t i = 1; i < path_online.size(); ++i)
    if (path_online[i] && path_pool_parent(i) == path) return true;
  return false;
}

bool recipe_applicable(const GenState& s, const OpRecipe& r) {
  switch (r.kind) {
    case OpKind::exit:
    case OpKind::migrate:
    case OpKind::run_on:
    case OpKind::alloc: return !s.tasks.empty();
    case OpKind::free: return s.nr_objects > 0;
    default: return true;
  }
}

void apply_recipe(GenState& s, const OpRecipe& r) {
  auto online = s.online_cpus();
  spec::Cpu cpu = online[r.cpu % online.size()];
  auto task = [&]() -> GenState::Task& { return s.tasks[r.task % s.tasks.size()]; };
  switch (r.kind) {
    case OpKind::alloc:
      if (task().cpu == online.front()) s.slot_streak[task().path] = true;
      break;
    case OpKind::mkdir:
    case OpKind::rmdir:  // its offline (a quiesce) drains
    case OpKind::spawn:
    case OpKind::exit:
    case OpKind::migrate:
    case OpKind::run_on: break;
    default: s.slot_streak = Flags(path_pool().size(), false);  // may empty a slot
  }
  switch (r.kind) {
    case OpKind::mkdir:
      if (r.path != 0 && !s.path_online[r.path] && s.path_online[path_pool_parent(r.path)])
        s.path_online[r.path] = true;
      break;
    case OpKind::rmdir:
      if (r.path != 0 && s.path_online[r.path] && !s.path_has_tasks(r.path) &&
          !s.path_has_online_child(r.path)) {
        s.path_online[r.path] = false;
        s.path_charged[r.path] = false;
        s.path_limited[r.path] = false;
        s.offline_pending = true;
      }
      break;
    case OpKind::spawn:
      if (s.path_online[r.path]) s.tasks.push_back({r.path, cpu});
      break;
    case OpKind::exit: s.tasks.erase(s.tasks.begin() + (r.task % s.tasks.size())); break;
    case OpKind::migrate:
      if (s.path_online[r.path]) task().path = r.path;
      break;
    case OpKind::run_on: task().cpu = cpu; break;
    case OpKind::alloc:
      ++s.nr_objects;
      s.path_charged[task().path] = true;
      if (r.alloc_kind == spec::AllocKind::slab && s.config.profile_traits().has_memcg_caches())
        s.cache_create_pending = true;
      break;
    case OpKind::free: --s.nr_objects; break;
    case OpKind::set_max: s.path_limited[r.path] = !r.max_unlimited; break;
    case OpKind::quiesce:
      s.reparented = s.reparented || s.offline_pending;
      s.offline_pending = false;
      s.cache_create_pending = false;
      break;
    case OpKind::cpu_offline: {
      spec::Cpu dead = r.cpu % s.config.ncpus;
      if (!s.cpu_online[dead] || online.size() == 1) break;
      s.cpu_online[dead] = false;
      spec::Cpu lowest = s.online_cpus().front();
      for (auto& t : s.tasks)
        if (t.cpu == dead) t.cpu = lowest;
      break;
    }
    default: break;
  }
}

std::vector<std::uint64_t> slab_boundary_sizes(const spec::Config& config) {
  const std::uint64_t page = config.page_size_bytes;
  const std::uint64_t ptr = 8;  // obj_full_size: the objcg pointer per object
  const std::uint64_t batch = config.profile_traits().charge_batch_pages;
  std::vector<std::uint64_t> sizes = {
      page - ptr - 1, page - ptr, page - ptr + 1,              // full size PAGE_SIZE -1, 0, +1
      2 * page - ptr - 1, 2 * page - ptr, 2 * page - ptr + 1,  // two pages
      3 * page - ptr,     page / 2 - ptr, page / 2 - ptr + 1,  // halves fill a stock
      page / 4 - ptr,     page / 8 - ptr, page - 1,            // quarters; full PAGE_SIZE+7
      page,               page + 1,                             // full a page and a bit
      batch * page - ptr, (batch + 1) * page - ptr,            // a batch: the page stock bound
      1, 8, 56, 120, 184, 1016};                                // kmalloc-16 .. kmalloc-1k
  return sizes;
}

std::vector<std::uint64_t> percpu_boundary_sizes(const spec::Config& config) {
  const std::uint64_t page = config.page_size_bytes;
  // pcpu_obj_full_size = aligned * ncpus + aligned / 4 * 8 = aligned * (ncpus + 2).
  std::uint64_t per_page = page / (config.ncpus + 2) / 4 * 4;
  std::vector<std::uint64_t> sizes = {1, 4, 5, 64, kPcpuMinUnitBytes};
  for (std::uint64_t mult : {1u, 2u})
    for (std::int64_t delta : {-4, -1, 0, 1, 4}) {
      std::int64_t size = static_cast<std::int64_t>(per_page * mult) + delta;
      if (size >= 1 && static_cast<std::uint64_t>(size) <= kPcpuMinUnitBytes)
        sizes.push_back(static_cast<std::uint64_t>(size));
    }
  return sizes;
}

namespace {

rc::Gen<std::uint64_t> gen_slab_size(const spec::Config& config) {
  const std::uint64_t page = config.page_size_bytes;
  return rc::gen::weightedOneOf<std::uint64_t>({
      {6, rc::gen::elementOf(slab_boundary_sizes(config))},
      {3, rc::gen::inRange<std::uint64_t>(1, 257)},           // tiny objects
      {3, rc::gen::inRange<std::uint64_t>(1, page + 1)},      // up to a page
      {1, rc::gen::inRange<std::uint64_t>(1, 4 * page + 1)},  // a few pages
      {1, rc::gen::map(rc::gen::inRange<std::uint64_t>(1, 5),  // page multiple +- 1
                       [page](std::uint64_t k) { return k * page - 8; })},
  });
}

// Profiles with per-memcg kmem_caches: one root cache per object size, one
// memcg cache per memcg and root. Mostly a few common kmalloc sizes, so that
// a memcg allocates again from a cache it has (its slab pages are charged),
// and generations of memcgs share root caches (seeds 000 and 003).
rc::Gen<std::uint64_t> gen_memcg_cache_slab_size(const spec::Config& config) {
  return rc::gen::weightedOneOf<std::uint64_t>({
      {6, rc::gen::element<std::uint64_t>(64, 192, 1024)},
      {1, gen_slab_size(config)},
  });
}

rc::Gen<std::uint64_t> gen_percpu_size(const spec::Config& config) {
  return rc::gen::weightedOneOf<std::uint64_t>({
      {3, rc::gen::elementOf(percpu_boundary_sizes(config))},
      {2, rc::gen::inRange<std::uint64_t>(1, 513)},
      {1, rc::gen::inRange<std::uint64_t>(1, kPcpuMinUnitBytes + 1)},
      // Refused by pcpu_alloc before any charge: ENOMEM results.
      {1, rc::gen::element<std::uint64_t>(0, kPcpuMinUnitBytes + 1, 2 * kPcpuMinUnitBytes)},
  });
}

rc::Gen<std::uint32_t> gen_order() {
  return rc::gen::weightedOneOf<std::uint32_t>({
      {6, rc::gen::just<std::uint32_t>(0)},
      {4, rc::gen::inRange<std::uint32_t>(1, 4)},
      {1, rc::gen::inRange<std::uint32_t>(4, kMaxOrder + 1)},
      {1, rc::gen::just<std::uint32_t>(kMaxOrder + 1)},  // refused: ENOMEM
  });
}

// A path for mkdir: mostly one that can be created now.
std::uint32_t pick_mkdir_path(const GenState& s) {
  std::vector<std::uint32_t> creatable;
  for (std::uint32_t i = 1; i < s.path_online.size(); ++i)
    if (!s.path_online[i] && s.path_online[path_pool_parent(i)]) creatable.push_back(i);
  if (!creatable.empty() && *rc::gen::inRange(0, 10) < 9) return *rc::gen::elementOf(creatable);
  return *rc::gen::inRange<std::uint32_t>(0, static_cast<std::uint32_t>(path_pool().size()));
}

// An online non-root path (rmdir, drain_all, set_max, spawn, migrate), else any.
std::uint32_t pick_online_path(const GenState& s, bool allow_root) {
  std::vector<std::uint32_t> online;
  for (std::uint32_t i = allow_root ? 0 : 1; i < s.path_online.size(); ++i)
    if (s.path_online[i]) online.push_back(i);
  if (!online.empty() && *rc::gen::inRange(0, 10) < 9) return *rc::gen::elementOf(online);
  return *rc::gen::inRange<std::uint32_t>(0, static_cast<std::uint32_t>(path_pool().size()));
}

// A path for rmdir: mostly one the kernel would remove now (online, no task,
// no online child), so that objcgs with live objects get reparented (the
// paths of dying cgroups: reparenting, root-reparented objcgs, releases).
std::uint32_t pick_rmdir_path(const GenState& s) {
  std::vector<std::uint32_t> removable, charged;
  for (std::uint32_t i = 1; i < s.path_online.size(); ++i)
    if (s.path_online[i] && !s.path_has_tasks(i) && !s.path_has_online_child(i)) {
      removable.push_back(i);
      if (s.path_charged[i]) charged.push_back(i);
    }
  // Above all one whose objcg has charged objects: an empty cgroup's objcg is
  // released at once, with nothing to reparent.
  if (!charged.empty() && *rc::gen::inRange(0, 10) < 8) return *rc::gen::elementOf(charged);
  if (!removable.empty() && *rc::gen::inRange(0, 10) < 7) return *rc::gen::elementOf(removable);
  return pick_online_path(s, false);
}

// v6.16's page stock (NR_MEMCG_STOCK = 7 slots per CPU) evicts a slot only
// when eight memcgs charge on one CPU with nothing emptying a slot between:
// the streak of GenState::slot_streak. While a profile with such a stock
// has a streak that can grow, tasks of the first online CPU move to the
// online cgroups outside it and allocate there.
bool fills_page_stock_slots(const GenState& s) {
  return s.config.profile_traits().page_stock_slots > 1;
}
std::size_t streak_length(const GenState& s) {
  std::size_t n = 0;
  for (std::size_t i = 1; i < s.slot_streak.size(); ++i) n += s.slot_streak[i];
  return n;
}
// A limit on the path or an ancestor: its charges near the limit take no batch.
bool limited_or_below(const GenState& s, std::size_t path) {
  for (std::size_t p = path; p != 0; p = path_pool_parent(p))
    if (s.path_limited[p]) return true;
  return false;
}
std::vector<std::uint32_t> paths_off_streak(const GenState& s) {
  std::vector<std::uint32_t> out;
  for (std::uint32_t i = 1; i < s.path_online.size(); ++i)
    if (s.path_online[i] && !s.slot_streak[i] && !limited_or_below(s, i)) out.push_back(i);
  return out;
}
std::vector<std::uint32_t> first_cpu_tasks(const GenState& s, bool on_streak) {
  std::vector<std::uint32_t> out;
  const spec::Cpu first = s.online_cpus().front();
  for (std::uint32_t i = 0; i < s.tasks.size(); ++i)
    if (s.tasks[i].cpu == first && s.tasks[i].path != 0 && s.slot_streak[s.tasks[i].path] == on_streak)
      out.push_back(i);
  return out;
}
bool streak_grows(const GenState& s) {
  return fills_page_stock_slots(s) && streak_length(s) > 0 && !paths_off_streak(s).empty();
}

// A path for migrate: often an ancestor of the task's cgroup (the root
// included), which empties cgroups so that they can be removed with their
// objects still charged.
std::uint32_t pick_migrate_path(const GenState& s, std::uint32_t task_path) {
  if (task_path != 0 && *rc::gen::inRange(0, 10) < 4) {
    std::vector<std::uint32_t> ancestors;
    for (std::uint32_t p = path_pool_parent(task_path);; p = static_cast<std::uint32_t>(path_pool_parent(p))) {
      ancestors.push_back(p);
      if (p == 0) break;
    }
    return *rc::gen::elementOf(ancestors);
  }
  return pick_online_path(s, true);
}

// A task for exit and migrate: often one of a cgroup where objects were
// charged, so that the cgroup empties and can be removed with them.
std::uint32_t pick_leaving_task(const GenState& s) {
  std::vector<std::uint32_t> in_charged;
  for (std::uint32_t i = 0; i < s.tasks.size(); ++i)
    if (s.tasks[i].path != 0 && s.path_charged[s.tasks[i].path]) in_charged.push_back(i);
  if (!in_charged.empty() && *rc::gen::inRange(0, 10) < 6) return *rc::gen::elementOf(in_charged);
  return *rc::gen::inRange<std::uint32_t>(0, static_cast<std::uint32_t>(s.tasks.size()));
}

OpRecipe make_recipe(const GenState& s, OpKind kind) {
  OpRecipe r;
  r.kind = kind;
  const auto online = s.online_cpus();
  const auto nr_online = static_cast<std::uint32_t>(online.size());
  auto any_cpu = [&] { return *rc::gen::inRange<std::uint32_t>(0, nr_online); };
  auto task_index = [&] {
    return *rc::gen::inRange<std::uint32_t>(0, static_cast<std::uint32_t>(s.tasks.size()));
  };
  auto maybe_cpu = [&](int given_in_10) {
    r.cpu_given = *rc::gen::inRange(0, 10) < given_in_10;
    r.cpu = any_cpu();
  };
  switch (kind) {
    case OpKind::mkdir: r.path = pick_mkdir_path(s); maybe_cpu(6); break;
    case OpKind::rmdir: r.path = pick_rmdir_path(s); maybe_cpu(6); break;
    case OpKind::spawn:
      // Mostly outside the root, whose tasks' allocations are not charged.
      r.path = pick_online_path(s, *rc::gen::inRange(0, 10) < 2);
      r.cpu = any_cpu();
      if (streak_grows(s) && *rc::gen::inRange(0, 10) < 8) {
        r.path = *rc::gen::elementOf(paths_off_streak(s));
        r.cpu = 0;  // the first online CPU
      }
      break;
    case OpKind::exit: r.task = pick_leaving_task(s); break;
    case OpKind::migrate:
      r.task = pick_leaving_task(s);
      r.path = pick_migrate_path(s, s.tasks[r.task].path);
      if (streak_grows(s) && *rc::gen::inRange(0, 10) < 8) {
        // A task of the first CPU whose cgroup charged, to one that did not.
        auto tasks = first_cpu_tasks(s, true);
        if (!tasks.empty()) r.task = *rc::gen::elementOf(tasks);
        r.path = *rc::gen::elementOf(paths_off_streak(s));
      }
      break;
    case OpKind::run_on: r.task = task_index(); r.cpu = any_cpu(); break;
    case OpKind::alloc: {
      r.task = task_index();
      if (streak_grows(s) && *rc::gen::inRange(0, 10) < 8) {
        auto tasks = first_cpu_tasks(s, false);
        if (!tasks.empty()) r.task = *rc::gen::elementOf(tasks);
      }
      r.alloc_kind = *rc::gen::weightedElement<spec::AllocKind>({{12, spec::AllocKind::slab},
                                                                 {3, spec::AllocKind::percpu},
                                                                 {3, spec::AllocKind::page},
                                                                 {1, spec::AllocKind::stack}});
      if (r.alloc_kind == spec::AllocKind::slab)
        r.size_bytes = s.config.profile_traits().has_memcg_caches()
                           ? *gen_memcg_cache_slab_size(s.config)
                           : *gen_slab_size(s.config);
      if (r.alloc_kind == spec::AllocKind::percpu) r.size_bytes = *gen_percpu_size(s.config);
      if (r.alloc_kind == spec::AllocKind::page) r.order = *gen_order();
      // A growing streak: an order-0 kmem page always misses the byte stock
      // and charges a batch (a byte-stock hit would take no slot).
      if (streak_grows(s) && *rc::gen::inRange(0, 10) < 6) {
        r.alloc_kind = spec::AllocKind::page;
        r.order = 0;
      }
      // A kernel stack is always charged with GFP_KERNEL (no nofail).
      r.nofail = *rc::gen::inRange(0, 10) == 0 && r.alloc_kind != spec::AllocKind::stack;
      break;
    }
    case OpKind::free:
      r.object = *rc::gen::inRange<std::uint32_t>(0, s.nr_objects);
      r.reparented_first = s.reparented && *rc::gen::inRange(0, 10) < 6;
      // Mostly on an explicit CPU: another CPU than the allocation's is the
      // interesting case (the byte stock of the freeing CPU takes the bytes).
      maybe_cpu(7);
      break;
    case OpKind::drain: r.cpu = any_cpu(); break;
    case OpKind::drain_all: r.path = pick_online_path(s, true); maybe_cpu(6); break;
    case OpKind::set_max:
      r.path = pick_online_path(s, false);
      r.max_unlimited = *rc::gen::inRange(0, 8) == 0;
      r.max_delta_pages = *rc::gen::weightedOneOf<std::int32_t>(
          {{6, rc::gen::inRange<std::int32_t>(-3, 4)}, {1, rc::gen::inRange<std::int32_t>(-70, 71)}});
      maybe_cpu(6);
      break;
    case OpKind::cpu_offline: r.cpu = *rc::gen::inRange<std::uint32_t>(0, s.config.ncpus); break;
    case OpKind::quiesce: break;
  }
  return r;
}

}  // namespace

rc::Gen<OpRecipe> gen_recipe(const GenState& s) {
  const bool have_tasks = !s.tasks.empty();
  const bool have_objects = s.nr_objects > 0;
  const std::size_t spawn = s.tasks.size() < kMaxLiveTasks ? 5 : 0;
  // Offlining CPUs leaves fewer to share: rare, and only while two are online.
  const std::size_t offline = s.online_cpus().size() > 1 ? 1 : 0;
  // The path to the rare states (a reparented objcg with charged objects, its
  // release with whole pages in nr_charged_bytes): tasks leave a cgroup where
  // they allocated, the emptied cgroup is removed, its offline runs.
  bool charged_with_tasks = false, charged_removable = false;
  bool creatable = false;
  for (std::uint32_t i = 1; i < s.path_online.size(); ++i)
    creatable |= !s.path_online[i] && s.path_online[path_pool_parent(i)];
  for (std::uint32_t i = 1; i < s.path_charged.size(); ++i) {
    if (!s.path_charged[i]) continue;
    const bool tasks = s.path_has_tasks(i);
    charged_with_tasks |= tasks;
    charged_removable |= !tasks && !s.path_has_online_child(i);
  }
  // A growing streak (see fills_page_stock_slots) mostly goes on: the
  // operations that may empty a slot become rare meanwhile.
  const bool streak = streak_grows(s);
  auto unless_streak = [streak](std::size_t weight) { return streak ? std::min<std::size_t>(weight, 1) : weight; };
  auto kind = rc::gen::weightedElement<OpKind>({
      {fills_page_stock_slots(s) && creatable ? 20u : 6u, OpKind::mkdir},
      {unless_streak(charged_removable ? 10u : 4u), OpKind::rmdir},
      {spawn, OpKind::spawn},
      {have_tasks ? (charged_with_tasks ? 4u : 2u) : 0u, OpKind::exit},
      {have_tasks ? (streak ? 30u : charged_with_tasks ? 8u : 4u) : 0u, OpKind::migrate},
      {have_tasks ? 4u : 0u, OpKind::run_on},
      {have_tasks ? 34u : 0u, OpKind::alloc},
      // More frees as objects pile up: an objcg is released only once every
      // object charged through it is freed.
      {have_objects ? unless_streak(16u + 2 * std::min<std::size_t>(s.nr_objects, 12)) : 0u,
       OpKind::free},
      // After a reparenting, drains empty the byte stocks still caching the
      // reparented objcgs (the last put releases them, INV-RELEASE-ALIGNED).
      {unless_streak(s.reparented ? 5u : 2u), OpKind::drain},
      {unless_streak(s.reparented ? 5u : 3u), OpKind::drain_all},
      {unless_streak(fills_page_stock_slots(s) ? 2u : 5u), OpKind::set_max},
      {offline, OpKind::cpu_offline},
      // Soon after an rmdir: the offline reparents the cgroup's objcgs, and
      // what follows exercises objcgs of dying and reparented cgroups.
      {unless_streak(s.offline_pending || s.cache_create_pending ? 10u : 2u), OpKind::quiesce},
  });
  // One copy of the state, shared by the copies RapidCheck makes of the
  // generator (a copy per capture was a tenth of a checked step's cost).
  auto state = std::make_shared<const GenState>(s);
  return rc::gen::exec([state, kind] { return make_recipe(*state, *kind); });
}

rc::Gen<spec::Config> gen_config(const ConfigChoice& choice) {
  return rc::gen::exec([choice] {
    spec::Config config;
    config.profile = choice.profile;
    config.ncpus = choice.ncpus ? *choice.ncpus : *rc::gen::inRange<std::uint32_t>(1, 5);
    config.page_size_bytes = choice.page_size_bytes
                                 ? *choice.page_size_bytes
                                 : *rc::gen::element<std::uint64_t>(4096, 16384, 65536);
    return config;
  });
}

}  // namespace mv::properties
