// The out-of-line parts of the accounted-allocation hooks (v6.6).
#include "impl/kmem.h"

#include <utility>

#include "arith/obj_stock.h"
#include "impl/page_stock.h"

namespace mv::impl {

using arith::M;

// obj_cgroup_charge_pages (v6.6).
spec::Errno obj_cgroup_charge_pages(Cpu& cur, Objcg* objcg, std::uint32_t nr_pages,
                                    bool nofail) {
  objcg_released_check(cur, objcg);
  Memcg* memcg = cur.mutant == spec::Mutant::css_get_not_tryget
                     ? get_mem_cgroup_from_objcg_without_tryget(cur, objcg)
                     : get_mem_cgroup_from_objcg(cur, objcg);
  // v5.10: try_charge returns 0 for the root without charging it (what an
  // objcg reparented to the root meets; c5c8b16b596e fixed it in v5.14).
  if (cur.traits->try_charge_skips_root && memcg->is_root()) [[unlikely]]
    cur.sys->events.record(spec::EventKind::root_charge_skipped, objcg->id, nr_pages);
  spec::Errno ret = try_charge_memcg(cur, memcg, nr_pages, nofail);
  if (ret == spec::Errno::ok) objcg_ghost_add(cur, objcg, nr_pages);
  css_put(cur, memcg);
  return ret;
}

// obj_cgroup_uncharge_pages (v6.6): the pages go to this CPU's page stock.
void obj_cgroup_uncharge_pages(Cpu& cur, Objcg* objcg, std::uint32_t nr_pages) {
  objcg_released_check(cur, objcg);
  Memcg* memcg = get_mem_cgroup_from_objcg(cur, objcg);
  // Mutant::root_skipped_on_uncharge: pages of an objcg reparented to the
  // root are dropped instead of given back to the root's counter. v6.16
  // skips the root itself: `if (!mem_cgroup_is_root(memcg)) refill_stock`.
  const bool skip_root = cur.traits->split_stocks || cur.mutant == spec::Mutant::root_skipped_on_uncharge;
  if (!(skip_root && memcg->is_root())) [[likely]]
    refill_stock(cur, memcg, nr_pages);
  objcg_ghost_add(cur, objcg, -static_cast<long>(nr_pages));
  css_put(cur, memcg);
}

// v6.16's __memcg_slab_post_alloc_hook accounts the vmstat in the byte
// stock's refill (the pgdat), with no mod_objcg_state after it.
spec::Errno slab_charge_slow(Cpu& cur, Objcg* objcg, std::uint64_t size_bytes, bool nofail) {
  if (cur.task_caches_objcg) return obj_cgroup_charge_slow(cur, objcg, size_bytes, nofail, true);
  spec::Errno ret = obj_cgroup_charge_slow(cur, objcg, size_bytes, nofail);
  if (ret == spec::Errno::ok) mod_objcg_state(cur, objcg);
  return ret;
}

// obj_cgroup_charge (v6.6) after a byte-stock miss: charge whole pages, put
// the unused tail of the last one in the byte stock.
spec::Errno obj_cgroup_charge_slow(Cpu& cur, Objcg* objcg, std::uint64_t size_bytes, bool nofail,
                                   bool pgdat) {
  auto split = arith::obj_charge_split<M>(M::lit64(size_bytes), cur.page);
  if (cur.mutant == spec::Mutant::charge_split_no_round_up) [[unlikely]]
    split = arith::slips::obj_charge_split_no_round_up<M>(M::lit64(size_bytes), cur.page);
  spec::Errno ret = obj_cgroup_charge_pages(cur, objcg, split.nr_pages.v, nofail);
  if (ret != spec::Errno::ok || (split.nr_bytes.v == 0 && !pgdat)) return ret;
  const std::uint32_t tail =
      split.nr_bytes.v != 0 ? arith::charge_tail_bytes<M>(split.nr_bytes, cur.page).v : 0;
  refill_obj_stock(cur, objcg, tail, false);
  return ret;
}

// current_objcg_update (v6.7+): put the cached objcg, look the task's up
// again (__get_obj_cgroup_from_memcg: a tryget, the task's reference).
Objcg* current_objcg_update(Cpu& cur, Task& task) {
  if (Objcg* old = std::exchange(task.objcg, nullptr)) obj_cgroup_put(cur, old);
  task.objcg = get_obj_cgroup_from_current(cur, task);
  task.objcg_update = false;
  return task.objcg;
}

namespace {

void mark_uncharged(Object& obj) {
  obj.objcg = nullptr;
  obj.charged_bytes = 0;
  obj.nr_kmem_pages = 0;
  obj.live = true;
}

std::uint64_t pages_to_bytes(std::uint32_t nr_pages, const arith::PageGeometry& page) {
  return arith::kmem_pages_bytes<M>(M::lit32(nr_pages), page).v;
}

// MAX_ORDER (v6.4+, inclusive, x86_64): __alloc_pages refuses larger orders
// before any memcg charge.
constexpr std::uint32_t kMaxOrder = 10;

// PCPU_MIN_UNIT_SIZE = PFN_ALIGN(32 << 10): pcpu_alloc refuses a size of 0 or
// above it before its memcg hook.
std::uint64_t pcpu_min_unit_size(const arith::PageGeometry& page) {
  return ((std::uint64_t{32} << 10) + page.mask()) & ~page.mask();
}

// pcpu_memcg_pre_alloc_hook (v6.6) on the aligned size; the post hook keeps
// the pre hook's ref in chunk->obj_cgroups[].
spec::Errno percpu_alloc(Cpu& cur, Task& task, Object& obj, std::uint64_t size_bytes,
                         bool nofail) {
  auto aligned = arith::pcpu_aligned_size<M>(M::lit64(size_bytes));
  if (aligned.v == 0 || aligned.v > pcpu_min_unit_size(cur.page)) return spec::Errno::enomem;
  Objcg* objcg = alloc_objcg(cur, task);
  if (!objcg) {
    mark_uncharged(obj);
    return spec::Errno::ok;
  }
  // pcpu_obj_full_size: v5.17+ (8c57c07741bf) also charges the objcg pointers.
  std::uint64_t full_bytes =
      cur.mutant == spec::Mutant::percpu_without_metadata
          ? arith::slips::pcpu_obj_full_size_without_pointers<M>(aligned, cur.sys->ncpus()).v
      : cur.traits->percpu_charges_objcg_pointers
          ? arith::pcpu_obj_full_size<M>(aligned, cur.sys->ncpus()).v
          : arith::pcpu_obj_full_size_v5_9<M>(aligned, cur.sys->ncpus()).v;
  if (obj_cgroup_charge(cur, objcg, full_bytes, nofail) != spec::Errno::ok) {
    drop_uncharged_objcg(cur, objcg);
    return spec::Errno::enomem;
  }
  hold_charged_objcg(cur, objcg);
  obj.objcg = objcg;
  obj.charged_bytes = full_bytes;
  obj.nr_kmem_pages = 0;
  obj.live = true;
  return spec::Errno::ok;
}

// __memcg_kmem_charge_page (v6.6): the page keeps the objcg ref on success.
spec::Errno kmem_charge_page(Cpu& cur, Task& task, std::uint32_t nr_pages, bool nofail,
                             Objcg** out) {
  *out = nullptr;
  Objcg* objcg = alloc_objcg(cur, task);
  if (!objcg) return spec::Errno::ok;
  spec::Errno ret = obj_cgroup_charge_pages(cur, objcg, nr_pages, nofail);
  if (ret != spec::Errno::ok) {
    drop_uncharged_objcg(cur, objcg);
    return ret;
  }
  hold_charged_objcg(cur, objcg);
  *out = objcg;
  return spec::Errno::ok;
}

// __memcg_kmem_uncharge_page (v6.6).
void kmem_uncharge_page(Cpu& cur, Objcg* objcg, std::uint32_t nr_pages) {
  obj_cgroup_uncharge_pages(cur, objcg, nr_pages);
  obj_cgroup_put(cur, objcg);
}

// --- Kernel memory charged to the memcg directly (before v5.13) ------------

bool kmem_pages_hold_memcg(const Cpu& cur) {
  return cur.traits->kmem_pages == spec::KmemPageCharging::memcg_css_ref;
}

// __memcg_kmem_charge_page (v5.10): get_mem_cgroup_from_current, and unless
// it is the root, __memcg_kmem_charge (try_charge) of nr_pages; on success
// page->mem_cgroup keeps the memcg with the css reference the lookup took.
spec::Errno kmem_charge_page_memcg(Cpu& cur, Task& task, std::uint32_t nr_pages, bool nofail,
                                   Memcg** out) {
  *out = nullptr;
  Memcg* memcg = task.memcg.load();
  if (memcg->is_root()) return spec::Errno::ok;
  spec::Errno ret = try_charge_memcg(cur, memcg, nr_pages, nofail);
  if (ret != spec::Errno::ok) return ret;
  css_get(cur, memcg);
  *out = memcg;
  return spec::Errno::ok;
}

// __memcg_kmem_uncharge_page (v5.10): __memcg_kmem_uncharge, which gives the
// pages to this CPU's page stock (refill_stock, 3de7d4f25a74 in 5.10.11),
// then css_put of the page's reference.
void kmem_uncharge_page_memcg(Cpu& cur, Memcg* memcg, std::uint32_t nr_pages) {
  refill_stock(cur, memcg, nr_pages);
  css_put(cur, memcg);
}

// A live object holding `nr_charges` charges of nr_pages each on memcg (or
// none: a task of the root cgroup).
void mark_memcg_charged(Cpu& cur, Object& obj, Memcg* memcg, std::uint32_t nr_charges,
                        std::uint32_t nr_pages) {
  mark_uncharged(obj);
  if (!memcg) return;
  obj.memcg = memcg;
  obj.nr_kmem_pages = nr_charges;
  obj.charged_bytes = pages_to_bytes(nr_charges * nr_pages, cur.page);
}

// memcg_charge_kernel_stack (v5.10, kernel/fork.c): memcg_kmem_charge_page of
// every page with GFP_KERNEL; when one fails, dup_task_struct frees the stack
// and free_thread_stack uncharges every page that has a memcg (pages 0..i-1).
// One task on one CPU: every page gets the task's memcg, or none.
spec::Errno stack_alloc_memcg(Cpu& cur, Task& task, Object& obj) {
  const std::uint32_t nr_stack_pages = arith::kernel_stack_nr_pages(cur.page);
  Memcg* memcg = nullptr;
  for (std::uint32_t i = 0; i < nr_stack_pages; ++i) {
    Memcg* page_memcg = nullptr;
    spec::Errno ret = kmem_charge_page_memcg(cur, task, 1, /*nofail=*/false, &page_memcg);
    if (ret != spec::Errno::ok) {
      for (std::uint32_t j = 0; memcg && j < i; ++j) kmem_uncharge_page_memcg(cur, memcg, 1);
      return ret;
    }
    memcg = page_memcg;
  }
  mark_memcg_charged(cur, obj, memcg, nr_stack_pages, 1);
  return spec::Errno::ok;
}

spec::Errno page_alloc(Cpu& cur, Task& task, Object& obj, std::uint32_t order, bool nofail) {
  if (order > kMaxOrder) return spec::Errno::enomem;
  std::uint32_t nr_pages = arith::kmem_page_nr_pages<M>(order).v;
  if (kmem_pages_hold_memcg(cur)) {
    Memcg* memcg = nullptr;
    spec::Errno ret = kmem_charge_page_memcg(cur, task, nr_pages, nofail, &memcg);
    if (ret == spec::Errno::ok) mark_memcg_charged(cur, obj, memcg, 1, nr_pages);
    return ret;
  }
  Objcg* objcg = nullptr;
  spec::Errno ret = kmem_charge_page(cur, task, nr_pages, nofail, &objcg);
  if (ret != spec::Errno::ok) return ret;
  if (!objcg) {
    mark_uncharged(obj);
    return spec::Errno::ok;
  }
  obj.objcg = objcg;
  obj.charged_bytes = pages_to_bytes(nr_pages, cur.page);
  obj.nr_kmem_pages = 1;
  obj.live = true;
  return spec::Errno::ok;
}

// memcg_charge_kernel_stack (v6.1 and v6.6, kernel/fork.c): one order-0
// GFP_KERNEL charge per page of THREAD_SIZE (never __GFP_NOFAIL); when page i
// fails, v6.6 uncharges the pages charged so far, v6.1 every page of the
// stack, skipping those without memcg_data: the same pages 0..i-1.
spec::Errno stack_alloc(Cpu& cur, Task& task, Object& obj) {
  std::uint32_t nr_stack_pages = arith::kernel_stack_nr_pages(cur.page);
  Objcg* page_objcgs[kMaxStackPages] = {};
  std::uint32_t nr_charged = 0;
  for (std::uint32_t i = 0; i < nr_stack_pages; ++i) {
    spec::Errno ret = kmem_charge_page(cur, task, 1, /*nofail=*/false, &page_objcgs[i]);
    if (ret != spec::Errno::ok) {
      const std::uint32_t nr_uncharged =
          cur.sys->config().profile_traits().stack_uncharge_on_error ==
                  spec::StackUnchargeOnError::every_page
              ? nr_stack_pages
              : nr_charged;
      for (std::uint32_t j = 0; j < nr_uncharged; ++j)
        if (page_objcgs[j]) kmem_uncharge_page(cur, page_objcgs[j], 1);
      return ret;
    }
    ++nr_charged;
  }
  mark_uncharged(obj);
  std::uint32_t nr_with_objcg = 0;
  for (std::uint32_t i = 0; i < nr_stack_pages; ++i) {
    obj.page_objcgs[i] = page_objcgs[i];
    if (!page_objcgs[i]) continue;
    if (!obj.objcg) obj.objcg = page_objcgs[i];
    ++nr_with_objcg;
  }
  obj.charged_bytes = pages_to_bytes(nr_with_objcg, cur.page);
  obj.nr_kmem_pages = nr_with_objcg;
  return spec::Errno::ok;
}

}  // namespace

spec::Errno Cpu::alloc(Task& task, Object& obj, spec::AllocKind kind, std::uint64_t size_bytes,
                       std::uint32_t order, bool nofail) {
  obj = Object{};
  obj.kind = kind;
  obj.order = order;
  switch (kind) {
    case spec::AllocKind::slab:
      return slab_alloc(*this, task, obj, size_bytes, nofail);
    case spec::AllocKind::percpu:
      return percpu_alloc(*this, task, obj, size_bytes, nofail);
    case spec::AllocKind::page:
      return page_alloc(*this, task, obj, order, nofail);
    case spec::AllocKind::stack:
      return kmem_pages_hold_memcg(*this) ? stack_alloc_memcg(*this, task, obj)
                                          : stack_alloc(*this, task, obj);
  }
  return spec::Errno::einval;
}

namespace {

// The free hooks; kMutable: the instantiation that injects Cpu::mutant.
template <bool kMutable>
void free_object(Cpu& cur, Object& obj) {
  obj.live = false;
  if (obj.memcg) {
    // __memcg_kmem_uncharge_page (v5.10) of the page, or free_thread_stack's
    // of every stack page.
    const std::uint32_t nr_pages =
        obj.kind == spec::AllocKind::page ? arith::kmem_page_nr_pages<M>(obj.order).v : 1;
    for (std::uint32_t i = 0; i < obj.nr_kmem_pages; ++i)
      kmem_uncharge_page_memcg(cur, obj.memcg, nr_pages);
    return;
  }
  if (!obj.objcg) return;
  switch (obj.kind) {
    case spec::AllocKind::slab:
      slab_free<kMutable>(cur, obj);
      return;
    case spec::AllocKind::percpu:  // pcpu_memcg_free_hook (v6.6)
      obj_cgroup_uncharge<kMutable>(cur, obj.objcg, obj.charged_bytes);
      obj_cgroup_put(cur, obj.objcg);
      return;
    case spec::AllocKind::page:
      // Mutant::double_uncharge(_unclamped): the page's charge is given back twice.
      if (kMutable && (cur.mutant == spec::Mutant::double_uncharge ||
                       cur.mutant == spec::Mutant::double_uncharge_unclamped))
        obj_cgroup_uncharge_pages(cur, obj.objcg, arith::kmem_page_nr_pages<M>(obj.order).v);
      kmem_uncharge_page(cur, obj.objcg, arith::kmem_page_nr_pages<M>(obj.order).v);
      return;
    case spec::AllocKind::stack:
      for (Objcg* objcg : obj.page_objcgs)
        if (objcg) kmem_uncharge_page(cur, objcg, 1);
      return;
  }
}

}  // namespace

void Cpu::free(Object& obj) {
  if (mutant != spec::Mutant::none) [[unlikely]]
    free_object<true>(*this, obj);
  else
    free_object<false>(*this, obj);
}

void Cpu::drain() { drain_local_stock(*this); }

}  // namespace mv::impl
