/*
 * The simulated machine: CPUs, the current task, locks, the heap, reports.
 * Included by kernel/c/model.c.
 */
unsigned long mvk_page_size = 4096;
unsigned int mvk_page_shift = 12;
unsigned long mvk_thread_size = 16384;
unsigned int mvk_cpu;
unsigned int mvk_nr_cpu_ids = 1;
bool mvk_cpu_online[MVK_MAX_CPUS];
struct pglist_data mvk_node0;

/* The task an operation runs for (an allocation's task; for the rest, a
 * management task of the root cgroup). It has an mm and is not a kthread, so
 * memcg_kmem_bypass lets it charge. */
static struct mm_struct *const mvk_some_mm = (struct mm_struct *)&mvk_node0;
static struct task_struct mvk_task;
struct task_struct *mvk_current = &mvk_task;

/* A step that makes this many calls into the shims has not finished: a loop
 * (a correct step makes a few hundred). Stopping it here reports the hang at
 * once, where the proxy's watchdog would wait its timeout. */
#define MVK_STEP_CALL_LIMIT 20000000UL
static unsigned long mvk_step_calls;

static void mvk_count_call(void)
{
	if (++mvk_step_calls > MVK_STEP_CALL_LIMIT)
		mvk_bug("the step made more than 20000000 calls into the shims without finishing (a loop?)",
			__FILE__, __LINE__, __func__);
}

/* local_lock of memcg_stock, one per CPU. */
static int mvk_stock_lock_held[MVK_MAX_CPUS];

static void (*mvk_bug_handler)(const char *message);

void mvk_bug(const char *what, const char *file, int line, const char *func)
{
	char message[512];
	snprintf(message, sizeof(message), "%s at %s:%d in %s()", what, file, line, func);
	if (mvk_bug_handler)
		mvk_bug_handler(message);
	fprintf(stderr, "kernel model: %s\n", message);
	abort();
}

void mvk_check(int ok, const char *what, const char *file, int line, const char *func)
{
	if (!ok)
		mvk_bug(what, file, line, func);
}

#define MVK_MAX_WARNINGS 16
static char mvk_warnings[MVK_MAX_WARNINGS][256];
static unsigned int mvk_nr_warnings;

void mvk_warn(const char *what, const char *file, int line, const char *func)
{
	if (mvk_nr_warnings < MVK_MAX_WARNINGS)
		snprintf(mvk_warnings[mvk_nr_warnings], sizeof(mvk_warnings[0]), "WARN_ON(%s) at %s:%d in %s()",
			 what, file, line, func);
	mvk_nr_warnings++;
}

void mvk_lock(int *held, const char *what)
{
	mvk_count_call();
	if (*held) {
		char message[96];
		snprintf(message, sizeof(message), "%s taken twice (a deadlock in the kernel)", what);
		mvk_bug(message, __FILE__, __LINE__, __func__);
	}
	*held = 1;
}

void mvk_unlock(int *held, const char *what)
{
	if (!*held) {
		char message[96];
		snprintf(message, sizeof(message), "%s released while not held", what);
		mvk_bug(message, __FILE__, __LINE__, __func__);
	}
	*held = 0;
}

void mvk_local_lock(void) { mvk_lock(&mvk_stock_lock_held[mvk_cpu], "memcg_stock.stock_lock"); }
void mvk_local_unlock(void) { mvk_unlock(&mvk_stock_lock_held[mvk_cpu], "memcg_stock.stock_lock"); }

void *mvk_kzalloc(size_t size)
{
	void *p = calloc(1, size ? size : 1);
	if (!p)
		mvk_bug("out of memory in the model", __FILE__, __LINE__, __func__);
	return p;
}

void kfree(const void *ptr) { free((void *)ptr); }

unsigned long long memparse(const char *ptr, char **retptr)
{
	char *end;
	unsigned long long value = strtoull(ptr, &end, 0);
	switch (*end) {
	case 'G': case 'g': value <<= 10; /* fall through */
	case 'M': case 'm': value <<= 10; /* fall through */
	case 'K': case 'k': value <<= 10; end++; break;
	default: break;
	}
	if (retptr)
		*retptr = end;
	return value;
}

/* mm/memcontrol.c mem_cgroup_alloc, customised: a zeroed memcg with what the
 * accounting reads set up (the lists; kmemcg_id -1 until memcg_online_kmem;
 * high_work never runs). The memcg id is the glue's. */
static void mvk_high_work_never(struct work_struct *work)
{
	mvk_bug("memcg->high_work ran (memory.high is never set)", __FILE__, __LINE__, __func__);
}

struct mem_cgroup *mem_cgroup_alloc(void)
{
	struct mem_cgroup *memcg = mvk_kzalloc(sizeof(*memcg));
	INIT_WORK(&memcg->high_work, mvk_high_work_never);
	INIT_LIST_HEAD(&memcg->event_list);
	spin_lock_init(&memcg->event_list_lock);
	memcg->kmemcg_id = -1;
	INIT_LIST_HEAD(&memcg->objcg_list);
	return memcg;
}

/* The CPU the operation runs on and, for an allocation, the task's memcg. */
static void mvk_enter(unsigned int cpu, struct mem_cgroup *task_memcg)
{
	mvk_step_calls = 0;
	mvk_cpu = cpu;
	mvk_task.mvk_memory_css = task_memcg ? &task_memcg->css : &root_mem_cgroup->css;
	mvk_task.mm = mvk_some_mm;
}

static unsigned int mvk_lowest_online_cpu(void)
{
	for (unsigned int cpu = 0; cpu < mvk_nr_cpu_ids; cpu++)
		if (mvk_cpu_online[cpu])
			return cpu;
	return 0;
}
