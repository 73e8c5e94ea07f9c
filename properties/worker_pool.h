// Runs independent tasks on N worker processes (fork), so that a campaign
// uses N cores: `check --jobs N` (its chunks, properties/campaign_chunks.h)
// and `mutants --jobs N` (its mutants). Processes, not threads: the coverage
// mark counters (spec/coverage.h) and RapidCheck's state are per process, and
// a worker that crashes takes only its task down (reported, not fatal).
//
// Each task's answer is a string the worker computes; the parent receives it
// through a pipe and hands it to `done` in completion order. What a task
// answers depends only on the task, so the caller's result, assembled in task
// order, is the same whatever the number of workers.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace mv::properties {

struct TaskOutput {
  std::size_t task = 0;
  bool ok = false;      // false: the worker died before answering
  std::string text;     // run(task)'s answer
  std::string problem;  // why not ok ("worker exited by signal 11 ...")
};

// Runs run(task) for every task in `tasks`, on `jobs` forked workers handed
// the next task as they finish one (jobs <= 1: in this process, in order).
// done(output) runs in the calling process; returning false stops everything
// (the remaining workers are killed and reaped). Returns when every task has
// answered or done() said stop.
// Writes all `size` bytes to `fd` (retrying short writes and EINTR); false
// when the other end is gone. For the answers of a child process.
bool write_all(int fd, const void* data, std::size_t size);

void run_tasks(const std::vector<std::size_t>& tasks, unsigned jobs,
               const std::function<std::string(std::size_t task)>& run,
               const std::function<bool(const TaskOutput& output)>& done);

}  // namespace mv::properties
