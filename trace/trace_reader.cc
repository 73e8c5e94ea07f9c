#include "trace/trace_reader.h"

#include <algorithm>
#include <array>
#include <fstream>
#include <iostream>
#include <limits>
#include <set>
#include <stdexcept>
#include <string_view>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "arith/page_counter.h"

namespace mv::trace {

using nlohmann::json;

std::string TraceError::what() const {
  if (line == 0) return fmt::format("{}: {}", file, reason);
  return fmt::format("{}:{}: {}", file, line, reason);
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

std::string shown(const json& value) {
  auto text = value.dump();
  if (text.size() > 40) text = text.substr(0, 37) + "...";
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
// (nlohmann-json would silently keep the last one).
json parse_object(const std::string& text) {
  std::set<std::string> keys;
  auto reject_duplicates = [&](int depth, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::key && depth == 1 &&
        !keys.insert(parsed.get<std::string>()).second)
      throw LineError(fmt::format("field \"{}\" given twice", parsed.get<std::string>()));
    return true;
  };
  json object;
  try {
    object = json::parse(text, reject_duplicates);
  } catch (const json::parse_error& e) {
    // "[json.exception.parse_error.101] parse error at line 1, column 7: ..."
    std::string message = e.what();
    auto start = message.find("parse error");
    if (start != std::string::npos) message = message.substr(start);
    auto at_line = message.find("at line 1, ");
    if (at_line != std::string::npos) message.erase(at_line + 3, std::string_view("line 1, ").size());
    throw LineError(fmt::format("bad JSON: {}", message));
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
    throw LineError(fmt::format("unknown profile \"{}\" (known: {})", profile_name, known));
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
      f.only({"op", "task", "cg"});
      f.require({"task", "cg"});
      out.op = spec::Migrate{task(f), path(f, "cg")};
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
      auto obj = names_.objects.intern(f.string("obj"));
      out.op = spec::Free{obj, optional_cpu(f, out)};
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
          "drain, drain_all, set_max, cpu_offline, quiesce)",
          op));
    }
    return out;
  }

 private:
  spec::Alloc alloc(const Fields& f) {
    f.only({"op", "task", "obj", "kind", "size", "order", "nofail"});
    f.require({"task", "obj", "kind"});
    spec::Alloc a{};
    a.task = task(f);
    a.obj = names_.objects.intern(f.string("obj"));
    auto kind_name = f.string("kind");
    auto kind = spec::parse_alloc_kind(kind_name);
    if (!kind)
      throw LineError(fmt::format(
          "alloc: unknown kind \"{}\" (known: slab, percpu, page, stack)", kind_name));
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
        break;
      case spec::AllocKind::percpu:
        forbid("order");
        f.require({"size"});
        a.size_bytes = f.integer("size", 0, kMaxPercpuRequestBytes);
        break;
      case spec::AllocKind::page:
        forbid("size");
        f.require({"order"});
        a.order = static_cast<std::uint32_t>(
            f.integer("order", 0, std::numeric_limits<std::uint32_t>::max()));
        break;
      case spec::AllocKind::stack:
        forbid("size");
        forbid("order");
        break;
    }
    if (f.has("nofail")) a.nofail = f.boolean("nofail");
    return a;
  }

  spec::PathKey path(const Fields& f, std::string_view name) {
    auto text = f.string(name);
    auto key = names_.paths.intern(text);
    if (!key)
      throw LineError(fmt::format(
          "malformed cgroup path \"{}\" (it must start with '/', with no empty, \".\" or \"..\" "
          "component and no trailing '/')",
          text));
    return *key;
  }
  spec::TaskKey task(const Fields& f) { return names_.tasks.intern(f.string("task")); }
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

}  // namespace

Trace read_trace(std::istream& in, const std::string& file) {
  Trace trace;
  trace.file = file;
  std::string text;
  std::size_t line = 0;
  std::optional<OpReader> ops;
  while (std::getline(in, text)) {
    ++line;
    if (!text.empty() && text.back() == '\r') text.pop_back();
    // Blank lines are skipped (they still count as lines); see docs/TRACE_FORMAT.md.
    if (blank(text)) continue;
    try {
      auto object = parse_object(text);
      if (!trace.has_config) {
        trace.config = read_header(object);
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
    trace.error = TraceError{file, 0, "read error"};
  } else if (!trace.has_config) {
    trace.error = TraceError{file, 1,
                             "empty trace: the header line {\"profile\",\"cpus\",\"page_size\"} "
                             "is missing"};
  }
  return trace;
}

Trace read_trace_file(const std::string& path) {
  if (path == "-") return read_trace(std::cin, "<stdin>");
  std::ifstream in(path);
  if (!in) {
    Trace trace;
    trace.file = path;
    trace.error = TraceError{path, 0, "cannot open the trace file"};
    return trace;
  }
  return read_trace(in, path);
}

}  // namespace mv::trace
