#include "impl/objcg.h"

#include "arith/obj_stock.h"
#include "impl/kmem.h"
#include "impl/page_stock.h"

namespace mv::impl {

using arith::M;

void objcg_released_event(Cpu& cur, Objcg* objcg) {
  cur.sys->events.record(spec::EventKind::objcg_use_after_free, objcg->id);
}

void obj_cgroup_ref_slow(Cpu& cur, Objcg* objcg, RefResult result) {
  switch (result) {
    case RefResult::released:
      obj_cgroup_release(cur, objcg);
      break;
    case RefResult::underflow:  // the count stays 0; value: what it would have become
      objcg_released_check(cur, objcg);
      cur.sys->events.record(spec::EventKind::objcg_ref_underflow, objcg->id, -1);
      break;
    case RefResult::was_zero:
      cur.sys->events.record(spec::EventKind::objcg_use_after_free, objcg->id);
      break;
    case RefResult::ok:
    case RefResult::failed:
      break;
  }
}

Memcg* get_mem_cgroup_from_objcg_without_tryget(Cpu& cur, Objcg* objcg) {
  sync::rcu_read_lock();
  Memcg* memcg = objcg->memcg.load();
  sync::preempt_point(spec::PreemptPoint::before_css_tryget);
  css_get(cur, memcg);
  sync::rcu_read_unlock();
  return memcg;
}

void objcg_ghost_add_folded(Objcg* objcg, long nr_pages) {
  objcg->ghost_folded_pages.fetch_add(nr_pages);
}

long objcg_ghost_total(const PercpuArea& area, const Objcg* objcg) {
  long total = objcg->ghost_folded_pages.load_relaxed();
  if (objcg->ghost_slot != PercpuArea::kNoSlot && !objcg->ghost_folded.load_relaxed())
    total += area.sum(objcg->ghost_slot);
  return total;
}

namespace {

void list_add(ListNode* node, ListNode* head) {
  node->next = head->next;
  node->prev = head;
  head->next->prev = node;
  head->next = node;
}

void list_del(ListNode* node) {
  node->prev->next = node->next;
  node->next->prev = node->prev;
  node->prev = node->next = node;
}

// list_splice(list, head) then re-initialise list.
void list_splice_init(ListNode* list, ListNode* head) {
  if (list->empty()) return;
  ListNode* first = list->next;
  ListNode* last = list->prev;
  first->prev = head;
  last->next = head->next;
  head->next->prev = last;
  head->next = first;
  list->next = list->prev = list;
}

}  // namespace

// memcg_reparent_objcgs (v6.6): detach the memcg's objcg, point it and every
// objcg already reparented to this memcg at the parent, move them all to the
// parent's list, and kill the objcg's initial ref.
void memcg_reparent_objcgs(Cpu& cur, Memcg* memcg, Memcg* parent) {
  Objcg* objcg = memcg->objcg.xchg(nullptr);  // rcu_replace_pointer(memcg->objcg, NULL)
  if (!objcg) return;
  // v5.9-v5.13 (v5.10 memcg_reparent_objcgs): every objcg moved to the
  // parent holds a css reference on it: css_get(&parent->css) for the
  // memcg's own objcg, and for each inherited one css_get(&parent->css),
  // css_put(&memcg->css). obj_cgroup_release puts it.
  const bool hold_css = cur.traits->reparented_objcg_holds_css;
  {
    sync::Guard g(cur.sys->objcg_lock);
    list_add(&objcg->list, &memcg->objcg_list);
    for (ListNode* n = memcg->objcg_list.next; n != &memcg->objcg_list; n = n->next) {
      if (hold_css) {
        css_get(cur, parent);
        if (n->owner != objcg) css_put(cur, memcg);
      }
      n->owner->memcg.store(parent);  // WRITE_ONCE(iter->memcg, parent)
    }
    list_splice_init(&memcg->objcg_list, &parent->objcg_list);
  }
  objcg->state.store(static_cast<std::uint8_t>(spec::ObjcgState::reparented));
  RefResult r = objcg->refcnt.kill();  // percpu_ref_kill(&objcg->refcnt)
  if (r != RefResult::ok) obj_cgroup_ref_slow(cur, objcg, r);
  cur.sys->queue_work(cur, objcg->to_atomic_work, WorkKind::objcg_to_atomic, objcg,
                      /*rcu=*/true);
}

namespace {

// obj_cgroup_release (v6.16): the pages are uncharged directly (memcg_uncharge,
// not for the root), given to no stock.
void release_uncharge_pages(Cpu& cur, Objcg* objcg, std::uint32_t nr_pages) {
  Memcg* memcg = get_mem_cgroup_from_objcg(cur, objcg);
  if (!memcg->is_root()) memcg_uncharge(cur, memcg, nr_pages);
  objcg_ghost_add(cur, objcg, -static_cast<long>(nr_pages));
  css_put(cur, memcg);
}

}  // namespace

void obj_cgroup_to_atomic(Cpu& cur, Objcg* objcg) {
  if (objcg->refcnt.complete_switch(cur.sys->pcpu)) obj_cgroup_release(cur, objcg);
}

// obj_cgroup_release (v6.6): give back the whole pages left in
// nr_charged_bytes (landing in this CPU's page stock), unlink, kfree_rcu.
void obj_cgroup_release(Cpu& cur, Objcg* objcg) {
  System& sys = *cur.sys;
  std::uint32_t nr_bytes = objcg->nr_charged_bytes.load();
  auto release = arith::obj_release_split<M>(M::lit32(nr_bytes), cur.page);
  // WARN_ON_ONCE(nr_bytes & (PAGE_SIZE - 1)): an event INV-RELEASE-ALIGNED checks.
  if (!static_cast<bool>(release.aligned))
    sys.events.record(spec::EventKind::release_unaligned, objcg->id, nr_bytes);
  if (release.nr_pages.v) {
    if (cur.traits->split_stocks)
      release_uncharge_pages(cur, objcg, release.nr_pages.v);
    else
      obj_cgroup_uncharge_pages(cur, objcg, release.nr_pages.v);
  }
  {
    sync::Guard g(sys.objcg_lock);
    list_del(&objcg->list);
  }
  // v5.10 obj_cgroup_release: mem_cgroup_put(obj_cgroup_memcg(objcg)), the
  // reference memcg_reparent_objcgs took.
  if (cur.traits->reparented_objcg_holds_css) css_put(cur, objcg->memcg.load());
  // percpu_ref_exit: fold the ghost's per-CPU part; nothing writes it again.
  if (objcg->ghost_slot != PercpuArea::kNoSlot) {
    objcg->ghost_folded_pages.fetch_add(sys.pcpu.sum(objcg->ghost_slot));
    objcg->ghost_folded.store(true);
    sys.pcpu.free_slot(objcg->ghost_slot);
  }
  objcg->released_nr_charged_bytes = nr_bytes;
  objcg->state.store(static_cast<std::uint8_t>(spec::ObjcgState::released));
  sys.queue_work(cur, objcg->free_work, WorkKind::objcg_free, objcg, /*rcu=*/true);
}

}  // namespace mv::impl
