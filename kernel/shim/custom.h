/*
 * Customised for the model: the kernel facilities the extracted code relies
 * on, done the model's way (docs/MODEL-v6.6.md, docs/KERNEL-CHANGE.md "What
 * is shimmed"). The rules:
 *   - per-CPU data are arrays indexed by the simulated CPU (mvk_cpu is
 *     this_cpu); CPU hotplug is the online mask;
 *   - locks and irq masking are no-ops, but a lock taken twice is a reported
 *     deadlock;
 *   - percpu_ref, css refcounts, RCU callbacks and workqueue items are
 *     deferred into one FIFO that `quiesce` runs, item for item as the
 *     reference defers them (reference/deferred.h);
 *   - counters and refcounts record what goes below zero, and a use of a
 *     freed memcg or a released objcg, as events (spec::EventKind);
 *   - BUG_ON and VM_BUG_ON stop the model with a report (a failure of the
 *     subject, never of the checker).
 * Declarations here; the definitions that keep state are in kernel/c/.
 */
#ifndef MVK_SHIM_CUSTOM_H
#define MVK_SHIM_CUSTOM_H

#include <string.h>

#include "kernel/shim/dup.h"

/* ---- the simulated machine ---- */
#define MVK_MAX_CPUS 64
extern unsigned int mvk_cpu;        /* this_cpu: where the current operation runs */
extern unsigned int mvk_nr_cpu_ids; /* possible CPUs: the trace's cpus */
extern bool mvk_cpu_online[MVK_MAX_CPUS];

/* include/linux/percpu-defs.h: a per-CPU object is an array over CPUs.
 * `static DEFINE_PER_CPU(T, x) = {...}` gives its initializer to a second,
 * unused object (the array starts zeroed; mvk_boot initializes what the
 * kernel's init code would). */
#define DEFINE_PER_CPU(type, name) \
	__typeof__(type) name[MVK_MAX_CPUS], mvk_unused_##name __attribute__((unused))
#define DECLARE_PER_CPU(type, name) extern __typeof__(type) name[MVK_MAX_CPUS]
#define EXPORT_PER_CPU_SYMBOL_GPL(name)
#define EXPORT_SYMBOL(name)
#define EXPORT_SYMBOL_GPL(name)
#define this_cpu_ptr(ptr) (&(*(ptr))[mvk_cpu])
#define per_cpu_ptr(ptr, cpu) (&(*(ptr))[(cpu)])
#define per_cpu(var, cpu) ((var)[(cpu)])
#define this_cpu_read(var) ((var)[mvk_cpu])
#define smp_processor_id() ((int)mvk_cpu)
#define num_possible_cpus() (mvk_nr_cpu_ids)
#define nr_cpu_ids (mvk_nr_cpu_ids)
#define for_each_possible_cpu(cpu) for ((cpu) = 0; (cpu) < (int)mvk_nr_cpu_ids; (cpu)++)
#define for_each_online_cpu(cpu) \
	for ((cpu) = 0; (cpu) < (int)mvk_nr_cpu_ids; (cpu)++) if (!mvk_cpu_online[(cpu)]) {} else
#define migrate_disable() do { } while (0)
#define migrate_enable() do { } while (0)
#define preempt_disable() do { } while (0)
#define preempt_enable() do { } while (0)
/* include/linux/sched/isolation.h (6.6): no CPU is isolated. */
static inline bool cpu_is_isolated(int cpu) { return false; }

/* ---- reports ---- */
/* A kernel BUG or a shim assertion: the model stops (kernel/c/report.c). */
void mvk_bug(const char *what, const char *file, int line, const char *func) __attribute__((noreturn));
/* A kernel WARN: recorded, the code goes on as the kernel's would. */
void mvk_warn(const char *what, const char *file, int line, const char *func);
#define BUG() mvk_bug("BUG()", __FILE__, __LINE__, __func__)
#define BUG_ON(cond) do { if (unlikely(cond)) mvk_bug("BUG_ON(" #cond ")", __FILE__, __LINE__, __func__); } while (0)
#define VM_BUG_ON(cond) BUG_ON(cond)
#define VM_BUG_ON_PAGE(cond, page) BUG_ON(cond)
#define VM_BUG_ON_FOLIO(cond, folio) BUG_ON(cond)
#define VM_BUG_ON_PGFLAGS(cond, page) BUG_ON(cond)
#define WARN_ON(cond) ({ int mvk_w_ = !!(cond); if (unlikely(mvk_w_)) mvk_warn(#cond, __FILE__, __LINE__, __func__); mvk_w_; })
#define WARN_ON_ONCE(cond) WARN_ON(cond)
#define WARN(cond, ...) WARN_ON(cond)
#define WARN_ONCE(cond, ...) WARN_ON(cond)
#define VM_WARN_ON(cond) ((void)WARN_ON(cond))
#define VM_WARN_ON_ONCE(cond) ((void)WARN_ON(cond))

