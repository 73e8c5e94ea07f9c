/*
 * The exported interface (kernel/c/mvk_api.h): each operation sets the CPU
 * it runs on and calls the kernel's code as the kernel's callers do. Checks
 * that belong to the cgroup core and the trace driver (a path that exists, a
 * cgroup with tasks, the last online CPU) are the adapter's. Included by
 * kernel/c/model.c.
 */

static struct mem_cgroup *mvk_memcg(int id) { return mvk_memcgs[id].memcg; }

static void mvk_api_set_bug_handler(void (*handler)(const char *message))
{
	mvk_bug_handler = handler;
}

static bool mvk_booted;

/* start_kernel as far as the memory controller is concerned: the CPUs,
 * mem_cgroup_init's per-CPU drain work (INIT_WORK(&stock->work,
 * drain_local_stock)) and the root memcg (cgroup_init_subsys). */
static void mvk_api_boot(unsigned int ncpus, unsigned long page_size)
{
	if (mvk_booted)
		mvk_bug("the kernel model boots once per process", __FILE__, __LINE__, __func__);
	mvk_booted = true;
	mvk_page_size = page_size;
	mvk_page_shift = (unsigned int)__builtin_ctzl(page_size);
	mvk_thread_size = page_size > 16384 ? page_size : 16384;
	mvk_nr_cpu_ids = ncpus;
	for (unsigned int cpu = 0; cpu < ncpus; cpu++) {
		mvk_cpu_online[cpu] = true;
		INIT_WORK(&per_cpu_ptr(&memcg_stock, cpu)->work, drain_local_stock);
	}
	mvk_enter(0, NULL);
	mvk_css_create(-1);
}

static int mvk_api_mkdir(int parent, unsigned int cpu)
{
	mvk_enter(cpu, NULL);
	return mvk_css_create(parent);
}

static void mvk_api_rmdir(int memcg, unsigned int cpu)
{
	mvk_enter(cpu, NULL);
	mvk_kill_css(&mvk_memcg(memcg)->css);
}

/* cgroup_post_fork / cgroup_exit / cgroup_migrate: the css_set's reference,
 * one per task in the model. */
static void mvk_api_task_attach(int memcg) { css_get(&mvk_memcg(memcg)->css); }
static void mvk_api_task_detach(int memcg) { css_put(&mvk_memcg(memcg)->css); }

static int mvk_api_alloc(int kind, int task_memcg, unsigned int cpu, unsigned long long size,
			 unsigned int order, int nofail, void **object)
{
	mvk_enter(cpu, mvk_memcg(task_memcg));
	gfp_t gfp = GFP_KERNEL_ACCOUNT | (nofail ? __GFP_NOFAIL : 0);
	switch (kind) {
	case MVK_SLAB: return mvk_slab_alloc(size, gfp, object);
	case MVK_PERCPU: return mvk_percpu_alloc(size, gfp, object);
	case MVK_PAGE: return mvk_page_alloc(order, gfp, object);
	case MVK_STACK: return mvk_stack_alloc(object);
	}
	return MVK_EINVAL;
}

static void mvk_api_free(int kind, void *object, unsigned int cpu)
{
	mvk_enter(cpu, NULL);
	switch (kind) {
	case MVK_SLAB: mvk_slab_free(object); break;
	case MVK_PERCPU: mvk_percpu_free(object); break;
	case MVK_PAGE: mvk_page_free(object); break;
	case MVK_STACK: mvk_stack_free(object); break;
	}
}

static void mvk_api_object_info(int kind, const void *object, struct mvk_object_info *out)
{
	switch (kind) {
	case MVK_SLAB: mvk_slab_info(object, out); break;
	case MVK_PERCPU: mvk_percpu_info(object, out); break;
	case MVK_PAGE: mvk_page_info(object, out); break;
	case MVK_STACK: mvk_stack_info(object, out); break;
	}
}

static void mvk_api_drain_local(unsigned int cpu)
{
	mvk_enter(cpu, NULL);
	drain_local_stock(&per_cpu_ptr(&memcg_stock, cpu)->work);
}

static void mvk_api_drain_all(int memcg, unsigned int cpu)
{
	mvk_enter(cpu, NULL);
	drain_all_stock(mvk_memcg(memcg));
}

/* memory.max as mem_cgroup_resize_max sets it (docs/MODEL-v6.6.md), the
 * value clamped to PAGE_COUNTER_MAX as page_counter_memparse does. */
static int mvk_api_set_max(int memcg, unsigned long long pages, int unlimited, unsigned int cpu)
{
	mvk_enter(cpu, NULL);
	unsigned long max = unlimited || pages >= PAGE_COUNTER_MAX ? PAGE_COUNTER_MAX : (unsigned long)pages;
	int ret = mem_cgroup_resize_max(mvk_memcg(memcg), max, false);
	switch (ret) {
	case 0: return MVK_OK;
	case -EBUSY: return MVK_EBUSY;
	case -EINVAL: return MVK_EINVAL;
	default: mvk_bug("mem_cgroup_resize_max: unexpected result", __FILE__, __LINE__, __func__);
	}
}

