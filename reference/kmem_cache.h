// struct kmem_cache and its slab pages, for the designs that charge slab
// memory per page through per-memcg caches (spec::SlabCharging other than
// objcg_bytes): v5.2 (mm/slab_common.c, mm/slub.c, mm/memcontrol.c v5.2.1),
// v5.3 (the same files of v5.4.286) and Davydov's 2014 series (patches on
// v3.18-rc2-mmotm). A trace's slab object names a root cache (its `cache`, or
// the unnamed cache of its size); a memcg allocates from its own child cache
// of that root, created asynchronously on first use.
//
// The slab allocator itself is reduced to what charging sees: a cache's pages
// have SLUB's order and object count (calculate_order), a new object goes into
// the oldest page of its cache that has a free slot, else into a new page
// (allocate_slab), and a page is freed as soon as its last object is (SLUB
// keeps up to min_partial empty slabs and its per-CPU slab; a deactivated v5.2+
// cache sets min_partial and cpu_partial to 0). The model therefore frees slab
// pages as early as any SLUB configuration could, so a page it keeps alive is
// kept alive by a live object.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <vector>

#include "spec/operation.h"
#include "spec/snapshot.h"

namespace mv::reference {

struct Kernel;

struct KmemCache {
  spec::CacheId id = 0;
  std::optional<spec::CacheKey> name;   // the root cache's trace name (nullopt: size-N)
  std::uint32_t object_size_bytes = 0;  // s->size
  std::optional<spec::CacheId> root;    // memcg_params.root_cache (nullopt: a root cache)
  std::uint32_t order = 0;              // oo_order(s->oo)
  std::uint32_t objects_per_slab = 0;   // oo_objects(s->oo)
  std::uint32_t min_order = 0;          // oo_order(s->min): allocate_slab's fallback
  std::optional<std::uint32_t> kmemcg_id;
  std::optional<spec::MemcgId> origin;  // the memcg it was created for
  std::optional<spec::MemcgId> memcg;   // memcg_params.memcg (v5.2, v5.3)
  spec::CacheState state = spec::CacheState::active;
  // v5.3: memcg_params.refcnt, a percpu_ref (killed at deactivation, released
  // at zero in atomic mode: kmemcg_cache_shutdown).
  bool killed = false;
  bool atomic_mode = false;  // the kill's switch to atomic mode has run
  std::int64_t refs = 0;
  // Root caches: memcg_params.memcg_caches, indexed by kmemcg_id.
  std::vector<std::optional<spec::CacheId>> memcg_caches;
  std::set<spec::SlabPageId> partial;  // its live pages with a free slot
};

struct SlabPage {
  spec::SlabPageId id = 0;
  spec::CacheId cache = 0;
  std::uint32_t order = 0;
  std::uint32_t capacity = 0;  // objects it can hold (order_objects)
  std::uint32_t nr_objects = 0;
  std::uint32_t charged_pages = 0;      // charged to a page_counter for it
  std::optional<spec::MemcgId> memcg;   // page->mem_cgroup (v5.2, davydov-2014)
};

// SLUB (v5.2 mm/slub.c) calculate_order for an object of `size_bytes` with
// `nr_cpu_ids` CPUs: the page order of a slab; order_objects: its objects.
std::uint32_t calculate_order(std::uint32_t size_bytes, std::uint32_t nr_cpu_ids,
                              std::uint64_t page_size_bytes);
std::uint32_t order_objects(std::uint32_t order, std::uint32_t size_bytes,
                            std::uint64_t page_size_bytes);

// The root cache a slab allocation names (kmem_cache_create on first use).
spec::CacheId root_cache(Kernel& k, const std::optional<spec::CacheKey>& name,
                         std::uint32_t size_bytes);

// kmem_cache_alloc of one object for `task` on `cpu`, from root cache `root`:
// memcg_kmem_get_cache picks the cache (preemption point after_get_cache),
// slab_alloc allocates from it, memcg_kmem_put_cache drops the reference
// get_cache took. The page it went into, or ENOMEM when a new slab page could
// not be charged.
struct SlabAlloc {
  spec::Errno result = spec::Errno::ok;
  std::optional<spec::SlabPageId> page;
};
SlabAlloc kmem_cache_alloc(Kernel& k, spec::Cpu cpu, spec::TaskKey task, spec::CacheId root,
                           bool nofail);
// The three steps of kmem_cache_alloc (slab_pre_alloc_hook, ___slab_alloc,
// slab_post_alloc_hook). memcg_kmem_get_cache returns the cache with the
// reference that keeps it alive until memcg_kmem_put_cache (v5.2: the memcg's
// css; v5.3: the cache's percpu_ref; davydov-2014: none, its caches live
// forever). slab_alloc from a cache that was destroyed meanwhile is a use
// after free, which the model carries out as the kernel would (a page of the
// freed cache, charged to nobody: its memcg_params are gone) and INV-NO-UAF
// reports.
spec::CacheId memcg_kmem_get_cache(Kernel& k, spec::Cpu cpu, spec::TaskKey task, spec::CacheId root,
                                   bool nofail);
void memcg_kmem_put_cache(Kernel& k, spec::Cpu cpu, spec::CacheId cache);
SlabAlloc slab_alloc(Kernel& k, spec::Cpu cpu, spec::TaskKey task, spec::CacheId cache, bool nofail);
// kmem_cache_free of one object of `page`: frees the page once it is empty.
void kmem_cache_free(Kernel& k, spec::Cpu cpu, spec::SlabPageId page);

// memcg_create_kmem_cache / memcg_register_cache: the deferred work queued on
// first use by a memcg; it puts the css reference the queueing took.
void memcg_kmem_cache_create_func(Kernel& k, spec::MemcgId memcg, spec::CacheId root);
// The kmem_cache side of memcg_offline_kmem: v5.2 memcg_deactivate_kmem_caches,
// v5.3 memcg_deactivate_kmem_caches(memcg, parent) (deactivate and reparent),
// nothing in Davydov's design (the caches stay for the next user of the id).
void memcg_deactivate_kmem_caches(Kernel& k, spec::Cpu this_cpu, spec::MemcgId memcg,
                                  spec::MemcgId parent);
// The deferred half of a cache's deactivation (v5.2: kmemcg_deactivate_workfn
// -> kmemcg_cache_deact_after_rcu; v5.3: kmemcg_workfn ->
// kmemcg_cache_deactivate_after_rcu): shrink, and in v5.3 kill the percpu_ref.
void kmemcg_cache_deactivate_work(Kernel& k, spec::Cpu this_cpu, spec::CacheId cache);
// v5.3 kmemcg_cache_shutdown_fn: the deferred shutdown of a cache whose
// refcount reached zero after the kill.
void kmemcg_cache_shutdown_fn(Kernel& k, spec::CacheId cache);
// v5.2 memcg_destroy_kmem_caches, from css_free: the memcg's caches go.
void memcg_destroy_kmem_caches(Kernel& k, spec::MemcgId memcg);

// v5.3's percpu_ref on a memcg cache (lib/percpu-refcount.c, as the objcg's):
// a put; the deferred switch to atomic mode after the kill; the release
// (kmemcg_cache_shutdown), which queues kmemcg_cache_shutdown_fn.
void cache_percpu_ref_put(Kernel& k, spec::Cpu this_cpu, spec::CacheId cache, std::uint32_t nr);
void cache_percpu_ref_switch_to_atomic(Kernel& k, spec::CacheId cache);
void kmemcg_cache_shutdown(Kernel& k, spec::CacheId cache);

}  // namespace mv::reference
