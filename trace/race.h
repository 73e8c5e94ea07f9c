// The scheduler of a race trace (docs/TRACE_FORMAT.md "Races") for one model:
// every operation runs in a fiber of its own, so that it can stop at a named
// preemption point (spec/preemption.h) while the following lines run, and go
// on at its resume line. The runner also keeps what the models ask of a
// scheduler: which RCU read-side sections are open (a grace period waits for
// the ones older than its callback), which CPUs have an operation stopped
// (their deferred work waits), which locks the impl holds (an operation that
// would block is a trace error), and a happens-before data-race detector over
// the impl's plain accesses (spec::Access::plain_*).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "spec/model.h"
#include "spec/preemption.h"
#include "trace/fiber.h"
#include "trace/race_detector.h"
#include "trace/trace_reader.h"

namespace mv::trace {

// One operation's (or simulated CPU's) RCU read-side sections: a grace
// period that began after the outermost section opened does not wait for it.
struct RcuReader {
  int nesting = 0;
  std::uint64_t since = 0;  // the RCU clock when the outermost section opened
  void lock(std::uint64_t clock) {
    if (nesting++ == 0) since = clock;
  }
  void unlock() {
    if (nesting > 0) --nesting;
  }
  // Whether a callback queued with `ticket` must wait for this reader.
  bool blocks(std::uint64_t ticket) const { return ticket != 0 && nesting > 0 && since < ticket; }
};

class RaceRunner final : public spec::Scheduler {
 public:
  // How a started or resumed operation left off.
  struct Outcome {
    bool paused = false;        // stopped at its preemption point
    bool blocked = false;       // would wait for a lock a stopped operation holds
    spec::Errno result = spec::Errno::ok;  // when it finished
    std::string blocked_on;     // what it waits for
  };

  // Puts `model` under this scheduler (false from set_scheduler: throws
  // std::invalid_argument). The model must outlive the runner.
  explicit RaceRunner(spec::Model& model);
  ~RaceRunner() override;
  RaceRunner(const RaceRunner&) = delete;
  RaceRunner& operator=(const RaceRunner&) = delete;

  // Runs `op` (trace line `line`, on CPU `cpu` or none) until it finishes, or
  // stops at `pause` under the name `id`.
  Outcome start(std::size_t line, const spec::Op& op, std::optional<spec::Cpu> cpu,
                const std::optional<PreemptRequest>& pause, const std::string& id);
  // Lets the stopped operation `id` go on, until it ends or stops again.
  Outcome resume(const std::string& id, const std::optional<PreemptRequest>& pause);

  bool paused(const std::string& id) const;
  // The line of the stopped operation `id`.
  std::size_t paused_line(const std::string& id) const;
  std::vector<std::string> paused_ids() const;
  // Runs every stopped operation to its end (no new stops), for a clean exit.
  void finish_all();
  // The first data race the detector saw, if any.
  const std::optional<DataRace>& data_race() const { return detector_.race(); }

  // spec::Scheduler
  void on_access(spec::Access kind, const void* address) override;
  void at_point(spec::PreemptPoint point) override;
  void rcu_read_lock() override;
  void rcu_read_unlock() override;
  std::uint64_t call_rcu() override;
  bool rcu_gp_elapsed(std::uint64_t ticket) override;
  bool cpu_available(std::uint32_t cpu) override;

 private:
  struct Task;
  Outcome run(Task& task, const std::optional<PreemptRequest>& pause);
  Task* running() const { return running_; }
  // The happens-before thread of an operation: its CPU's, or the kworkers'.
  std::uint32_t hb_thread(std::optional<spec::Cpu> cpu) const;

  spec::Model& model_;
  std::map<std::string, std::unique_ptr<Task>> paused_;
  std::vector<std::unique_ptr<Task>> blocked_;  // never resumed (their stacks leak)
  Task* running_ = nullptr;
  std::uint64_t rcu_clock_ = 0;
  std::map<const void*, const Task*> lock_holders_;
  RaceDetector detector_;
};

}  // namespace mv::trace
