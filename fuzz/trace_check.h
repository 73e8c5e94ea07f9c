// What fuzz_trace checks on one input: arbitrary bytes read as a trace and
// replayed exactly as `memcg-verify replay - --model both --json` does
// (trace/trace_reader.h, trace/replay.h, trace/report.h), then the
// replay's promises (docs/TRACE_FORMAT.md):
//   - nothing escapes: reading, replaying and both reports never throw (a
//     crash, a hang or a leak is the sanitizers' and libFuzzer's to catch);
//   - bad input ends in a trace error: `FILE:LINE: reason` with a line, exit
//     status 2, and a report (the JSON one parses back) of everything before it;
//   - the clean models never disagree and never fail on any input the reader
//     accepts (a violation is not a finding: some scenarios show known kernel
//     behaviour that violates an invariant).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "trace/replay.h"
#include "trace/trace_reader.h"

namespace mv::fuzz {

inline constexpr const char* kFuzzTraceFile = "fuzz.jsonl";

// The promises above on one replay's outcome (a trace read as kFuzzTraceFile):
// empty when they hold.
std::string check_outcome(const trace::Trace& trace, const trace::ReplayResult& result);

// Empty when every promise holds, else which one broke and how.
std::string check_trace_input(const std::uint8_t* data, std::size_t size);

}  // namespace mv::fuzz
