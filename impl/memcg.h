// struct mem_cgroup (the parts kmem accounting uses) and its css lifecycle:
// online -> dying (rmdir kills the css) -> offline (deferred: objcgs
// reparented, stocks drained, ID ref dropped) -> freed (deferred css_free once
// the css count is zero). Memory is never reused: a freed memcg stays as a
// tombstone, so a reader that still holds a pointer can never touch recycled
// memory, and the snapshot keeps listing it (docs/DESIGN.md).
#pragma once

#include <cstdint>

#include "impl/deferred.h"
#include "impl/page_counter.h"
#include "impl/per_cpu.h"
#include "impl/percpu_ref.h"
#include "spec/path_table.h"
#include "spec/snapshot.h"

namespace mv::impl {

struct Objcg;

// A circular doubly linked list (struct list_head), protected by objcg_lock.
struct ListNode {
  ListNode* prev = this;
  ListNode* next = this;
  Objcg* owner = nullptr;  // the objcg this node is embedded in (list heads: null)
  bool empty() const { return next == this; }
};

struct Memcg {
  PageCounter memory;
  // Read-mostly after mkdir.
  alignas(64) spec::MemcgId id = 0;
  spec::PathKey path = spec::kRootPath;
  Memcg* parent = nullptr;
  std::uint32_t level = 0;
  PcpuRef css;
  sync::Shared<Objcg*> objcg{nullptr};  // memcg->objcg (RCU pointer)
  Objcg* orig_objcg = nullptr;          // v6.7+: memcg->orig_objcg (a reference until css_free)
  sync::Shared<std::uint8_t> state{static_cast<std::uint8_t>(spec::CgroupState::online)};
  sync::Shared<bool> offlined{false};
  sync::Shared<std::uint32_t> nr_tasks{0};
  std::uint32_t nr_online_children = 0;  // cgroup_mutex
  ListNode objcg_list;                   // objcg_lock
  std::uint32_t offline_cpu = 0;         // the rmdir's CPU
  Work offline_work;
  Work free_work;

  bool is_root() const { return parent == nullptr; }
  spec::CgroupState load_state() const {
    return static_cast<spec::CgroupState>(state.load());
  }
};

// mem_cgroup_is_descendant (v6.6): memcg is root or below it.
inline bool mem_cgroup_is_descendant(const Memcg* memcg, const Memcg* root) {
  if (memcg->level < root->level) return false;
  while (memcg->level > root->level) memcg = memcg->parent;
  return memcg == root;
}

}  // namespace mv::impl

namespace mv::impl {

// Slow halves of the css ref operations: memcg_use_after_free on a freed
// memcg, css_free queued when a put releases, css_ref_underflow.
[[gnu::cold]] void memcg_freed_event(Cpu& cur, Memcg* memcg);
[[gnu::cold]] void css_ref_slow(Cpu& cur, Memcg* memcg, RefResult result);

inline bool memcg_freed(const Memcg* memcg) {
  return memcg->state.load_relaxed() == static_cast<std::uint8_t>(spec::CgroupState::freed);
}

// css_get / css_put / css_tryget (percpu_ref on the css; CSS_NO_REF for the
// root). Touching a freed memcg records memcg_use_after_free instead.
inline void css_get(Cpu& cur, Memcg* memcg) {
  if (memcg_freed(memcg)) [[unlikely]] return memcg_freed_event(cur, memcg);
  RefResult r = memcg->css.get(cur.pcpu_base());
  if (r != RefResult::ok) [[unlikely]] css_ref_slow(cur, memcg, r);
}
inline void css_put(Cpu& cur, Memcg* memcg) {
  if (memcg_freed(memcg)) [[unlikely]] return memcg_freed_event(cur, memcg);
  RefResult r = memcg->css.put(cur.pcpu_base());
  if (r != RefResult::ok) [[unlikely]] css_ref_slow(cur, memcg, r);
}
inline bool css_tryget(Cpu& cur, Memcg* memcg) {
  if (memcg_freed(memcg)) [[unlikely]] {
    memcg_freed_event(cur, memcg);
    return false;
  }
  return memcg->css.tryget(cur.pcpu_base()) == RefResult::ok;
}

// try_charge_memcg (v6.6), reclaim-less: docs/MODEL-v6.6.md.
spec::Errno try_charge_memcg(Cpu& cur, Memcg* memcg, std::uint32_t nr_pages, bool nofail);

// The deferred halves of the lifecycle.
void mem_cgroup_css_offline(Cpu& cur, Memcg* memcg);  // css_killed_work_fn
void css_free_rwork_fn(Cpu& cur, Memcg* memcg);

}  // namespace mv::impl
