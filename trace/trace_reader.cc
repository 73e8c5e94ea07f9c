#include "trace/trace_reader.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <set>
#include <stdexcept>
#include <string_view>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "arith/page_counter.h"
#include "trace/input_file.h"
#include "trace/text.h"

namespace mv::trace {

using nlohmann::json;

std::string TraceError::what() const {
  // A file name is bytes too: shown escaped, like everything from the input.
  const auto name = printable(file, 1024);
  if (line == 0) return fmt::format("{}: {}", name, reason);
  return fmt::format("{}:{}: {}", name, line, reason);
}

std::uint64_t max_slab_bytes(const spec::Config& config) {
  return config.page_size_bytes << kMaxPageOrder;
}

std::uint64_t page_counter_max_pages(const spec::Config& config) {
  return arith::page_counter_max<arith::M>(arith::PageGeometry::of(config.page_size_bytes)).v;
}

namespace {

// Thrown inside this file only; becomes Trace::error for the current line.
struct LineError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A free-form annotation allowed on every line (hand-written traces explain
// themselves); it has no effect.
constexpr std::string_view kNoteField = "note";

// A value as a message shows it: at most about 40 bytes, rendered without
// recursion past what the budget allows (a value may be nested as deep as
// kMaxJsonDepth and hold megabytes), strings escaped by printable().
void render(const json& value, std::string& out, std::size_t budget) {
  if (out.size() >= budget) return;
  if (value.is_string()) {
    out += '"';
    out += printable(value.get_ref<const std::string&>(), budget - out.size());
    out += '"';
  } else if (value.is_array() || value.is_object()) {
    out += value.is_array() ? '[' : '{';
    bool first = true;
    for (auto it = value.begin(); it != value.end() && out.size() < budget; ++it) {
      if (!first) out += ',';
      first = false;
      if (value.is_object()) {
        render(json(it.key()), out, budget);
        out += ':';
      }
      render(*it, out, budget);
    }
    out += out.size() < budget ? (value.is_array() ? "]" : "}") : "...";
  } else {
    out += value.dump();
  }
}

std::string shown(const json& value) {
  std::string text;
  render(value, text, 40);
  return text;
}

// One line's JSON object, read field by field.
class Fields {
 public:
  Fields(const json& object, std::string_view what) : object_(object), what_(what) {}

  // Every key must be one of `allowed` (or the note).
  void only(std::initializer_list<std::string_view> allowed) const {
    for (const auto& [key, value] : object_.items()) {
      if (key == kNoteField) {
        if (!value.is_string()) throw LineError(fmt::format("field \"note\" must be a string"));
        continue;
      }
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
        throw LineError(fmt::format("unknown field \"{}\" in {}", key, what_));
    }
  }
  // Checked after only(): an unknown field is reported before a missing one.
  void require(std::initializer_list<std::string_view> names) const {
    for (auto name : names)
      if (!has(name)) throw LineError(fmt::format("{}: missing field \"{}\"", what_, name));
  }
  bool has(std::string_view name) const { return object_.contains(name); }
  const json& at(std::string_view name) const { return object_.at(std::string(name)); }

  std::uint64_t integer(std::string_view name, std::uint64_t min, std::uint64_t max) const {
    const auto& value = at(name);
    if (value.is_number_unsigned()) {
      auto n = value.get<std::uint64_t>();
      if (n >= min && n <= max) return n;
    }
    throw LineError(fmt::format("{}: field \"{}\" must be an integer from {} to {}, got {}", what_,
                                name, min, max, shown(value)));
  }
  std::string_view string(std::string_view name) const {
    const auto& value = at(name);
    if (!value.is_string() || value.get_ref<const std::string&>().empty())
      throw LineError(fmt::format("{}: field \"{}\" must be a non-empty string, got {}", what_,
                                  name, shown(value)));
    return value.get_ref<const std::string&>();
  }
  // A task, object or cgroup name (docs/TRACE_FORMAT.md "Names"): a string of at
  // most `max_bytes`, without control characters, so that no name can forge a
  // line or a column of the report.
  std::string_view name(std::string_view field, std::size_t max_bytes) const {
    auto text = string(field);
    if (text.size() > max_bytes)
      throw LineError(fmt::format("{}: field \"{}\" is {} bytes long, more than {} ({})", what_,
                                  field, text.size(), max_bytes, shown(at(field))));
    if (auto problem = character_problem(text); !problem.empty())
      throw LineError(
          fmt::format("{}: field \"{}\" has a {} ({})", what_, field, problem, shown(at(field))));
    return text;
  }
  bool boolean(std::string_view name) const {
    const auto& value = at(name);
    if (!value.is_boolean())
      throw LineError(
          fmt::format("{}: field \"{}\" must be true or false, got {}", what_, name, shown(value)));
    return value.get<bool>();
  }

 private:
  const json& object_;
  std::string_view what_;
};

// Parses one line into a flat JSON object; a key given twice is an error
// (nlohmann-json would silently keep the last one), and so is nesting deeper
// than kMaxJsonDepth (a trace line is flat: only a wrong value nests at all).
json parse_object(const std::string& text) {
  std::set<std::string> keys;
  auto check = [&](int depth, json::parse_event_t event, json& parsed) {
    if ((event == json::parse_event_t::object_start || event == json::parse_event_t::array_start) &&
        depth >= kMaxJsonDepth)
      throw LineError(fmt::format("JSON nested more than {} levels deep", kMaxJsonDepth));
    if (event == json::parse_event_t::key && depth == 1 &&
        !keys.insert(parsed.get<std::string>()).second)
      throw LineError(
          fmt::format("field \"{}\" given twice", printable(parsed.get<std::string>())));
    return true;
  };
  json object;
  try {
    object = json::parse(text, check);
  } catch (const json::exception& e) {
    // "[json.exception.parse_error.101] parse error at line 1, column 7: ...;
    // last read: '<bytes>'", or out_of_range.406 "number overflow parsing
    // '1e400'": the input's bytes, escaped and cut, without the line (always 1).
    std::string message = e.what();
    if (auto start = message.find("] "); start != std::string::npos) message.erase(0, start + 2);
    if (auto at_line = message.find("at line 1, "); at_line != std::string::npos)
      message.erase(at_line + 3, std::string_view("line 1, ").size());
    throw LineError(fmt::format("bad JSON: {}", printable(message, 200)));
  }
  if (!object.is_object())
    throw LineError(fmt::format("expected a JSON object, got {}", shown(object)));
  return object;
}

spec::Config read_header(const json& object) {
  if (object.contains("op"))
    throw LineError(
        R"(the first line must be the header {"profile":...,"cpus":...,"page_size":...}, got an operation)");
  Fields fields(object, "header");
  fields.only({"profile", "cpus", "page_size"});
  fields.require({"profile", "cpus", "page_size"});
  spec::Config config;
  auto profile_name = fields.string("profile");
  auto profile = spec::parse_profile(profile_name);
  if (!profile) {
    std::string known;
    for (const auto& t : spec::all_profiles()) known += fmt::format("{}{}", known.empty() ? "" : ", ", t.name);
    throw LineError(
        fmt::format("unknown profile \"{}\" (known: {})", printable(profile_name), known));
  }
  config.profile = *profile;
  config.ncpus = static_cast<std::uint32_t>(
      fields.integer("cpus", 0, std::numeric_limits<std::uint32_t>::max()));
  config.page_size_bytes = fields.integer("page_size", 0, std::numeric_limits<std::uint64_t>::max());
  if (auto problem = spec::config_problem(config); !problem.empty()) throw LineError(problem);
  return config;
}

// Reads one operation line. Names are interned as they appear; whether the
// task, object or cgroup exists is the replay driver's question.
class OpReader {
 public:
  OpReader(const spec::Config& config, TraceNames& names) : config_(config), names_(names) {}

  TraceOp read(const json& object, std::size_t line) {
    if (!object.contains("op")) throw LineError("missing field \"op\"");
    const auto& op_value = object.at("op");
    if (!op_value.is_string())
      throw LineError(fmt::format("field \"op\" must be a string, got {}", shown(op_value)));
    const auto& op = op_value.get_ref<const std::string&>();
    // Races (docs/TRACE_FORMAT.md "Races"): a resume line, or any operation with
    // a preemption request, read apart from its own fields.
    if (op == "resume") return resume(object, line);
    bool racing = false;
    for (auto field : kPreemptFields) racing |= object.contains(field);
    if (!racing) return read_op(object, op, line);
    json plain = object;
    for (auto field : kPreemptFields) plain.erase(std::string(field));
    TraceOp out = read_op(plain, op, line);
    Fields f(object, op);
    f.require({"preempt_at", "id"});
    out.preempt = preempt_request(f);
    out.id = f.string("id");
    return out;
  }

 private:
  static constexpr std::array<std::string_view, 3> kPreemptFields = {"preempt_at", "preempt_hit",
                                                                      "id"};

  TraceOp resume(const json& object, std::size_t line) {
    Fields f(object, "resume");
    f.only({"op", "id", "preempt_at", "preempt_hit"});
    f.require({"id"});
    TraceOp out;
    out.line = line;
    out.op = spec::Quiesce{};  // unused: a resume applies no new operation
    out.resume = true;
    out.id = f.string("id");
    if (f.has("preempt_at") || f.has("preempt_hit")) {
      f.require({"preempt_at"});
      out.preempt = preempt_request(f);
    }
    return out;
  }

  PreemptRequest preempt_request(const Fields& f) {
    PreemptRequest request;
    auto name = f.string("preempt_at");
    auto point = spec::parse_preempt_point(name);
    if (!point) {
      std::string known;
      for (const auto& info : spec::preempt_points())
        known += fmt::format("{}{}", known.empty() ? "" : ", ", info.name);
      throw LineError(fmt::format("unknown preemption point \"{}\" (known: {})", name, known));
    }
    request.point = *point;
    if (f.has("preempt_hit"))
      request.hit = static_cast<std::uint32_t>(
          f.integer("preempt_hit", 1, std::numeric_limits<std::uint32_t>::max()));
    return request;
  }

  TraceOp read_op(const json& object, const std::string& op, std::size_t line) {
    TraceOp out;
    out.line = line;
    Fields f(object, op);
    if (op == "mkdir") {
      f.only({"op", "cg", "cpu"});
      f.require({"cg"});
      out.op = spec::Mkdir{path(f, "cg"), optional_cpu(f, out)};
    } else if (op == "rmdir") {
      f.only({"op", "cg", "cpu"});
      f.require({"cg"});
      out.op = spec::Rmdir{path(f, "cg"), optional_cpu(f, out)};
    } else if (op == "spawn") {
      f.only({"op", "task", "cg", "cpu"});
      f.require({"task", "cg", "cpu"});
      out.op = spec::Spawn{task(f), path(f, "cg"), cpu(f)};
      out.cpu_given = true;
    } else if (op == "exit") {
      f.only({"op", "task"});
      f.require({"task"});
      out.op = spec::Exit{task(f)};
    } else if (op == "migrate") {
      f.only({"op", "task", "cg", "cpu"});
      f.require({"task", "cg"});
      auto t = task(f);
      auto cg = path(f, "cg");
      out.op = spec::Migrate{t, cg, optional_cpu(f, out)};
    } else if (op == "run_on") {
      f.only({"op", "task", "cpu"});
      f.require({"task", "cpu"});
      out.op = spec::RunOn{task(f), cpu(f)};
      out.cpu_given = true;
    } else if (op == "alloc") {
      out.op = alloc(f);
    } else if (op == "free") {
      f.only({"op", "obj", "cpu"});
      f.require({"obj"});
      out.op = spec::Free{object_key(f), optional_cpu(f, out)};
    } else if (op == "drain") {
      f.only({"op", "cpu"});
      f.require({"cpu"});
      out.op = spec::Drain{cpu(f)};
      out.cpu_given = true;
    } else if (op == "drain_all") {
      f.only({"op", "cg", "cpu"});
      f.require({"cg"});
      out.op = spec::DrainAll{path(f, "cg"), optional_cpu(f, out)};
    } else if (op == "set_max") {
      f.only({"op", "cg", "pages", "cpu"});
      f.require({"cg", "pages"});
      out.op = spec::SetMax{path(f, "cg"), max_pages(f), optional_cpu(f, out)};
    } else if (op == "cpu_offline") {
      f.only({"op", "cpu"});
      f.require({"cpu"});
      out.op = spec::CpuOffline{cpu(f)};
      out.cpu_given = true;
    } else if (op == "quiesce") {
      f.only({"op"});
      out.op = spec::Quiesce{};
    } else {
      throw LineError(fmt::format(
          "unknown op \"{}\" (known: mkdir, rmdir, spawn, exit, migrate, run_on, alloc, free, "
          "drain, drain_all, set_max, cpu_offline, quiesce, resume)",
          printable(op)));
    }
    return out;
  }

  spec::Alloc alloc(const Fields& f) {
    f.only({"op", "task", "obj", "kind", "size", "order", "nofail", "cache"});
    f.require({"task", "obj", "kind"});
    spec::Alloc a{};
    a.task = task(f);
    a.obj = object_key(f);
    auto kind_name = f.string("kind");
    auto kind = spec::parse_alloc_kind(kind_name);
    if (!kind)
      throw LineError(fmt::format(
          "alloc: unknown kind \"{}\" (known: slab, percpu, page, stack)", printable(kind_name)));
    a.kind = *kind;
    auto forbid = [&](std::string_view name) {
      if (f.has(name))
        throw LineError(fmt::format("alloc: field \"{}\" does not apply to kind {}", name,
                                    kind_name));
    };
    switch (a.kind) {
      case spec::AllocKind::slab:
        forbid("order");
        f.require({"size"});
        a.size_bytes = f.integer("size", 1, max_slab_bytes(config_));
        if (f.has("cache")) a.cache = names_.caches.intern(f.string("cache"));
        break;
      case spec::AllocKind::percpu:
        forbid("cache");
        forbid("order");
        f.require({"size"});
        a.size_bytes = f.integer("size", 0, kMaxPercpuRequestBytes);
        break;
      case spec::AllocKind::page:
        forbid("cache");
        forbid("size");
        f.require({"order"});
        a.order = static_cast<std::uint32_t>(
            f.integer("order", 0, std::numeric_limits<std::uint32_t>::max()));
        break;
      case spec::AllocKind::stack:
        forbid("cache");
        forbid("size");
        forbid("order");
        break;
    }
    if (f.has("nofail")) a.nofail = f.boolean("nofail");
    // kernel/fork.c memcg_charge_kernel_stack charges with a fixed GFP_KERNEL.
    if (a.nofail && a.kind == spec::AllocKind::stack)
      throw LineError(
          "alloc: \"nofail\": true does not apply to kind stack (memcg_charge_kernel_stack "
          "always charges with GFP_KERNEL, never __GFP_NOFAIL)");
    return a;
  }

  spec::PathKey path(const Fields& f, std::string_view field) {
    auto text = f.name(field, spec::PathTable::kMaxPathBytes);
    auto problem = spec::PathTable::problem(text);
    auto key = problem.empty() ? names_.paths.intern(text) : std::nullopt;
    if (!key)
      throw LineError(fmt::format("malformed cgroup path \"{}\": {}", printable(text), problem));
    return *key;
  }
  spec::TaskKey task(const Fields& f) { return names_.tasks.intern(f.name("task", kMaxNameBytes)); }
  spec::ObjKey object_key(const Fields& f) { return names_.objects.intern(f.name("obj", kMaxNameBytes)); }
  spec::Cpu cpu(const Fields& f) {
    return static_cast<spec::Cpu>(f.integer("cpu", 0, std::numeric_limits<spec::Cpu>::max()));
  }
  spec::Cpu optional_cpu(const Fields& f, TraceOp& out) {
    if (!f.has("cpu")) return spec::kDefaultCpu;
    out.cpu_given = true;
    return cpu(f);
  }
  std::optional<std::uint64_t> max_pages(const Fields& f) {
    const auto& value = f.at("pages");
    if (value.is_string() && value.get_ref<const std::string&>() == "max") return std::nullopt;
    if (!value.is_number_unsigned())
      throw LineError(fmt::format(
          "set_max: field \"pages\" must be \"max\" or a non-negative integer, got {}",
          shown(value)));
    // page_counter_memparse clamps to PAGE_COUNTER_MAX, which is "max".
    auto pages = arith::M::u64(value.get<std::uint64_t>());
    auto clamped = arith::page_counter_clamp_max<arith::M>(
        pages, arith::PageGeometry::of(config_.page_size_bytes));
    if (clamped.v == page_counter_max_pages(config_)) return std::nullopt;
    return clamped.v;
  }

  const spec::Config& config_;
  TraceNames& names_;
};

bool blank(std::string_view text) {
  return text.find_first_not_of(" \t") == std::string_view::npos;
}

// The UTF-8 byte order mark, which some editors write at the start of a file.
constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";

}  // namespace

bool Trace::has_races() const {
  return std::any_of(ops.begin(), ops.end(),
                     [](const TraceOp& op) { return op.resume || op.preempt; });
}

Trace read_trace(std::istream& in, const std::string& file) {
  Trace trace;
  trace.file = file;
  std::string text;
  std::size_t line = 0;
  std::optional<OpReader> ops;
  while (std::getline(in, text)) {
    ++line;
    if (!text.empty() && text.back() == '\r') text.pop_back();
    // nlohmann-json skips a byte order mark wherever a value starts: only the
    // file's own, at the start of line 1, is one.
    if (std::string_view(text).starts_with(kByteOrderMark)) {
      if (line != 1) {
        trace.error = TraceError{file, line, "a byte order mark is only allowed at the start of the file"};
        return trace;
      }
      text.erase(0, kByteOrderMark.size());
    }
    // Blank lines are skipped (they still count as lines); see docs/TRACE_FORMAT.md.
    if (blank(text)) continue;
    try {
      auto object = parse_object(text);
      if (!trace.has_config) {
        trace.config = read_header(object);
        if (auto note = object.find(kNoteField); note != object.end() && note->is_string())
          trace.header_note = note->get<std::string>();
        trace.has_config = true;
        ops.emplace(trace.config, trace.names);
      } else {
        trace.ops.push_back(ops->read(object, line));
      }
    } catch (const LineError& e) {
      trace.error = TraceError{file, line, e.what()};
      return trace;
    }
  }
  if (in.bad()) {
    trace.error = TraceError{file, 0, fmt::format("read error: {}", std::strerror(errno))};
  } else if (!trace.has_config) {
    trace.error = TraceError{file, 1,
                             "empty trace: the header line {\"profile\",\"cpus\",\"page_size\"} "
                             "is missing"};
  }
  return trace;
}

TraceOp read_trace_line(const std::string& text, const spec::Config& config, TraceNames& names,
                        std::size_t line) {
  try {
    return OpReader(config, names).read(parse_object(text), line);
  } catch (const LineError& e) {
    throw std::invalid_argument(e.what());
  }
}

Trace read_trace_file(const std::string& path) {
  if (path == "-") return read_trace(std::cin, "<stdin>");
  auto unreadable = [&](std::string reason) {
    Trace trace;
    trace.file = path;
    trace.error = TraceError{path, 0, std::move(reason)};
    return trace;
  };
  if (auto problem = directory_problem(path, "a trace file"); !problem.empty()) return unreadable(problem);
  std::ifstream in(path);
  if (!in) return unreadable(fmt::format("cannot open the trace file: {}", std::strerror(errno)));
  return read_trace(in, path);
}

}  // namespace mv::trace