/* ---- misuse detection (kernel/c/misuse.c) ---- */
/* An access to kernel memory at `addr`: a use after free when it lies in a
 * freed memcg or a released objcg. */
void mvk_touch(const volatile void *addr);
/* A counter at `addr` went below zero: page_counter_underflow when it is a
 * memcg's memory.usage (page_counter_cancel's WARN_ONCE). */
void mvk_below_zero(const volatile void *addr, long value);

/* ---- atomics (include/linux/atomic/): plain, checked ---- */
static inline int atomic_read(const atomic_t *v) { mvk_touch(v); return v->counter; }
static inline void atomic_set(atomic_t *v, int i) { mvk_touch(v); v->counter = i; }
static inline void atomic_add(int i, atomic_t *v) { mvk_touch(v); v->counter += i; }
static inline void atomic_sub(int i, atomic_t *v) { mvk_touch(v); v->counter -= i; }
static inline void atomic_inc(atomic_t *v) { atomic_add(1, v); }
static inline void atomic_dec(atomic_t *v) { atomic_sub(1, v); }
static inline int atomic_xchg(atomic_t *v, int i) { mvk_touch(v); int old = v->counter; v->counter = i; return old; }
static inline bool atomic_dec_and_test(atomic_t *v) { mvk_touch(v); return --v->counter == 0; }
static inline long atomic_long_read(const atomic_long_t *v) { mvk_touch(v); return v->counter; }
static inline void atomic_long_set(atomic_long_t *v, long i) { mvk_touch(v); v->counter = i; }
static inline void atomic_long_add(long i, atomic_long_t *v) { mvk_touch(v); v->counter += i; }
static inline void atomic_long_sub(long i, atomic_long_t *v) { mvk_touch(v); v->counter -= i; }
static inline long atomic_long_add_return(long i, atomic_long_t *v) { mvk_touch(v); return v->counter += i; }
static inline long atomic_long_sub_return(long i, atomic_long_t *v)
{
	mvk_touch(v);
	long r = v->counter -= i;
	if (r < 0)
		mvk_below_zero(v, r);
	return r;
}
static inline long atomic_long_xchg(atomic_long_t *v, long i) { mvk_touch(v); long old = v->counter; v->counter = i; return old; }
#define xchg(ptr, val) ({ __typeof__(*(ptr)) mvk_old_ = *(ptr); *(ptr) = (val); mvk_old_; })
#define cmpxchg(ptr, old, new) ({ __typeof__(*(ptr)) mvk_cur_ = *(ptr); if (mvk_cur_ == (old)) *(ptr) = (new); mvk_cur_; })

/* include/linux/refcount.h: an underflow is the kernel's "refcount_t:
 * underflow; use-after-free" warning; here it stops the model. */
static inline void refcount_set(refcount_t *r, int n) { atomic_set(&r->refs, n); }
static inline void refcount_add(int n, refcount_t *r) { atomic_add(n, &r->refs); }
static inline bool refcount_sub_and_test(int n, refcount_t *r)
{
	atomic_sub(n, &r->refs);
	if (r->refs.counter < 0)
		mvk_bug("refcount_t: underflow", __FILE__, __LINE__, __func__);
	return r->refs.counter == 0;
}

/* include/linux/bitops.h */
static inline bool test_and_set_bit(long nr, unsigned long *addr)
{
	mvk_touch(addr);
	bool old = (*addr >> nr) & 1;
	*addr |= 1UL << nr;
	return old;
}
static inline void clear_bit(long nr, unsigned long *addr) { mvk_touch(addr); *addr &= ~(1UL << nr); }
static inline void set_bit(long nr, unsigned long *addr) { mvk_touch(addr); *addr |= 1UL << nr; }
static inline bool test_bit(long nr, const unsigned long *addr) { return (*addr >> nr) & 1; }

