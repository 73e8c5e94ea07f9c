// The deterministic scheduler: one fiber per simulated CPU (a harness
// thread), all on one OS thread, switched only where the model yields: at
// every interposition point of the impl's hooks build (every shared access,
// lock and unlock: impl/sync.h), at the named preemption points, and before
// every operation. At each such point the strategy picks the thread that runs
// next, so a schedule is a plain list of choices, replayable exactly.
//
// What the scheduler keeps, as the kernel would: locks (a CPU waiting for a
// held lock cannot run; all waiting is a deadlock), RCU read-side sections
// per CPU (a grace period waits for the older ones), and deferred work bound
// to a CPU waits while that CPU is inside an operation (its kworker runs
// between the CPU's operations, like Cpu::poll). A happens-before detector
// watches the impl's plain accesses (trace/race_detector.h).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "explore/strategy.h"
#include "spec/model.h"
#include "spec/preemption.h"
#include "trace/fiber.h"
#include "trace/race.h"
#include "trace/race_detector.h"

namespace mv::explore {

// op_start and op_end bracket an operation (switching there is no
// preemption); access: an interposed access, or the scheduler's own state
// (RCU, which CPUs are inside an operation) that a step reads or writes.
enum class PointKind : std::uint8_t { op_start, access, named, op_end, thread_end };

// A scheduling point as it happened: who reached it, what it was, who ran next.
struct PointRecord {
  std::uint32_t thread = 0;  // the thread that reached it (thread_end: the one that ended)
  PointKind kind = PointKind::access;
  spec::PreemptPoint point{};  // named points
  spec::Access access{};       // access points: what the thread is about to do
  std::size_t op = 0;          // the thread's operation (index in its list)
  bool in_op = false;          // the thread was inside an operation
  bool blocked = false;        // it waits for a lock
  std::uint32_t chosen = 0;
};

struct OpRecord {
  std::uint32_t thread = 0;
  std::size_t index = 0;  // in its thread
  spec::Op op;
  spec::Errno result = spec::Errno::ok;
  std::size_t start_step = 0, end_step = 0;
  std::uint32_t work_items = 0;   // deferred items it ran (after_work_dequeued)
  bool drain_skipped = false;     // a drain_all_stock found percpu_charge_mutex held
  bool drained_all = false;       // it ran drain_all_stock (mutex_trylock)
};

// Why a run stopped, when the scheduler itself saw the problem.
struct RunProblem {
  std::string kind;  // "data_race", "deadlock", "model_failure", "step_limit"
  std::string message;
  std::size_t step = 0;
};

struct RunRecord {
  std::vector<PointRecord> points;
  std::vector<Decision> decisions;
  Schedule schedule;
  std::vector<OpRecord> ops;  // in completion order
  std::optional<RunProblem> problem;
  bool finished = false;      // every thread ran all its operations
};

class Scheduler final : public spec::Scheduler {
 public:
  struct Options {
    std::size_t max_steps = 200000;
  };
  // Called when no thread is inside an operation (a quiescent point);
  // returning true stops the run there (a failure was found).
  using QuiescentCheck = std::function<bool(const RunRecord& so_far, std::size_t step)>;

  explicit Scheduler(Options options);
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;
  ~Scheduler() override;

  // Runs one schedule of `threads` (thread k's operations, already resolved)
  // on `model`, which must accept this scheduler (the impl's hooks build).
  RunRecord run(spec::Model& model, const std::vector<std::vector<spec::Op>>& threads,
                Strategy& strategy, const QuiescentCheck& quiescent);

  // spec::Scheduler
  void on_access(spec::Access kind, const void* address) override;
  void at_point(spec::PreemptPoint point) override;
  void rcu_read_lock() override;
  void rcu_read_unlock() override;
  std::uint64_t call_rcu() override;
  bool rcu_gp_elapsed(std::uint64_t ticket) override;
  bool cpu_available(std::uint32_t cpu) override;

 private:
  struct Thread;
  void thread_body(Thread& t);
  // A scheduling point reached by the running thread (inside its fiber).
  void yield(PointKind kind, spec::PreemptPoint point = {}, spec::Access access = {},
             const void* address = nullptr);
  std::uint32_t decide(std::optional<std::uint32_t> current, PointRecord record);
  // A step that reads or writes the scheduler's own state: a scheduling point.
  void scheduler_state(spec::Access kind, const void* address);
  std::vector<std::uint32_t> enabled() const;
  bool quiescent() const;
  void stop(std::string kind, std::string message);

  Options options_;
  std::vector<std::unique_ptr<Thread>> threads_;
  std::vector<std::unique_ptr<char[]>> stacks_;
  spec::Model* model_ = nullptr;
  Strategy* strategy_ = nullptr;
  const QuiescentCheck* quiescent_check_ = nullptr;
  RunRecord* record_ = nullptr;
  Thread* running_ = nullptr;
  std::uint32_t next_ = 0;
  bool stopping_ = false;
  bool checking_ = false;
  // The RCU state (readers, grace periods) as an address the sleep sets can
  // see: a step that opens or closes a read-side section, queues a callback
  // or tests a grace period is a scheduling point on it.
  char rcu_object_ = 0;  // in the quiescent check: the model is only read
  std::size_t checked_after_ops_ = 0;  // ops completed at the last quiescent check (+1)
  std::uint64_t rcu_clock_ = 0;
  std::vector<std::pair<const void*, std::uint32_t>> lock_holders_;
  trace::RaceDetector detector_;
};

}  // namespace mv::explore
