// Per-CPU data, laid out like DEFINE_PER_CPU(struct memcg_stock_pcp,
// memcg_stock) (v6.6): a fixed array indexed by simulated CPU, one
// cache-line-aligned struct per CPU, so no two CPUs' stocks share a line.
//
// Ownership: the stock is protected like the kernel's local lock: only the
// thread that owns the CPU touches it. Other CPUs only read `cached`,
// `nr_pages` and `cached_objcg` racily (drain_all_stock's READ_ONCEs), set the
// FLUSHING bit, and post drain work to the mailbox; the owner runs it.
#pragma once

#include <array>
#include <cstdint>

#include "arith/domain.h"
#include "impl/deferred.h"
#include "impl/percpu_ref.h"
#include "impl/sync.h"
#include "spec/mutant.h"
#include "spec/operation.h"
#include "spec/profile.h"

namespace mv::impl {

struct Memcg;
struct Objcg;
struct Task;
struct Object;
class System;

// FLUSHING_CACHED_CHARGE: a drain of this stock is queued or running.
inline constexpr std::uint32_t kFlushingCachedCharge = 1;

// NR_MEMCG_STOCK (v6.16); a profile uses spec::ProfileTraits::page_stock_slots.
inline constexpr std::uint32_t kMaxPageStockSlots = 7;

// struct memcg_stock_pcp (v6.6), without the vmstat caches (not modeled).
// v6.16 (c80509ef65e4) splits it in two per-CPU structs, memcg_stock_pcp
// (the page stock's slots, `flags`, `work`) and obj_stock_pcp (the byte
// stock, `obj_flags`, `obj_work`); one struct here holds both, each half with
// its own FLUSHING bit and drain work. Their local_trylock never fails in the
// impl: only the owner thread takes a CPU's stock lock, and no operation runs
// in an interrupt (reference/kernel_state.h).
struct alignas(64) MemcgStockPcp {
  sync::LocalLock stock_lock;
  sync::Shared<Memcg*> cached[kMaxPageStockSlots];  // each holds one css ref
  sync::Shared<std::uint32_t> nr_pages[kMaxPageStockSlots];
  sync::Shared<Objcg*> cached_objcg{nullptr};  // holds one objcg ref
  std::uint32_t nr_bytes = 0;               // owner only
  std::uint32_t evictions = 0;              // owner only (v6.16 refill_stock)
  sync::Shared<std::uint32_t> flags{0};
  sync::Shared<std::uint32_t> obj_flags{0};  // v6.16: obj_stock_pcp's FLUSHING bit
  Work work;                                // drain_local_stock (v6.16: drain_local_memcg_stock)
  Work obj_work;                            // v6.16: drain_local_obj_stock
};

struct alignas(64) CpuData {
  MemcgStockPcp stock;
  // Read-mostly per-CPU state.
  alignas(64) PcpuCounter* pcpu_base = nullptr;  // this CPU's percpu counters
  sync::Shared<bool> online{false};
  // QSBR: the last grace-period epoch this CPU's thread saw at a quiescent
  // point; `attached` while a thread runs as this CPU.
  sync::Shared<std::uint64_t> qs_epoch{0};
  sync::Shared<bool> attached{false};
  // Written by remote CPUs: its own line.
  Mailbox mailbox;
};

using CpuArray = std::array<CpuData, spec::kMaxCpus>;

// A simulated CPU as its owning thread sees it (this_cpu_ptr and friends).
class Cpu {
 public:
  System* sys = nullptr;
  CpuData* pcp = nullptr;
  std::uint32_t id = 0;
  // Copies, so that the charge paths read no System field.
  arith::PageGeometry page{4096, 12};
  std::uint32_t batch_pages = 64;  // MEMCG_CHARGE_BATCH
  // The profile's traits (spec/profile.h): the slow paths branch on them
  // where a kernel function differs between generations.
  const spec::ProfileTraits* traits = nullptr;
  // traits->obj_refill == drain_whole_stock (v5.9-v5.13), copied next to the
  // other hit-path fields: refill_obj_stock tests it only once the refill
  // passes PAGE_SIZE.
  bool obj_refill_drains_stock = false;
  // traits->page_stock_slots (1; 7 in v6.16), read by consume_stock.
  std::uint32_t page_stock_slots = 1;
  // traits->objcg_refs_from_memcg_and_task (v6.7+: current_obj_cgroup), read
  // by the allocation hooks.
  bool task_caches_objcg = false;
  // The injected bug (spec/mutant.h), read only on slow paths and by the
  // mutable instantiation of the hit path (kmem.h); none in the kernel's code.
  spec::Mutant mutant = spec::Mutant::none;

  MemcgStockPcp& stock() { return pcp->stock; }
  PcpuCounter* pcpu_base() { return pcp->pcpu_base; }

  // Thread binding for concurrent use (QSBR): attach before the first
  // operation, poll between operations, detach when done.
  void attach();
  void detach();
  // A quiescent state, then run this CPU's ready deferred work.
  void poll();

  // The allocation and free hooks (kmem.cc).
  spec::Errno alloc(Task& task, Object& obj, spec::AllocKind kind, std::uint64_t size_bytes,
                    std::uint32_t order, bool nofail);
  void free(Object& obj);
  // drain_local_stock on this CPU.
  void drain();
};

}  // namespace mv::impl
