#include "trace/report.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "spec/known_bug.h"
#include "spec/overloaded.h"
#include "trace/text.h"

namespace mv::trace {

namespace {

std::string safe_name(const NameTable& table, std::uint32_t key) {
  return key < table.size() ? table.name(key) : fmt::format("#{}", key);
}

// The file name as TraceError::what() shows it: a path is bytes.
std::string shown_file(const Trace& trace) { return printable(trace.file, 1024); }

std::string safe_path(const TraceNames& names, spec::PathKey key) {
  return key < names.paths.size() ? names.paths.path(key) : fmt::format("path#{}", key);
}

// Left-aligned columns, two spaces apart.
class Table {
 public:
  explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  bool empty() const { return rows_.size() == 1; }
  std::string render(std::string_view indent = "  ") const {
    std::vector<std::size_t> widths;
    for (const auto& row : rows_) {
      if (widths.size() < row.size()) widths.resize(row.size());
      for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
    }
    std::string out;
    for (const auto& row : rows_) {
      std::string line(indent);
      for (std::size_t i = 0; i < row.size(); ++i)
        line += i + 1 == row.size() ? row[i] : fmt::format("{:<{}}  ", row[i], widths[i]);
      while (!line.empty() && line.back() == ' ') line.pop_back();
      out += line + "\n";
    }
    return out;
  }

