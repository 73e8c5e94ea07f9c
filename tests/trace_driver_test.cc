// The replay driver: what makes no sense is rejected before any model sees
// it, CPUs are resolved as docs/TRACE_FORMAT.md says, and the driver's state
// follows the models' results.
#include <map>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "trace/driver.h"
#include "trace/trace_reader.h"

namespace mv::trace {
namespace {

// Reads a trace and drives it with `answer` standing in for the model: every
// op gets `ok` unless listed in `refused` by line.
struct Drive {
  Trace trace;
  Driver driver;
  std::optional<TraceError> error;
  std::vector<spec::Op> applied;

  Drive(const std::string& ops, std::map<std::size_t, spec::Errno> refused = {})
      : trace(read(ops)), driver(trace.config) {
    EXPECT_FALSE(trace.error) << trace.error->what();
    for (const auto& line : trace.ops) {
      auto resolved = driver.resolve(line, trace.names);
      if (!resolved.op) {
        error = TraceError{trace.file, line.line, resolved.problem};
        return;
      }
      auto it = refused.find(line.line);
      driver.observe(*resolved.op, it == refused.end() ? spec::Errno::ok : it->second, line.line);
      applied.push_back(*resolved.op);
    }
  }
  static Trace read(const std::string& ops) {
    std::istringstream in(std::string(R"({"profile":"v6.6","cpus":4,"page_size":4096})") + "\n" +
                          ops);
    return read_trace(in, "d.jsonl");
  }
  std::string problem() const { return error ? error->what() : "no error"; }
};

TEST(Driver, ResolvesFreeToTheAllocatingTasksCurrentCpu) {
  Drive d(R"({"op":"spawn","task":"t","cg":"/","cpu":2}
{"op":"alloc","task":"t","obj":"o","kind":"stack"}
{"op":"run_on","task":"t","cpu":3}
{"op":"free","obj":"o"}
)");
  ASSERT_FALSE(d.error) << d.problem();
  EXPECT_EQ(std::get<spec::Free>(d.applied.back()).cpu, 3u);
  // An alloc runs where its task runs now.
  EXPECT_EQ(d.driver.runs_on(d.applied[1]), std::optional<spec::Cpu>(3));
  EXPECT_EQ(d.driver.runs_on(spec::Quiesce{}), std::nullopt);
}

TEST(Driver, ExplicitFreeCpuWins) {
  Drive d(R"({"op":"spawn","task":"t","cg":"/","cpu":2}
{"op":"alloc","task":"t","obj":"o","kind":"stack"}
{"op":"free","obj":"o","cpu":1}
)");
  ASSERT_FALSE(d.error) << d.problem();
  EXPECT_EQ(std::get<spec::Free>(d.applied.back()).cpu, 1u);
}

TEST(Driver, DefaultCpuIsZeroUntilItGoesOffline) {
  Drive d(R"({"op":"mkdir","cg":"/a"}
{"op":"cpu_offline","cpu":0}
{"op":"cpu_offline","cpu":1}
{"op":"mkdir","cg":"/b"}
{"op":"set_max","cg":"/b","pages":5,"cpu":3}
)");
  ASSERT_FALSE(d.error) << d.problem();
  EXPECT_EQ(std::get<spec::Mkdir>(d.applied[0]).cpu, 0u);
  EXPECT_EQ(std::get<spec::Mkdir>(d.applied[3]).cpu, 2u);
  EXPECT_EQ(std::get<spec::SetMax>(d.applied[4]).cpu, 3u);
}

TEST(Driver, TasksOnAnOfflinedCpuMoveToTheLowestOnlineCpu) {
  Drive d(R"({"op":"cpu_offline","cpu":0}
{"op":"spawn","task":"t","cg":"/","cpu":3}
{"op":"alloc","task":"t","obj":"o","kind":"stack"}
{"op":"cpu_offline","cpu":3}
{"op":"free","obj":"o"}
)");
  ASSERT_FALSE(d.error) << d.problem();
  EXPECT_EQ(std::get<spec::Free>(d.applied.back()).cpu, 1u);
}

TEST(Driver, RefusedCpuOfflineLeavesTheCpuOnline) {
  // The model answered EBUSY (say): the CPU is still usable.
  Drive d(R"({"op":"cpu_offline","cpu":2}
{"op":"drain","cpu":2}
)",
          {{2, spec::Errno::ebusy}});
  EXPECT_FALSE(d.error) << d.problem();
}

TEST(Driver, OfflineAndOutOfRangeCpusAreTraceErrors) {
  Drive offline(R"({"op":"cpu_offline","cpu":2}
{"op":"drain","cpu":2}
)");
  EXPECT_EQ(offline.problem(), "d.jsonl:3: CPU 2 is offline (cpu_offline at line 2)");
  Drive range(R"({"op":"spawn","task":"t","cg":"/","cpu":4})");
  EXPECT_EQ(range.problem(), "d.jsonl:2: CPU 4 is out of range (the trace has 4 CPUs: 0-3)");
  Drive offline_range(R"({"op":"cpu_offline","cpu":9})");
  EXPECT_EQ(offline_range.problem(), "d.jsonl:2: CPU 9 is out of range (the trace has 4 CPUs: 0-3)");
  // Offlining an offline CPU is the kernel's EINVAL, not a trace error.
  Drive twice(R"({"op":"cpu_offline","cpu":2}
{"op":"cpu_offline","cpu":2}
)");
  EXPECT_FALSE(twice.error) << twice.problem();
  Drive free_cpu(R"({"op":"spawn","task":"t","cg":"/","cpu":0}
{"op":"alloc","task":"t","obj":"o","kind":"stack"}
{"op":"cpu_offline","cpu":1}
{"op":"free","obj":"o","cpu":1}
)");
  EXPECT_EQ(free_cpu.problem(), "d.jsonl:5: CPU 1 is offline (cpu_offline at line 4)");
}

TEST(Driver, TasksMustExist) {
  EXPECT_EQ(Drive(R"({"op":"exit","task":"ghost"})").problem(),
            "d.jsonl:2: unknown task \"ghost\" (never spawned)");
  EXPECT_EQ(Drive(R"({"op":"spawn","task":"t","cg":"/","cpu":0}
{"op":"exit","task":"t"}
{"op":"migrate","task":"t","cg":"/"}
)")
                .problem(),
            "d.jsonl:4: task \"t\" has exited (line 3)");
  EXPECT_EQ(Drive(R"({"op":"spawn","task":"t","cg":"/","cpu":0}
{"op":"spawn","task":"t","cg":"/","cpu":1}
)")
                .problem(),
            "d.jsonl:3: task \"t\" is already running (spawned at line 2)");
  // A refused spawn (ENOENT: no such cgroup) creates no task.
  EXPECT_EQ(Drive(R"({"op":"spawn","task":"t","cg":"/nope","cpu":0}
{"op":"alloc","task":"t","obj":"o","kind":"stack"}
)",
                  {{2, spec::Errno::enoent}})
                .problem(),
            "d.jsonl:3: unknown task \"t\" (never spawned)");
  // A name can be spawned again once its task exited.
  Drive again(R"({"op":"spawn","task":"t","cg":"/","cpu":0}
{"op":"exit","task":"t"}
{"op":"spawn","task":"t","cg":"/","cpu":1}
{"op":"run_on","task":"t","cpu":2}
)");
  EXPECT_FALSE(again.error) << again.problem();
}

