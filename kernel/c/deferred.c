/*
 * Deferred work: workqueue items and RCU callbacks wait in one FIFO until
 * quiesce runs them, in order, until none is left (an item may queue more).
 * This is how reference/deferred.h defers them, item for item, so the
 * snapshot's pending_work counts the same things:
 *   schedule_work_on(cpu, &stock->work)   drain_work: drain_local_stock on `cpu`
 *   percpu_ref_kill_and_confirm(css)      the css kill: after the grace period
 *                                         the switch, its confirmation and the
 *                                         offline (css_killed_work_fn), as one item
 *   percpu_ref_kill(objcg)                the switch to atomic mode
 *   css refcount reaching zero            css_release + css_free_rwork_fn, one item
 *   kfree_rcu(objcg, rcu)                 nothing visible
 * Included by kernel/c/model.c.
 */

enum mvk_item_kind { MVK_ITEM_WORK, MVK_ITEM_RCU };

struct mvk_item {
	int kind;
	struct work_struct *work;
	struct rcu_head *rcu;
	void (*rcu_func)(struct rcu_head *head);
	unsigned int cpu;  /* the CPU it was queued for or on */
};

static struct mvk_item *mvk_fifo;
static unsigned int mvk_fifo_head, mvk_fifo_len, mvk_fifo_cap;

static void mvk_push(struct mvk_item item)
{
	if (mvk_fifo_len == mvk_fifo_cap) {
		unsigned int cap = mvk_fifo_cap ? 2 * mvk_fifo_cap : 16;
		struct mvk_item *grown = mvk_kzalloc(cap * sizeof(*grown));
		for (unsigned int i = 0; i < mvk_fifo_len; i++)
			grown[i] = mvk_fifo[(mvk_fifo_head + i) % mvk_fifo_cap];
		free(mvk_fifo);
		mvk_fifo = grown;
		mvk_fifo_cap = cap;
		mvk_fifo_head = 0;
	}
	mvk_fifo[(mvk_fifo_head + mvk_fifo_len) % mvk_fifo_cap] = item;
	mvk_fifo_len++;
}

static struct mvk_item mvk_pop(void)
{
	struct mvk_item item = mvk_fifo[mvk_fifo_head];
	mvk_fifo_head = (mvk_fifo_head + 1) % mvk_fifo_cap;
	mvk_fifo_len--;
	return item;
}

/* queue_work_on: WORK_STRUCT_PENDING keeps an item queued at most once. */
bool schedule_work_on(int cpu, struct work_struct *work)
{
	if (test_and_set_bit(WORK_STRUCT_PENDING_BIT, &work->data))
		return false;
	mvk_push((struct mvk_item){MVK_ITEM_WORK, work, NULL, NULL, (unsigned int)cpu});
	return true;
}

bool schedule_work(struct work_struct *work) { return schedule_work_on((int)mvk_cpu, work); }

void call_rcu(struct rcu_head *head, void (*func)(struct rcu_head *head))
{
	mvk_push((struct mvk_item){MVK_ITEM_RCU, NULL, head, func, mvk_cpu});
}

static void mvk_kfree_rcu_done(struct rcu_head *head) {}

void mvk_kfree_rcu(struct rcu_head *head) { call_rcu(head, mvk_kfree_rcu_done); }

/* lib/percpu-refcount.c: the grace period is over, every CPU sees the ref
 * dead; the count is exact from now on (atomic mode). Then the confirmation,
 * then the put of the reference the switch held. */
static void mvk_percpu_ref_switch_rcu(struct rcu_head *head)
{
	struct percpu_ref *ref = container_of(head, struct percpu_ref, rcu);
	ref->atomic_mode = true;
	percpu_ref_func_t *confirm = ref->confirm_switch;
	ref->confirm_switch = NULL;
	if (confirm)
		confirm(ref);
	percpu_ref_put(ref);
}

void percpu_ref_kill_and_confirm(struct percpu_ref *ref, percpu_ref_func_t *confirm_kill)
{
	if (ref->dead)
		mvk_warn("percpu_ref_kill_and_confirm called more than once", __FILE__, __LINE__, __func__);
	ref->dead = true;
	ref->confirm_switch = confirm_kill;
	percpu_ref_get(ref);  /* put after confirmation */
	call_rcu(&ref->rcu, mvk_percpu_ref_switch_rcu);
	percpu_ref_put(ref);  /* the initial reference */
}

/* An item runs on the CPU it was queued for or on; if that CPU went offline
 * meanwhile, on the lowest online one (reference/deferred.h work_cpu): RCU
 * callbacks migrate off a dead CPU, and its bound workqueue workers are
 * unbound, so a drain work then drains the running CPU's stock
 * (this_cpu_ptr) and leaves the dead CPU's FLUSHING bit set. */
static void mvk_run_item(struct mvk_item item)
{
	mvk_enter(mvk_cpu_online[item.cpu] ? item.cpu : mvk_lowest_online_cpu(), NULL);
	if (item.kind == MVK_ITEM_WORK) {
		clear_bit(WORK_STRUCT_PENDING_BIT, &item.work->data);
		item.work->func(item.work);
		return;
	}
	item.rcu_func(item.rcu);
}

static void mvk_quiesce(void)
{
	while (mvk_fifo_len)
		mvk_run_item(mvk_pop());
}
