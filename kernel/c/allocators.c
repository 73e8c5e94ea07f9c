/*
 * The allocators around the memcg hooks, customised: each traced object is
 * one object of its own slab, percpu chunk, page or vmap'ed stack, and the
 * allocator calls the tree's hooks where mm/slub.c, mm/percpu.c,
 * mm/page_alloc.c and kernel/fork.c call them. What the allocator itself
 * refuses (sizes, orders) is refused before any hook, as the kernel does.
 * Included by kernel/c/model.c.
 */

/* mm/slub.c slab_alloc_node: slab_pre_alloc_hook, the object,
 * slab_post_alloc_hook. The cache's object size is the trace's size. */
struct mvk_slab_object {
	struct kmem_cache cache;
	struct slab slab;
	char object[8];
};

struct slab *mvk_virt_to_slab(const void *p)
{
	char *object = (char *)p;
	return &container_of(object, struct mvk_slab_object, object)->slab;
}

static int mvk_slab_alloc(unsigned long long size, gfp_t gfp, void **handle)
{
	struct mvk_slab_object *o = mvk_kzalloc(sizeof(*o));
	o->cache.size = o->cache.object_size = (unsigned int)size;
	o->cache.flags = SLAB_ACCOUNT;
	o->slab.slab_cache = &o->cache;
	struct obj_cgroup *objcg = NULL;
	if (!memcg_slab_pre_alloc_hook(&o->cache, NULL, &objcg, 1, gfp)) {
		kfree(o);
		return MVK_ENOMEM;
	}
	void *p = o->object;
	memcg_slab_post_alloc_hook(&o->cache, objcg, gfp, 1, &p);
	*handle = o;
	return MVK_OK;
}

/* mm/slub.c slab_free: memcg_slab_free_hook; the then empty slab is freed
 * with its objcg vector (memcg_free_slab_cgroups). */
static void mvk_slab_free(struct mvk_slab_object *o)
{
	void *p = o->object;
	memcg_slab_free_hook(&o->cache, &o->slab, &p, 1);
	memcg_free_slab_cgroups(&o->slab);
	kfree(o);
}

static void mvk_slab_info(const struct mvk_slab_object *o, struct mvk_object_info *out)
{
	struct obj_cgroup **objcgs = slab_objcgs((struct slab *)&o->slab);
	struct obj_cgroup *objcg = objcgs ? objcgs[0] : NULL;
	out->objcg = mvk_objcg_id(objcg);
	out->charged_bytes = objcg ? obj_full_size((struct kmem_cache *)&o->cache) : 0;
	out->nr_kmem_pages = 0;
}

/* mm/percpu.c pcpu_alloc: the size rounded up to PCPU_MIN_ALLOC_SIZE and
 * refused when 0 or above PCPU_MIN_UNIT_SIZE, then the memcg hooks around
 * the area's allocation; the object is area 0 of its own chunk. */
struct mvk_percpu_object {
	struct pcpu_chunk chunk;
	struct obj_cgroup *slot;
	size_t size;
};

static int mvk_percpu_alloc(unsigned long long request, gfp_t gfp, void **handle)
{
	size_t size = ALIGN((size_t)request, (size_t)PCPU_MIN_ALLOC_SIZE);
	if (!size || size > PCPU_MIN_UNIT_SIZE)
		return MVK_ENOMEM;
	struct obj_cgroup *objcg = NULL;
	if (!pcpu_memcg_pre_alloc_hook(size, gfp, &objcg))
		return MVK_ENOMEM;
	struct mvk_percpu_object *o = mvk_kzalloc(sizeof(*o));
	o->chunk.obj_cgroups = &o->slot;
	o->size = size;
	pcpu_memcg_post_alloc_hook(objcg, &o->chunk, 0, size);
	*handle = o;
	return MVK_OK;
}

/* mm/percpu.c free_percpu: pcpu_memcg_free_hook with the area's size. */
static void mvk_percpu_free(struct mvk_percpu_object *o)
{
	pcpu_memcg_free_hook(&o->chunk, 0, o->size);
	kfree(o);
}

static void mvk_percpu_info(const struct mvk_percpu_object *o, struct mvk_object_info *out)
{
	out->objcg = mvk_objcg_id(o->slot);
	out->charged_bytes = o->slot ? pcpu_obj_full_size(o->size) : 0;
	out->nr_kmem_pages = 0;
}

