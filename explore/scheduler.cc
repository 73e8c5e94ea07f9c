#include "explore/scheduler.h"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

#include "explore/schedule_sink.h"

namespace mv::explore {

namespace {
constexpr std::size_t kStackBytes = 256 * 1024;
}  // namespace

struct Scheduler::Thread {
  std::uint32_t index = 0;
  const std::vector<spec::Op>* ops = nullptr;
  std::unique_ptr<trace::Fiber> fiber;
  bool done = false;
  bool in_op = false;
  std::size_t next_op = 0;  // the operation it runs or is about to start
  const void* blocked_on = nullptr;
  NextAccess next_access;   // what it does when it runs again
  trace::RcuReader rcu;
  OpRecord current;  // the operation in progress
};

Scheduler::Scheduler(Options options) : options_(options) {}
Scheduler::~Scheduler() = default;

RunRecord Scheduler::run(spec::Model& model, const std::vector<std::vector<spec::Op>>& threads,
                         Strategy& strategy, const QuiescentCheck& quiescent) {
  if (threads.empty()) throw std::invalid_argument("Scheduler::run: no thread");
  RunRecord record;
  if (!model.set_scheduler(this))
    throw std::invalid_argument(std::string(model.name()) + " cannot be scheduled");
  model_ = &model;
  strategy_ = &strategy;
  quiescent_check_ = &quiescent;
  record_ = &record;
  running_ = nullptr;
  if (schedule_sink) schedule_sink->begin();
  stopping_ = false;
  checked_after_ops_ = 0;
  rcu_clock_ = 0;
  lock_holders_.clear();
  detector_.reset();
  while (stacks_.size() < threads.size()) stacks_.push_back(std::make_unique<char[]>(kStackBytes));
  threads_.clear();
  for (std::uint32_t k = 0; k < threads.size(); ++k) {
    auto t = std::make_unique<Thread>();
    t->index = k;
    t->ops = &threads[k];
    Thread* raw = t.get();
    t->fiber = std::make_unique<trace::Fiber>([this, raw] { thread_body(*raw); },
                                              stacks_[k].get(), kStackBytes);
    threads_.push_back(std::move(t));
  }
  // Thread 0 starts; its first scheduling point (before its first operation)
  // is free to pick any thread.
  next_ = 0;
  for (;;) {
    Thread& t = *threads_[next_];
    running_ = &t;
    t.fiber->resume();
    running_ = nullptr;
    if (stopping_) break;
    if (!t.fiber->finished()) continue;  // it picked next_ and suspended
    t.done = true;
    if (std::all_of(threads_.begin(), threads_.end(), [](const auto& x) { return x->done; })) {
      record.finished = true;
      break;
    }
    if (enabled().empty()) {
      stop("deadlock", "every remaining CPU waits for a lock");
      break;
    }
    PointRecord end;
    end.thread = t.index;
    end.kind = PointKind::thread_end;
    next_ = decide(std::nullopt, end);
    if (next_ == kAbandon) {
      stop("pruned", "every schedule from here repeats one already run");
      break;
    }
  }
  model.set_scheduler(nullptr);
  strategy.end_schedule(record.decisions.size());
  // A stopped run leaves suspended fibers: their frames are dropped unwound.
  threads_.clear();
  model_ = nullptr;
  record_ = nullptr;
  return record;
}

void Scheduler::thread_body(Thread& t) {
  for (std::size_t i = 0; i < t.ops->size(); ++i) {
    t.next_op = i;
    yield(PointKind::op_start);
    if (stopping_) return;
    t.current = OpRecord{};
    t.current.thread = t.index;
    t.current.index = i;
    t.current.op = (*t.ops)[i];
    t.current.start_step = record_->decisions.size();
    t.in_op = true;
    try {
      t.current.result = model_->apply(t.current.op);
    } catch (const std::exception& e) {
      stop("model_failure", fmt::format("{} threw: {}", model_->name(), e.what()));
      return;
    }
    yield(PointKind::op_end);
    if (stopping_) return;
    t.in_op = false;
    t.current.end_step = record_->decisions.size();
    record_->ops.push_back(t.current);
  }
}

void Scheduler::stop(std::string kind, std::string message) {
  if (!record_->problem)
    record_->problem = RunProblem{std::move(kind), std::move(message), record_->decisions.size()};
  stopping_ = true;
}

bool Scheduler::quiescent() const {
  return std::none_of(threads_.begin(), threads_.end(), [](const auto& t) { return t->in_op; });
}

std::vector<std::uint32_t> Scheduler::enabled() const {
  std::vector<std::uint32_t> out;
  for (const auto& t : threads_) {
    if (t->done) continue;
    if (t->blocked_on) {
      auto it = std::find_if(lock_holders_.begin(), lock_holders_.end(),
                             [&](const auto& h) { return h.first == t->blocked_on; });
      if (it != lock_holders_.end() && it->second != t->index) continue;
    }
    out.push_back(t->index);
  }
  return out;
}

std::uint32_t Scheduler::decide(std::optional<std::uint32_t> current, PointRecord point) {
  Decision d;
  d.step = record_->decisions.size();
  d.current = current;
  d.enabled = enabled();
  // Between operations a thread yields of its own accord: switching there is
  // no preemption.
  d.current_enabled = current && point.kind != PointKind::op_start &&
                      point.kind != PointKind::op_end &&
                      std::binary_search(d.enabled.begin(), d.enabled.end(), *current);
  for (const auto& th : threads_) d.next.push_back(th->done ? NextAccess{} : th->next_access);
  std::uint32_t chosen = strategy_->pick(d);
  if (chosen == kAbandon) return kAbandon;
  if (!std::binary_search(d.enabled.begin(), d.enabled.end(), chosen)) chosen = default_choice(d);
  point.chosen = chosen;
  if (schedule_sink) schedule_sink->record(chosen, d.current && d.current_enabled && chosen != *d.current);
  record_->points.push_back(point);
  record_->decisions.push_back(std::move(d));
  append_choice(record_->schedule, chosen);
  return chosen;
}

void Scheduler::yield(PointKind kind, spec::PreemptPoint point, spec::Access access,
                      const void* address) {
  Thread& t = *running_;
  // What the step from here does first: the access, or the change of in_op
  // (which cpu_available reads) at an operation's start or end.
  if (kind == PointKind::access)
    t.next_access = NextAccess{true, access, address};
  else if (kind == PointKind::op_start || kind == PointKind::op_end)
    t.next_access = NextAccess{true, spec::Access::store, &t.in_op};
  else
    t.next_access = NextAccess{};
  if (stopping_) {
    trace::Fiber::suspend();
    return;
  }
  if (record_->decisions.size() >= options_.max_steps) {
    stop("step_limit", fmt::format("the schedule passed {} scheduling points", options_.max_steps));
    trace::Fiber::suspend();
    return;
  }
  // A quiescent point where something changed since the last check.
  if (kind == PointKind::op_start && quiescent() &&
      checked_after_ops_ != record_->ops.size() + 1) {
    checked_after_ops_ = record_->ops.size() + 1;
    // The check reads the model (snapshot): its accesses are not scheduling
    // points.
    checking_ = true;
    bool failed = (*quiescent_check_)(*record_, record_->decisions.size());
    checking_ = false;
    if (failed) {
      stopping_ = true;
      trace::Fiber::suspend();
      return;
    }
  }
  if (enabled().empty()) {
    stop("deadlock", fmt::format("CPU {} waits for a lock and every other CPU does too", t.index));
    trace::Fiber::suspend();
    return;
  }
  PointRecord rec;
  rec.thread = t.index;
  rec.kind = kind;
  rec.point = point;
  rec.access = access;
  rec.op = t.next_op;
  rec.in_op = t.in_op;
  rec.blocked = t.blocked_on != nullptr;
  std::uint32_t chosen = decide(t.index, rec);
  if (chosen == kAbandon) {
    stop("pruned", "every schedule from here repeats one already run");
    trace::Fiber::suspend();
    return;
  }
  if (chosen == t.index) return;
  next_ = chosen;
  trace::Fiber::suspend();
  running_ = &t;
}

void Scheduler::on_access(spec::Access kind, const void* address) {
  Thread* t = running_;
  if (!t || stopping_ || checking_) return;
  auto holder = [&]() -> std::optional<std::uint32_t> {
    for (const auto& [lock, owner] : lock_holders_)
      if (lock == address) return owner;
    return std::nullopt;
  };
  switch (kind) {
    case spec::Access::lock: {
      yield(PointKind::access, {}, kind, address);
      while (auto owner = holder()) {
        if (*owner == t->index || stopping_) break;
        t->blocked_on = address;
        yield(PointKind::access, {}, kind, address);
      }
      t->blocked_on = nullptr;
      if (stopping_) return;
      lock_holders_.emplace_back(address, t->index);
      detector_.acquire(t->index, address);
      return;
    }
    case spec::Access::try_lock:
      yield(PointKind::access, {}, kind, address);
      t->current.drained_all = true;  // only drain_all_stock trylocks (percpu_charge_mutex)
      if (holder()) {
        t->current.drain_skipped = true;  // mutex_trylock(&percpu_charge_mutex) failed
        return;
      }
      lock_holders_.emplace_back(address, t->index);
      detector_.acquire(t->index, address);
      return;
    case spec::Access::unlock: {
      // No scheduling point: the release happens right after, with no other
      // interposition in between, so nobody could tell the two points apart.
      auto it = std::find_if(lock_holders_.begin(), lock_holders_.end(),
                             [&](const auto& h) { return h.first == address; });
      if (it != lock_holders_.end()) lock_holders_.erase(it);
      detector_.release(t->index, address);
      return;
    }
    case spec::Access::plain_load:
    case spec::Access::plain_store:
      detector_.access(t->index, address, kind == spec::Access::plain_store,
                       record_->decisions.size());
      if (const auto& race = detector_.race(); race && !record_->problem) {
        stop("data_race", race->message("a deferred work item", "scheduling point"));
        trace::Fiber::suspend();
      }
      return;
    default:
      yield(PointKind::access, {}, kind, address);
      return;
  }
}

void Scheduler::at_point(spec::PreemptPoint point) {
  if (!running_ || stopping_ || checking_) return;
  if (point == spec::PreemptPoint::after_work_dequeued) ++running_->current.work_items;
  yield(PointKind::named, point);
}

void Scheduler::scheduler_state(spec::Access kind, const void* address) {
  if (running_ && !stopping_ && !checking_) yield(PointKind::access, {}, kind, address);
}

void Scheduler::rcu_read_lock() {
  if (!running_) return;
  scheduler_state(spec::Access::rmw, &rcu_object_);
  running_->rcu.lock(rcu_clock_);
}

void Scheduler::rcu_read_unlock() {
  if (!running_) return;
  scheduler_state(spec::Access::rmw, &rcu_object_);
  running_->rcu.unlock();
}

std::uint64_t Scheduler::call_rcu() {
  scheduler_state(spec::Access::rmw, &rcu_object_);
  return ++rcu_clock_;
}

bool Scheduler::rcu_gp_elapsed(std::uint64_t ticket) {
  scheduler_state(spec::Access::load, &rcu_object_);
  return std::none_of(threads_.begin(), threads_.end(),
                      [ticket](const auto& t) { return t->rcu.blocks(ticket); });
}

bool Scheduler::cpu_available(std::uint32_t cpu) {
  if (cpu >= threads_.size()) return true;
  const Thread& t = *threads_[cpu];
  scheduler_state(spec::Access::load, &t.in_op);
  return &t == running_ || !t.in_op;
}

}  // namespace mv::explore
