#include "impl/percpu_ref.h"

namespace mv::impl {

PercpuArea::PercpuArea(std::uint32_t ncpus, std::uint32_t nr_slots)
    : ncpus_(ncpus), nr_slots_(nr_slots) {
  for (std::uint32_t cpu = 0; cpu < ncpus; ++cpu)
    bases_.push_back(std::make_unique<PcpuCounter[]>(nr_slots));
  free_.reserve(nr_slots);  // free_slot never allocates
}

std::uint32_t PercpuArea::alloc_slot() {
  sync::Guard g(lock_);
  if (free_.empty()) return next_slot_ < nr_slots_ ? next_slot_++ : kNoSlot;
  auto slot = free_.back();
  free_.pop_back();
  return slot;
}

void PercpuArea::free_slot(std::uint32_t slot) {
  for (std::uint32_t cpu = 0; cpu < ncpus_; ++cpu) bases_[cpu][slot].store_relaxed(0);
  sync::Guard g(lock_);
  free_.push_back(slot);
}

long PercpuArea::sum(std::uint32_t slot) const {
  long total = 0;
  for (std::uint32_t cpu = 0; cpu < ncpus_; ++cpu) total += bases_[cpu][slot].load_relaxed();
  return total;
}

std::uint32_t PercpuArea::nr_free_slots() {
  sync::Guard g(lock_);
  return static_cast<std::uint32_t>(free_.size()) + (nr_slots_ - next_slot_);
}

void PcpuRef::init(PercpuArea& area, long initial, bool no_ref) {
  switched_.store_relaxed(false);
  if (no_ref) {
    slot_ = PercpuArea::kNoSlot;
    count_.store_relaxed(0);
    flags_.store(kNoRef);
    return;
  }
  slot_ = area.alloc_slot();
  count_.store_relaxed(kBias + initial);
  // Out of per-CPU slots: start in atomic mode (PERCPU_REF_INIT_ATOMIC), still
  // biased until the switch so that release timing is the same.
  flags_.store(slot_ == PercpuArea::kNoSlot ? kAtomic : 0);
}

RefResult PcpuRef::get_slow(long n) {
  if (flags_.load_relaxed() & kNoRef) return RefResult::ok;
  long old = count_.load_relaxed();
  do {
    if (old <= 0) return RefResult::was_zero;
  } while (!count_.cas(old, old + n));
  return RefResult::ok;
}

// percpu_ref_tryget succeeds while the count is above zero, killed or not.
RefResult PcpuRef::tryget_slow() {
  if (flags_.load_relaxed() & kNoRef) return RefResult::ok;
  long old = count_.load_relaxed();
  do {
    if (old <= 0) return RefResult::failed;
  } while (!count_.cas(old, old + 1));
  return RefResult::ok;
}

RefResult PcpuRef::put_slow() {
  if (flags_.load_relaxed() & kNoRef) return RefResult::ok;
  long old = count_.load_relaxed();
  do {
    if (old <= 0) return RefResult::underflow;
  } while (!count_.cas(old, old - 1));
  return old == 1 ? RefResult::released : RefResult::ok;
}

RefResult PcpuRef::kill() {
  if (flags_.load_relaxed() & kNoRef) return RefResult::ok;
  flags_.fetch_or(kAtomic | kDead);
  // __percpu_ref_switch_to_atomic: the confirm ref ("put after
  // confirmation"), then the initial ref goes to the still-biased atomic
  // count: never zero here.
  count_.fetch_add(1);
  return put_slow();
}

bool PcpuRef::complete_switch(PercpuArea& area) {
  if (flags_.load_relaxed() & kNoRef) return false;
  long percpu = 0;
  if (slot_ != PercpuArea::kNoSlot) {
    percpu = area.sum(slot_);
    area.free_slot(slot_);
  }
  switched_.store(true);
  // Fold the per-CPU counts, remove the bias, and put the confirm ref
  // (percpu_ref_call_confirm_rcu).
  const long delta = percpu - kBias - 1;
  long now = count_.fetch_add(delta) + delta;
  return now == 0;
}

long PcpuRef::total(const PercpuArea& area) const {
  if (flags_.load_relaxed() & kNoRef) return 0;
  if (switched_.load_relaxed()) return count_.load_relaxed();
  long percpu = slot_ == PercpuArea::kNoSlot ? 0 : area.sum(slot_);
  return count_.load_relaxed() - kBias + percpu;
}

}  // namespace mv::impl
