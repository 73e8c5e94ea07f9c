// Google Benchmark: `replay` (the trace read, every step applied to the
// reference and checked) over the shapes issue 12 names, at growing sizes, so
// that near-linear cost shows as time per line staying flat:
//
//   siblings/N : N cgroups under the root (mkdir /c0 ... /cN-1), then a task
//                allocates and frees in the last one and /c0 is removed
//   depth/N    : a chain N deep (/a, /a/a, ...), the same tail in the deepest
//   objects/N  : N slab objects live at once in /a, then all freed
//   length/N   : N alloc/free pairs of one object in /a (a long trace over a
//                state that stays small)
//
// Not part of ctest. scripts/bench.sh builds and runs it (its last table);
// alone: cmake --build build --target replay_bench && build/replay_bench
// (time per replay, and per line: us_per_line).
#include <benchmark/benchmark.h>

#include <sstream>
#include <string>

#include <fmt/format.h>

#include "trace/replay.h"
#include "trace/trace_reader.h"

namespace mv::bench {
namespace {

constexpr const char* kHeader = R"({"profile":"v6.6","cpus":4,"page_size":4096})";

// A task spawned in `cg` allocates and frees one object, exits, and `rmdir` goes.
std::string tail(const std::string& cg, const std::string& rmdir) {
  return fmt::format(
      "{{\"op\":\"spawn\",\"task\":\"t\",\"cg\":\"{0}\",\"cpu\":1}}\n"
      "{{\"op\":\"alloc\",\"task\":\"t\",\"obj\":\"o\",\"kind\":\"slab\",\"size\":64}}\n"
      "{{\"op\":\"free\",\"obj\":\"o\"}}\n{{\"op\":\"exit\",\"task\":\"t\"}}\n"
      "{{\"op\":\"rmdir\",\"cg\":\"{1}\"}}\n{{\"op\":\"quiesce\"}}\n",
      cg, rmdir);
}

std::string siblings(int n) {
  std::string t = std::string(kHeader) + "\n";
  for (int i = 0; i < n; ++i) t += fmt::format("{{\"op\":\"mkdir\",\"cg\":\"/c{}\"}}\n", i);
  return t + tail(fmt::format("/c{}", n - 1), "/c0");
}

std::string depth(int n) {
  std::string t = std::string(kHeader) + "\n", path;
  for (int i = 0; i < n; ++i) {
    path += "/a";
    t += fmt::format("{{\"op\":\"mkdir\",\"cg\":\"{}\"}}\n", path);
  }
  return t + tail(path, path);
}

std::string objects(int n) {
  std::string t = std::string(kHeader) +
                  "\n{\"op\":\"mkdir\",\"cg\":\"/a\"}\n"
                  "{\"op\":\"spawn\",\"task\":\"t\",\"cg\":\"/a\",\"cpu\":1}\n";
  for (int i = 0; i < n; ++i)
    t += fmt::format("{{\"op\":\"alloc\",\"task\":\"t\",\"obj\":\"o{}\",\"kind\":\"slab\",\"size\":64}}\n", i);
  for (int i = 0; i < n; ++i) t += fmt::format("{{\"op\":\"free\",\"obj\":\"o{}\"}}\n", i);
  return t;
}

std::string length(int n) {
  std::string t = std::string(kHeader) +
                  "\n{\"op\":\"mkdir\",\"cg\":\"/a\"}\n"
                  "{\"op\":\"spawn\",\"task\":\"t\",\"cg\":\"/a\",\"cpu\":1}\n";
  for (int i = 0; i < n / 2; ++i)
    t += "{\"op\":\"alloc\",\"task\":\"t\",\"obj\":\"o\",\"kind\":\"slab\",\"size\":64}\n"
         "{\"op\":\"free\",\"obj\":\"o\"}\n";
  return t;
}

template <std::string (*Make)(int)>
void BM_replay(benchmark::State& state) {
  const std::string text = Make(static_cast<int>(state.range(0)));
  std::size_t lines = 0;
  for (auto _ : state) {
    std::istringstream in(text);
    auto trace = trace::read_trace(in, "bench.jsonl");
    auto result = trace::replay(trace, trace::ModelChoice::reference);
    if (result.exit_code() != 0) {
      state.SkipWithError(result.verdict().c_str());
      return;
    }
    lines = trace.ops.size() + 1;
  }
  state.counters["lines"] = static_cast<double>(lines);
  state.counters["us_per_line"] = benchmark::Counter(
      static_cast<double>(lines) * 1e-6, benchmark::Counter::kIsIterationInvariantRate |
                                             benchmark::Counter::kInvert);
}

BENCHMARK(BM_replay<length>)->Name("length")->RangeMultiplier(2)->Range(2500, 20000)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_replay<siblings>)->Name("siblings")->RangeMultiplier(2)->Range(2500, 20000)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_replay<depth>)->Name("depth")->RangeMultiplier(2)->Range(250, 2000)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_replay<objects>)->Name("objects")->RangeMultiplier(2)->Range(2500, 20000)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace mv::bench

BENCHMARK_MAIN();
