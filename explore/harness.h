// A harness: the small concurrent program the explorer interleaves, like a
// loom or Shuttle test. A sequential set-up, then one list of operations per
// simulated CPU (thread k runs on CPU k; `quiesce` runs deferred work there
// like a kworker). Operations are trace lines (docs/TRACE_FORMAT.md), so a
// failing interleaving is written back as a race trace.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "spec/profile.h"
#include "trace/trace_reader.h"

namespace mv::explore {

struct Harness {
  std::string name;
  std::string about;  // what it races
  spec::Config config;
  trace::TraceNames names;
  std::vector<trace::TraceOp> setup;
  std::vector<std::vector<trace::TraceOp>> threads;  // thread k on CPU k
  // Operations dropped (by a shrink) from the harness of that name, by their
  // place in it: "s2" (set-up operation 2, from 0), "t1.0" (thread 1's first).
  std::vector<std::string> dropped;

  std::size_t nr_ops() const;  // of the threads
  // The name with the dropped operations: "NAME~s2~t1.0", what tokens carry.
  std::string full_name() const;
};

// Drops set-up operation i ("s") or thread t's operation i, recording it by
// its place in the original harness.
void drop_setup_op(Harness& h, std::size_t i);
void drop_thread_op(Harness& h, std::size_t thread, std::size_t i);

// Builds a harness from trace lines; std::invalid_argument on a line that is
// not an operation or a thread operation that does not run on its CPU. The
// profile is the harness's model (its config): the impl of that profile runs
// it, its tokens name the harness and so the profile, and its race traces'
// headers name the profile, so that `replay` runs them on it.
class HarnessBuilder {
 public:
  HarnessBuilder(std::string name, std::string about, std::uint32_t cpus,
                 spec::Profile profile = spec::Profile::v6_6);
  HarnessBuilder& setup(const std::vector<std::string>& lines);
  HarnessBuilder& thread(const std::vector<std::string>& lines);
  Harness build();

 private:
  trace::TraceOp line(const std::string& text);
  Harness h_;
  std::size_t next_line_ = 2;  // line 1 is the header of a written trace
};

// Resolves every line as the replay driver would (assuming each operation
// succeeds) and checks that each thread's operations run on its CPU: the
// problem, or empty. A harness that passes is also a valid trace.
std::string resolve_harness(Harness& harness);

// The built-in harnesses: the races of the kernel's history and small
// programs whose every interleaving (within a preemption bound) is checked.
const std::vector<Harness>& harness_catalog();
const Harness* find_harness(std::string_view name);
// A random harness from `seed`: 2 or 3 CPUs, a few tasks and cgroups, two to
// four operations per CPU drawn from every kind the threads may run
// (alloc/free of every kind, drain, drain_all, migrate, rmdir/mkdir, set_max,
// quiesce). Named "random-SEED".
Harness random_harness(std::uint64_t seed);
// A harness by name: a catalog entry or "random-SEED", with the dropped
// operations of a full name; null if none.
std::optional<Harness> harness_named(std::string_view name);

}  // namespace mv::explore
