#include "explore/race_search.h"

#include <array>
#include <chrono>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "overlay/overlay.h"
#include "properties/injected_fault.h"
#include "reference/model.h"
#include "trace/driver.h"
#include "trace/trace_reader.h"
#include "trace/trace_writer.h"

namespace mv::explore {

namespace {

using Json = nlohmann::ordered_json;

std::string header_line(const spec::Config& config) { return trace::trace_header_json(config).dump(); }

trace::Trace read_text(const std::string& jsonl, const std::string& file) {
  std::istringstream in(jsonl);
  return trace::read_trace(in, file);
}

std::unique_ptr<spec::Model> make_model(const trace::Trace& t, spec::Mutant mutant) {
  if (overlay::is_overlay(mutant)) return overlay::make_overlay_model(t.config, t.names.paths, mutant);
  return reference::make_reference_model(t.config, t.names.paths);
}

trace::ReplayResult replay_race_as(const std::string& jsonl, spec::Mutant mutant,
                                   properties::InjectedFault fault) {
  auto t = read_text(jsonl, "race-search.jsonl");
  if (fault == properties::InjectedFault::none)
    return trace::replay(t, trace::ModelChoice::reference, mutant);
  std::vector<trace::NamedModel> models;
  models.push_back({"reference", properties::with_injected_fault_on_next_op(make_model(t, mutant), fault)});
  return trace::replay_models(t, std::move(models), trace::ModelChoice::reference);
}

// One replay of the search, `mutant` in the reference's seat: the hook sees
// the trace first.
trace::ReplayResult replay_candidate(const RaceSearchOptions& options, const std::string& program,
                                     const std::string& jsonl, spec::Mutant mutant) {
  if (options.before_replay) options.before_replay(program, jsonl);
  return replay_race_as(jsonl, mutant, options.fault);
}

// An operation of a thread, by its place: thread `thread`, operation `index`.
struct Place {
  std::size_t thread = 0, index = 0;
};
using Merge = std::vector<Place>;

// Every interleaving of the threads' operations, each thread's in program
// order, in lexicographic order of the thread sequence.
void merges(const std::vector<std::size_t>& lengths, std::vector<std::size_t>& next, Merge& prefix,
            std::vector<Merge>& out) {
  bool any = false;
  for (std::size_t t = 0; t < lengths.size(); ++t) {
    if (next[t] == lengths[t]) continue;
    any = true;
    prefix.push_back({t, next[t]++});
    merges(lengths, next, prefix, out);
    --next[t];
    prefix.pop_back();
  }
  if (!any) out.push_back(prefix);
}

// Counts the preemption points each operation of a sequential run reaches.
class PointRecorder final : public spec::Scheduler {
 public:
  void at_point(spec::PreemptPoint point) override { ++(*current)[point]; }
  std::map<spec::PreemptPoint, std::uint32_t>* current = nullptr;
};

// The points each line of `merge` reaches when it runs without preemption
// (index: the place in the merge); lines past a trace error reach none.
std::vector<std::map<spec::PreemptPoint, std::uint32_t>> record_points(const std::string& jsonl,
                                                                     std::size_t setup_lines,
                                                                     spec::Mutant mutant) {
  trace::Trace t = read_text(jsonl, "race-search.jsonl");
  std::vector<std::map<spec::PreemptPoint, std::uint32_t>> points(t.ops.size());
  if (!t.has_config) return {};
  auto model = make_model(t, mutant);
  PointRecorder recorder;
  model->set_scheduler(&recorder);
  trace::Driver driver(t.config);
  for (std::size_t i = 0; i < t.ops.size(); ++i) {
    auto resolved = driver.resolve(t.ops[i], t.names);
    if (!resolved.op) break;
    recorder.current = &points[i];
    auto result = model->apply(*resolved.op);
    driver.observe(*resolved.op, result, t.ops[i].line);
  }
  model->set_scheduler(nullptr);
  points.erase(points.begin(), points.begin() + static_cast<std::ptrdiff_t>(std::min(setup_lines, points.size())));
  return points;
}

// One candidate: the merge, with the operation at `stopped` (if any)
// preempted at `point` (`hit`) and resumed after the `resume_after` lines
// that follow it.
struct Candidate {
  std::optional<std::size_t> stopped;
  spec::PreemptPoint point{};
  std::uint32_t hit = 1;
  std::size_t resume_after = 0;
};

std::string op_id(const Place& p) { return fmt::format("cpu{}-op{}", p.thread, p.index); }

std::string race_trace(const RaceProgram& program, const Merge& merge, const Candidate& c) {
  std::string out = header_line(program.config) + "\n";
  for (const auto& line : program.setup) out += line + "\n";
  std::optional<std::size_t> resume_at;
  for (std::size_t i = 0; i < merge.size(); ++i) {
    const Place& p = merge[i];
    const std::string& line = program.threads[p.thread][p.index];
    if (c.stopped && *c.stopped == i) {
      Json j = Json::parse(line);
      j["preempt_at"] = std::string(spec::preempt_point_name(c.point));
      if (c.hit != 1) j["preempt_hit"] = c.hit;
      j["id"] = op_id(p);
      out += j.dump() + "\n";
      resume_at = i + c.resume_after;
    } else {
      out += line + "\n";
    }
    if (resume_at && *resume_at == i)
      out += Json{{"op", "resume"}, {"id", op_id(merge[*c.stopped])}}.dump() + "\n";
  }
  out += R"({"op":"quiesce"})" "\n";
  return out;
}

// The lines of the other threads that follow place i before the next one of
// its own thread (those can run while it is stopped).
std::size_t others_after(const Merge& merge, std::size_t i) {
  std::size_t n = 0;
  for (std::size_t j = i + 1; j < merge.size() && merge[j].thread != merge[i].thread; ++j) ++n;
  return n;
}

enum class Outcome { pass, fail, infeasible };

Outcome outcome_of(const trace::ReplayResult& r) {
  if (r.error) return Outcome::infeasible;
  return r.exit_code() == 0 ? Outcome::pass : Outcome::fail;
}

RaceFailure failure_of(const RaceProgram& program, const trace::ReplayResult& r,
                       const std::string& jsonl) {
  RaceFailure f;
  f.program = program.name;
  f.verdict = r.verdict();
  f.trace_jsonl = jsonl;
  if (r.model_failure) {
    f.kind = "model_failure";
    f.message = r.model_failure->message;
    f.line = r.model_failure->line;
  } else if (r.disagreement) {
    f.kind = "disagreement";
    f.message = r.disagreement->message;
    f.line = r.disagreement->line;
  } else if (r.data_race) {
    f.kind = "data_race";
    f.message = r.data_race->message;
    f.line = r.data_race->line;
  } else {
    f.kind = "violation";
    for (const auto& v : r.violations) {
      if (v.violation.explained()) continue;
      f.what = v.violation.invariant;
      f.message = fmt::format("{}: {}", v.violation.invariant, v.violation.message);
      f.line = v.line;
      break;
    }
  }
  return f;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

// Whether a line stops or resumes an operation (it stays in a shrunk trace).
bool race_line(const std::string& line) {
  return line.find("\"preempt_at\"") != std::string::npos ||
         line.find("\"op\":\"resume\"") != std::string::npos;
}

// Drops operation lines (the race lines stay) one at a time while the trace
// still fails the same way (kind and invariant), to a fixpoint.
RaceFailure shrink(const RaceProgram& program, RaceFailure f, const RaceSearchOptions& options) {
  auto lines = split_lines(f.trace_jsonl);
  f.original_ops = lines.size() - 1;
  for (bool changed = true; changed;) {
    changed = false;
    for (std::size_t i = lines.size(); i-- > 1;) {
      if (race_line(lines[i])) continue;
      auto fewer = lines;
      fewer.erase(fewer.begin() + static_cast<std::ptrdiff_t>(i));
      const std::string text = join_lines(fewer);
      auto r = replay_candidate(options, program.name, text, options.mutant);
      if (outcome_of(r) != Outcome::fail) continue;
      auto g = failure_of(program, r, text);
      if (g.kind != f.kind || g.what != f.what) continue;
      g.original_ops = f.original_ops;
      f = g;
      lines = std::move(fewer);
      changed = true;
    }
  }
  f.ops = lines.size() - 1;
  return f;
}

// --- programs ----------------------------------------------------------------

std::string alloc_line(const std::string& task, const std::string& obj, const std::string& cache) {
  return Json{{"op", "alloc"}, {"task", task}, {"obj", obj}, {"kind", "slab"}, {"size", 64},
              {"cache", cache}}
      .dump();
}

spec::Config two_cpus(spec::Profile profile) {
  spec::Config c;
  c.profile = profile;
  c.ncpus = 2;
  c.page_size_bytes = 4096;
  return c;
}

}  // namespace

std::vector<RaceProgram> race_programs(spec::Profile profile) {
  std::vector<RaceProgram> out;
  // Seed 002's four steps: t (CPU 0) allocates from its memcg's existing,
  // empty dentry cache while CPU 1 moves it out and removes the cgroup.
  out.push_back({"move_and_destroy",
                 "seed 002: an allocation from the memcg's cache against the task's move, the "
                 "rmdir and the offline and free of the memcg",
                 two_cpus(profile),
                 {R"({"op":"mkdir","cg":"/a"})", R"({"op":"spawn","task":"t","cg":"/a","cpu":0})",
                  alloc_line("t", "warm", "dentry"), R"({"op":"quiesce"})"},
                 {{alloc_line("t", "o", "dentry"), R"({"op":"free","obj":"o","cpu":0})"},
                  {R"({"op":"migrate","task":"t","cg":"/","cpu":1})",
                   R"({"op":"rmdir","cg":"/a","cpu":1})", R"({"op":"quiesce"})"}}});
  // A free on CPU 0 of the last object of a dying memcg's cache, against
  // another allocation and the deferred work on CPU 1.
  out.push_back({"free_vs_offline",
                 "the last free of a removed cgroup's slab page against an allocation into the "
                 "same cache by another cgroup and the deferred offline",
                 two_cpus(profile),
                 {R"({"op":"mkdir","cg":"/a"})", R"({"op":"mkdir","cg":"/b"})",
                  R"({"op":"spawn","task":"t","cg":"/a","cpu":0})",
                  R"({"op":"spawn","task":"u","cg":"/b","cpu":1})", alloc_line("t", "w", "dentry"),
                  alloc_line("u", "v", "dentry"), R"({"op":"quiesce"})", alloc_line("t", "o", "dentry"),
                  R"({"op":"migrate","task":"t","cg":"/","cpu":0})", R"({"op":"rmdir","cg":"/a"})"},
                 {{R"({"op":"free","obj":"o","cpu":0})", R"({"op":"drain","cpu":0})"},
                  {alloc_line("u", "p", "dentry"), R"({"op":"quiesce"})"}}});
  return out;
}

RaceProgram random_race_program(spec::Profile profile, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  RaceProgram p;
  p.name = fmt::format("random-{}", seed);
  p.about = "a random program";
  p.config = two_cpus(profile);
  const std::array<std::string, 2> cgroups = {"/a", "/b"};
  const std::array<std::string, 2> tasks = {"t0", "t1"};
  const std::array<std::string, 2> caches = {"dentry", "inode"};
  p.setup = {R"({"op":"mkdir","cg":"/a"})", R"({"op":"mkdir","cg":"/b"})"};
  for (std::size_t cpu = 0; cpu < 2; ++cpu)
    p.setup.push_back(Json{{"op", "spawn"}, {"task", tasks[cpu]}, {"cg", cgroups[cpu]}, {"cpu", cpu}}.dump());
  // Warm caches: the memcg caches exist (the creation work has run).
  for (std::size_t cpu = 0; cpu < 2; ++cpu)
    p.setup.push_back(alloc_line(tasks[cpu], fmt::format("w{}", cpu), caches[pick(2)]));
  p.setup.push_back(R"({"op":"quiesce"})");
  p.threads.resize(2);
  for (std::size_t cpu = 0; cpu < 2; ++cpu) {
    const std::size_t n = 2 + pick(2);
    std::vector<std::string> live;  // this thread's objects
    for (std::size_t i = 0; i < n; ++i) {
      const auto me = Json(cpu);
      switch (pick(live.empty() ? 6 : 7)) {
        case 0:
        case 1: {
          std::string obj = fmt::format("o{}.{}", cpu, i);
          p.threads[cpu].push_back(alloc_line(tasks[cpu], obj, caches[pick(2)]));
          live.push_back(obj);
          break;
        }
        case 2:
          p.threads[cpu].push_back(
              Json{{"op", "migrate"}, {"task", tasks[pick(2)]}, {"cg", pick(2) ? std::string("/") : cgroups[pick(2)]},
                   {"cpu", me}}.dump());
          break;
        case 3:
          p.threads[cpu].push_back(Json{{"op", "rmdir"}, {"cg", cgroups[pick(2)]}, {"cpu", me}}.dump());
          break;
        case 4: p.threads[cpu].push_back(R"({"op":"quiesce"})"); break;
        case 5: p.threads[cpu].push_back(Json{{"op", "drain"}, {"cpu", me}}.dump()); break;
        case 6: {
          const std::size_t k = pick(live.size());
          p.threads[cpu].push_back(Json{{"op", "free"}, {"obj", live[k]}, {"cpu", me}}.dump());
          live.erase(live.begin() + static_cast<std::ptrdiff_t>(k));
          break;
        }
      }
    }
  }
  return p;
}

trace::ReplayResult replay_race(const std::string& jsonl, spec::Mutant mutant) {
  return replay_race_as(jsonl, mutant, properties::InjectedFault::none);
}

RaceSearchResult race_search(const RaceSearchOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  RaceSearchResult result;
  std::vector<RaceProgram> programs =
      options.programs.empty() ? race_programs(options.profile) : options.programs;
  for (std::uint64_t i = 0; i < options.random_programs; ++i)
    programs.push_back(random_race_program(options.profile, options.seed + i));
  bool all_complete = true;
  for (const auto& program : programs) {
    RaceProgramStats stats;
    stats.name = program.name;
    std::vector<std::size_t> lengths, next(program.threads.size(), 0);
    for (const auto& t : program.threads) lengths.push_back(t.size());
    std::vector<Merge> all;
    Merge prefix;
    merges(lengths, next, prefix, all);
    std::set<std::string> seen;
    bool stopped_early = false;
    // Replays one candidate; true when the search stops (failure or budget).
    auto run = [&](const std::string& text) {
      if (!seen.insert(text).second) return false;
      if (result.schedules >= options.schedules) {
        stopped_early = true;
        return true;
      }
      auto r = replay_candidate(options, program.name, text, options.mutant);
      const Outcome o = outcome_of(r);
      if (o == Outcome::infeasible) {
        ++stats.infeasible;
        ++result.infeasible;
        return false;
      }
      ++stats.schedules;
      ++result.schedules;
      if (options.progress) options.progress(result.schedules, options.schedules);
      if (o == Outcome::pass) return false;
      RaceFailure f = failure_of(program, r, text);
      f.original_ops = f.ops = split_lines(text).size() - 1;
      if (options.shrink) f = shrink(program, f, options);
      const auto replayed = [&](spec::Mutant m) {
        return outcome_of(replay_candidate(options, program.name, f.trace_jsonl, m));
      };
      f.reproduces = replayed(options.mutant) == Outcome::fail &&
                     (options.mutant == spec::Mutant::none || replayed(spec::Mutant::none) == Outcome::pass);
      result.failure = std::move(f);
      result.schedule_of_failure = result.schedules;
      return true;
    };
    bool done = false;
    for (const auto& merge : all) {
      if (done) break;
      const std::string plain = race_trace(program, merge, {});
      if ((done = run(plain))) break;
      const auto points = record_points(plain, program.setup.size(), options.mutant);
      for (std::size_t i = 0; i < merge.size() && !done && i < points.size(); ++i) {
        const std::size_t window = others_after(merge, i);
        for (const auto& [point, count] : points[i]) {
          for (std::uint32_t hit = 1; hit <= std::min(count, kMaxHits) && !done; ++hit)
            for (std::size_t k = 1; k <= window && !done; ++k)
              done = run(race_trace(program, merge, Candidate{i, point, hit, k}));
          if (done) break;
        }
      }
    }
    stats.complete = !done && !stopped_early;
    all_complete = all_complete && stats.complete;
    result.programs.push_back(stats);
    if (result.failure || stopped_early) break;
  }
  result.search_complete = all_complete && result.programs.size() == programs.size();
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace mv::explore
