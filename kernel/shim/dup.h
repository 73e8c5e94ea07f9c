/*
 * Duplicated declarations: the kernel types, constants and compiler idioms the
 * extracted code names, declared again for user space in our own words (the
 * split of the kernel's tools/testing/vma: dup.h here, stubs.h for what does
 * nothing, custom.h for what the model does its own way). Each item says which
 * kernel header it stands for; the meaning follows Linux 6.1 and 6.6, which
 * agree on everything here. Only what the code needs is declared: a missing
 * item is a compile error that names it, not a silent default.
 */
#ifndef MVK_SHIM_DUP_H
#define MVK_SHIM_DUP_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* include/generated/autoconf.h: the configuration the model is of. A 64-bit
 * SMP kernel with memcg and kmem accounting, vmap'ed stacks, and VM debugging
 * checks on (VM_BUG_ON is an assertion of the shim, see custom.h). */
#define CONFIG_MEMCG 1
#define CONFIG_MEMCG_KMEM 1
#define CONFIG_SMP 1
#define CONFIG_64BIT 1
#define CONFIG_VMAP_STACK 1
#define CONFIG_DEBUG_VM 1
#define BITS_PER_LONG 64

/* include/linux/kconfig.h: IS_ENABLED(CONFIG_X) is 1 when CONFIG_X is defined
 * as 1, else 0; usable in #if. Done by pasting a marker onto the value so that
 * only a value of 1 selects the "1" argument. */
#define MVK_ARG_PLACEHOLDER_1 0,
#define mvk_take_second(ignored, val, ...) val
#define mvk_is_one_(marked) mvk_take_second(marked 1, 0)
#define mvk_is_one(val) mvk_is_one_(MVK_ARG_PLACEHOLDER_##val)
#define IS_ENABLED(option) mvk_is_one(option)

/* include/linux/types.h */
typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int64_t s64;
typedef unsigned int gfp_t;
typedef unsigned long ino_t;
typedef long ssize_t;

/* include/linux/compiler*.h: attributes that mean nothing in user space, and
 * the access helpers, which are plain accesses in a sequential model. */
#undef __always_inline /* glibc's sys/cdefs.h has one */
#define __always_inline inline
#define noinline __attribute__((noinline))
#define __maybe_unused __attribute__((unused))
#define __rcu
#define __percpu
#define __read_mostly
#define __ro_after_init
#define __ref
#define __init
#define __user
#define __force
#define __must_check
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define READ_ONCE(x) (x)
#define WRITE_ONCE(x, val) ((x) = (val))
#define data_race(expr) (expr)
#define barrier() __asm__ __volatile__("" ::: "memory")

/* include/linux/container_of.h, stddef.h, array_size.h */
#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* include/linux/minmax.h and math.h, without the type checks */
#define min(a, b) ({ __typeof__(a) mvk_a_ = (a); __typeof__(b) mvk_b_ = (b); mvk_a_ < mvk_b_ ? mvk_a_ : mvk_b_; })
#define max(a, b) ({ __typeof__(a) mvk_a_ = (a); __typeof__(b) mvk_b_ = (b); mvk_a_ > mvk_b_ ? mvk_a_ : mvk_b_; })
#define abs(x) ({ __typeof__(x) mvk_x_ = (x); mvk_x_ < 0 ? -mvk_x_ : mvk_x_; })
#define ALIGN(x, a) (((x) + ((__typeof__(x))(a) - 1)) & ~((__typeof__(x))(a) - 1))

/* include/linux/build_bug.h: a compile-time check, of expressions that are
 * constant in the kernel but read variables here (PAGE_SIZE): checked once
 * at run time instead. */
#define BUILD_BUG_ON(cond) mvk_check((cond) == 0, "BUILD_BUG_ON(" #cond ")", __FILE__, __LINE__, __func__)

/* asm/page.h: PAGE_SIZE is a constant of the kernel's build and a variable
 * of the trace here (4K, 16K or 64K); mvk_boot sets it. */
extern unsigned long mvk_page_size;
extern unsigned int mvk_page_shift;
#define PAGE_SIZE (mvk_page_size)
#define PAGE_SHIFT (mvk_page_shift)
#define PAGE_MASK (~(PAGE_SIZE - 1))
#define PFN_ALIGN(x) (((unsigned long)(x) + (PAGE_SIZE - 1)) & PAGE_MASK)
/* asm/page_64_types.h (x86_64): THREAD_SIZE is 16K; with larger pages a
 * stack is one page (THREAD_SIZE = max(16K, PAGE_SIZE), as the traces say). */
extern unsigned long mvk_thread_size;
#define THREAD_SIZE (mvk_thread_size)
/* include/linux/mmzone.h */
#define PAGE_ALLOC_COSTLY_ORDER 3
/* include/asm-generic/getorder.h: the order of a block of `size` bytes. */
static inline int get_order(unsigned long size)
{
	int order = 0;
	while ((PAGE_SIZE << order) < size)
		order++;
	return order;
}

