// struct obj_cgroup (include/linux/memcontrol.h, v6.6) and the functions of
// mm/memcontrol.c v6.6 that charge through it, count its references and
// reparent it. Its refcount is a percpu_ref (lib/percpu-refcount.c): percpu
// mode until killed; the kill switches it to atomic mode, holding one more
// reference (the switch's confirm reference) until its RCU callback has
// summed the per-CPU counts; release runs at the put that reaches zero.
#pragma once

#include <cstdint>
#include <optional>

#include "spec/operation.h"
#include "spec/snapshot.h"

namespace mv::reference {

struct Kernel;

struct ObjCgroup {
  spec::ObjcgId id = 0;
  spec::MemcgId origin = 0;  // the memcg it was created for
  spec::MemcgId memcg = 0;   // objcg->memcg (the parent after reparenting)
  spec::ObjcgState state = spec::ObjcgState::active;
  std::int64_t refs = 0;        // percpu_ref count, summed over CPUs
  bool killed = false;          // percpu_ref_kill has run (__PERCPU_REF_DEAD)
  // The kill's switch to atomic mode waits for its RCU callback, and holds
  // the confirm reference until then (data->confirm_switch set).
  bool switch_pending = false;
  std::uint32_t nr_charged_bytes = 0;  // atomic_t nr_charged_bytes, as unsigned int
  std::int64_t charged_pages = 0;      // ghost: pages charged minus pages uncharged through it
};

// obj_cgroup_alloc (v6.6): refcount 1 (the initial ref, owned by the memcg).
spec::ObjcgId obj_cgroup_alloc(Kernel& k, spec::MemcgId memcg);
// obj_cgroup_get (v6.6) = percpu_ref_get.
void obj_cgroup_get(Kernel& k, spec::ObjcgId objcg);
// obj_cgroup_tryget (v6.6) = percpu_ref_tryget: fails only once released.
bool obj_cgroup_tryget(Kernel& k, spec::ObjcgId objcg);
// obj_cgroup_put (v6.6) = percpu_ref_put, on this_cpu (where a release runs).
void obj_cgroup_put(Kernel& k, spec::Cpu this_cpu, spec::ObjcgId objcg);
// percpu_ref_kill (v6.6) on objcg->refcnt: takes the switch's confirm ref,
// queues the switch to atomic mode (an RCU callback on this_cpu), drops the
// initial ref.
void percpu_ref_kill(Kernel& k, spec::Cpu this_cpu, spec::ObjcgId objcg);
// percpu_ref_switch_to_atomic_rcu (v6.6), the deferred half of the kill: puts
// the confirm ref (which releases the objcg if nothing else holds it).
void percpu_ref_switch_to_atomic_rcu(Kernel& k, spec::Cpu this_cpu, spec::ObjcgId objcg);
// obj_cgroup_release (v6.6).
void obj_cgroup_release(Kernel& k, spec::Cpu this_cpu, spec::ObjcgId objcg);

// obj_cgroup_charge (v6.6): size bytes, from the byte stock or whole pages.
spec::Errno obj_cgroup_charge(Kernel& k, spec::Cpu this_cpu, spec::ObjcgId objcg,
                              std::uint64_t size_bytes, bool nofail);
// obj_cgroup_uncharge (v6.6) = refill_obj_stock(objcg, size, true).
void obj_cgroup_uncharge(Kernel& k, spec::Cpu this_cpu, spec::ObjcgId objcg,
                         std::uint64_t size_bytes);
// obj_cgroup_charge_pages (v6.6): try_charge_memcg on objcg->memcg.
spec::Errno obj_cgroup_charge_pages(Kernel& k, spec::Cpu this_cpu, spec::ObjcgId objcg,
                                    std::uint32_t nr_pages, bool nofail);
// obj_cgroup_uncharge_pages (v6.6): refill_stock of objcg->memcg.
void obj_cgroup_uncharge_pages(Kernel& k, spec::Cpu this_cpu, spec::ObjcgId objcg,
                               std::uint32_t nr_pages);

// get_mem_cgroup_from_objcg (v6.6): objcg->memcg with a css reference (css_tryget retry).
spec::MemcgId get_mem_cgroup_from_objcg(Kernel& k, spec::ObjcgId objcg);
// obj_cgroup_charge_account (v6.16): obj_cgroup_charge, and with a pgdat (a
// slab object) the stock refill even for a page multiple.
spec::Errno obj_cgroup_charge_account(Kernel& k, spec::Cpu this_cpu, spec::ObjcgId objcg,
                                      std::uint64_t size_bytes, bool nofail, bool pgdat);
// __get_obj_cgroup_from_memcg (v6.6): the first objcg a tryget succeeds on,
// from memcg up to (excluding) the root.
std::optional<spec::ObjcgId> get_obj_cgroup_from_memcg(Kernel& k, spec::MemcgId memcg);
// current_obj_cgroup (v6.7+, the v6.16 profile): the task's cached objcg
// (current->objcg), looked up again after fork or migration; no reference
// for the caller.
std::optional<spec::ObjcgId> current_obj_cgroup(Kernel& k, spec::TaskKey task);
// get_obj_cgroup_from_current (v6.6) for `task`: the first objcg a tryget
// succeeds on, walking from the task's memcg up to (excluding) the root.
std::optional<spec::ObjcgId> get_obj_cgroup_from_current(Kernel& k, spec::TaskKey task);
// memcg_reparent_objcgs (v6.6).
void memcg_reparent_objcgs(Kernel& k, spec::Cpu this_cpu, spec::MemcgId memcg,
                           spec::MemcgId parent);

}  // namespace mv::reference
