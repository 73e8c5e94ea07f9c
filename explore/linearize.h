// Linearizability of one concurrent run against the reference: is there a
// sequential order of the CPUs' operations, each CPU's in its program order,
// in which the reference gives every operation the impl's result and ends (after
// a quiesce on both) in the impl's final state? The orders are searched depth
// first from the state after the set-up, cut as soon as a result differs, and
// a state already reached by another order of the same operations is not
// searched twice.
//
// Two things the kernel does not promise are left out of the comparison:
// the page_counter watermark and failcnt (racy statistics, v6.6
// mm/page_counter.c), and the order of the events. A quiesce that ran n
// deferred items (it stops at one that must wait: a grace period, a CPU
// inside an operation) is n steps of taking the oldest item off the queue and
// n of running it, which other CPUs' operations may come between, as the
// kernel's process_one_work lets a work item be queued again once taken. A
// drain_all_stock that found percpu_charge_mutex taken returns at once in the
// reference too.
//
// Not checked: a history longer than the bound, and the two where the
// kernel's operations are not atomic with respect to each other by design
// (the invariants still check those runs):
//  - an allocation that ran while its task was migrated: it charges the objcg
//    it read from the task's old cgroup first (get_obj_cgroup_from_current),
//    whatever happens to that cgroup meanwhile (the window between picking a
//    cache and allocating from it, which the kernel closes by the reference);
//  - an operation that ran drain_all_stock (drain_all, set_max, a charge over
//    the limit, an offline) while another CPU ran an operation: it reads the
//    other CPUs' stocks without their lock, one CPU after the other, and may
//    see one in the middle of refilling (its objcg being replaced) as empty.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "explore/harness.h"
#include "explore/scheduler.h"
#include "reference/kernel_state.h"
#include "spec/snapshot.h"

namespace mv::explore {

struct Linearization {
  bool checked = false;  // false: too long, or not atomic by the kernel's design (why_not)
  std::string why_not;
  bool ok = false;
  std::string message;   // why not, with the closest order found
  std::size_t orders_tried = 0;
};

// `setup` is the reference after the harness's set-up; `ops` the completed
// operations of the run; `impl_final` the impl's snapshot after a quiesce.
Linearization linearize(const Harness& harness, const reference::Kernel& setup,
                        const std::vector<OpRecord>& ops, const spec::Snapshot& impl_final,
                        std::size_t max_ops);

// The part of a snapshot the comparison covers (see above).
spec::Snapshot comparable(spec::Snapshot snap);

}  // namespace mv::explore
