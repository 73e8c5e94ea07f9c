/*
 * Stubs: what the extracted code calls that is not accounting logic and does
 * nothing, or answers one constant, in the model. Each names the kernel code
 * it stands for and why doing nothing is faithful to docs/MODEL-v6.6.md.
 */
#ifndef MVK_SHIM_STUBS_H
#define MVK_SHIM_STUBS_H

#include "kernel/shim/dup.h"

/* The model keeps no vmstat (memory.stat): statistics updates are dropped.
 * mm/memcontrol.c mod_memcg_state, mod_memcg_lruvec_state, mm/vmstat.c
 * mod_lruvec_page_state. */
static inline void mod_memcg_state(struct mem_cgroup *memcg, int idx, int val) {}
static inline void mod_memcg_lruvec_state(struct lruvec *lruvec, enum node_stat_item idx, int val) {}
static inline void mod_lruvec_page_state(struct page *page, enum node_stat_item idx, int val) {}
static inline void mod_lruvec_kmem_state(void *p, enum node_stat_item idx, int val) {}
static inline struct lruvec *mem_cgroup_lruvec(struct mem_cgroup *memcg, struct pglist_data *pgdat)
{
	return NULL;
}
/* include/linux/memcontrol.h memcg_memory_event: memory.events counters and
 * their file notifications (not modeled). */
static inline void memcg_memory_event(struct mem_cgroup *memcg, enum memcg_memory_event event) {}

/* Reclaim frees nothing (mm/vmscan.c try_to_free_mem_cgroup_pages): the
 * model has no LRU pages, only kernel memory, which reclaim cannot free. */
static inline unsigned long try_to_free_mem_cgroup_pages(struct mem_cgroup *memcg,
							 unsigned long nr_pages, gfp_t gfp_mask,
							 unsigned int reclaim_options)
{
	return 0;
}
/* The OOM killer finds no victim (mm/memcontrol.c mem_cgroup_oom returns
 * false): a charge that reclaim cannot satisfy fails, or is forced with
 * __GFP_NOFAIL. */
static inline bool mem_cgroup_oom(struct mem_cgroup *memcg, gfp_t mask, int order) { return false; }
/* cgroup v1 charge moving (mm/memcontrol.c mem_cgroup_wait_acct_move): never
 * in progress on cgroup v2. */
static inline bool mem_cgroup_wait_acct_move(struct mem_cgroup *memcg) { return false; }
/* include/linux/memcontrol.h memcg_oom_recover: wakes OOM waiters; none. */
static inline void memcg_oom_recover(struct mem_cgroup *memcg) {}
/* mm/memcontrol.c mem_cgroup_handle_over_high: memory.high is never set in
 * the model (it stays PAGE_COUNTER_MAX), so no task is over high. */
static inline void mem_cgroup_handle_over_high(gfp_t gfp_mask) {}
static inline void set_notify_resume(struct task_struct *task) {}
/* include/linux/psi.h: pressure stall accounting. */
static inline void psi_memstall_enter(unsigned long *flags) {}
static inline void psi_memstall_leave(unsigned long *flags) {}

/* The memcg's other subsystems have nothing to carry over on offline and
 * nothing to set up on online: shrinker maps (mm/vmscan.c), list_lru
 * (mm/list_lru.c), cgroup writeback (mm/backing-dev.c), vmpressure. */
static inline int alloc_shrinker_info(struct mem_cgroup *memcg) { return 0; }
static inline void reparent_shrinker_deferred(struct mem_cgroup *memcg) {}
static inline void memcg_reparent_list_lrus(struct mem_cgroup *memcg, struct mem_cgroup *parent) {}
static inline void wb_memcg_offline(struct mem_cgroup *memcg) {}
static inline void init_memcg_events(void) {}
/* mm/vmscan.c (6.6) lru_gen_online_memcg, lru_gen_offline_memcg: the
 * multi-generational LRU's per-memcg lists; the model has no LRU pages. */
static inline void lru_gen_online_memcg(struct mem_cgroup *memcg) {}
static inline void lru_gen_offline_memcg(struct mem_cgroup *memcg) {}
/* mm/list_lru.c memcg_list_lru_alloc: the model's slab caches have no
 * list_lru (slab_alloc_node passes none). */
static inline int memcg_list_lru_alloc(struct mem_cgroup *memcg, struct list_lru *lru, gfp_t gfp)
{
	return 0;
}
/* include/linux/swap.h mem_cgroup_swappiness: read only to copy it. */
static inline int mem_cgroup_swappiness(struct mem_cgroup *memcg) { return 60; }

/* Socket accounting's static key (cgroup v2 counts it, nothing reads it);
 * the key itself is not declared: the argument is not evaluated. */
#define static_branch_inc(key) do { } while (0)
#define static_branch_dec(key) do { } while (0)

/* A delayed work is only the stats flusher that the root memcg's online
 * queues (mm/memcontrol.c flush_memcg_stats_dwork): no vmstat, no flusher. */
#define queue_delayed_work(wq, dwork, delay) false

/* include/linux/kmemleak.h, include/linux/sched.h, lockdep: nothing to do. */
static inline void kmemleak_not_leak(const void *ptr) {}
static inline void cond_resched(void) {}
static inline void might_sleep(void) {}
#define lockdep_assert_held(lock) ((void)(lock))

/* Signals and OOM victims (include/linux/sched/signal.h, oom.h): the
 * allocating task is never killed or interrupted. */
static inline int signal_pending(struct task_struct *task) { return 0; }
static inline int fatal_signal_pending(struct task_struct *task) { return 0; }
static inline bool tsk_is_oom_victim(struct task_struct *task) { return false; }
static inline bool task_in_memcg_oom(struct task_struct *task) { return false; }

#endif /* MVK_SHIM_STUBS_H */