/* include/linux/gfp_types.h: the flags the charge path reads. The bit
 * values are ours; only their combinations matter. */
#define ___GFP_BIT(n) (1u << (n))
#define __GFP_DMA ___GFP_BIT(0)
#define __GFP_RECLAIMABLE ___GFP_BIT(1)
#define __GFP_HIGH ___GFP_BIT(2)
#define __GFP_IO ___GFP_BIT(3)
#define __GFP_FS ___GFP_BIT(4)
#define __GFP_DIRECT_RECLAIM ___GFP_BIT(5)
#define __GFP_KSWAPD_RECLAIM ___GFP_BIT(6)
#define __GFP_NOFAIL ___GFP_BIT(7)
#define __GFP_NORETRY ___GFP_BIT(8)
#define __GFP_RETRY_MAYFAIL ___GFP_BIT(9)
#define __GFP_ACCOUNT ___GFP_BIT(10)
#define __GFP_NOWARN ___GFP_BIT(11)
#define __GFP_RECLAIM (__GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM)
#define GFP_KERNEL (__GFP_RECLAIM | __GFP_IO | __GFP_FS)
#define GFP_KERNEL_ACCOUNT (GFP_KERNEL | __GFP_ACCOUNT)
#define GFP_NOWAIT (__GFP_KSWAPD_RECLAIM)
/* include/linux/gfp.h */
static inline bool gfpflags_allow_blocking(const gfp_t gfp_flags)
{
	return !!(gfp_flags & __GFP_DIRECT_RECLAIM);
}

/* include/uapi/asm-generic/errno-base.h */
#define ENOENT 2
#define EINTR 4
#define ENOMEM 12
#define EBUSY 16
#define EEXIST 17
#define EINVAL 22

/* include/linux/err.h */
#define MAX_ERRNO 4095
#define IS_ERR_VALUE(x) unlikely((unsigned long)(void *)(x) >= (unsigned long)-MAX_ERRNO)
static inline void *ERR_PTR(long error) { return (void *)error; }
static inline long PTR_ERR(const void *ptr) { return (long)ptr; }
static inline bool IS_ERR(const void *ptr) { return IS_ERR_VALUE((unsigned long)ptr); }
#define ERR_CAST(ptr) ((void *)(ptr))

/* include/linux/types.h and atomic: counters are plain integers here, each
 * operation a function in custom.h (they record misuse). */
typedef struct { int counter; } atomic_t;
typedef struct { long counter; } atomic_long_t;
typedef struct { atomic_t refs; } refcount_t;

/* include/linux/types.h: the list and RCU heads. */
struct list_head {
	struct list_head *next, *prev;
};
struct rcu_head {
	struct rcu_head *next;
	void (*func)(struct rcu_head *head);
};

/* include/linux/list.h: a circular doubly linked list with a head. */
static inline void INIT_LIST_HEAD(struct list_head *list) { list->next = list->prev = list; }
static inline bool list_empty(const struct list_head *head) { return head->next == head; }
static inline void mvk_list_link(struct list_head *item, struct list_head *prev, struct list_head *next)
{
	next->prev = item;
	item->next = next;
	item->prev = prev;
	prev->next = item;
}
/* After `head`: the front of the list. */
static inline void list_add(struct list_head *item, struct list_head *head)
{
	mvk_list_link(item, head, head->next);
}
static inline void list_add_tail(struct list_head *item, struct list_head *head)
{
	mvk_list_link(item, head->prev, head);
}
/* Unlinks `entry` and poisons its links, as the kernel does. */
static inline void list_del(struct list_head *entry)
{
	entry->next->prev = entry->prev;
	entry->prev->next = entry->next;
	entry->next = (struct list_head *)0x100;
	entry->prev = (struct list_head *)0x122;
}
static inline void list_del_init(struct list_head *entry)
{
	entry->next->prev = entry->prev;
	entry->prev->next = entry->next;
	INIT_LIST_HEAD(entry);
}
/* Moves the entries of `list` to the front of `head`; `list` itself is left
 * pointing at them (list_splice, not list_splice_init). */
static inline void list_splice(const struct list_head *list, struct list_head *head)
{
	if (list_empty(list))
		return;
	struct list_head *first = list->next, *last = list->prev, *at = head->next;
	first->prev = head;
	head->next = first;
	last->next = at;
	at->prev = last;
}
#define list_entry(ptr, type, member) container_of(ptr, type, member)
#define list_first_entry(ptr, type, member) list_entry((ptr)->next, type, member)
#define list_next_entry(pos, member) list_entry((pos)->member.next, __typeof__(*(pos)), member)
#define list_for_each_entry(pos, head, member)                                     \
	for (pos = list_first_entry(head, __typeof__(*pos), member); &pos->member != (head); \
	     pos = list_next_entry(pos, member))