/* mm/page_alloc.c __alloc_pages with __GFP_ACCOUNT: an order above the
 * largest the buddy allocator has (10 on x86_64: MAX_ORDER 11 exclusive in
 * 6.1, 10 inclusive from 6.4) is refused with a warning before any charge;
 * then memcg_kmem_charge_page. __free_pages: memcg_kmem_uncharge_page. */
#define MVK_LARGEST_PAGE_ORDER 10
struct mvk_page_object {
	struct page page;
	unsigned int order;
};

static int mvk_page_alloc(unsigned int order, gfp_t gfp, void **handle)
{
	if (order > MVK_LARGEST_PAGE_ORDER)
		return MVK_ENOMEM;
	struct mvk_page_object *o = mvk_kzalloc(sizeof(*o));
	o->order = order;
	if (memcg_kmem_charge_page(&o->page, gfp, (int)order) != 0) {
		kfree(o);
		return MVK_ENOMEM;
	}
	*handle = o;
	return MVK_OK;
}

static void mvk_page_free(struct mvk_page_object *o)
{
	memcg_kmem_uncharge_page(&o->page, (int)o->order);
	kfree(o);
}

static struct obj_cgroup *mvk_page_objcg(const struct page *page)
{
	if (!(page->memcg_data & MEMCG_DATA_KMEM))
		return NULL;
	return (struct obj_cgroup *)(page->memcg_data & ~MEMCG_DATA_FLAGS_MASK);
}

static void mvk_page_info(const struct mvk_page_object *o, struct mvk_object_info *out)
{
	struct obj_cgroup *objcg = mvk_page_objcg(&o->page);
	out->objcg = mvk_objcg_id(objcg);
	out->charged_bytes = objcg ? (unsigned long long)PAGE_SIZE << o->order : 0;
	out->nr_kmem_pages = objcg ? 1 : 0;
}

/* kernel/fork.c alloc_thread_stack_node (CONFIG_VMAP_STACK): the stack's
 * pages, then memcg_charge_kernel_stack (which charges with GFP_KERNEL
 * whatever the caller asked); exit_task_stack_account at the end. The
 * stack belongs to a new task whose stack_vm_area it is. */
struct mvk_stack_object {
	struct task_struct task;
	struct vm_struct vm;
	struct page **pages;
};

static int mvk_stack_alloc(void **handle)
{
	struct mvk_stack_object *o = mvk_kzalloc(sizeof(*o));
	o->vm.nr_pages = (unsigned int)(THREAD_SIZE / PAGE_SIZE);
	o->pages = mvk_kzalloc(o->vm.nr_pages * sizeof(*o->pages));
	for (unsigned int i = 0; i < o->vm.nr_pages; i++)
		o->pages[i] = mvk_kzalloc(sizeof(struct page));
	o->vm.pages = o->pages;
	o->task.stack_vm_area = &o->vm;
	if (memcg_charge_kernel_stack(&o->vm) != 0) {
		for (unsigned int i = 0; i < o->vm.nr_pages; i++)
			kfree(o->pages[i]);
		kfree(o->pages);
		kfree(o);
		return MVK_ENOMEM;
	}
	account_kernel_stack(&o->task, 1);
	*handle = o;
	return MVK_OK;
}

static void mvk_stack_free(struct mvk_stack_object *o)
{
	exit_task_stack_account(&o->task);
	for (unsigned int i = 0; i < o->vm.nr_pages; i++)
		kfree(o->pages[i]);
	kfree(o->pages);
	kfree(o);
}

static void mvk_stack_info(const struct mvk_stack_object *o, struct mvk_object_info *out)
{
	unsigned int charged = 0;
	struct obj_cgroup *objcg = NULL;
	for (unsigned int i = 0; i < o->vm.nr_pages; i++) {
		struct obj_cgroup *page_objcg = mvk_page_objcg(o->pages[i]);
		if (page_objcg) {
			charged++;
			if (!objcg)
				objcg = page_objcg;
		}
	}
	out->objcg = mvk_objcg_id(objcg);
	out->charged_bytes = (unsigned long long)charged * PAGE_SIZE;
	out->nr_kmem_pages = charged;
}