TEST(Driver, ObjectsMustExistAndBeFreedOnce) {
  const std::string spawn = R"({"op":"spawn","task":"t","cg":"/","cpu":0})" "\n";
  EXPECT_EQ(Drive(spawn + R"({"op":"free","obj":"o"})").problem(),
            "d.jsonl:3: unknown object \"o\" (never allocated)");
  EXPECT_EQ(Drive(spawn + R"({"op":"alloc","task":"t","obj":"o","kind":"stack"}
{"op":"free","obj":"o"}
{"op":"free","obj":"o"}
)")
                .problem(),
            "d.jsonl:5: double free of object \"o\" (freed at line 4)");
  EXPECT_EQ(Drive(spawn + R"({"op":"alloc","task":"t","obj":"o","kind":"stack"}
{"op":"alloc","task":"t","obj":"o","kind":"stack"}
)")
                .problem(),
            "d.jsonl:4: object \"o\" is already allocated (line 3)");
  // A refused allocation (ENOMEM) creates no object: freeing it is unknown.
  EXPECT_EQ(Drive(spawn + R"({"op":"alloc","task":"t","obj":"o","kind":"stack"}
{"op":"free","obj":"o"}
)",
                  {{3, spec::Errno::enomem}})
                .problem(),
            "d.jsonl:4: unknown object \"o\" (never allocated)");
  // A freed name can be allocated again.
  Drive again(spawn + R"({"op":"alloc","task":"t","obj":"o","kind":"stack"}
{"op":"free","obj":"o"}
{"op":"alloc","task":"t","obj":"o","kind":"page","order":1}
{"op":"free","obj":"o"}
)");
  EXPECT_FALSE(again.error) << again.problem();
}

TEST(Driver, FreeWithoutCpuNeedsTheAllocatingTaskAlive) {
  const std::string start = R"({"op":"spawn","task":"t","cg":"/","cpu":1}
{"op":"alloc","task":"t","obj":"o","kind":"stack"}
{"op":"exit","task":"t"}
)";
  EXPECT_EQ(Drive(start + R"({"op":"free","obj":"o"})").problem(),
            "d.jsonl:5: free of object \"o\" gives no \"cpu\" and its allocating task \"t\" has "
            "exited");
  // Not even when a new task took the same name.
  EXPECT_EQ(Drive(start + R"({"op":"spawn","task":"t","cg":"/","cpu":2}
{"op":"free","obj":"o"}
)")
                .problem(),
            "d.jsonl:6: free of object \"o\" gives no \"cpu\" and its allocating task \"t\" has "
            "exited");
  Drive with_cpu(start + R"({"op":"free","obj":"o","cpu":3})");
  ASSERT_FALSE(with_cpu.error) << with_cpu.problem();
  EXPECT_EQ(std::get<spec::Free>(with_cpu.applied.back()).cpu, 3u);
}

}  // namespace
}  // namespace mv::trace
