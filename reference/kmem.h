// Accounted kernel allocations: slab objects (mm/slab.h memcg_slab_*_hook),
// percpu objects (mm/percpu.c pcpu_memcg_*_hook), kmem pages
// (__memcg_kmem_charge_page / __memcg_kmem_uncharge_page) and vmap kernel
// stacks (kernel/fork.c memcg_charge_kernel_stack, exit_task_stack_account),
// all v6.6.
#pragma once

#include <cstdint>
#include <optional>

#include "spec/operation.h"
#include "spec/snapshot.h"

namespace mv::reference {

struct Kernel;

struct KmemObject {
  spec::ObjKey key = 0;
  spec::AllocKind kind = spec::AllocKind::slab;
  std::uint64_t charged_bytes = 0;       // 0 when uncharged
  std::optional<spec::ObjcgId> objcg;    // holds references on it
  std::uint32_t nr_kmem_pages = 0;       // page, stack: charged pages, one ref each
  std::uint32_t order = 0;               // page: its order
  // Before v5.13 a kmem page or stack holds its memcg directly
  // (page->mem_cgroup); nr_kmem_pages then counts the references it holds.
  std::optional<spec::MemcgId> memcg;
  std::optional<spec::SlabPageId> slab_page;  // a slab object in a memcg-cache profile
};

// alloc by a task on its CPU; the object is recorded only on success.
spec::Errno kmem_alloc(Kernel& k, const spec::Alloc& op);
// free of a live object on op.cpu.
spec::Errno kmem_free(Kernel& k, const spec::Free& op);

}  // namespace mv::reference