/* takedown_cpu: the CPU leaves the online mask, then the CPUHP teardown
 * callbacks run on the control CPU, memcg_hotplug_cpu_dead among them. */
static void mvk_api_cpu_offline(unsigned int cpu, unsigned int control_cpu)
{
	mvk_cpu_online[cpu] = false;
	mvk_enter(control_cpu, NULL);
	memcg_hotplug_cpu_dead(cpu);
}

static void mvk_api_quiesce(void) { mvk_quiesce(); }

static int mvk_api_nr_memcgs(void) { return mvk_nr_memcgs; }
static int mvk_api_nr_objcgs(void) { return mvk_nr_objcgs - 1; }

static void mvk_api_memcg_info(int id, struct mvk_memcg_info *out)
{
	const struct mvk_memcg_entry *e = &mvk_memcgs[id];
	const struct mem_cgroup *m = e->memcg;
	out->parent = e->parent;
	out->state = e->freed ? MVK_MEMCG_FREED : (m->css.flags & CSS_DYING) ? MVK_MEMCG_DYING : MVK_MEMCG_ONLINE;
	out->offlined = (m->css.flags & CSS_DYING) && !(m->css.flags & CSS_ONLINE);
	out->usage_pages = m->memory.usage.counter;
	out->max_pages = m->memory.max;
	out->max_unlimited = m->memory.max == PAGE_COUNTER_MAX;
	out->failcnt = m->memory.failcnt;
	out->watermark_pages = m->memory.watermark;
	out->css_refs = (m->css.flags & CSS_NO_REF) ? 0 : m->css.refcnt.count;
	out->objcg = mvk_objcg_id(m->objcg);
}

static void mvk_api_objcg_info(int id, struct mvk_objcg_info *out)
{
	const struct mvk_objcg_entry *e = &mvk_objcgs[id];
	const struct obj_cgroup *o = e->objcg;
	const struct mem_cgroup *origin = mvk_memcgs[e->origin].memcg;
	out->origin = e->origin;
	out->memcg = mvk_memcg_id(o->memcg);
	out->state = e->released ? MVK_OBJCG_RELEASED
				 : origin->objcg == o ? MVK_OBJCG_ACTIVE : MVK_OBJCG_REPARENTED;
	out->refs = e->released ? 0 : o->refcnt.count;
	out->nr_charged_bytes = e->released ? e->seen_bytes : (unsigned int)o->nr_charged_bytes.counter;
	out->charged_pages = e->charged_pages;
}

static void mvk_api_stock_info(unsigned int cpu, struct mvk_stock_info *out)
{
	const struct memcg_stock_pcp *stock = per_cpu_ptr(&memcg_stock, cpu);
	out->online = mvk_cpu_online[cpu];
	out->cached_memcg = mvk_memcg_id(stock->cached);
	out->nr_pages = stock->nr_pages;
	out->cached_objcg = mvk_objcg_id(stock->cached_objcg);
	out->nr_bytes = stock->nr_bytes;
	out->flushing = test_bit(FLUSHING_CACHED_CHARGE, &stock->flags);
}

static unsigned int mvk_api_pending_work(void) { return mvk_fifo_len; }
static unsigned int mvk_api_nr_events(void) { return mvk_nr_events; }
static void mvk_api_event(unsigned int index, struct mvk_event *out) { *out = mvk_events[index]; }
static unsigned int mvk_api_nr_warnings(void) { return mvk_nr_warnings; }
static const char *mvk_api_warning(unsigned int index)
{
	return index < MVK_MAX_WARNINGS && index < mvk_nr_warnings ? mvk_warnings[index] : "";
}

static const struct mvk_api mvk_api_table = {
	.api_version = MVK_API_VERSION,
	.tree_version = MVK_TREE_VERSION,
	.tree_profile = MVK_TREE_PROFILE,
	.tree_path = MVK_TREE_PATH,
	.set_bug_handler = mvk_api_set_bug_handler,
	.boot = mvk_api_boot,
	.mkdir = mvk_api_mkdir,
	.rmdir = mvk_api_rmdir,
	.task_attach = mvk_api_task_attach,
	.task_detach = mvk_api_task_detach,
	.alloc = mvk_api_alloc,
	.free = mvk_api_free,
	.object_info = mvk_api_object_info,
	.drain_local = mvk_api_drain_local,
	.drain_all = mvk_api_drain_all,
	.set_max = mvk_api_set_max,
	.cpu_offline = mvk_api_cpu_offline,
	.quiesce = mvk_api_quiesce,
	.nr_memcgs = mvk_api_nr_memcgs,
	.nr_objcgs = mvk_api_nr_objcgs,
	.memcg_info = mvk_api_memcg_info,
	.objcg_info = mvk_api_objcg_info,
	.stock_info = mvk_api_stock_info,
	.pending_work = mvk_api_pending_work,
	.nr_events = mvk_api_nr_events,
	.event = mvk_api_event,
	.nr_warnings = mvk_api_nr_warnings,
	.warning = mvk_api_warning,
};

__attribute__((visibility("default"))) const struct mvk_api *mvk_get_api(void) { return &mvk_api_table; }
