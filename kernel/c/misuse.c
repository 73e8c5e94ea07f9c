/*
 * Registries, events and misuse checks: what a freed memcg or a released
 * objcg is, and what it means to touch one or to count below zero. Included
 * by kernel/c/model.c.
 */

struct mvk_memcg_entry *mvk_memcgs;
int mvk_nr_memcgs;
struct mvk_objcg_entry *mvk_objcgs;
int mvk_nr_objcgs = 1;
struct obj_cgroup *mvk_draining_objcg;

static struct mvk_event *mvk_events;
static unsigned int mvk_nr_events, mvk_events_cap;

void mvk_record_event(int kind, unsigned int subject, long long value)
{
	if (mvk_nr_events == mvk_events_cap) {
		mvk_events_cap = mvk_events_cap ? 2 * mvk_events_cap : 16;
		mvk_events = realloc(mvk_events, mvk_events_cap * sizeof(*mvk_events));
		if (!mvk_events)
			mvk_bug("out of memory in the model", __FILE__, __LINE__, __func__);
	}
	mvk_events[mvk_nr_events++] = (struct mvk_event){kind, subject, value};
}

int mvk_register_memcg(struct mem_cgroup *memcg, struct cgroup *cgroup, int parent)
{
	if ((mvk_nr_memcgs & (mvk_nr_memcgs - 1)) == 0) {
		mvk_memcgs = realloc(mvk_memcgs, (mvk_nr_memcgs ? 2 * mvk_nr_memcgs : 1) * sizeof(*mvk_memcgs));
		if (!mvk_memcgs)
			mvk_bug("out of memory in the model", __FILE__, __LINE__, __func__);
	}
	int id = mvk_nr_memcgs++;
	mvk_memcgs[id] = (struct mvk_memcg_entry){memcg, cgroup, parent, false};
	memcg->mvk_id = id;
	memcg->css.refcnt.mvk_kind = MVK_REF_CSS;
	memcg->css.refcnt.mvk_id = id;
	return id;
}

int mvk_register_objcg(struct obj_cgroup *objcg, struct mem_cgroup *origin)
{
	if ((mvk_nr_objcgs & (mvk_nr_objcgs - 1)) == 0) {
		mvk_objcgs = realloc(mvk_objcgs, 2 * mvk_nr_objcgs * sizeof(*mvk_objcgs));
		if (!mvk_objcgs)
			mvk_bug("out of memory in the model", __FILE__, __LINE__, __func__);
	}
	int id = mvk_nr_objcgs++;
	mvk_objcgs[id] = (struct mvk_objcg_entry){objcg, origin->mvk_id, 0, false, 0};
	objcg->refcnt.mvk_kind = MVK_REF_OBJCG;
	objcg->refcnt.mvk_id = id;
	return id;
}

struct mvk_objcg_entry *mvk_objcg_entry_of(struct obj_cgroup *objcg)
{
	if (!objcg || objcg->refcnt.mvk_kind != MVK_REF_OBJCG)
		return NULL;
	return &mvk_objcgs[objcg->refcnt.mvk_id];
}

int mvk_objcg_id(struct obj_cgroup *objcg)
{
	struct mvk_objcg_entry *e = mvk_objcg_entry_of(objcg);
	return e ? objcg->refcnt.mvk_id : 0;
}

int mvk_memcg_id(struct mem_cgroup *memcg) { return memcg ? memcg->mvk_id : -1; }

/* The memory of freed memcgs and released objcgs, sorted by address: every
 * access is looked up in it (binary search). */
struct mvk_dead_range {
	const char *begin, *end;
	int kind; /* the event a touch records */
	int id;
};
static struct mvk_dead_range *mvk_dead;
static unsigned int mvk_nr_dead, mvk_dead_cap;

void mvk_mark_dead(const void *object, size_t size, int kind, int id)
{
	if (mvk_nr_dead == mvk_dead_cap) {
		mvk_dead_cap = mvk_dead_cap ? 2 * mvk_dead_cap : 16;
		mvk_dead = realloc(mvk_dead, mvk_dead_cap * sizeof(*mvk_dead));
		if (!mvk_dead)
			mvk_bug("out of memory in the model", __FILE__, __LINE__, __func__);
	}
	const char *begin = object;
	unsigned int at = mvk_nr_dead;
	while (at > 0 && mvk_dead[at - 1].begin > begin) {
		mvk_dead[at] = mvk_dead[at - 1];
		at--;
	}
	mvk_dead[at] = (struct mvk_dead_range){begin, begin + size, kind, id};
	mvk_nr_dead++;
}

void mvk_touch(const volatile void *addr)
{
	mvk_count_call();
	const char *p = (const char *)addr;
	unsigned int lo = 0, hi = mvk_nr_dead; /* the first range beginning after p is at hi */
	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;
		if (mvk_dead[mid].begin <= p)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo > 0 && p < mvk_dead[lo - 1].end)
		mvk_record_event(mvk_dead[lo - 1].kind, mvk_dead[lo - 1].id, 0);
}

void mvk_below_zero(const volatile void *addr, long value)
{
	for (int id = 0; id < mvk_nr_memcgs; id++)
		if ((const volatile void *)&mvk_memcgs[id].memcg->memory.usage == addr)
			mvk_record_event(MVK_EV_PAGE_COUNTER_UNDERFLOW, id, value);
}

void mvk_ref_touch(struct percpu_ref *ref)
{
	mvk_count_call();
	if (ref->mvk_kind == MVK_REF_CSS && mvk_memcgs[ref->mvk_id].freed)
		mvk_record_event(MVK_EV_MEMCG_USE_AFTER_FREE, ref->mvk_id, 0);
	if (ref->mvk_kind == MVK_REF_OBJCG && mvk_objcgs[ref->mvk_id].released)
		mvk_record_event(MVK_EV_OBJCG_USE_AFTER_FREE, ref->mvk_id, 0);
}

void mvk_ref_underflow(struct percpu_ref *ref, long value)
{
	if (ref->mvk_kind == MVK_REF_CSS)
		mvk_record_event(MVK_EV_CSS_REF_UNDERFLOW, ref->mvk_id, value);
	if (ref->mvk_kind == MVK_REF_OBJCG)
		mvk_record_event(MVK_EV_OBJCG_REF_UNDERFLOW, ref->mvk_id, value);
}
