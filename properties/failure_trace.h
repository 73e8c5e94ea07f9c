// A conformance run written down: as a JSON Lines trace (docs/TRACE_FORMAT.md)
// that `memcg-verify replay --model both` replays line for line, and as a
// readable table of the (shrunk) sequence for the failure report.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "properties/conformance.h"
#include "trace/snapshot_json.h"
#include "trace/trace_writer.h"

namespace mv::properties {

// One operation line: trace::trace_line_json (trace/trace_writer.h).
// The header line and every applied step, one JSON object per line.
std::string trace_jsonl(const spec::Config& config, const trace::TraceNames& names,
                        const std::vector<AppliedStep>& steps, const std::string& note = {});
// Writes trace_jsonl to `path`; throws std::runtime_error if it cannot.
void write_trace_file(const std::string& path, const spec::Config& config,
                      const trace::TraceNames& names, const std::vector<AppliedStep>& steps,
                      const std::string& note = {});

// The header note of a counterexample (docs/TRACE_FORMAT.md): who found it,
// then how to replay it, as `replay --mutant auto` reads it back:
// "FOUND_BY; replay: memcg-verify replay FILE --model MODEL[ --mutant NAME]".
std::string replay_note(const std::string& found_by, std::string_view model, spec::Mutant mutant);
// `trace_jsonl` with its header's note set to `note`.
std::string with_header_note(const std::string& trace_jsonl, const std::string& note);

// What a header note says about replaying the trace (replay_note's replay
// part); empty fields where it says nothing.
struct ReplayHint {
  std::string model;   // "both", "impl", "reference"
  std::string mutant;  // a catalog name
};
ReplayHint replay_hint(std::string_view note);

// line | op | cpu | what | reference | subject, then the failure under it.
std::string steps_table(const Conformance& run);

}  // namespace mv::properties