 private:
  std::vector<std::vector<std::string>> rows_;
};

template <class T>
std::string opt(const std::optional<T>& value, std::string_view none = "-") {
  return value ? fmt::format("{}", *value) : std::string(none);
}

std::string state_tables(const spec::Snapshot& s, const TraceNames& names) {
  std::string out;
  Table cgroups({"id", "path", "state", "usage_pages", "max_pages", "failcnt", "css_refs",
                 "watermark", "objcg", "tasks", "offlined"});
  for (const auto& c : s.cgroups)
    cgroups.add({fmt::format("{}", c.id), safe_path(names, c.path),
                 std::string(spec::cgroup_state_name(c.state)), fmt::format("{}", c.usage_pages),
                 opt(c.max_pages, "max"), fmt::format("{}", c.failcnt),
                 fmt::format("{}", c.css_refs), fmt::format("{}", c.watermark_pages),
                 opt(c.objcg), fmt::format("{}", c.nr_tasks), c.offlined ? "yes" : "no"});
  out += "cgroups\n" + cgroups.render();

  Table objcgs({"id", "origin", "memcg", "state", "refs", "nr_charged_bytes", "charged_pages"});
  for (const auto& o : s.objcgs)
    objcgs.add({fmt::format("{}", o.id), memcg_path(s, names, o.origin),
                memcg_path(s, names, o.memcg), std::string(spec::objcg_state_name(o.state)),
                fmt::format("{}", o.refs), fmt::format("{}", o.nr_charged_bytes),
                fmt::format("{}", o.charged_pages)});
  out += "objcgs\n" + (objcgs.empty() ? std::string("  (none)\n") : objcgs.render());

  Table stocks({"cpu", "online", "page_stock", "obj_stock", "flushing"});
  for (const auto& st : s.stocks) {
    std::string pages;
    for (const auto& slot : st.page_stock)
      pages += fmt::format("{}{}: {} pages", pages.empty() ? "" : ", ",
                           memcg_path(s, names, slot.memcg), slot.nr_pages);
    std::string bytes = "-";
    if (st.cached_objcg || st.nr_bytes != 0)
      bytes = fmt::format("objcg {}: {} bytes", opt(st.cached_objcg), st.nr_bytes);
    stocks.add({fmt::format("{}", st.cpu), st.online ? "yes" : "no",
                pages.empty() ? "-" : pages, bytes, st.flushing ? "yes" : "no"});
  }
  out += "stocks\n" + stocks.render();

  Table objects({"id", "kind", "charged_bytes", "objcg", "memcg", "kmem_pages", "slab_page"});
  for (const auto& o : s.objects)
    objects.add({safe_name(names.objects, o.key), std::string(spec::alloc_kind_name(o.kind)),
                 fmt::format("{}", o.charged_bytes), opt(o.objcg),
                 o.memcg ? memcg_path(s, names, *o.memcg) : "-",
                 fmt::format("{}", o.nr_kmem_pages), opt(o.slab_page)});
  out += "objects\n" + (objects.empty() ? std::string("  (none)\n") : objects.render());

  if (!s.caches.empty()) {
    Table caches({"id", "name", "root", "object_size", "order", "per_slab", "kmemcg_id", "origin",
                  "memcg", "state", "refs"});
    for (const auto& c : s.caches)
      caches.add({fmt::format("{}", c.id), cache_name(names, c.name, c.object_size_bytes),
                  opt(c.root), fmt::format("{}", c.object_size_bytes), fmt::format("{}", c.order),
                  fmt::format("{}", c.objects_per_slab), opt(c.kmemcg_id),
                  c.origin ? memcg_path(s, names, *c.origin) : "-",
                  c.memcg ? memcg_path(s, names, *c.memcg) : "-",
                  std::string(spec::cache_state_name(c.state)) + (c.killed ? ", killed" : ""),
                  fmt::format("{}", c.refs)});
    out += "kmem_caches\n" + caches.render();
    Table pages({"id", "cache", "order", "objects", "charged_pages", "memcg"});
    for (const auto& p : s.slab_pages)
      pages.add({fmt::format("{}", p.id), fmt::format("{}", p.cache), fmt::format("{}", p.order),
                 fmt::format("{}", p.nr_objects), fmt::format("{}", p.charged_pages),
                 p.memcg ? memcg_path(s, names, *p.memcg) : "-"});
    out += "slab pages\n" + (pages.empty() ? std::string("  (none)\n") : pages.render());
  }

  Table tasks({"id", "cgroup", "cpu"});
  for (const auto& t : s.tasks)
    tasks.add({safe_name(names.tasks, t.key), memcg_path(s, names, t.memcg),
               fmt::format("{}", t.cpu)});
  out += "tasks\n" + (tasks.empty() ? std::string("  (none)\n") : tasks.render());

  if (!s.events.empty()) {
    Table events({"event", "subject", "value"});
    for (const auto& e : s.events)
      events.add({std::string(spec::event_kind_name(e.kind)), fmt::format("{}", e.subject),
                  fmt::format("{}", e.value)});
    out += "events\n" + events.render();
  }
  out += fmt::format("pending deferred work: {}\n", s.pending_work);
  return out;
}

}  // namespace

std::string describe_op(const spec::Op& op, const TraceNames& names) {
  auto task = [&](spec::TaskKey k) { return safe_name(names.tasks, k); };
  auto obj = [&](spec::ObjKey k) { return safe_name(names.objects, k); };
  auto path = [&](spec::PathKey k) { return safe_path(names, k); };
  return std::visit(
      spec::Overloaded{
          [&](const spec::Mkdir& o) { return path(o.cg); },
          [&](const spec::Rmdir& o) { return path(o.cg); },
          [&](const spec::Spawn& o) { return fmt::format("{} in {}", task(o.task), path(o.cg)); },
          [&](const spec::Exit& o) { return task(o.task); },
          [&](const spec::Migrate& o) {
            return fmt::format("{} to {}", task(o.task), path(o.cg));
          },
          [&](const spec::RunOn& o) { return task(o.task); },
          [&](const spec::Alloc& o) {
            std::string what;
            switch (o.kind) {
              case spec::AllocKind::slab:
              case spec::AllocKind::percpu: what = fmt::format(" size {}", o.size_bytes); break;
              case spec::AllocKind::page: what = fmt::format(" order {}", o.order); break;
              case spec::AllocKind::stack: break;
            }
            if (o.cache) what += fmt::format(" from {}", safe_name(names.caches, *o.cache));
            return fmt::format("{} by {}: {}{}{}", obj(o.obj), task(o.task),
                               spec::alloc_kind_name(o.kind), what, o.nofail ? " nofail" : "");
          },
          [&](const spec::Free& o) { return obj(o.obj); },
          [&](const spec::Drain&) { return std::string(); },
          [&](const spec::DrainAll& o) { return path(o.cg); },
          [&](const spec::SetMax& o) {
            return fmt::format("{} {}", path(o.cg), opt(o.max_pages, "max"));
          },
          [&](const spec::CpuOffline&) { return std::string(); },
          [&](const spec::Quiesce&) { return std::string(); },
      },
      op);
}

namespace {

// Both sides of every differing field: {field, MODEL_A: value, MODEL_B: value}
// (values as the report's JSON text).
Json disagreement_json(const Disagreement& d) {
  Json differences = Json::array();
  for (const auto& f : d.differences)
    differences.push_back(Json{{"field", f.field}, {d.a_name, f.a_value}, {d.b_name, f.b_value}});
  return Json{{"line", d.line}, {"message", d.message}, {"differences", std::move(differences)}};
}

// The table of the fields in which the models differ: the state tables above
// show the checked model's side only.
std::string disagreement_table(const Disagreement& d) {
  Table table({"field", d.a_name, d.b_name});
  for (const auto& f : d.differences) table.add({f.field, f.a_value, f.b_value});
  return fmt::format("\n{} and {} differ after line {}\n", d.a_name, d.b_name, d.line) + table.render();
}

}  // namespace

Json report_json(const Trace& trace, const ReplayResult& result) {
  Json out = Json::object();
  if (trace.has_config) {
    out["profile"] = spec::profile_name(trace.config.profile);
    out["ncpus"] = trace.config.ncpus;
    out["page_size"] = trace.config.page_size_bytes;
  } else {
    out["profile"] = nullptr;
    out["ncpus"] = nullptr;
    out["page_size"] = nullptr;
  }
  out["file"] = shown_file(trace);
  out["model"] = model_choice_name(result.model);
  out["kernel"] = result.kernel.empty() ? Json(nullptr) : Json(result.kernel);
  Json results = Json::array();
  for (const auto& step : result.steps) {
    Json r{{"line", step.line},
           {"op", spec::op_name(step.op)},
           {"result", spec::errno_name(step.result)}};
    r["cpu"] = step.cpu ? Json(*step.cpu) : Json(nullptr);
    results.push_back(std::move(r));
  }
  out["results"] = std::move(results);
  spec::Snapshot empty;
  out.update(snapshot_json(result.snapshot ? *result.snapshot : empty, trace.names));
  Json violations = Json::array();
  std::map<std::string, std::size_t> known_counts;
  for (const auto& v : result.violations) {
    Json entry{{"invariant", v.violation.invariant},
               {"line", v.line},
               {"message", v.violation.message},
               {"known", v.violation.known()}};
    if (!v.violation.clause.empty()) entry["clause"] = v.violation.clause;
    const spec::KnownBug* bug = spec::find_known_bug(v.violation.known_bug);
    entry["known_bug"] = bug ? Json(bug->id) : Json(nullptr);
    entry["fix"] = bug ? Json(bug->fix) : Json(nullptr);
    if (bug) ++known_counts[v.violation.known_bug];
    // A design claim's violation: the profile's documented result.
    entry["expected"] = v.violation.expected();
    entry["design_claim"] = v.violation.expected() ? Json(v.violation.design_claim) : Json(nullptr);
    violations.push_back(std::move(entry));
  }
  out["violations"] = std::move(violations);
  // The known kernel bugs that explained violations, with their fix.
  Json known_bugs = Json::array();
  for (const auto& [id, n] : known_counts) {
    const spec::KnownBug& bug = *spec::find_known_bug(id);
    known_bugs.push_back(Json{{"id", bug.id},
                              {"title", bug.title},
                              {"fix", bug.fix},
                              {"fix_detail", bug.fix_detail},
                              {"function", bug.function},
                              {"invariant", bug.invariant},
                              {"violations", n}});
  }
  out["known_bugs"] = std::move(known_bugs);
  out["error"] = result.error ? Json{{"line", result.error->line},
                                     {"message", result.error->reason},
                                     {"what", result.error->what()}}
                              : Json(nullptr);
  out["disagreement"] = result.disagreement ? disagreement_json(*result.disagreement) : Json(nullptr);
  out["model_failure"] = result.model_failure ? Json{{"line", result.model_failure->line},
                                                     {"model", result.model_failure->model},
                                                     {"message", result.model_failure->message}}
                                              : Json(nullptr);
  out["data_race"] = result.data_race ? Json{{"line", result.data_race->line},
                                             {"model", result.data_race->model},
                                             {"message", result.data_race->message}}
                                      : Json(nullptr);
  out["exit"] = result.exit_code();
  out["verdict"] = result.verdict();
  return out;
}

std::string report_text(const Trace& trace, const ReplayResult& result) {
  std::string out;
  if (trace.has_config)
    out += fmt::format("{}: profile {}, {} CPUs, PAGE_SIZE {}, model {}\n\n", shown_file(trace),
                       spec::profile_name(trace.config.profile), trace.config.ncpus,
                       trace.config.page_size_bytes, model_choice_name(result.model));
  else
    out += fmt::format("{}: no usable header\n\n", shown_file(trace));
  if (!result.kernel.empty()) out += fmt::format("kernel model: {}\n\n", result.kernel);

  Table steps({"line", "op", "result", "cpu", "what"});
  auto violations_at = [&](std::size_t line) {
    for (const auto& v : result.violations)
      if (v.line == line)
        steps.add({"", v.violation.known() ? "known" : v.violation.expected() ? "design" : "!",
                   v.violation.invariant, "",
                   v.violation.known()
                       ? fmt::format("{} [known kernel bug {}, fixed by {}]", v.violation.message,
                                     v.violation.known_bug,
                                     spec::find_known_bug(v.violation.known_bug)->fix)
                       : v.violation.message});
  };
  violations_at(1);  // the initial state
  for (const auto& step : result.steps) {
    steps.add({fmt::format("{}", step.line), std::string(spec::op_name(step.op)),
               std::string(spec::errno_name(step.result)), opt(step.cpu),
               describe_op(step.op, trace.names)});
    violations_at(step.line);
  }
  out += "results\n" + (steps.empty() ? std::string("  (none)\n") : steps.render());
  if (result.snapshot) out += "\n" + state_tables(*result.snapshot, trace.names);
  if (result.disagreement && !result.disagreement->differences.empty())
    out += disagreement_table(*result.disagreement);
  out += fmt::format("\nverdict: {}\n", result.verdict());
  return out;
}

}  // namespace mv::trace
