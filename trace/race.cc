#include "trace/race.h"

#include <stdexcept>

namespace mv::trace {

namespace {

// The happens-before thread of deferred work run by quiesce (no CPU).
constexpr std::uint32_t kKworkerThread = spec::kMaxCpus;

}  // namespace

struct RaceRunner::Task {
  std::size_t line = 0;
  spec::Op op;
  std::optional<spec::Cpu> cpu;
  std::string id;
  std::uint32_t hb_thread = 0;
  std::unique_ptr<Fiber> fiber;
  std::optional<PreemptRequest> pause;
  std::uint32_t hits = 0;
  bool blocked = false;
  std::string blocked_on;
  spec::Errno result = spec::Errno::ok;
  RcuReader rcu;
};

RaceRunner::RaceRunner(spec::Model& model) : model_(model) {
  if (!model_.set_scheduler(this))
    throw std::invalid_argument(std::string(model_.name()) +
                                " cannot be preempted (a build without its scheduler hooks)");
}

RaceRunner::~RaceRunner() { model_.set_scheduler(nullptr); }

std::uint32_t RaceRunner::hb_thread(std::optional<spec::Cpu> cpu) const {
  return cpu ? *cpu : kKworkerThread;
}

RaceRunner::Outcome RaceRunner::start(std::size_t line, const spec::Op& op,
                                      std::optional<spec::Cpu> cpu,
                                      const std::optional<PreemptRequest>& pause,
                                      const std::string& id) {
  auto task = std::make_unique<Task>();
  task->line = line;
  task->op = op;
  task->cpu = cpu;
  task->id = id;
  task->hb_thread = hb_thread(cpu);
  Task* raw = task.get();
  task->fiber = std::make_unique<Fiber>([this, raw] { raw->result = model_.apply(raw->op); });
  Outcome outcome = run(*raw, pause);
  if (outcome.paused)
    paused_[id] = std::move(task);
  else if (outcome.blocked)
    blocked_.push_back(std::move(task));
  return outcome;
}

RaceRunner::Outcome RaceRunner::resume(const std::string& id,
                                       const std::optional<PreemptRequest>& pause) {
  auto it = paused_.find(id);
  if (it == paused_.end()) throw std::logic_error("RaceRunner::resume: " + id + " is not stopped");
  std::unique_ptr<Task> task = std::move(it->second);
  paused_.erase(it);
  Outcome outcome = run(*task, pause);
  if (outcome.paused)
    paused_[id] = std::move(task);
  else if (outcome.blocked)
    blocked_.push_back(std::move(task));
  return outcome;
}

RaceRunner::Outcome RaceRunner::run(Task& task, const std::optional<PreemptRequest>& pause) {
  task.pause = pause;
  task.hits = 0;
  Task* outer = running_;
  running_ = &task;
  try {
    task.fiber->resume();
  } catch (...) {
    running_ = outer;
    throw;
  }
  running_ = outer;
  Outcome outcome;
  if (task.fiber->finished()) {
    outcome.result = task.result;
  } else if (task.blocked) {
    outcome.blocked = true;
    outcome.blocked_on = task.blocked_on;
  } else {
    outcome.paused = true;
  }
  return outcome;
}

bool RaceRunner::paused(const std::string& id) const { return paused_.count(id) != 0; }

std::size_t RaceRunner::paused_line(const std::string& id) const {
  auto it = paused_.find(id);
  return it == paused_.end() ? 0 : it->second->line;
}

std::vector<std::string> RaceRunner::paused_ids() const {
  std::vector<std::string> ids;
  for (const auto& [id, task] : paused_) ids.push_back(id);
  return ids;
}

void RaceRunner::finish_all() {
  while (!paused_.empty()) {
    std::string id = paused_.begin()->first;
    try {
      resume(id, std::nullopt);
    } catch (...) {
      // Cleaning up after the replay has already stopped: nothing to report.
    }
  }
}

void RaceRunner::on_access(spec::Access kind, const void* address) {
  Task* t = running_;
  if (!t) return;
  switch (kind) {
    case spec::Access::lock:
    case spec::Access::try_lock: {
      auto it = lock_holders_.find(address);
      if (it != lock_holders_.end() && it->second != t) {
        if (kind == spec::Access::try_lock) return;  // fails, nothing acquired
        t->blocked = true;
        t->blocked_on = "the operation preempted at line " + std::to_string(it->second->line);
        Fiber::suspend();  // never resumed: the replay stops with a trace error
        return;
      }
      lock_holders_[address] = t;
      detector_.acquire(t->hb_thread, address);
      return;
    }
    case spec::Access::unlock:
      lock_holders_.erase(address);
      detector_.release(t->hb_thread, address);
      return;
    case spec::Access::plain_load:
    case spec::Access::plain_store:
      detector_.access(t->hb_thread, address, kind == spec::Access::plain_store, t->line);
      return;
    default:
      return;
  }
}

void RaceRunner::at_point(spec::PreemptPoint point) {
  Task* t = running_;
  if (!t || !t->pause || t->pause->point != point) return;
  if (++t->hits < t->pause->hit) return;
  t->pause.reset();
  Fiber::suspend();
}

void RaceRunner::rcu_read_lock() {
  if (running_) running_->rcu.lock(rcu_clock_);
}

void RaceRunner::rcu_read_unlock() {
  if (running_) running_->rcu.unlock();
}

std::uint64_t RaceRunner::call_rcu() { return ++rcu_clock_; }

bool RaceRunner::rcu_gp_elapsed(std::uint64_t ticket) {
  if (running_ && running_->rcu.blocks(ticket)) return false;
  for (const auto& [id, task] : paused_)
    if (task->rcu.blocks(ticket)) return false;
  return true;
}

bool RaceRunner::cpu_available(std::uint32_t cpu) {
  for (const auto& [id, task] : paused_)
    if (task->cpu == cpu) return false;
  return true;
}

}  // namespace mv::trace
