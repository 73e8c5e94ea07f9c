/*
 * The hooks around the wrapped kernel functions (kernel/extract/manifest.cc
 * wrapped_functions()): the extractor renames each definition and generates
 * a wrapper that calls mvk_before_NAME(args), the kernel's code, then
 * mvk_after_NAME([ret,] args). They observe; they never change what the
 * kernel does. The ghost charged_pages is counted here from the kernel's own
 * arguments and return values, never recomputed from the quantities an
 * invariant compares.
 */
#ifndef MVK_OBSERVE_H
#define MVK_OBSERVE_H

/* memcg_online_kmem: the objcg it created, in creation order (ids from 1). */
static inline void mvk_before_memcg_online_kmem(struct mem_cgroup *memcg) {}
static inline void mvk_after_memcg_online_kmem(int ret, struct mem_cgroup *memcg)
{
	if (ret == 0 && memcg->objcg)
		mvk_register_objcg(memcg->objcg, memcg);
}

static inline void mvk_ghost_add(struct obj_cgroup *objcg, long nr_pages)
{
	struct mvk_objcg_entry *e = mvk_objcg_entry_of(objcg);
	if (e)
		e->charged_pages += nr_pages;
}

/* obj_cgroup_charge_pages: the pages are charged when it returns 0 (forced
 * charges included: try_charge_memcg returns 0 for them too). */
static inline void mvk_before_obj_cgroup_charge_pages(struct obj_cgroup *objcg, gfp_t gfp,
						      unsigned int nr_pages) {}
static inline void mvk_after_obj_cgroup_charge_pages(int ret, struct obj_cgroup *objcg, gfp_t gfp,
						     unsigned int nr_pages)
{
	if (ret == 0)
		mvk_ghost_add(objcg, nr_pages);
}

static inline void mvk_before_obj_cgroup_uncharge_pages(struct obj_cgroup *objcg,
							unsigned int nr_pages) {}
static inline void mvk_after_obj_cgroup_uncharge_pages(struct obj_cgroup *objcg,
						       unsigned int nr_pages)
{
	mvk_ghost_add(objcg, -(long)nr_pages);
}

/* drain_obj_stock hands its whole pages to __refill_stock: the pages the
 * __refill_stock calls made while it runs are the drained objcg's. */
extern struct obj_cgroup *mvk_draining_objcg;
static inline void mvk_before_drain_obj_stock(struct memcg_stock_pcp *stock)
{
	mvk_draining_objcg = READ_ONCE(stock->cached_objcg);
}
static inline void mvk_after_drain_obj_stock(struct obj_cgroup *old, struct memcg_stock_pcp *stock)
{
	mvk_draining_objcg = NULL;
}
static inline void mvk_before___refill_stock(struct mem_cgroup *memcg, unsigned int nr_pages)
{
	if (mvk_draining_objcg)
		mvk_ghost_add(mvk_draining_objcg, -(long)nr_pages);
}
static inline void mvk_after___refill_stock(struct mem_cgroup *memcg, unsigned int nr_pages) {}

/* obj_cgroup_release: what it reads is what the snapshot keeps; after it
 * the objcg is released (any later touch is a use after free). */
static inline void mvk_before_obj_cgroup_release(struct percpu_ref *ref)
{
	struct obj_cgroup *objcg = container_of(ref, struct obj_cgroup, refcnt);
	struct mvk_objcg_entry *e = mvk_objcg_entry_of(objcg);
	if (e)
		e->seen_bytes = (unsigned int)objcg->nr_charged_bytes.counter;
}
static inline void mvk_after_obj_cgroup_release(struct percpu_ref *ref)
{
	struct obj_cgroup *objcg = container_of(ref, struct obj_cgroup, refcnt);
	struct mvk_objcg_entry *e = mvk_objcg_entry_of(objcg);
	if (e) {
		e->released = true;
		mvk_mark_dead(objcg, sizeof(*objcg), MVK_EV_OBJCG_USE_AFTER_FREE, objcg->refcnt.mvk_id);
	}
}

#endif /* MVK_OBSERVE_H */
