/*
 * The cgroup core around the memory controller (kernel/cgroup/cgroup.c),
 * customised: a css is created, onlined, killed, offlined, released and freed
 * in the kernel's order, calling the memory controller's own callbacks
 * (mem_cgroup_css_alloc, _online, _offline from the tree). The deferred
 * steps are those of kernel/c/deferred.c. Included by kernel/c/model.c.
 */

static void mvk_css_release(struct percpu_ref *ref);

/* css_create: ss->css_alloc, init_and_link_css (a reference on the parent),
 * percpu_ref_init of the base reference, online_css. */
static int mvk_css_create(int parent_id)
{
	struct mem_cgroup *parent = parent_id >= 0 ? mvk_memcgs[parent_id].memcg : NULL;
	struct cgroup *cgroup = mvk_kzalloc(sizeof(*cgroup));
	if (parent_id >= 0) {
		cgroup->parent = mvk_memcgs[parent_id].cgroup;
		cgroup->level = cgroup->parent->level + 1;
	}
	struct cgroup_subsys_state *css = mem_cgroup_css_alloc(parent ? &parent->css : NULL);
	if (IS_ERR(css))
		mvk_bug("mem_cgroup_css_alloc failed", __FILE__, __LINE__, __func__);
	struct mem_cgroup *memcg = mem_cgroup_from_css(css);
	memset(css, 0, sizeof(*css));
	int id = mvk_register_memcg(memcg, cgroup, parent_id);
	css->cgroup = cgroup;
	css->id = id;
	if (parent) {
		css->parent = &parent->css;
		css_get(css->parent);
	} else {
		/* cgroup_init_subsys: the root css is never counted. */
		css->flags |= CSS_NO_REF;
	}
	percpu_ref_init(&css->refcnt, mvk_css_release, 0, GFP_KERNEL);
	if (mem_cgroup_css_online(css) != 0)
		mvk_bug("mem_cgroup_css_online failed", __FILE__, __LINE__, __func__);
	css->flags |= CSS_ONLINE;
	cgroup->subsys[memory_cgrp_id] = css;
	return id;
}

/* offline_css, then the put of kill_css's reference (css_killed_work_fn). A
 * dying parent's offline waits for its children's (online_cnt); the FIFO
 * runs children's kills first, as they were rmdir'ed first. */
static void mvk_css_killed(struct percpu_ref *ref)
{
	struct cgroup_subsys_state *css = container_of(ref, struct cgroup_subsys_state, refcnt);
	if (css->flags & CSS_ONLINE) {
		mem_cgroup_css_offline(css);
		css->flags &= ~CSS_ONLINE;
		css->cgroup->subsys[memory_cgrp_id] = NULL;
	}
	css_put(css);
}

/* kill_css: dying; one more reference until the offline has run; the base
 * reference put once the kill is confirmed after a grace period. */
static void mvk_kill_css(struct cgroup_subsys_state *css)
{
	if (css->flags & CSS_DYING)
		return;
	css->flags |= CSS_DYING;
	css_get(css);
	percpu_ref_kill_and_confirm(&css->refcnt, mvk_css_killed);
}

/* css_free_rwork_fn: the memcg is gone (its memory is kept for the snapshot;
 * any later touch is a use after free), then the parent's reference. */
static void mvk_css_free_work(struct work_struct *work)
{
	struct cgroup_subsys_state *css = container_of(work, struct cgroup_subsys_state, destroy_work);
	struct cgroup_subsys_state *parent = css->parent;
	percpu_ref_exit(&css->refcnt);
	css->flags |= CSS_RELEASED;
	mvk_memcgs[css->id].freed = true;
	mvk_mark_dead(mvk_memcgs[css->id].memcg, sizeof(struct mem_cgroup), MVK_EV_MEMCG_USE_AFTER_FREE, css->id);
	if (parent)
		css_put(parent);
}

/* css_release: the count reached zero in atomic mode. */
static void mvk_css_release(struct percpu_ref *ref)
{
	struct cgroup_subsys_state *css = container_of(ref, struct cgroup_subsys_state, refcnt);
	INIT_WORK(&css->destroy_work, mvk_css_free_work);
	schedule_work(&css->destroy_work);
}
