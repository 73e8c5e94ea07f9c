/*
 * The C interface of a compiled kernel model (one shared object per kernel
 * tree, kernel/c/model.c over the tree's extracted code): what the C++
 * adapter (kernel/kernel_model.h) calls. Ids, not pointers, cross it:
 * memcgs by creation order (the root is 0), objcgs from 1 (0 is none).
 * The codes below are in the order of the spec's enums (spec/operation.h,
 * spec/snapshot.h), so the adapter converts by value.
 */
#ifndef MVK_API_H
#define MVK_API_H

#ifdef __cplusplus
extern "C" {
#endif

#define MVK_API_VERSION 1

enum mvk_result { MVK_OK, MVK_EBUSY, MVK_ENOENT, MVK_ENOMEM, MVK_EEXIST, MVK_EINVAL };
enum mvk_alloc_kind { MVK_SLAB, MVK_PERCPU, MVK_PAGE, MVK_STACK };
enum mvk_event_kind {
	MVK_EV_PAGE_COUNTER_UNDERFLOW,
	MVK_EV_CSS_REF_UNDERFLOW,
	MVK_EV_OBJCG_REF_UNDERFLOW,
	MVK_EV_MEMCG_USE_AFTER_FREE,
	MVK_EV_OBJCG_USE_AFTER_FREE,
};
enum mvk_memcg_state { MVK_MEMCG_ONLINE, MVK_MEMCG_DYING, MVK_MEMCG_FREED };
enum mvk_objcg_state { MVK_OBJCG_ACTIVE, MVK_OBJCG_REPARENTED, MVK_OBJCG_RELEASED };

struct mvk_memcg_info {
	int parent;          /* -1 for the root */
	int state;           /* enum mvk_memcg_state */
	int offlined;        /* mem_cgroup_css_offline has run (CSS_ONLINE cleared) */
	long usage_pages;
	unsigned long max_pages;
	int max_unlimited;   /* max == PAGE_COUNTER_MAX */
	unsigned long failcnt;
	unsigned long watermark_pages;
	long css_refs;       /* 0 for the root (CSS_NO_REF) */
	int objcg;           /* memcg->objcg, 0 if none */
};
struct mvk_objcg_info {
	int origin;          /* the memcg it was allocated for */
	int memcg;           /* objcg->memcg */
	int state;           /* enum mvk_objcg_state */
	long refs;
	unsigned int nr_charged_bytes;
	long charged_pages;  /* the ghost counter (kernel/c/observe.c) */
};
struct mvk_stock_info {
	int online;
	int cached_memcg;    /* -1 if none */
	unsigned int nr_pages;
	int cached_objcg;    /* 0 if none */
	unsigned int nr_bytes;
	int flushing;        /* FLUSHING_CACHED_CHARGE */
};
struct mvk_object_info {
	int objcg;           /* 0 if uncharged */
	unsigned long long charged_bytes;
	unsigned int nr_kmem_pages;
};
struct mvk_event {
	int kind;            /* enum mvk_event_kind */
	unsigned int subject;
	long long value;
};

struct mvk_api {
	int api_version;
	const char *tree_version;  /* "6.1.192" */
	const char *tree_profile;  /* "v6.1" */
	const char *tree_path;
	/* Called on a kernel BUG or a shim assertion with the report; it must
	 * not return (the adapter throws; the C code is built with -fexceptions). */
	void (*set_bug_handler)(void (*handler)(const char *message));
	/* Once per process: the root memcg, every CPU online. */
	void (*boot)(unsigned int ncpus, unsigned long page_size);
	/* cgroup_mkdir's css_create: returns the new memcg's id. */
	int (*mkdir)(int parent, unsigned int cpu);
	/* cgroup_rmdir's kill_css (the caller checked EBUSY). */
	void (*rmdir)(int memcg, unsigned int cpu);
	/* A task enters or leaves a memcg: the css reference of its css_set. */
	void (*task_attach)(int memcg);
	void (*task_detach)(int memcg);
	/* An accounted allocation by a task of `task_memcg` on `cpu`; *object is
	 * the allocator's handle for free and object_info. */
	int (*alloc)(int kind, int task_memcg, unsigned int cpu, unsigned long long size,
		     unsigned int order, int nofail, void **object);
	void (*free)(int kind, void *object, unsigned int cpu);
	void (*object_info)(int kind, const void *object, struct mvk_object_info *out);
	void (*drain_local)(unsigned int cpu);
	void (*drain_all)(int memcg, unsigned int cpu);
	int (*set_max)(int memcg, unsigned long long pages, int unlimited, unsigned int cpu);
	/* memcg_hotplug_cpu_dead of `cpu`, run on `control_cpu`. */
	void (*cpu_offline)(unsigned int cpu, unsigned int control_cpu);
	void (*quiesce)(void);
	int (*nr_memcgs)(void);
	int (*nr_objcgs)(void);
	void (*memcg_info)(int id, struct mvk_memcg_info *out);
	void (*objcg_info)(int id, struct mvk_objcg_info *out);
	void (*stock_info)(unsigned int cpu, struct mvk_stock_info *out);
	unsigned int (*pending_work)(void);
	unsigned int (*nr_events)(void);
	void (*event)(unsigned int index, struct mvk_event *out);
	/* Kernel WARNs seen so far (they do not stop the model). */
	unsigned int (*nr_warnings)(void);
	const char *(*warning)(unsigned int index);
};

/* The one symbol a kernel model exports. */
const struct mvk_api *mvk_get_api(void);

#ifdef __cplusplus
}
#endif

#endif /* MVK_API_H */
