#include "reference/kmem_cache.h"

#include <algorithm>
#include <bit>

#include "reference/kernel_state.h"
#include "spec/coverage.h"

namespace mv::reference {

using spec::CacheId;
using spec::CacheState;
using spec::Cpu;
using spec::Errno;
using spec::MemcgId;
using spec::SlabCharging;
using spec::SlabPageId;

namespace {

// mm/slub.c v5.2: slub_min_order 0, slub_max_order PAGE_ALLOC_COSTLY_ORDER,
// slub_min_objects 0 (computed from nr_cpu_ids), MAX_OBJS_PER_PAGE 32767.
constexpr std::uint32_t kSlubMaxOrder = 3;
constexpr std::uint32_t kMaxObjsPerPage = 32767;
constexpr std::uint32_t kMaxOrder = 11;  // MAX_ORDER in v5.2 (exclusive)

// get_order(size): the smallest order whose pages hold `size` bytes.
std::uint32_t get_order(std::uint64_t size, std::uint64_t page_size) {
  std::uint32_t order = 0;
  while ((page_size << order) < size) ++order;
  return order;
}

// fls(x): the position of the highest set bit, 1-based; 0 for 0.
std::uint32_t fls(std::uint32_t x) { return x == 0 ? 0 : 32 - std::countl_zero(x); }

// slab_order (v5.2 mm/slub.c).
std::uint32_t slab_order(std::uint32_t size, std::uint32_t min_objects, std::uint32_t max_order,
                         std::uint32_t fract_leftover, std::uint64_t page_size) {
  const std::uint32_t min_order = 0;
  if (order_objects(min_order, size, page_size) > kMaxObjsPerPage)
    return get_order(std::uint64_t{size} * kMaxObjsPerPage, page_size) - 1;
  std::uint32_t order = std::max(min_order, get_order(std::uint64_t{min_objects} * size, page_size));
  for (; order <= max_order; ++order) {
    const std::uint64_t slab_size = page_size << order;
    const std::uint64_t rem = slab_size % size;
    if (rem <= slab_size / fract_leftover) break;
  }
  return order;
}

KmemCache& cache_of(Kernel& k, CacheId id) { return k.caches.at(id - 1); }

bool is_root_cache(const KmemCache& s) { return !s.root; }

// The memcg cache of `root` at `kmemcg_id`, if any (cache_from_memcg_idx).
std::optional<CacheId> cache_from_memcg_idx(const KmemCache& root, std::uint32_t kmemcg_id) {
  if (kmemcg_id >= root.memcg_caches.size()) return std::nullopt;
  return root.memcg_caches[kmemcg_id];
}

void set_memcg_cache(KmemCache& root, std::uint32_t kmemcg_id, std::optional<CacheId> cache) {
  if (root.memcg_caches.size() <= kmemcg_id) root.memcg_caches.resize(kmemcg_id + 1);
  root.memcg_caches[kmemcg_id] = cache;
}

// create_cache (mm/slab_common.c): a new cache with the root's geometry.
CacheId create_cache(Kernel& k, const KmemCache& proto, std::optional<CacheId> root) {
  KmemCache s;
  s.id = static_cast<CacheId>(k.caches.size() + 1);
  s.name = proto.name;
  s.object_size_bytes = proto.object_size_bytes;
  s.root = root;
  s.order = proto.order;
  s.objects_per_slab = proto.objects_per_slab;
  s.min_order = proto.min_order;
  k.caches.push_back(s);
  return s.id;
}

// The task's memcg as memcg_kmem_get_cache and the newpage charge see it
// (get_mem_cgroup_from_current, mem_cgroup_from_task): its cgroup's memcg.
MemcgId task_memcg(const Kernel& k, spec::TaskKey task) { return k.tasks.at(task).memcg; }

// memcg_schedule_kmem_cache_create (v5.2: css_get; v5.4: css_tryget_online;
// davydov-2014 on 3.18: memcg_schedule_register_cache, css_get): one work item
// per call, each holding a css reference until it has run.
void memcg_schedule_kmem_cache_create(Kernel& k, Cpu cpu, MemcgId memcg, CacheId root) {
  if (k.traits().slab == SlabCharging::reparented_cache_pages &&
      k.memcg(memcg).state != spec::CgroupState::online)
    return;  // css_tryget_online failed
  css_get(k, memcg);
  k.memcg(memcg).cache_work_refs += 1;
  queue_work(k, DeferredWork{.kind = WorkKind::cache_create, .subject = memcg, .cpu = cpu, .subject2 = root});
}

// The charge of a new slab page of cache `s`, by design. Returns false when
// the charge failed (allocate_slab then fails at this order).
bool charge_slab_page(Kernel& k, Cpu cpu, spec::TaskKey task, const KmemCache& s, SlabPage& page,
                      bool nofail) {
  const std::uint32_t nr_pages = 1u << page.order;
  switch (k.traits().slab) {
    case SlabCharging::memcg_cache_pages: {
      // memcg_charge_slab (v5.2): root caches are not charged; a memcg cache's
      // page goes to memcg_kmem_charge_memcg(page, gfp, order,
      // s->memcg_params.memcg), which keeps try_charge's css references on
      // page->mem_cgroup.
      // A destroyed cache (a use after free) has no memcg_params left to charge.
      if (is_root_cache(s) || !s.memcg) return true;
      if (try_charge_memcg(k, cpu, *s.memcg, nr_pages, nofail) != Errno::ok) return false;
      page.memcg = s.memcg;
      page.charged_pages = nr_pages;
      return true;
    }
    case SlabCharging::reparented_cache_pages: {
      // charge_slab_page -> memcg_charge_slab (v5.4): the first online memcg
      // from memcg_params.memcg up; the page's references go to the cache's
      // percpu_ref (percpu_ref_get_many), try_charge's css references are put
      // (css_put_many: "transer try_charge() page references to kmem_cache").
      if (is_root_cache(s)) return true;
      std::optional<MemcgId> memcg = s.memcg;
      while (memcg && k.memcg(*memcg).state != spec::CgroupState::online)
        memcg = k.memcg(*memcg).parent;
      KmemCache& cache = cache_of(k, s.id);
      if (!memcg || mem_cgroup_is_root(k, *memcg)) {
        cache.refs += nr_pages;
        return true;
      }
      if (try_charge_memcg(k, cpu, *memcg, nr_pages, nofail) != Errno::ok) return false;
      cache.refs += nr_pages;
      css_put_many(k, *memcg, nr_pages);
      page.charged_pages = nr_pages;
      return true;
    }
    case SlabCharging::recharged_cache_pages: {
      // alloc_slab_page -> memcg_kmem_newpage_charge (Davydov's patch 2):
      // every slab page, root cache or not, is charged to the allocating
      // task's memcg if it is kmem-active; never for __GFP_NOFAIL
      // (memcg_kmem_should_charge). memcg_kmem_commit_charge sets
      // page->mem_cgroup.
      if (nofail) return true;
      const MemcgId memcg = task_memcg(k, task);
      if (mem_cgroup_is_root(k, memcg)) return true;
      if (try_charge_memcg(k, cpu, memcg, nr_pages, false) != Errno::ok) return false;
      page.memcg = memcg;
      page.charged_pages = nr_pages;
      return true;
    }
    case SlabCharging::objcg_bytes: break;
  }
  return true;
}

// The uncharge of a slab page being freed, by design.
void uncharge_slab_page(Kernel& k, Cpu cpu, SlabPage& page) {
  const std::uint32_t nr_pages = 1u << page.order;
  KmemCache& s = cache_of(k, page.cache);
  switch (k.traits().slab) {
    case SlabCharging::memcg_cache_pages:
    case SlabCharging::recharged_cache_pages:
      // v5.2 memcg_uncharge_slab -> __memcg_kmem_uncharge; 3.18
      // __free_kmem_pages -> memcg_kmem_uncharge_pages: page_counter_uncharge
      // of page->mem_cgroup, then css_put_many.
      if (page.memcg) {
        page_counter_uncharge(k, *page.memcg, page.charged_pages);
        css_put_many(k, *page.memcg, page.charged_pages);
        page.memcg.reset();
      }
      break;
    case SlabCharging::reparented_cache_pages:
      // uncharge_slab_page -> memcg_uncharge_slab (v5.4): uncharges the
      // cache's current memcg_params.memcg unless it is the root, then
      // percpu_ref_put_many. A page charged before its cache was reparented
      // to the root is therefore never uncharged from the root's counter.
      if (is_root_cache(s)) break;
      if (s.memcg && !mem_cgroup_is_root(k, *s.memcg) && page.charged_pages != 0)
        page_counter_uncharge(k, *s.memcg, page.charged_pages);
      cache_percpu_ref_put(k, cpu, s.id, nr_pages);
      break;
    case SlabCharging::objcg_bytes: break;
  }
  page.charged_pages = 0;
}

// allocate_slab (v5.2 mm/slub.c): a new page at the cache's preferred order
// with __GFP_NORETRY and without __GFP_NOFAIL, else at its minimum order with
// the caller's flags.
std::optional<SlabPageId> allocate_slab(Kernel& k, Cpu cpu, spec::TaskKey task, CacheId cache,
                                        bool nofail) {
  const KmemCache& s = cache_of(k, cache);
  SlabPage page;
  page.cache = cache;
  page.order = s.order;
  if (!charge_slab_page(k, cpu, task, s, page, false)) {
    page.order = s.min_order;
    if (!charge_slab_page(k, cpu, task, s, page, nofail)) return std::nullopt;
  }
  spec::mark_hit(page.charged_pages != 0 ? spec::Mark::slab_page_charged
                                         : spec::Mark::slab_page_uncharged);
  page.id = k.next_slab_page++;
  page.capacity = order_objects(page.order, s.object_size_bytes, k.page.size_bytes);
  k.slab_pages[page.id] = page;
  cache_of(k, cache).partial.insert(page.id);
  return page.id;
}

// Davydov's __memcg_kmem_recharge_slab (patch 8), after every allocation that
// memcg_kmem_should_charge allows: a slab page charged to another memcg (or to
// none) than the allocating task's kmem-active memcg is charged to it and
// uncharged from the old one. Fails (-ENOMEM) if the new charge fails.
bool memcg_kmem_recharge_slab(Kernel& k, Cpu cpu, spec::TaskKey task, SlabPage& page,
                              bool nofail) {
  if (nofail) return true;
  std::optional<MemcgId> memcg = task_memcg(k, task);
  if (mem_cgroup_is_root(k, *memcg)) memcg.reset();  // !memcg_kmem_is_active(root)
  if (memcg == page.memcg) return true;
  const std::uint32_t nr_pages = 1u << page.order;
  if (memcg && try_charge_memcg(k, cpu, *memcg, nr_pages, false) != Errno::ok) return false;
  spec::mark_hit(spec::Mark::slab_page_recharged);
  if (page.memcg) {
    page_counter_uncharge(k, *page.memcg, page.charged_pages);
    css_put_many(k, *page.memcg, page.charged_pages);
  }
  page.memcg = memcg;
  page.charged_pages = memcg ? nr_pages : 0;
  return true;
}

void remove_object(Kernel& k, Cpu cpu, SlabPageId id) {
  SlabPage& page = k.slab_pages.at(id);
  KmemCache& s = cache_of(k, page.cache);
  page.nr_objects -= 1;
  if (page.nr_objects != 0) {
    s.partial.insert(id);
    return;
  }
  // __free_slab: the empty page goes back to the page allocator.
  s.partial.erase(id);
  SlabPage freed = page;
  k.slab_pages.erase(id);
  uncharge_slab_page(k, cpu, freed);
}

// shutdown_cache -> slab_kmem_cache_release -> destroy_memcg_params (v5.4:
// mem_cgroup_put(memcg_params.memcg), memcg = NULL) and memcg_unlink_cache.
void shutdown_cache(Kernel& k, CacheId id) {
  KmemCache& s = cache_of(k, id);
  s.state = CacheState::destroyed;
  if (s.memcg) {
    auto& list = k.memcg(*s.memcg).kmem_caches;
    list.erase(std::remove(list.begin(), list.end(), id), list.end());
    if (k.traits().slab == SlabCharging::reparented_cache_pages) css_put(k, *s.memcg);
    s.memcg.reset();
  }
}

}  // namespace

std::uint32_t order_objects(std::uint32_t order, std::uint32_t size_bytes,
                            std::uint64_t page_size_bytes) {
  return static_cast<std::uint32_t>((page_size_bytes << order) / size_bytes);
}

// calculate_order (v5.2 mm/slub.c)
std::uint32_t calculate_order(std::uint32_t size, std::uint32_t nr_cpu_ids,
                              std::uint64_t page_size) {
  std::uint32_t min_objects = 4 * (fls(nr_cpu_ids) + 1);
  const std::uint32_t max_objects = order_objects(kSlubMaxOrder, size, page_size);
  min_objects = std::min(min_objects, max_objects);
  while (min_objects > 1) {
    for (std::uint32_t fraction = 16; fraction >= 4; fraction /= 2) {
      std::uint32_t order = slab_order(size, min_objects, kSlubMaxOrder, fraction, page_size);
      if (order <= kSlubMaxOrder) return order;
    }
    --min_objects;
  }
  std::uint32_t order = slab_order(size, 1, kSlubMaxOrder, 1, page_size);
  if (order <= kSlubMaxOrder) return order;
  return slab_order(size, 1, kMaxOrder, 1, page_size);
}

// kmem_cache_create on first use: calculate_sizes sets s->oo from
// calculate_order and s->min from get_order(size).
CacheId root_cache(Kernel& k, const std::optional<spec::CacheKey>& name, std::uint32_t size) {
  auto key = std::make_pair(name, name ? 0u : size);
  auto it = k.root_caches.find(key);
  if (it != k.root_caches.end()) return it->second;
  KmemCache proto;
  proto.name = name;
  // calculate_sizes: `size = ALIGN(size, sizeof(void *))` (the free pointer
  // fits in every object), so no order holds more than MAX_OBJS_PER_PAGE.
  size = (size + 7) & ~std::uint32_t{7};
  proto.object_size_bytes = size;
  proto.order = calculate_order(size, k.config.ncpus, k.page.size_bytes);
  proto.objects_per_slab = order_objects(proto.order, size, k.page.size_bytes);
  proto.min_order = get_order(size, k.page.size_bytes);
  CacheId id = create_cache(k, proto, std::nullopt);
  k.root_caches[key] = id;
  return id;
}

// memcg_kmem_get_cache: the cache a memcg task allocates from. v5.2 and v5.4
// return the memcg's cache or, until the creation work has run, the root cache
// (the allocation then goes uncharged); davydov-2014 (3.18
// __memcg_kmem_get_cache after memcg_kmem_should_charge) the same, except that
// a __GFP_NOFAIL allocation always uses the root cache. The memcg's cache
// comes with a reference that memcg_kmem_put_cache drops after the
// allocation, so that neither the cache nor its memcg can be destroyed in
// between (Davydov's "memcg: fix possible use-after-free in
// memcg_kmem_get_cache()", v3.19: seed 002's race): v5.2 keeps the css
// reference get_mem_cgroup_from_current took; v5.4 takes
// percpu_ref_tryget(&memcg_cachep->memcg_params.refcnt) inside rcu_read_lock
// and falls back to the root cache when it fails. The root cache paths put
// their css reference at once (not modeled: a get and a put on a memcg its
// task keeps alive). Davydov's series takes none (its caches live forever).
CacheId memcg_kmem_get_cache(Kernel& k, Cpu cpu, spec::TaskKey task, CacheId root, bool nofail) {
  if (k.traits().slab == SlabCharging::recharged_cache_pages && nofail) return root;
  const MemcgId memcg = task_memcg(k, task);
  if (mem_cgroup_is_root(k, memcg)) return root;  // kmemcg_id < 0
  const auto& id = k.memcg(memcg).kmemcg_id;
  if (!id) return root;
  if (auto cache = cache_from_memcg_idx(cache_of(k, root), *id)) {
    switch (k.traits().slab) {
      case SlabCharging::memcg_cache_pages: css_get(k, memcg); break;
      case SlabCharging::reparented_cache_pages: {
        // percpu_ref_tryget: fails only at zero in atomic mode (after the kill).
        KmemCache& s = cache_of(k, *cache);
        if (s.atomic_mode && s.refs == 0) return root;
        s.refs += 1;
        break;
      }
      case SlabCharging::recharged_cache_pages:
      case SlabCharging::objcg_bytes: break;
    }
    return *cache;
  }
  memcg_schedule_kmem_cache_create(k, cpu, memcg, root);
  return root;
}

// memcg_kmem_put_cache (v5.2: css_put(&cachep->memcg_params.memcg->css) for a
// memcg cache; v5.4: percpu_ref_put(&cachep->memcg_params.refcnt)).
void memcg_kmem_put_cache(Kernel& k, Cpu cpu, CacheId cache) {
  KmemCache& s = cache_of(k, cache);
  if (is_root_cache(s)) return;
  switch (k.traits().slab) {
    case SlabCharging::memcg_cache_pages:
      if (s.memcg) css_put(k, *s.memcg);
      break;
    case SlabCharging::reparented_cache_pages: cache_percpu_ref_put(k, cpu, cache, 1); break;
    case SlabCharging::recharged_cache_pages:
    case SlabCharging::objcg_bytes: break;
  }
}

SlabAlloc kmem_cache_alloc(Kernel& k, Cpu cpu, spec::TaskKey task, CacheId root, bool nofail) {
  const CacheId cache = memcg_kmem_get_cache(k, cpu, task, root, nofail);
  k.preemption_point(spec::PreemptPoint::after_get_cache);
  const SlabAlloc slab = slab_alloc(k, cpu, task, cache, nofail);
  memcg_kmem_put_cache(k, cpu, cache);
  return slab;
}

SlabAlloc slab_alloc(Kernel& k, Cpu cpu, spec::TaskKey task, CacheId cache, bool nofail) {
  // ___slab_alloc: the oldest partial page, else new_slab.
  std::optional<SlabPageId> id;
  if (const auto& partial = cache_of(k, cache).partial; !partial.empty()) id = *partial.begin();
  if (!id) id = allocate_slab(k, cpu, task, cache, nofail);
  if (!id) return {Errno::enomem, std::nullopt};
  SlabPage& page = k.slab_pages.at(*id);
  page.nr_objects += 1;
  if (page.nr_objects == page.capacity) cache_of(k, cache).partial.erase(*id);
  if (k.traits().slab == SlabCharging::recharged_cache_pages &&
      !memcg_kmem_recharge_slab(k, cpu, task, page, nofail)) {
    remove_object(k, cpu, *id);  // slab_free of the new object
    return {Errno::enomem, std::nullopt};
  }
  return {Errno::ok, id};
}

void kmem_cache_free(Kernel& k, Cpu cpu, SlabPageId page) { remove_object(k, cpu, page); }

// memcg_kmem_cache_create_func -> memcg_create_kmem_cache (v5.2, v5.4), or
// memcg_register_cache (davydov-2014), then the work's css_put.
void memcg_kmem_cache_create_func(Kernel& k, MemcgId memcg, CacheId root) {
  MemCgroup& m = k.memcg(memcg);
  m.cache_work_refs -= 1;
  const bool davydov = k.traits().slab == SlabCharging::recharged_cache_pages;
  // "The memory cgroup could have been offlined while the cache creation work
  // was pending" (v5.2, v5.4); Davydov's caches belong to the kmemcg_id, which
  // the memcg keeps even after its offline freed it.
  const bool can_create = m.kmemcg_id && (davydov || m.kmem_online);
  if (can_create && !cache_from_memcg_idx(cache_of(k, root), *m.kmemcg_id)) {
    spec::mark_hit(spec::Mark::memcg_cache_created);
    CacheId id = create_cache(k, cache_of(k, root), root);
    KmemCache& s = cache_of(k, id);
    s.kmemcg_id = m.kmemcg_id;
    s.origin = memcg;
    if (!davydov) {
      // memcg_link_cache: memcg_params.memcg, memcg->kmem_caches (v5.4: with
      // css_get), and v5.4's init_memcg_params percpu_ref_init (refcount 1).
      s.memcg = memcg;
      m.kmem_caches.push_back(id);
      if (k.traits().slab == SlabCharging::reparented_cache_pages) {
        css_get(k, memcg);
        s.refs = 1;
      }
    }
    set_memcg_cache(cache_of(k, root), *s.kmemcg_id, id);
  }
  css_put(k, memcg);
}

// v5.2 memcg_deactivate_kmem_caches / v5.4 memcg_deactivate_kmem_caches(memcg,
// parent). Davydov's design keeps the caches: nothing to do.
void memcg_deactivate_kmem_caches(Kernel& k, Cpu this_cpu, MemcgId memcg, MemcgId parent) {
  const SlabCharging design = k.traits().slab;
  if (design != SlabCharging::memcg_cache_pages && design != SlabCharging::reparented_cache_pages)
    return;
  const auto idx = k.memcg(memcg).kmemcg_id;
  if (!idx) return;
  for (auto& root : k.caches) {
    if (!is_root_cache(root)) continue;
    auto c = cache_from_memcg_idx(root, *idx);
    if (!c) continue;
    KmemCache& s = cache_of(k, *c);
    s.state = CacheState::deactivated;
    // v5.2 slab_deactivate_memcg_cache_rcu_sched pins the memcg (css_get)
    // until kmemcg_deactivate_workfn; v5.4 kmemcg_cache_deactivate queues the
    // same RCU-then-work step without a reference.
    if (design == SlabCharging::memcg_cache_pages) {
      css_get(k, *s.memcg);
      k.memcg(*s.memcg).cache_work_refs += 1;
    }
    queue_work(k, DeferredWork{WorkKind::cache_deactivate, s.id, this_cpu});
    set_memcg_cache(root, *idx, std::nullopt);
  }
  if (design != SlabCharging::reparented_cache_pages) return;
  // Reparent every cache on memcg->kmem_caches (its own and those inherited
  // from its children): memcg_params.memcg = parent, css_put on memcg, then
  // list_splice_init and css_get_many on the parent.
  auto& list = k.memcg(memcg).kmem_caches;
  const auto nr_reparented = static_cast<std::uint32_t>(list.size());
  for (CacheId id : list) {
    spec::mark_hit(spec::Mark::memcg_cache_reparented);
    cache_of(k, id).memcg = parent;
    css_put(k, memcg);
  }
  auto& parent_list = k.memcg(parent).kmem_caches;
  parent_list.insert(parent_list.begin(), list.begin(), list.end());
  list.clear();
  css_get_many(k, parent, nr_reparented);
}

void kmemcg_cache_deactivate_work(Kernel& k, Cpu this_cpu, CacheId id) {
  // __kmem_cache_shrink frees the cache's empty slabs: the model never keeps
  // one, so there is nothing to free.
  KmemCache& s = cache_of(k, id);
  if (k.traits().slab == SlabCharging::memcg_cache_pages) {
    // kmemcg_deactivate_workfn: "put the ref from
    // slab_deactivate_memcg_cache_rcu_sched()".
    k.memcg(*s.memcg).cache_work_refs -= 1;
    css_put(k, *s.memcg);
    return;
  }
  // kmemcg_cache_deactivate_after_rcu: percpu_ref_kill(&s->memcg_params.refcnt).
  s.killed = true;
  queue_work(k, DeferredWork{WorkKind::cache_to_atomic, id, this_cpu});
  cache_percpu_ref_put(k, this_cpu, id, 1);  // the initial reference; percpu mode: no release
}

void cache_percpu_ref_switch_to_atomic(Kernel& k, CacheId id) {
  KmemCache& s = cache_of(k, id);
  s.atomic_mode = true;
  if (s.refs == 0) kmemcg_cache_shutdown(k, id);
}

void cache_percpu_ref_put(Kernel& k, Cpu this_cpu, CacheId id, std::uint32_t nr) {
  KmemCache& s = cache_of(k, id);
  s.refs -= nr;
  if (s.refs == 0 && s.atomic_mode) kmemcg_cache_shutdown(k, id);
}

// kmemcg_cache_shutdown (v5.4), the percpu_ref's release: queue the shutdown.
void kmemcg_cache_shutdown(Kernel& k, CacheId id) {
  queue_work(k, DeferredWork{WorkKind::cache_shutdown, id, spec::kDefaultCpu});
}

void kmemcg_cache_shutdown_fn(Kernel& k, CacheId id) {
  spec::mark_hit(spec::Mark::memcg_cache_shut_down);
  shutdown_cache(k, id);
}

void memcg_destroy_kmem_caches(Kernel& k, MemcgId memcg) {
  if (k.traits().slab != SlabCharging::memcg_cache_pages) return;
  // "The cgroup is about to be freed and therefore has no charges left.
  // Hence, all its caches must be empty by now": BUG_ON(shutdown_cache(s)).
  const auto list = k.memcg(memcg).kmem_caches;
  for (CacheId id : list) shutdown_cache(k, id);
}

}  // namespace mv::reference
