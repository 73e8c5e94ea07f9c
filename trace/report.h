// The replay report: JSON exactly as docs/DESIGN.md "Report" (plus
// extra fields), and a human-readable table (replay's default output).
#pragma once

#include <string>

#include "trace/replay.h"
#include "trace/snapshot_json.h"
#include "trace/trace_reader.h"

namespace mv::trace {

Json report_json(const Trace& trace, const ReplayResult& result);
std::string report_text(const Trace& trace, const ReplayResult& result);

// One operation in words with the trace's names: `alloc t1 o1 slab 128`.
std::string describe_op(const spec::Op& op, const TraceNames& names);

}  // namespace mv::trace