/* ---- locks: no-ops that notice a deadlock (kernel/c/machine.c) ---- */
void mvk_lock(int *held, const char *what);
void mvk_unlock(int *held, const char *what);
void mvk_local_lock(void);   /* memcg_stock's local_lock of this CPU */
void mvk_local_unlock(void);
#define DEFINE_SPINLOCK(name) spinlock_t name = { 0 }
#define DEFINE_MUTEX(name) struct mutex name = { 0 }
#define spin_lock_init(l) ((l)->held = 0)
#define mutex_init(m) ((m)->held = 0)
static inline void spin_lock(spinlock_t *l) { mvk_lock(&l->held, "spinlock"); }
static inline void spin_unlock(spinlock_t *l) { mvk_unlock(&l->held, "spinlock"); }
#define spin_lock_irq(l) spin_lock(l)
#define spin_unlock_irq(l) spin_unlock(l)
#define spin_lock_irqsave(l, flags) do { (flags) = 0; spin_lock(l); } while (0)
#define spin_unlock_irqrestore(l, flags) do { (void)(flags); spin_unlock(l); } while (0)
static inline void mutex_lock(struct mutex *m) { mvk_lock(&m->held, "mutex"); }
static inline void mutex_unlock(struct mutex *m) { mvk_unlock(&m->held, "mutex"); }
/* A trylock fails only when the mutex is held (never, sequentially, unless
 * the code re-enters itself). */
static inline int mutex_trylock(struct mutex *m)
{
	if (m->held)
		return 0;
	m->held = 1;
	return 1;
}
#define local_lock_irqsave(lock, flags) do { (flags) = 0; mvk_local_lock(); } while (0)
#define local_unlock_irqrestore(lock, flags) do { (void)(flags); mvk_local_unlock(); } while (0)
#define local_irq_save(flags) do { (flags) = 0; } while (0)
#define local_irq_restore(flags) do { (void)(flags); } while (0)

/* include/linux/jump_label.h */
#define DEFINE_STATIC_KEY_FALSE(name) struct static_key_false name = { false }
#define static_branch_likely(key) ((key)->enabled)
#define static_branch_unlikely(key) ((key)->enabled)
#define static_branch_enable(key) ((key)->enabled = true)

/* include/linux/idr.h: memcg ids are the glue's (creation order); the idr
 * keeps nothing. */
struct idr { int unused; };
#define DEFINE_IDR(name) struct idr name = { 0 }
static inline void idr_remove(struct idr *idr, unsigned long id) {}
static inline void idr_replace(struct idr *idr, void *ptr, unsigned long id) {}
#define MEM_CGROUP_ID_MAX USHRT_MAX

/* ---- memory (include/linux/slab.h): the C heap; a failure would be a
 * kernel allocation failure, which the model never has ---- */
void *mvk_kzalloc(size_t size);
void kfree(const void *ptr);
#define kzalloc(size, gfp) mvk_kzalloc(size)
#define kcalloc_node(n, size, gfp, node) mvk_kzalloc((size_t)(n) * (size))
/* lib/cmdline.c memparse: a number with an optional K/M/G suffix. */
unsigned long long memparse(const char *ptr, char **retptr);
#define strcmp(a, b) __builtin_strcmp((a), (b))

/* ---- RCU and workqueues: deferred to quiesce (kernel/c/deferred.c) ---- */
#define rcu_read_lock() do { } while (0)
#define rcu_read_unlock() do { } while (0)
#define rcu_dereference(p) (p)
#define rcu_dereference_check(p, c) (p)
#define rcu_assign_pointer(p, v) ((p) = (v))
#define RCU_INIT_POINTER(p, v) ((p) = (v))
#define rcu_replace_pointer(rcu_ptr, ptr, c) \
	({ __typeof__(ptr) mvk_old_ = (rcu_ptr); (rcu_ptr) = (ptr); mvk_old_; })
/* call_rcu: the callback runs at quiesce on the CPU that queued it (or the
 * lowest online CPU if that one went offline). */
void call_rcu(struct rcu_head *head, void (*func)(struct rcu_head *head));
/* kfree_rcu(objcg, rcu): one deferred item, visible only as pending work;
 * the memory is kept (a released objcg stays in the snapshot). */
void mvk_kfree_rcu(struct rcu_head *head);
#define kfree_rcu(ptr, field) mvk_kfree_rcu(&(ptr)->field)
#define WORK_STRUCT_PENDING_BIT 0
#define INIT_WORK(w, f) do { (w)->data = 0; (w)->func = (f); } while (0)
/* queue_work_on: nothing while the item is pending; runs at quiesce with
 * this_cpu = `cpu` (even if it went offline: docs/MODEL-v6.6.md). */
bool schedule_work_on(int cpu, struct work_struct *work);
bool schedule_work(struct work_struct *work);
#define queue_work(wq, work) schedule_work(work)

/* ---- percpu_ref (lib/percpu-refcount.c, the kernel's semantics, the
 * count summed over CPUs) ---- */
