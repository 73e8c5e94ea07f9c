#include "reference/kmem.h"

#include <vector>

#include "arith/kmem_size.h"
#include "reference/kernel_state.h"

namespace mv::reference {

using arith::M;
using spec::AllocKind;
using spec::Cpu;
using spec::Errno;
using spec::ObjcgId;
using spec::TaskKey;

namespace {

// MAX_ORDER (v6.4+, inclusive; x86_64 default): __alloc_pages refuses larger
// orders with a warning before any memcg charge.
constexpr std::uint32_t kMaxOrder = 10;
// PCPU_MIN_UNIT_SIZE = PFN_ALIGN(32 << 10): pcpu_alloc refuses a size of 0 or
// above it before its memcg hook runs.
std::uint64_t pcpu_min_unit_size(const arith::PageGeometry& page) {
  std::uint64_t size = 32 << 10;
  return (size + page.mask()) & ~page.mask();
}

// v6.7+ (the v6.16 profile): allocations take the task's cached objcg
// (current_obj_cgroup, no reference of their own) and an object gets its
// reference (obj_cgroup_get) once charged.
bool task_caches_objcg(const Kernel& k) { return k.traits().objcg_refs_from_memcg_and_task; }

// What memcg_slab_pre_alloc_hook and pcpu_memcg_pre_alloc_hook (v6.6) both
// do: take the current task's objcg (with a reference), charge full_bytes to
// it, and on failure put the reference. A task of the root gets no objcg and
// its allocation goes uncharged. v6.16 (__memcg_slab_post_alloc_hook,
// pcpu_memcg_pre/post_alloc_hook): current_obj_cgroup, the charge, and
// obj_cgroup_get for the object once charged; a slab object's charge passes
// its pgdat (obj_cgroup_charge_account).
bool charge_current_objcg(Kernel& k, Cpu cpu, TaskKey task, std::uint64_t full_bytes,
                          bool nofail, bool slab, std::optional<ObjcgId>& objcgp) {
  if (task_caches_objcg(k)) {
    auto objcg = current_obj_cgroup(k, task);
    if (!objcg) return true;
    if (obj_cgroup_charge_account(k, cpu, *objcg, full_bytes, nofail, slab) != Errno::ok)
      return false;
    obj_cgroup_get(k, *objcg);
    objcgp = objcg;
    return true;
  }
  auto objcg = get_obj_cgroup_from_current(k, task);
  if (!objcg) return true;
  if (obj_cgroup_charge(k, cpu, *objcg, full_bytes, nofail) != Errno::ok) {
    obj_cgroup_put(k, cpu, *objcg);
    return false;
  }
  objcgp = objcg;
  return true;
}

// memcg_slab_pre_alloc_hook (v6.6): one objcg reference for the allocation,
// then the charge of the object's full size.
bool memcg_slab_pre_alloc_hook(Kernel& k, Cpu cpu, TaskKey task, std::uint64_t full_bytes,
                               bool nofail, std::optional<ObjcgId>& objcgp) {
  return charge_current_objcg(k, cpu, task, full_bytes, nofail, /*slab=*/true, objcgp);
}

// memcg_slab_post_alloc_hook (v6.6), one object: its own reference, the
// vmstat update (whose stock effect is modeled), then the pre-hook's put.
// v6.16 has done all of it in charge_current_objcg: the vmstat is accounted
// in the byte stock's consume and refill.
void memcg_slab_post_alloc_hook(Kernel& k, Cpu cpu, ObjcgId objcg) {
  if (task_caches_objcg(k)) return;
  obj_cgroup_get(k, objcg);
  mod_objcg_state(k, cpu, objcg);
  obj_cgroup_put(k, cpu, objcg);
}

// memcg_slab_free_hook (v6.6), one object; v6.16 __memcg_slab_free_hook:
// refill_obj_stock accounts the vmstat itself.
void memcg_slab_free_hook(Kernel& k, Cpu cpu, ObjcgId objcg, std::uint64_t full_bytes) {
  obj_cgroup_uncharge(k, cpu, objcg, full_bytes);
  if (!task_caches_objcg(k)) mod_objcg_state(k, cpu, objcg);
  obj_cgroup_put(k, cpu, objcg);
}

// pcpu_memcg_pre_alloc_hook (v6.6). pcpu_memcg_post_alloc_hook only stores the
// objcg in the chunk (MEMCG_PERCPU_B is not modeled): the object keeps this ref.
bool pcpu_memcg_pre_alloc_hook(Kernel& k, Cpu cpu, TaskKey task, std::uint64_t full_bytes,
                               bool nofail, std::optional<ObjcgId>& objcgp) {
  return charge_current_objcg(k, cpu, task, full_bytes, nofail, /*slab=*/false, objcgp);
}

// pcpu_memcg_free_hook (v6.6)
void pcpu_memcg_free_hook(Kernel& k, Cpu cpu, ObjcgId objcg, std::uint64_t full_bytes) {
  obj_cgroup_uncharge(k, cpu, objcg, full_bytes);
  obj_cgroup_put(k, cpu, objcg);
}

// __memcg_kmem_charge_page (v6.6): on success the page owns the reference.
// v6.16: current_obj_cgroup, and obj_cgroup_get for the page once charged.
Errno memcg_kmem_charge_page(Kernel& k, Cpu cpu, TaskKey task, std::uint32_t order, bool nofail,
                             std::optional<ObjcgId>& page_objcg) {
  if (task_caches_objcg(k)) {
    auto objcg = current_obj_cgroup(k, task);
    if (!objcg) return Errno::ok;
    auto ret = obj_cgroup_charge_pages(k, cpu, *objcg, arith::kmem_page_nr_pages<M>(order).v, nofail);
    if (ret != Errno::ok) return ret;
    obj_cgroup_get(k, *objcg);
    page_objcg = objcg;
    return Errno::ok;
  }
  auto objcg = get_obj_cgroup_from_current(k, task);
  if (!objcg) return Errno::ok;
  auto ret = obj_cgroup_charge_pages(k, cpu, *objcg, arith::kmem_page_nr_pages<M>(order).v, nofail);
  if (ret == Errno::ok) {
    page_objcg = objcg;
    return Errno::ok;
  }
  obj_cgroup_put(k, cpu, *objcg);
  return ret;
}

// __memcg_kmem_uncharge_page (v6.6), for a page that has an objcg.
void memcg_kmem_uncharge_page(Kernel& k, Cpu cpu, ObjcgId objcg, std::uint32_t order) {
  obj_cgroup_uncharge_pages(k, cpu, objcg, arith::kmem_page_nr_pages<M>(order).v);
  obj_cgroup_put(k, cpu, objcg);
}

// memcg_charge_kernel_stack (v6.1 and v6.6, kernel/fork.c, CONFIG_VMAP_STACK):
// one order-0 memcg_kmem_charge_page(page, GFP_KERNEL, 0) per page: never
// __GFP_NOFAIL, whatever the trace asks (the trace reader refuses `nofail` on
// a stack). When page i fails, v6.6 uncharges the nr_charged pages charged so
// far; v6.1 calls memcg_kmem_uncharge_page on every page of the stack, which
// skips the failed page and those after it (their memcg_data is 0). Either
// way pages 0..i-1 go back, each into this CPU's page stock.
Errno memcg_charge_kernel_stack(Kernel& k, Cpu cpu, TaskKey task, KmemObject& obj) {
  std::uint32_t nr_pages = arith::kernel_stack_nr_pages(k.page);
  std::vector<std::optional<ObjcgId>> memcg_data(nr_pages);  // each page's objcg, if charged
  std::uint32_t nr_charged = 0;
  for (std::uint32_t i = 0; i < nr_pages; ++i) {
    auto ret = memcg_kmem_charge_page(k, cpu, task, 0, /*nofail=*/false, memcg_data[i]);
    if (ret != Errno::ok) {
      std::uint32_t nr_uncharged =
          k.traits().stack_uncharge_on_error == spec::StackUnchargeOnError::every_page
              ? nr_pages
              : nr_charged;
      for (std::uint32_t j = 0; j < nr_uncharged; ++j)
        if (memcg_data[j]) memcg_kmem_uncharge_page(k, cpu, *memcg_data[j], 0);
      return ret;
    }
    ++nr_charged;
  }
  // One task, one CPU, no concurrent migration: every page got the same objcg
  // (or none, for a task of the root cgroup).
  obj.objcg = memcg_data.front();
  obj.nr_kmem_pages = obj.objcg ? nr_pages : 0;
  obj.charged_bytes = obj.objcg ? arith::kmem_pages_bytes<M>(M::lit32(nr_pages), k.page).v : 0;
  return Errno::ok;
}

// exit_task_stack_account (v6.6, kernel/fork.c): memcg_kmem_uncharge_page on
// every page of the stack.
void exit_task_stack_account(Kernel& k, Cpu cpu, const KmemObject& obj) {
  if (!obj.objcg) return;
  for (std::uint32_t i = 0; i < obj.nr_kmem_pages; ++i) memcg_kmem_uncharge_page(k, cpu, *obj.objcg, 0);
}

// slab_alloc_node (v6.6, mm/slub.c): slab_pre_alloc_hook, the object, slab_post_alloc_hook.
Errno alloc_slab(Kernel& k, Cpu cpu, const spec::Alloc& op, KmemObject& obj) {
  auto full = arith::slab_obj_full_size<M>(M::lit64(op.size_bytes));
  if (!memcg_slab_pre_alloc_hook(k, cpu, op.task, full.v, op.nofail, obj.objcg))
    return Errno::enomem;
  if (obj.objcg) {
    memcg_slab_post_alloc_hook(k, cpu, *obj.objcg);
    obj.charged_bytes = full.v;
  }
  return Errno::ok;
}

// pcpu_alloc (v6.6, mm/percpu.c): size checks, then pcpu_memcg_pre_alloc_hook.
Errno alloc_percpu(Kernel& k, Cpu cpu, const spec::Alloc& op, KmemObject& obj) {
  auto aligned = arith::pcpu_aligned_size<M>(M::lit64(op.size_bytes));
  if (aligned.v == 0 || aligned.v > pcpu_min_unit_size(k.page)) return Errno::enomem;
  // pcpu_obj_full_size: v5.17+ (8c57c07741bf) also charges the objcg pointers.
  auto full = k.traits().percpu_charges_objcg_pointers
                  ? arith::pcpu_obj_full_size<M>(aligned, k.config.ncpus)
                  : arith::pcpu_obj_full_size_v5_9<M>(aligned, k.config.ncpus);
  if (!pcpu_memcg_pre_alloc_hook(k, cpu, op.task, full.v, op.nofail, obj.objcg))
    return Errno::enomem;
  if (obj.objcg) obj.charged_bytes = full.v;
  return Errno::ok;
}

// __alloc_pages (v6.6, mm/page_alloc.c) with __GFP_ACCOUNT: order check, then
// __memcg_kmem_charge_page.
Errno alloc_page(Kernel& k, Cpu cpu, const spec::Alloc& op, KmemObject& obj) {
  if (op.order > kMaxOrder) return Errno::enomem;
  auto ret = memcg_kmem_charge_page(k, cpu, op.task, op.order, op.nofail, obj.objcg);
  if (ret != Errno::ok) return ret;
  if (obj.objcg) {
    obj.nr_kmem_pages = 1;
    obj.charged_bytes = arith::kmem_pages_bytes<M>(arith::kmem_page_nr_pages<M>(op.order), k.page).v;
  }
  return Errno::ok;
}

// --- Kernel memory charged to the memcg directly (up to v5.12) ------------

// The references a kmem page charged with page->mem_cgroup holds: before v5.9
// try_charge's css_get_many, one per page; v5.9-v5.12 the one css reference
// get_mem_cgroup_from_current took (1a3e1f40962c made try_charge take none).
std::uint32_t kmem_page_css_refs(const Kernel& k, std::uint32_t nr_pages) {
  return k.traits().stock_refs == spec::StockCssRefs::cached ? 1 : nr_pages;
}

// __memcg_kmem_charge (v5.2, v5.4: memcg_kmem_charge -> __memcg_kmem_charge ->
// __memcg_kmem_charge_memcg), __memcg_kmem_charge_page (v5.10), Davydov's base
// memcg_kmem_newpage_charge (3.18: never for __GFP_NOFAIL,
// memcg_kmem_should_charge): the current task's memcg, unless it is the root,
// charged with try_charge; on success page->mem_cgroup keeps the memcg and its
// references. Adds the page's pages and references to `obj`.
Errno memcg_kmem_charge_memcg(Kernel& k, Cpu cpu, TaskKey task, std::uint32_t order, bool nofail,
                              KmemObject& obj) {
  if (k.traits().slab == spec::SlabCharging::recharged_cache_pages && nofail) return Errno::ok;
  const spec::MemcgId memcg = k.tasks.at(task).memcg;
  if (mem_cgroup_is_root(k, memcg)) return Errno::ok;
  const std::uint32_t nr_pages = arith::kmem_page_nr_pages<M>(order).v;
  if (auto ret = try_charge_memcg(k, cpu, memcg, nr_pages, nofail); ret != Errno::ok) return ret;
  // v5.10: the reference get_mem_cgroup_from_current took stays with the page.
  if (k.traits().stock_refs == spec::StockCssRefs::cached) css_get(k, memcg);
  const std::uint32_t refs = kmem_page_css_refs(k, nr_pages);
  obj.memcg = memcg;
  obj.nr_kmem_pages += refs;
  obj.charged_bytes += arith::kmem_pages_bytes<M>(M::lit32(nr_pages), k.page).v;
  return Errno::ok;
}

// __memcg_kmem_uncharge (v5.2, v5.4): page_counter_uncharge, css_put_many;
// __memcg_kmem_uncharge_page (v5.10): __memcg_kmem_uncharge (5.10.11+:
// refill_stock, 3de7d4f25a74) and one css_put.
void memcg_kmem_uncharge_memcg(Kernel& k, Cpu cpu, spec::MemcgId memcg, std::uint32_t order) {
  const std::uint32_t nr_pages = arith::kmem_page_nr_pages<M>(order).v;
  if (k.traits().kmem_uncharge_refills_stock)
    refill_stock(k, cpu, memcg, nr_pages);
  else
    page_counter_uncharge(k, memcg, nr_pages);
  css_put_many(k, memcg, kmem_page_css_refs(k, nr_pages));
}

// memcg_charge_kernel_stack (v5.2, v5.10 kernel/fork.c, CONFIG_VMAP_STACK):
// memcg_kmem_charge(_page) of every page with GFP_KERNEL (never __GFP_NOFAIL,
// whatever the operation asks); on a failure dup_task_struct frees the stack
// and free_thread_stack uncharges the pages that were charged
// (memcg_kmem_uncharge skips a page without a memcg).
Errno memcg_charge_kernel_stack_memcg(Kernel& k, Cpu cpu, TaskKey task, KmemObject& obj) {
  const std::uint32_t nr_pages = arith::kernel_stack_nr_pages(k.page);
  for (std::uint32_t i = 0; i < nr_pages; ++i) {
    auto ret = memcg_kmem_charge_memcg(k, cpu, task, 0, /*nofail=*/false, obj);
    if (ret == Errno::ok) continue;
    if (obj.memcg)
      for (std::uint32_t j = 0; j < i; ++j) memcg_kmem_uncharge_memcg(k, cpu, *obj.memcg, 0);
    return ret;
  }
  return Errno::ok;
}

// free_thread_stack (v5.2, v5.10): memcg_kmem_uncharge(_page) of every page.
void free_thread_stack_memcg(Kernel& k, Cpu cpu, const KmemObject& obj) {
  const std::uint32_t nr_pages = static_cast<std::uint32_t>(obj.charged_bytes >> k.page.shift);
  for (std::uint32_t i = 0; i < nr_pages; ++i) memcg_kmem_uncharge_memcg(k, cpu, *obj.memcg, 0);
}

// An object of a memcg kmem_cache (v5.2, v5.3, davydov-2014): the slab page
// is what is charged (reference/kmem_cache.h); the object itself charges nothing.
Errno alloc_slab_from_cache(Kernel& k, Cpu cpu, const spec::Alloc& op, KmemObject& obj) {
  const auto root = root_cache(k, op.cache, static_cast<std::uint32_t>(op.size_bytes));
  const SlabAlloc slab = kmem_cache_alloc(k, cpu, op.task, root, op.nofail);
  obj.slab_page = slab.page;
  return slab.result;
}

// pcpu_alloc before v5.9 (3c7be18ac9a0): the same size checks, no charge.
Errno alloc_percpu_unaccounted(Kernel& k, const spec::Alloc& op) {
  auto aligned = arith::pcpu_aligned_size<M>(M::lit64(op.size_bytes));
  if (aligned.v == 0 || aligned.v > pcpu_min_unit_size(k.page)) return Errno::enomem;
  return Errno::ok;
}

}  // namespace

// The trace's alloc: the allocator path of its kind, on the task's CPU.
Errno kmem_alloc(Kernel& k, const spec::Alloc& op) {
  auto task = k.tasks.find(op.task);
  if (task == k.tasks.end()) return Errno::enoent;
  if (k.objects.count(op.obj) != 0) return Errno::eexist;
  Cpu cpu = task->second.cpu;
  KmemObject obj;
  obj.key = op.obj;
  obj.kind = op.kind;
  obj.order = op.order;
  Errno ret = Errno::ok;
  const auto& traits = k.traits();
  const bool memcg_pages = traits.kmem_pages == spec::KmemPageCharging::memcg_css_ref;
  switch (op.kind) {
    case AllocKind::slab:
      ret = traits.has_memcg_caches() ? alloc_slab_from_cache(k, cpu, op, obj)
                                      : alloc_slab(k, cpu, op, obj);
      break;
    case AllocKind::percpu:
      ret = traits.percpu_accounted ? alloc_percpu(k, cpu, op, obj) : alloc_percpu_unaccounted(k, op);
      break;
    case AllocKind::page:
      if (!memcg_pages) ret = alloc_page(k, cpu, op, obj);
      else if (op.order > kMaxOrder) ret = Errno::enomem;
      else ret = memcg_kmem_charge_memcg(k, cpu, op.task, op.order, op.nofail, obj);
      break;
    case AllocKind::stack:
      ret = memcg_pages ? memcg_charge_kernel_stack_memcg(k, cpu, op.task, obj)
                        : memcg_charge_kernel_stack(k, cpu, op.task, obj);
      break;
  }
  if (ret == Errno::ok) k.objects[op.obj] = obj;
  return ret;
}

// The trace's free: the matching free hook, on op.cpu.
Errno kmem_free(Kernel& k, const spec::Free& op) {
  auto it = k.objects.find(op.obj);
  if (it == k.objects.end()) return Errno::enoent;
  KmemObject obj = it->second;
  k.objects.erase(it);
  if (obj.slab_page) {
    kmem_cache_free(k, op.cpu, *obj.slab_page);
    return Errno::ok;
  }
  if (obj.memcg) {
    if (obj.kind == AllocKind::stack)
      free_thread_stack_memcg(k, op.cpu, obj);
    else
      memcg_kmem_uncharge_memcg(k, op.cpu, *obj.memcg, obj.order);
    return Errno::ok;
  }
  if (!obj.objcg) return Errno::ok;  // never charged: nothing to give back
  switch (obj.kind) {
    case AllocKind::slab: memcg_slab_free_hook(k, op.cpu, *obj.objcg, obj.charged_bytes); break;
    case AllocKind::percpu: pcpu_memcg_free_hook(k, op.cpu, *obj.objcg, obj.charged_bytes); break;
    case AllocKind::page:
      memcg_kmem_uncharge_page(k, op.cpu, *obj.objcg, obj.order);
      break;
    case AllocKind::stack: exit_task_stack_account(k, op.cpu, obj); break;
  }
  return Errno::ok;
}

}  // namespace mv::reference
