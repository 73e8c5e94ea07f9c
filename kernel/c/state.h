/*
 * The glue's own state: the registries that give memcgs and objcgs the ids
 * of the snapshot, the ghost counter, the events, the deferred FIFO. The
 * kernel's state stays in the kernel's structures; this is only what the
 * model needs to name and observe them.
 */
#ifndef MVK_STATE_H
#define MVK_STATE_H

struct mvk_memcg_entry {
	struct mem_cgroup *memcg;
	struct cgroup *cgroup;
	int parent;  /* -1 for the root */
	bool freed;  /* css_free_rwork_fn ran: any later touch is a use after free */
};

struct mvk_objcg_entry {
	struct obj_cgroup *objcg;
	int origin;
	/* Ghost: pages charged through it (obj_cgroup_charge_pages returning 0)
	 * minus pages given back (obj_cgroup_uncharge_pages, and the whole pages
	 * drain_obj_stock hands to __refill_stock). */
	long charged_pages;
	bool released;          /* obj_cgroup_release ran */
	unsigned int seen_bytes; /* nr_charged_bytes as obj_cgroup_release read it */
};

extern struct mvk_memcg_entry *mvk_memcgs;
extern int mvk_nr_memcgs;
extern struct mvk_objcg_entry *mvk_objcgs; /* index = id; entry 0 unused */
extern int mvk_nr_objcgs;                 /* entries including 0 */

int mvk_register_memcg(struct mem_cgroup *memcg, struct cgroup *cgroup, int parent);
int mvk_register_objcg(struct obj_cgroup *objcg, struct mem_cgroup *origin);
struct mvk_objcg_entry *mvk_objcg_entry_of(struct obj_cgroup *objcg);
int mvk_objcg_id(struct obj_cgroup *objcg);  /* 0 for NULL */
int mvk_memcg_id(struct mem_cgroup *memcg);  /* -1 for NULL */
void mvk_record_event(int kind, unsigned int subject, long long value);
/* From now on a touch of [object, object + size) is the event `kind`. */
void mvk_mark_dead(const void *object, size_t size, int kind, int id);

#endif /* MVK_STATE_H */