#define MVK_REF_CSS 1
#define MVK_REF_OBJCG 2
/* Use-after-free and underflow checks of a count (kernel/c/misuse.c). */
void mvk_ref_touch(struct percpu_ref *ref);
void mvk_ref_underflow(struct percpu_ref *ref, long value);
static inline int percpu_ref_init(struct percpu_ref *ref, percpu_ref_func_t *release,
				  unsigned int flags, gfp_t gfp)
{
	int kind = ref->mvk_kind, id = ref->mvk_id;
	memset(ref, 0, sizeof(*ref));
	ref->mvk_kind = kind;
	ref->mvk_id = id;
	ref->count = 1;
	ref->release = release;
	return 0;
}
static inline void percpu_ref_exit(struct percpu_ref *ref) { ref->exited = true; }
static inline void percpu_ref_get_many(struct percpu_ref *ref, unsigned long nr)
{
	mvk_ref_touch(ref);
	ref->count += (long)nr;
}
static inline void percpu_ref_get(struct percpu_ref *ref) { percpu_ref_get_many(ref, 1); }
/* Succeeds in percpu mode (also once killed, until the switch completes),
 * and in atomic mode while the count is not zero (atomic_long_add_unless). */
static inline bool percpu_ref_tryget_many(struct percpu_ref *ref, unsigned long nr)
{
	mvk_ref_touch(ref);
	if (ref->atomic_mode && ref->count == 0)
		return false;
	ref->count += (long)nr;
	return true;
}
static inline bool percpu_ref_tryget(struct percpu_ref *ref) { return percpu_ref_tryget_many(ref, 1); }
/* In atomic mode the put that reaches zero releases, on this CPU. A put
 * below zero is recorded and leaves the count at zero. */
static inline void percpu_ref_put_many(struct percpu_ref *ref, unsigned long nr)
{
	mvk_ref_touch(ref);
	if (ref->count < (long)nr) {
		mvk_ref_underflow(ref, ref->count - (long)nr);
		ref->count = 0;
		return;
	}
	ref->count -= (long)nr;
	if (ref->atomic_mode && ref->count == 0)
		ref->release(ref);
}
static inline void percpu_ref_put(struct percpu_ref *ref) { percpu_ref_put_many(ref, 1); }
static inline bool percpu_ref_is_dying(struct percpu_ref *ref) { return ref->dead; }
/* Marks the ref dead, takes the reference the switch to atomic mode holds
 * until its RCU callback has run, queues that callback, puts the initial
 * reference (kernel/c/deferred.c). */
void percpu_ref_kill_and_confirm(struct percpu_ref *ref, percpu_ref_func_t *confirm_kill);
#define percpu_ref_kill(ref) percpu_ref_kill_and_confirm((ref), NULL)

/* ---- the cgroup core (include/linux/cgroup*.h; kernel/c/cgroup.c) ---- */
struct cgroup {
	struct cgroup *parent;
	int level;
	struct cgroup_subsys_state *subsys[1]; /* the memory controller's css */
};
struct cgroup_subsys_state {
	struct cgroup *cgroup;
	struct percpu_ref refcnt;
	struct cgroup_subsys_state *parent;
	unsigned int flags;
	int id;
	struct work_struct destroy_work;
};
static inline void css_get(struct cgroup_subsys_state *css)
{
	if (!(css->flags & CSS_NO_REF))
		percpu_ref_get(&css->refcnt);
}
static inline void css_get_many(struct cgroup_subsys_state *css, unsigned int n)
{
	if (!(css->flags & CSS_NO_REF))
		percpu_ref_get_many(&css->refcnt, n);
}
static inline bool css_tryget(struct cgroup_subsys_state *css)
{
	if (!(css->flags & CSS_NO_REF))
		return percpu_ref_tryget(&css->refcnt);
	return true;
}
static inline void css_put(struct cgroup_subsys_state *css)
{
	if (!(css->flags & CSS_NO_REF))
		percpu_ref_put(&css->refcnt);
}
static inline void css_put_many(struct cgroup_subsys_state *css, unsigned int n)
{
	if (!(css->flags & CSS_NO_REF))
		percpu_ref_put_many(&css->refcnt, n);
}
static inline bool cgroup_is_descendant(struct cgroup *cgrp, struct cgroup *ancestor)
{
	for (; cgrp; cgrp = cgrp->parent)
		if (cgrp == ancestor)
			return true;
	return false;
}
/* The hierarchy is cgroup v2's: memory.max, no memsw, no v1 kmem counter. */
#define cgroup_subsys_on_dfl(ss) true
#define mem_cgroup_disabled() false