#define list_for_each_entry_safe(pos, n, head, member)                               \
	for (pos = list_first_entry(head, __typeof__(*pos), member), n = list_next_entry(pos, member); \
	     &pos->member != (head); pos = n, n = list_next_entry(n, member))

/* include/linux/workqueue.h: a work item; its pending bit is WORK_STRUCT_PENDING. */
struct work_struct;
typedef void (*work_func_t)(struct work_struct *work);
struct work_struct {
	unsigned long data;
	work_func_t func;
};
struct delayed_work {
	struct work_struct work;
};
struct workqueue_struct;

/* include/linux/percpu-refcount.h: the model's percpu_ref keeps the count
 * summed over CPUs (what the snapshot calls refs) and its mode; custom.h
 * implements it with the kernel's semantics and defers the switch. */
struct percpu_ref;
typedef void (percpu_ref_func_t)(struct percpu_ref *);
struct percpu_ref {
	long count;
	bool atomic_mode;   /* the switch to atomic mode has completed */
	bool dead;          /* percpu_ref_kill ran */
	bool exited;        /* percpu_ref_exit ran */
	percpu_ref_func_t *release;
	percpu_ref_func_t *confirm_switch;
	struct rcu_head rcu;
	int mvk_kind;       /* MVK_REF_CSS or MVK_REF_OBJCG: whose count it is */
	int mvk_id;         /* the memcg or objcg id */
};

/* Locks: no-ops in the sequential model; custom.h checks that a lock is not
 * taken twice (that would be a deadlock in the kernel). */
typedef struct { int held; } spinlock_t;
struct mutex { int held; };
typedef struct { int unused; } local_lock_t;
#define INIT_LOCAL_LOCK(name) { 0 }

/* include/linux/jump_label.h: static keys are plain flags. */
struct static_key_false { bool enabled; };
struct static_key_true { bool enabled; };

/* include/linux/cache.h: layout hints. */
#define CACHELINE_PADDING(name)
#define ____cacheline_internodealigned_in_smp
#define ____cacheline_aligned_in_smp

/* include/linux/mmzone.h, include/linux/memcontrol.h: the stat items the
 * code passes around (the model keeps no vmstat, stubs.h drops updates). */
enum node_stat_item {
	NR_SLAB_RECLAIMABLE_B,
	NR_SLAB_UNRECLAIMABLE_B,
	NR_KERNEL_STACK_KB,
	NR_VM_NODE_STAT_ITEMS
};
enum memcg_stat_item {
	MEMCG_SWAP = NR_VM_NODE_STAT_ITEMS,
	MEMCG_SOCK,
	MEMCG_PERCPU_B,
	MEMCG_VMALLOC,
	MEMCG_KMEM,
	MEMCG_ZSWAP_B,
	MEMCG_ZSWAPPED,
	MEMCG_NR_STAT
};
enum memcg_memory_event {
	MEMCG_LOW,
	MEMCG_HIGH,
	MEMCG_MAX,
	MEMCG_OOM,
	MEMCG_OOM_KILL,
	MEMCG_OOM_GROUP_KILL,
	MEMCG_SWAP_HIGH,
	MEMCG_SWAP_MAX,
	MEMCG_SWAP_FAIL,
	MEMCG_NR_MEMORY_EVENTS
};
/* include/linux/swap.h */
#define MEMCG_RECLAIM_MAY_SWAP (1 << 1)
#define MEMCG_RECLAIM_PROACTIVE (1 << 2)
/* include/linux/sched.h */
#define PF_EXITING 0x00000004
#define PF_MEMALLOC 0x00000800
#define PF_KTHREAD 0x00200000
/* include/linux/slab.h */
#define SLAB_ACCOUNT 0x04000000u
/* include/linux/cgroup-defs.h: css flags and the memory controller's id. */
#define CSS_NO_REF (1 << 0)
#define CSS_ONLINE (1 << 1)
#define CSS_RELEASED (1 << 2)
#define CSS_VISIBLE (1 << 3)
#define CSS_DYING (1 << 4)
#define memory_cgrp_id 0

/* Every struct the code passes by pointer; custom.h defines the ones the
 * model looks inside. */
struct mem_cgroup;
struct cgroup;
struct cgroup_subsys_state;
struct task_struct;
struct mm_struct;
struct page;
struct folio;
struct slab;
struct kmem_cache;
struct pcpu_chunk;
struct vm_struct;
struct pglist_data;
struct lruvec;
struct list_lru;
struct mem_cgroup_per_node;
typedef struct pglist_data pg_data_t;

/* The shim's own assertion (custom.h): reports and stops the model. */
void mvk_check(int ok, const char *what, const char *file, int line, const char *func);

#endif /* MVK_SHIM_DUP_H */
