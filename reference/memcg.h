// struct mem_cgroup's life cycle and page charging (mm/memcontrol.c v6.6, with
// the cgroup core steps it depends on: kernel/cgroup/cgroup.c), the tasks that
// pin it, and CPU hotplug. Reference counts follow docs/MODEL-v6.6.md.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "reference/page_counter.h"
#include "spec/operation.h"
#include "spec/snapshot.h"

namespace mv::reference {

struct Kernel;

struct MemCgroup {
  spec::MemcgId id = 0;
  spec::PathKey path = spec::kRootPath;
  std::optional<spec::MemcgId> parent;  // nullopt for the root
  spec::CgroupState state = spec::CgroupState::online;
  bool offlined = false;    // mem_cgroup_css_offline has run
  bool free_queued = false; // css_release -> css_free already queued
  PageCounter memory;
  std::int64_t css_refs = 0;  // not counted for the root (CSS_NO_REF)
  std::optional<spec::ObjcgId> objcg;   // memcg->objcg
  // v6.7+ (the v6.16 profile): memcg->orig_objcg, holding a reference until
  // __mem_cgroup_free.
  std::optional<spec::ObjcgId> orig_objcg;
  std::vector<spec::ObjcgId> objcg_list;  // reparented objcgs pointing here
  std::uint32_t nr_tasks = 0;
  // Profiles with memcg kmem_caches (reference/kmem_cache.h).
  std::optional<std::uint32_t> kmemcg_id;   // memcg->kmemcg_id
  bool kmem_online = false;                 // kmem_state == KMEM_ONLINE
  std::vector<spec::CacheId> kmem_caches;   // memcg->kmem_caches (v5.2, v5.3)
  std::uint32_t cache_work_refs = 0;        // css references of queued cache work
};

struct Task {
  spec::TaskKey key = 0;
  spec::MemcgId memcg = 0;
  spec::Cpu cpu = 0;
  // v6.7+ (the v6.16 profile): current->objcg, holding a reference, and its
  // CURRENT_OBJCG_UPDATE_FLAG (set at fork and migration).
  std::optional<spec::ObjcgId> objcg;
  bool objcg_update = false;
};

bool mem_cgroup_is_root(const Kernel& k, spec::MemcgId memcg);
// mem_cgroup_is_descendant (v6.6): memcg == root or below it.
bool mem_cgroup_is_descendant(const Kernel& k, spec::MemcgId memcg, spec::MemcgId root);
// The online memcg named by a path, if any (cgroup core: kernfs lookup).
std::optional<spec::MemcgId> online_memcg(const Kernel& k, spec::PathKey path);

// css_get / css_put (include/linux/cgroup.h, v6.6) on a memcg's css. A put
// that reaches zero on a killed css queues its release and free.
void css_get(Kernel& k, spec::MemcgId memcg);
void css_put(Kernel& k, spec::MemcgId memcg);
// css_tryget (v6.6): fails once the count has reached zero.
bool css_tryget(Kernel& k, spec::MemcgId memcg);
// css_get_many / css_put_many: n references at once.
void css_get_many(Kernel& k, spec::MemcgId memcg, std::uint32_t n);
void css_put_many(Kernel& k, spec::MemcgId memcg, std::uint32_t n);

// cgroup_mkdir (v6.6): mem_cgroup_css_alloc, then mem_cgroup_css_online.
spec::Errno cgroup_mkdir(Kernel& k, spec::PathKey path);
// mem_cgroup_css_alloc (v6.6) with init_and_link_css's parent reference.
spec::MemcgId mem_cgroup_css_alloc(Kernel& k, spec::PathKey path, spec::MemcgId parent);
// mem_cgroup_css_online (v6.6): memcg_online_kmem, then the ID reference.
void mem_cgroup_css_online(Kernel& k, spec::MemcgId memcg);
// memcg_online_kmem (v6.6): a new objcg for every non-root memcg.
void memcg_online_kmem(Kernel& k, spec::MemcgId memcg);
// cgroup_rmdir (v6.6) -> cgroup_destroy_locked -> kill_css; the offline is deferred.
spec::Errno cgroup_rmdir(Kernel& k, spec::Cpu this_cpu, spec::PathKey path);
// kill_css (v6.6): two more css references (kill_css's, the switch's confirm
// reference), the base one put, the confirmation queued.
void kill_css(Kernel& k, spec::Cpu this_cpu, spec::MemcgId memcg);
// The kill's confirmation and css_killed_work_fn (v6.6), one deferred item:
// puts the confirm reference, offlines, puts kill_css's reference.
void css_killed_work_fn(Kernel& k, spec::Cpu this_cpu, spec::MemcgId memcg);
// mem_cgroup_css_offline (v6.6), run from css_killed_work_fn on this_cpu.
void mem_cgroup_css_offline(Kernel& k, spec::Cpu this_cpu, spec::MemcgId memcg);
// memcg_offline_kmem (v6.6).
void memcg_offline_kmem(Kernel& k, spec::Cpu this_cpu, spec::MemcgId memcg);
// mem_cgroup_id_put (v6.6): drops the ID reference's css ref.
void mem_cgroup_id_put(Kernel& k, spec::MemcgId memcg);
// css_free_rwork_fn (v6.6) -> mem_cgroup_css_free, then the parent's css_put.
void css_free_rwork_fn(Kernel& k, spec::MemcgId memcg);

// Tasks: the css_set reference, counted once per task (model simplification).
spec::Errno task_spawn(Kernel& k, spec::TaskKey task, spec::PathKey path, spec::Cpu cpu);
spec::Errno task_exit(Kernel& k, spec::TaskKey task);
// cgroup_migrate (v6.6): the new css_set is got before the old one is put.
spec::Errno task_migrate(Kernel& k, spec::TaskKey task, spec::PathKey path);
spec::Errno task_run_on(Kernel& k, spec::TaskKey task, spec::Cpu cpu);

// try_charge_memcg (v6.6) from this_cpu, without reclaim or OOM kill: the
// MAX_RECLAIM_RETRIES loop runs in full (see memcg.cc).
spec::Errno try_charge_memcg(Kernel& k, spec::Cpu this_cpu, spec::MemcgId memcg,
                             std::uint32_t nr_pages, bool nofail);
// mem_cgroup_resize_max (v6.6) for memory.max; max_pages nullopt is "max".
spec::Errno mem_cgroup_resize_max(Kernel& k, spec::Cpu this_cpu, spec::PathKey path,
                                  std::optional<std::uint64_t> max_pages);
// memcg_hotplug_cpu_dead (v6.6; the obj stock too where the profile has
// 9f01b4954490), with the CPU marked offline first; see memcg.cc for the CPU
// that runs it.
spec::Errno memcg_hotplug_cpu_dead(Kernel& k, spec::Cpu cpu);

}  // namespace mv::reference
