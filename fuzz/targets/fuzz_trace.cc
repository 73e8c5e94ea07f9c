// libFuzzer target: arbitrary bytes as a trace through the path of
// `memcg-verify replay - --model both --json` (fuzz/trace_check.h says what
// is checked). A broken promise aborts, so libFuzzer keeps the input.
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "fuzz/trace_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto problem = mv::fuzz::check_trace_input(data, size);
  if (!problem.empty()) {
    std::fprintf(stderr, "fuzz_trace finding: %s\n", problem.c_str());
    std::abort();
  }
  return 0;
}
