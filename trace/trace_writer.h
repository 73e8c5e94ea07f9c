// Traces written back (docs/TRACE_FORMAT.md): the header and each operation
// line with the trace's names, race fields included, so that reading the text
// again gives the same trace.
#pragma once

#include <string>

#include "spec/profile.h"
#include "trace/snapshot_json.h"
#include "trace/trace_reader.h"

namespace mv::trace {

// {"profile":...,"cpus":...,"page_size":...[,"note":...]}
Json trace_header_json(const spec::Config& config, const std::string& note = {});
// One line; "cpu" only when the line gives it (else the driver resolves it).
Json trace_line_json(const TraceOp& line, const TraceNames& names);

}  // namespace mv::trace
