// The end of a forked child of memcg-verify (a guarded campaign, an isolated
// replay, a --jobs worker, explore's watched child): _exit, so that nothing of
// the parent runs twice (no atexit handler, no destructor, no stdio buffer
// written again). In the coverage build (the CMake preset `coverage` defines
// MV_COVERAGE=1) the child first writes its gcov counters, which only an
// atexit handler of libgcov writes otherwise: without it, everything a child
// ran is missing from scripts/coverage.sh's report (the campaign measured
// 0.1% of the lines of impl/ and reference/ before this).
#pragma once

#include <unistd.h>

#if defined(MV_COVERAGE) && MV_COVERAGE
extern "C" void __gcov_dump(void);  // libgcov, linked by --coverage
#endif

namespace mv::spec {

[[noreturn]] inline void child_exit(int code) {
#if defined(MV_COVERAGE) && MV_COVERAGE
  __gcov_dump();
#endif
  _exit(code);
}

}  // namespace mv::spec
