// Reads a JSON Lines trace (docs/TRACE_FORMAT.md; the contract is docs/DESIGN.md
// "Trace format"): a header line giving the configuration, then one operation
// per line. Reading stops at the first line that makes no sense; the
// operations before it are kept so that they can still be replayed and reported.
#pragma once

#include <cstddef>
#include <istream>
#include <optional>
#include <string>
#include <vector>

#include "spec/operation.h"
#include "spec/preemption.h"
#include "spec/profile.h"
#include "trace/names.h"

namespace mv::trace {

// Input that makes no sense: `FILE:LINE: reason` (exit status 2).
struct TraceError {
  std::string file;
  std::size_t line = 0;  // 1-based; 0 when the file itself could not be read
  std::string reason;
  std::string what() const;
};

// Where an operation of a race trace stops: the hit-th time (from 1) it
// reaches the point, counted from its start or from its last resume.
struct PreemptRequest {
  spec::PreemptPoint point = spec::PreemptPoint::after_get_obj_cgroup_from_current;
  std::uint32_t hit = 1;
};

// One operation line. The spec::Op's CPU fields hold the trace's value when
// `cpu_given`, else a placeholder the replay driver resolves (Free: the
// allocating task's CPU; mkdir, rmdir, drain_all, set_max: the default CPU).
struct TraceOp {
  std::size_t line = 0;
  spec::Op op;
  bool cpu_given = false;
  // Races (docs/TRACE_FORMAT.md "Races"): stop this operation at a
  // preemption point ("preempt_at", "preempt_hit"), naming it "id"; or, with
  // `resume`, let the operation "id" go on (then `op` is unused).
  std::optional<PreemptRequest> preempt;
  std::string id;
  bool resume = false;
};

struct Trace {
  std::string file;
  bool has_config = false;  // the header line was read and is usable
  spec::Config config;
  std::string header_note;  // the header's "note": check and mutants say there how to replay
  TraceNames names;
  std::vector<TraceOp> ops;         // every operation before `error`
  std::optional<TraceError> error;  // the first line that makes no sense

  // Whether a line preempts or resumes an operation (a race trace).
  bool has_races() const;
};

// `file` names the input in error messages.
Trace read_trace(std::istream& in, const std::string& file);
// Reads a file by path; "-" reads standard input.
Trace read_trace_file(const std::string& path);
// One operation line (not a header) as read_trace reads it, interning its
// names in `names`; std::invalid_argument with the reason if it makes no sense.
TraceOp read_trace_line(const std::string& text, const spec::Config& config, TraceNames& names,
                        std::size_t line = 0);

// A task or object name is at most this many bytes (cgroup path bounds:
// spec::PathTable). NAME_MAX's value: a name is a label the report prints in a
// table cell, and no trace needs a longer one.
inline constexpr std::size_t kMaxNameBytes = 255;
// JSON containers nested deeper than this are a trace error (a line is one
// flat object; the bound lets an error message show a wrong value safely).
inline constexpr int kMaxJsonDepth = 8;

// Bounds on what the reader accepts. A page order above MAX_ORDER (10 in
// v6.6) or a percpu size of 0 or above PCPU_MIN_UNIT_SIZE is a request the
// kernel refuses (ENOMEM, docs/MODEL-v6.6.md): the model answers it. Only what
// cannot be asked at all is a trace error: an order that is not an unsigned
// int, a percpu size no size_t allocation path could carry, a slab object
// size no kmem_cache can have (0, or above KMALLOC_MAX_SIZE).
inline constexpr std::uint32_t kMaxPageOrder = 10;  // MAX_ORDER (v6.4+: inclusive)
inline constexpr std::uint64_t kMaxPercpuRequestBytes = std::uint64_t{1} << 32;
// PCPU_MIN_UNIT_SIZE with 4K pages (PFN_ALIGN(32 << 10)): the largest percpu
// request the allocator grants there.
inline constexpr std::uint64_t kMaxPercpuBytes = 32768;
// KMALLOC_MAX_SIZE = 1 << (MAX_ORDER + PAGE_SHIFT): no slab object is larger.
std::uint64_t max_slab_bytes(const spec::Config& config);
// PAGE_COUNTER_MAX = LONG_MAX / PAGE_SIZE (64-bit): "max".
std::uint64_t page_counter_max_pages(const spec::Config& config);

}  // namespace mv::trace
