// Overlays of reference/kmem_cache.cc (the per-memcg kmem_caches of v5.2,
// v5.3, davydov-2014).
#include <variant>

#include "overlay/overlay.h"

namespace mv::overlay {

// cache_put_before_alloc: kmem_cache_alloc as it was before Davydov's
// "memcg: fix possible use-after-free in memcg_kmem_get_cache()" (v3.19):
// memcg_kmem_get_cache drops the reference that pins the cache (v5.2 the css,
// v5.3 the cache's percpu_ref) before the allocation from the cache instead of
// memcg_kmem_put_cache after it. The alloc of a slab object is the
// reference's kmem_alloc with the steps of reference::kmem_cache_alloc in
// that order; every other operation is the reference's.
std::optional<spec::Errno> cache_put_before_alloc(reference::Kernel& k, const spec::Op& op) {
  const auto* alloc = std::get_if<spec::Alloc>(&op);
  if (!alloc || alloc->kind != spec::AllocKind::slab || !k.traits().has_memcg_caches())
    return std::nullopt;
  auto task = k.tasks.find(alloc->task);
  // Refused the same way by the reference's kmem_alloc (ENOENT, EEXIST).
  if (task == k.tasks.end() || k.objects.count(alloc->obj) != 0) return std::nullopt;
  const spec::Cpu cpu = task->second.cpu;
  const auto root =
      reference::root_cache(k, alloc->cache, static_cast<std::uint32_t>(alloc->size_bytes));
  const auto cache = reference::memcg_kmem_get_cache(k, cpu, alloc->task, root, alloc->nofail);
  reference::memcg_kmem_put_cache(k, cpu, cache);  // the mutation: before the allocation
  k.preemption_point(spec::PreemptPoint::after_get_cache);
  const reference::SlabAlloc slab = reference::slab_alloc(k, cpu, alloc->task, cache, alloc->nofail);
  if (slab.result != spec::Errno::ok) return slab.result;
  reference::KmemObject obj;
  obj.key = alloc->obj;
  obj.kind = alloc->kind;
  obj.order = alloc->order;
  obj.slab_page = slab.page;
  k.objects[alloc->obj] = obj;
  return spec::Errno::ok;
}

}  // namespace mv::overlay