/* ---- tasks (include/linux/sched.h): `current` is the task of the
 * operation, set by the glue before it calls into the kernel code ---- */
struct task_struct {
	unsigned int flags;
	struct mm_struct *mm;
	struct mem_cgroup *active_memcg;
	struct mem_cgroup *memcg_in_oom;
	unsigned int memcg_nr_pages_over_high;
	bool in_user_fault;
	struct vm_struct *stack_vm_area;
	struct cgroup_subsys_state *mvk_memory_css; /* task->cgroups->subsys[memory] */
};
extern struct task_struct *mvk_current;
#define current (mvk_current)
#define task_css(task, id) ((task)->mvk_memory_css)
static inline bool in_task(void) { return true; }
static inline struct vm_struct *task_stack_vm_area(const struct task_struct *task)
{
	return task->stack_vm_area;
}
/* The non-vmap stack path of account_kernel_stack (compiled, never taken). */
static inline void *task_stack_page(const struct task_struct *task) { return NULL; }
/* include/linux/sched/mm.h set_active_memcg, in task context. */
static inline struct mem_cgroup *set_active_memcg(struct mem_cgroup *memcg)
{
	struct mem_cgroup *old = current->active_memcg;
	current->active_memcg = memcg;
	return old;
}

/* ---- the memory cgroup (include/linux/memcontrol.h): the fields the
 * extracted code reads, in an order of our own. struct page_counter and
 * struct obj_cgroup are the tree's own (kernel_types.h). ---- */
struct mem_cgroup_id {
	int id;
	refcount_t ref;
};
struct mem_cgroup_event {
	struct list_head list;
	struct work_struct remove;
};
struct mem_cgroup {
	struct cgroup_subsys_state css;
	struct mem_cgroup_id id;
	struct page_counter memory;
	union {
		struct page_counter swap;
		struct page_counter memsw;
	};
	struct page_counter kmem;
	struct page_counter tcpmem;
	unsigned long soft_limit;
	int swappiness;
	bool oom_kill_disable;
	bool tcpmem_active;
	struct work_struct high_work;
	struct list_head event_list;
	spinlock_t event_list_lock;
	int kmemcg_id;
	struct obj_cgroup __rcu *objcg;
	struct list_head objcg_list;
	/* The model's own: the glue's id of this memcg. */
	int mvk_id;
};
/* mm/memcontrol.c mem_cgroup_alloc, customised: only what the accounting
 * reads (ids, lists) is set up; no vmstat, per-node or writeback data. */
struct mem_cgroup *mem_cgroup_alloc(void);

/* ---- pages, slabs, percpu chunks, vmap'ed stacks: one of each per traced
 * object (kernel/c/allocators.c) ---- */
struct page {
	unsigned long flags;
	unsigned long memcg_data;
};
struct folio {
	union {
		struct {
			unsigned long flags;
			unsigned long memcg_data;
		};
		struct page page;
	};
};
#define page_folio(p) ((struct folio *)(p))
#define folio_page(folio, n) (&(folio)->page + (n))
static inline bool PageTail(struct page *page) { return false; }
/* A kmem page is never a slab page: slab objects live in struct slab. */
static inline bool folio_test_slab(struct folio *folio) { return false; }
struct kmem_cache {
	unsigned int size;         /* s->size: the object size (the trace's slab size) */
	unsigned int object_size;
	unsigned int flags;
};
struct slab {
	unsigned long memcg_data;
	struct kmem_cache *slab_cache;
};
struct pglist_data { int node_id; };
extern struct pglist_data mvk_node0;
#define NODE_DATA(nid) (&mvk_node0)
struct slab *mvk_virt_to_slab(const void *p);
#define virt_to_slab(p) mvk_virt_to_slab(p)
#define slab_page(slab) ((struct page *)(slab))
/* One object per slab: every object is index 0 of its own slab. */
static inline unsigned int obj_to_index(const struct kmem_cache *s, const struct slab *slab, void *obj) { return 0; }
static inline unsigned int objs_per_slab(const struct kmem_cache *s, const struct slab *slab) { return 1; }
static inline int slab_nid(const struct slab *slab) { return 0; }
static inline struct pglist_data *slab_pgdat(const struct slab *slab) { return &mvk_node0; }
static inline enum node_stat_item cache_vmstat_idx(struct kmem_cache *s) { return NR_SLAB_UNRECLAIMABLE_B; }
struct pcpu_chunk {
	struct obj_cgroup **obj_cgroups;
};
struct vm_struct {
	unsigned int nr_pages;
	struct page **pages;
};

#endif /* MVK_SHIM_CUSTOM_H */
