#include "explore/explore.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <sstream>
#include <tuple>

#include <fmt/format.h>

#include "explore/explore_guard.h"
#include "explore/linearize.h"
#include "impl/sched_build.h"
#include "properties/failure_trace.h"
#include "spec/invariants.h"
#include "trace/replay.h"
#include "trace/trace_writer.h"

namespace mv::explore {

PreparedHarness prepare(Harness harness) {
  PreparedHarness p{std::move(harness), {}, {}};
  for (const auto& t : p.harness.threads) {
    p.threads.emplace_back();
    for (const auto& op : t) p.threads.back().push_back(op.op);
  }
  p.reference_setup = reference::boot_kernel(p.harness.config, p.harness.names.paths);
  for (const auto& op : p.harness.setup) reference::apply_op(p.reference_setup, op.op);
  return p;
}

namespace {

// The operation a multi-operation step is checked with: the one that ran,
// else a nofail alloc among them (its forced charge may exceed max), else none.
const spec::Op* step_op(const std::vector<OpRecord>& ops, std::size_t from, spec::Errno& result) {
  result = spec::Errno::ok;
  if (ops.size() == from + 1) {
    result = ops.back().result;
    return &ops.back().op;
  }
  const spec::Op* found = nullptr;
  for (std::size_t i = from; i < ops.size(); ++i)
    if (const auto* a = std::get_if<spec::Alloc>(&ops[i].op); a && a->nofail) found = &ops[i].op;
  return found;
}

Failure violation_failure(const PreparedHarness& h, const std::vector<spec::Violation>& found,
                          std::size_t step) {
  Failure f;
  f.harness = h.harness.name;
  f.kind = "violation";
  f.what = found.front().invariant;
  f.message = fmt::format("{}: {}", found.front().invariant, found.front().message);
  f.step = step;
  return f;
}

}  // namespace

ScheduleResult run_schedule(const PreparedHarness& h, spec::Mutant mutant, Strategy& strategy,
                            Scheduler& scheduler, std::size_t max_linearize_ops) {
  ScheduleResult out;
  auto model = impl_sched::make_impl_model(h.harness.config, h.harness.names.paths, mutant);
  for (const auto& op : h.harness.setup) model->apply(op.op);
  model = properties::with_injected_fault_on_next_op(std::move(model), h.fault);
  spec::Monitor monitor(h.harness.config, &h.harness.names.paths);
  monitor.set_concurrent();
  spec::Snapshot before = model->snapshot();
  std::size_t checked_ops = 0;
  bool initial = true;
  auto note_known = [&](const std::vector<spec::Violation>& violations) {
    for (const auto& v : violations)
      if (v.known()) out.known_bugs.insert(v.known_bug);
  };
  auto check = [&](const RunRecord& run, std::size_t step) {
    spec::Snapshot after = model->snapshot();
    spec::Errno result = spec::Errno::ok;
    const spec::Op* op = initial ? nullptr : step_op(run.ops, checked_ops, result);
    // A violation a known kernel bug of the profile explains is no failure.
    auto all = monitor.check(spec::Step{initial ? nullptr : &before, op, result, &after});
    note_known(all);
    auto found = spec::unexplained(all);
    initial = false;
    checked_ops = run.ops.size();
    before = std::move(after);
    if (found.empty()) return false;
    out.failure = violation_failure(h, found, step);
    return true;
  };
  out.run = scheduler.run(*model, h.threads, strategy, check);
  const auto& run = out.run;
  if (!out.failure && run.problem) {
    if (run.problem->kind == "pruned") {
      out.pruned = true;
      return out;
    }
    if (run.problem->kind == "step_limit") {
      out.step_limited = true;
      return out;
    }
    Failure f;
    f.harness = h.harness.name;
    f.kind = run.problem->kind;
    f.message = run.problem->message;
    f.step = run.problem->step;
    out.failure = f;
  }
  if (out.failure || !run.finished) return out;
  const std::size_t end = run.decisions.size();
  if (check(run, end)) return out;
  // The final quiesce: every deferred item now runs (no scheduler).
  model->apply(spec::Quiesce{});
  spec::Snapshot final_state = model->snapshot();
  spec::Op quiesce = spec::Quiesce{};
  auto all = monitor.check(spec::Step{&before, &quiesce, spec::Errno::ok, &final_state});
  note_known(all);
  auto found = spec::unexplained(all);
  if (!found.empty()) {
    out.failure = violation_failure(h, found, end);
    return out;
  }
  Linearization lin = linearize(h.harness, h.reference_setup, run.ops, final_state, max_linearize_ops);
  out.linearizability_checked = lin.checked;
  if (lin.checked && !lin.ok) {
    Failure f;
    f.harness = h.harness.name;
    f.kind = "linearizability";
    f.message = fmt::format("no sequential order of the CPUs' operations (each CPU's in its "
                            "program order, {} tried to the end) explains the run: {}",
                            lin.orders_tried, lin.message);
    f.step = end;
    out.failure = f;
  }
  return out;
}

// --- tokens -----------------------------------------------------------------

std::string schedule_token(std::string_view harness, spec::Mutant mutant, const Schedule& schedule) {
  std::string segments;
  for (const auto& s : schedule)
    segments += fmt::format("{}{}*{}", segments.empty() ? "" : ",", s.thread, s.count);
  return fmt::format("mvx1:{}:{}:{}", harness, spec::mutant_name(mutant), segments);
}

std::optional<Token> parse_token(std::string_view text) {
  auto next = [&](std::string_view& rest) {
    auto colon = rest.find(':');
    std::string_view part = rest.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
    return part;
  };
  std::string_view rest = text;
  if (next(rest) != "mvx1") return std::nullopt;
  Token token;
  token.harness = std::string(next(rest));
  auto mutant = spec::parse_mutant(next(rest));
  if (token.harness.empty() || !mutant) return std::nullopt;
  token.mutant = *mutant;
  std::string_view segments = rest;
  while (!segments.empty()) {
    auto comma = segments.find(',');
    std::string_view seg = segments.substr(0, comma);
    segments = comma == std::string_view::npos ? std::string_view{} : segments.substr(comma + 1);
    auto star = seg.find('*');
    if (star == std::string_view::npos) return std::nullopt;
    Segment s;
    auto number = [](std::string_view digits, std::uint32_t& out) {
      if (digits.empty() || digits.size() > 9) return false;
      out = 0;
      for (char ch : digits) {
        if (ch < '0' || ch > '9') return false;
        out = out * 10 + static_cast<std::uint32_t>(ch - '0');
      }
      return true;
    };
    if (!number(seg.substr(0, star), s.thread) || !number(seg.substr(star + 1), s.count) ||
        s.count == 0)
      return std::nullopt;
    token.schedule.push_back(s);
  }
  return token;
}

ScheduleResult replay_token(const Token& token, std::size_t max_linearize_ops,
                            properties::InjectedFault fault) {
  auto harness = harness_named(token.harness);
  if (!harness) throw std::invalid_argument("unknown harness \"" + token.harness + "\"");
  PreparedHarness p = prepare(std::move(*harness));
  p.fault = fault;
  Scheduler scheduler(Scheduler::Options{});
  GuidedStrategy guided(token.schedule);
  guided.next_schedule();
  return run_schedule(p, token.mutant, guided, scheduler, max_linearize_ops);
}

std::string schedule_log(const Harness& harness, const RunRecord& run) {
  static constexpr const char* kAccess[] = {"load",   "store",      "rmw",         "lock", "trylock",
                                            "unlock", "plain load", "plain store", "local"};
  std::string out;
  for (std::size_t i = 0; i < run.points.size(); ++i) {
    const auto& p = run.points[i];
    std::string where;
    switch (p.kind) {
      case PointKind::op_start: where = "before its next operation"; break;
      case PointKind::op_end: where = "after its operation"; break;
      case PointKind::access: where = kAccess[static_cast<int>(p.access)]; break;
      case PointKind::named: where = std::string(spec::preempt_point_name(p.point)); break;
      case PointKind::thread_end: where = "its end"; break;
    }
    if (p.kind == PointKind::op_start && p.chosen == p.thread && p.op < harness.threads[p.thread].size())
      out += fmt::format("{:>5}  CPU {} starts {}\n", i, p.thread,
                         trace::trace_line_json(harness.threads[p.thread][p.op], harness.names).dump());
    else if (p.kind == PointKind::named)
      out += fmt::format("{:>5}  CPU {} reaches {}\n", i, p.thread, where);
    if (p.chosen != p.thread)
      out += fmt::format("{:>5}  switch: CPU {} ({}{}) -> CPU {}\n", i, p.thread,
                         p.blocked ? "waiting, " : "", where, p.chosen);
  }
  for (const auto& op : run.ops)
    out += fmt::format("  CPU {} op {}: {} -> {}\n", op.thread, op.index + 1, spec::op_name(op.op),
                       spec::errno_name(op.result));
  return out;
}

// --- shrinking and race traces ---------------------------------------------

namespace {

bool same_failure(const std::optional<Failure>& got, const Failure& want) {
  return got && got->kind == want.kind && got->what == want.what;
}

std::size_t count_preemptions(const RunRecord& run) { return preemptions(run.schedule, run.decisions); }

// A failing schedule made smaller, one accepted change at a time.
class Shrinker {
 public:
  Shrinker(PreparedHarness h, spec::Mutant mutant, std::size_t max_linearize_ops,
           std::size_t max_tries)
      : h_(std::move(h)), mutant_(mutant), max_lin_(max_linearize_ops), tries_left_(max_tries) {}

  // `run` failed with `failure`; returns the smallest found.
  void shrink(ScheduleResult result) {
    best_ = std::move(result);
    bool changed = true;
    while (changed && tries_left_ > kNamedPointTries) {
      changed = drop_operations() | drop_segments();
    }
    to_named_points();
  }

  // Tries kept for moving the switches to named points at the end.
  static constexpr std::size_t kNamedPointTries = 64;

  const PreparedHarness& harness() const { return h_; }
  const ScheduleResult& best() const { return best_; }

 private:
  std::optional<ScheduleResult> attempt(const PreparedHarness& h, const Schedule& schedule) {
    if (tries_left_ == 0) return std::nullopt;
    --tries_left_;
    GuidedStrategy guided(schedule);
    guided.next_schedule();
    auto r = run_schedule(h, mutant_, guided, scheduler_, max_lin_);
    if (!same_failure(r.failure, *best_.failure)) return std::nullopt;
    return r;
  }

  // Every operation the failure does not need, set-up included.
  bool drop_operations() {
    bool changed = false;
    auto try_without = [&](auto drop) {
      Harness smaller = h_.harness;
      drop(smaller);
      if (!resolve_harness(smaller).empty()) return false;
      PreparedHarness p = prepare(std::move(smaller));
      auto r = attempt(p, best_.run.schedule);
      if (!r) return false;
      h_ = std::move(p);
      best_ = std::move(*r);
      return true;
    };
    for (std::size_t t = 0; t < h_.harness.threads.size(); ++t)
      for (std::size_t i = h_.harness.threads[t].size(); i-- > 0;)
        changed |= try_without([t, i](Harness& x) { drop_thread_op(x, t, i); });
    for (std::size_t i = h_.harness.setup.size(); i-- > 0;)
      changed |= try_without([i](Harness& x) { drop_setup_op(x, i); });
    return changed;
  }

  // Fewer preemptions, else fewer segments, else fewer scheduling points: a
  // strict order, so that the shrinking loop ends.
  static bool smaller(const RunRecord& a, const RunRecord& b) {
    return std::tuple(count_preemptions(a), a.schedule.size(), a.decisions.size()) <
           std::tuple(count_preemptions(b), b.schedule.size(), b.decisions.size());
  }

  // Every switch the failure does not need: drop a segment of the schedule.
  bool drop_segments() {
    bool changed = false;
    for (std::size_t i = best_.run.schedule.size(); i-- > 0;) {
      if (i >= best_.run.schedule.size()) continue;
      Schedule fewer = best_.run.schedule;
      fewer.erase(fewer.begin() + static_cast<long>(i));
      auto r = attempt(h_, fewer);
      if (!r || !smaller(r->run, best_.run)) continue;
      best_ = std::move(*r);
      changed = true;
    }
    return changed;
  }

  // A switch away from a thread in the middle of an operation, at a plain
  // access, cannot be written as a race trace: try moving it to the named
  // point just before or after it in that thread.
  void to_named_points() {
    for (int round = 0; round < 8 && tries_left_ > 0; ++round) {
      auto bad = first_unnamed_switch(best_.run);
      if (!bad) return;
      bool moved = false;
      for (long delta : candidate_moves(best_.run, *bad)) {
        Schedule s = best_.run.schedule;
        if (!shift_switch(s, *bad, delta)) continue;
        if (auto r = attempt(h_, s)) {
          best_ = std::move(*r);
          moved = true;
          break;
        }
      }
      if (!moved) break;
    }
    if (first_unnamed_switch(best_.run)) to_one_named_preemption();
  }

  // The last resort for a race trace: a schedule with a single preemption,
  // at a named point. Thread t runs first without preemption (switching only
  // between operations) until the k-th named point it reaches, where thread u
  // takes over; the first such schedule with the same failure and no switch
  // at an unnamed point wins (a few runs per named point of the harness).
  void to_one_named_preemption() {
    const auto nr_threads = static_cast<std::uint32_t>(h_.harness.threads.size());
    for (std::uint32_t t = 0; t < nr_threads; ++t) {
      if (tries_left_ == 0) return;
      --tries_left_;
      // t for as long as it can run (a segment that ends early gives up the
      // rest), also across its operation boundaries.
      GuidedStrategy first(Schedule{{t, ~std::uint32_t{0}}});
      first.next_schedule();
      const RunRecord base = run_schedule(h_, mutant_, first, scheduler_, max_lin_).run;
      for (std::size_t i = 0; i < base.points.size(); ++i) {
        const auto& p = base.points[i];
        if (p.kind != PointKind::named || p.thread != t || p.chosen != t) continue;
        for (std::uint32_t u = 0; u < nr_threads; ++u) {
          if (u == t) continue;
          Schedule s = first_choices(base.schedule, i);
          append_choice(s, u);
          if (auto r = attempt(h_, s); r && !first_unnamed_switch(r->run)) {
            best_ = std::move(*r);
            return;
          }
        }
      }
    }
  }

  // The first n choices of a schedule.
  static Schedule first_choices(const Schedule& schedule, std::size_t n) {
    Schedule out;
    for (const auto& seg : schedule) {
      if (n == 0) break;
      const auto take = static_cast<std::uint32_t>(std::min<std::size_t>(seg.count, n));
      out.push_back(Segment{seg.thread, take});
      n -= take;
    }
    return out;
  }

  // The decision index of the first switch at an unnamed point mid-operation.
  static std::optional<std::size_t> first_unnamed_switch(const RunRecord& run) {
    for (std::size_t i = 0; i < run.points.size(); ++i) {
      const auto& p = run.points[i];
      if (p.chosen != p.thread && p.in_op && p.kind == PointKind::access) return i;
    }
    return std::nullopt;
  }

  // Distances (in the switching thread's own points) to its nearest named
  // points or operation boundaries before and after decision `at`.
  static std::vector<long> candidate_moves(const RunRecord& run, std::size_t at) {
    const std::uint32_t t = run.points[at].thread;
    std::vector<long> out;
    long back = 0;
    for (std::size_t i = at; i-- > 0;) {
      if (run.points[i].thread != t || run.points[i].chosen != t) continue;
      --back;
      if (run.points[i].kind == PointKind::named) {
        out.push_back(back);
        break;
      }
      if (run.points[i].kind == PointKind::op_start || run.points[i].kind == PointKind::op_end)
        break;
    }
    long fwd = 0;
    for (std::size_t i = at + 1; i < run.points.size(); ++i) {
      if (run.points[i].thread != t) continue;
      ++fwd;
      if (run.points[i].kind == PointKind::named || run.points[i].kind == PointKind::op_start ||
          run.points[i].kind == PointKind::op_end) {
        out.push_back(fwd);
        break;
      }
    }
    return out;
  }

  // Moves the switch at decision `at` (the end of the segment before it) by
  // `delta` of that thread's points (its next segment gives or takes them).
  static bool shift_switch(Schedule& s, std::size_t at, long delta) {
    std::size_t pos = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
      pos += s[i].count;
      if (pos != at) continue;
      // s[i] ends just before decision `at` (the switch: the first choice of
      // the next segment). Find the thread's next segment.
      const std::uint32_t t = s[i].thread;
      std::size_t j = i + 1;
      while (j < s.size() && s[j].thread != t) ++j;
      if (delta < 0) {
        if (static_cast<long>(s[i].count) <= -delta) return false;
        s[i].count -= static_cast<std::uint32_t>(-delta);
        // Without a next segment the thread gets its points back anyway: a
        // schedule that runs out goes on with the current thread.
        if (j < s.size()) s[j].count += static_cast<std::uint32_t>(-delta);
      } else {
        s[i].count += static_cast<std::uint32_t>(delta);
        if (j < s.size()) {
          if (s[j].count <= static_cast<std::uint32_t>(delta))
            s.erase(s.begin() + static_cast<long>(j));
          else
            s[j].count -= static_cast<std::uint32_t>(delta);
        }
      }
      return true;
    }
    return false;
  }

  PreparedHarness h_;
  spec::Mutant mutant_;
  std::size_t max_lin_;
  std::size_t tries_left_;
  Scheduler scheduler_{Scheduler::Options{}};
  ScheduleResult best_;
};

// The schedule as a race trace: lines in the order the operations started
// or resumed, each stopped one with its preemption point; nullopt when a
// thread was switched away at a point that has no name.
std::optional<std::string> race_trace_of(const Harness& h, const RunRecord& run,
                                         const std::string& note) {
  struct ThreadState {
    std::size_t next_op = 0;
    bool in_op = false;
    enum class At { nothing, op_start, named } suspended = At::nothing;
    std::size_t open_line = 0;  // index in lines of the op's last start/resume
    std::map<spec::PreemptPoint, std::uint32_t> hits;
  };
  std::vector<ThreadState> threads(h.threads.size());
  std::vector<trace::TraceOp> lines;
  auto id_of = [](std::uint32_t t, std::size_t op) { return fmt::format("cpu{}-op{}", t, op + 1); };
  auto start = [&](std::uint32_t t) {
    ThreadState& s = threads[t];
    trace::TraceOp line = h.threads[t][s.next_op];
    lines.push_back(line);
    s.open_line = lines.size() - 1;
    s.in_op = true;
    s.hits.clear();
  };
  auto resume = [&](std::uint32_t t) {
    ThreadState& s = threads[t];
    trace::TraceOp line;
    line.resume = true;
    line.id = id_of(t, s.next_op);
    lines.push_back(line);
    s.open_line = lines.size() - 1;
    s.hits.clear();
  };
  auto continue_thread = [&](std::uint32_t t) {
    ThreadState& s = threads[t];
    if (s.suspended == ThreadState::At::op_start) start(t);
    if (s.suspended == ThreadState::At::named) resume(t);
    s.suspended = ThreadState::At::nothing;
  };
  for (const auto& p : run.points) {
    ThreadState& s = threads[p.thread];
    if (p.kind == PointKind::op_end && s.in_op) {  // the operation is complete
      s.in_op = false;
      ++s.next_op;
    }
    if (p.kind == PointKind::named) ++s.hits[p.point];
    if (p.kind != PointKind::thread_end && p.chosen == p.thread) {
      if (p.kind == PointKind::op_start) start(p.thread);
      continue;
    }
    // p.thread stops here (or ended), p.chosen goes on.
    switch (p.kind) {
      case PointKind::op_start: s.suspended = ThreadState::At::op_start; break;
      case PointKind::op_end: break;  // between operations: nothing to resume
      case PointKind::named: {
        s.suspended = ThreadState::At::named;
        trace::TraceOp& line = lines[s.open_line];
        line.preempt = trace::PreemptRequest{p.point, s.hits[p.point]};
        line.id = id_of(p.thread, s.next_op);
        break;
      }
      case PointKind::access:
        if (s.in_op) return std::nullopt;
        break;
      case PointKind::thread_end: break;
    }
    continue_thread(p.chosen);
  }
  // Whatever is still stopped goes on to its end, then the final quiesce.
  for (std::uint32_t t = 0; t < threads.size(); ++t)
    if (threads[t].suspended == ThreadState::At::named) resume(t);
  trace::TraceOp quiesce;
  quiesce.op = spec::Quiesce{};
  lines.push_back(quiesce);
  std::string out = trace::trace_header_json(h.config, note).dump() + "\n";
  for (const auto& op : h.setup) out += trace::trace_line_json(op, h.names).dump() + "\n";
  for (const auto& line : lines) out += trace::trace_line_json(line, h.names).dump() + "\n";
  return out;
}

// The harness's operations in the order they completed, for a failure that
// no race trace can show (the token then says how they interleaved).
std::string plain_trace_of(const Harness& h, const RunRecord& run, const std::string& note) {
  std::string out = trace::trace_header_json(h.config, note).dump() + "\n";
  for (const auto& op : h.setup) out += trace::trace_line_json(op, h.names).dump() + "\n";
  for (const auto& op : run.ops) out += trace::trace_line_json(h.threads[op.thread][op.index], h.names).dump() + "\n";
  return out;
}

void write_up(Failure& f, const Shrinker& shrinker, spec::Mutant mutant) {
  const auto& h = shrinker.harness().harness;
  const auto& best = shrinker.best();
  f.kind = best.failure->kind;
  f.what = best.failure->what;
  f.message = best.failure->message;
  f.step = best.failure->step;
  f.token = schedule_token(h.full_name(), mutant, best.run.schedule);
  f.ops = h.nr_ops();
  f.preemptions = count_preemptions(best.run);
  // The header note says how it was found (the command that reruns its
  // schedule) and how to replay it (`replay --mutant auto` reads that part).
  const std::string note = properties::replay_note(
      fmt::format("memcg-verify explore: {} in harness {} ({}); rerun: memcg-verify explore "
                  "--replay {}",
                  f.kind, h.name, h.about, f.token),
      "both", mutant);
  if (auto race = race_trace_of(h, best.run, note)) {
    f.trace_jsonl = *race;
    f.race_trace = true;
    std::istringstream in(*race);
    auto trace = trace::read_trace(in, "explore");
    auto replayed = trace::replay(trace, trace::ModelChoice::both, mutant);
    f.trace_reproduces = replayed.exit_code() == 1;
    f.trace_verdict = replayed.verdict();
  } else {
    f.trace_jsonl = plain_trace_of(h, best.run, note);
  }
}

}  // namespace

// --- the exploration --------------------------------------------------------

ExploreResult explore(const ExploreOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  std::vector<Harness> list = options.harnesses;
  if (list.empty()) list = harness_catalog();
  for (std::uint64_t i = 0; i < options.random_harnesses; ++i)
    list.push_back(random_harness(options.strategy.seed * 1000003 + i));
  std::vector<PreparedHarness> harnesses;
  std::vector<std::unique_ptr<Strategy>> strategies;
  ExploreResult result;
  for (std::size_t i = 0; i < list.size(); ++i) {
    StrategyOptions so = options.strategy;
    so.seed = options.strategy.seed + i;
    strategies.push_back(make_strategy(so, static_cast<std::uint32_t>(list[i].threads.size())));
    result.harnesses.push_back(HarnessStats{list[i].name});
    harnesses.push_back(prepare(std::move(list[i])));
    harnesses.back().fault = options.fault;
  }
  Scheduler scheduler(Scheduler::Options{options.max_steps});
  std::optional<SharedScheduleSink> sink;
  if (options.isolate_schedules) sink.emplace();
  const bool exhaustive = options.strategy.kind == StrategyKind::dfs;
  std::size_t turn = 0;
  std::size_t remaining = harnesses.size();
  while (result.schedules < options.schedules && remaining > 0) {
    // Round robin over the harnesses; a finished bounded search drops out.
    std::size_t i = turn++ % harnesses.size();
    if (result.harnesses[i].complete) continue;
    if (!strategies[i]->next_schedule()) {
      result.harnesses[i].complete = true;
      --remaining;
      continue;
    }
    if (sink) {
      auto crash = crash_of_next_schedule(harnesses[i], options.mutant, *strategies[i], scheduler,
                                          options.max_linearize_ops, options.watchdog_seconds, *sink);
      if (crash) {
        ++result.schedules;
        ++result.harnesses[i].schedules;
        result.schedule_of_failure = result.schedules;
        result.failure = std::move(crash);
        break;
      }
    }
    auto r = run_schedule(harnesses[i], options.mutant, *strategies[i], scheduler,
                          options.max_linearize_ops);
    ++result.schedules;
    ++result.harnesses[i].schedules;
    result.step_limited += r.step_limited;
    result.pruned += r.pruned;
    result.linearizability_checked += r.linearizability_checked;
    for (const auto& id : r.known_bugs) {
      auto& seen = result.known_bugs[id];
      if (seen.schedules++ == 0) {
        seen.harness = harnesses[i].harness.full_name();
        seen.token = schedule_token(seen.harness, options.mutant, r.run.schedule);
      }
    }
    if (options.progress) options.progress(result.schedules, options.schedules);
    if (r.failure) {
      result.schedule_of_failure = result.schedules;
      Failure f = *r.failure;
      f.original_token =
          schedule_token(harnesses[i].harness.full_name(), options.mutant, r.run.schedule);
      f.original_ops = harnesses[i].harness.nr_ops();
      f.original_preemptions = count_preemptions(r.run);
      Shrinker shrinker(harnesses[i], options.mutant, options.max_linearize_ops,
                        options.shrink ? 3000 : 0);
      shrinker.shrink(std::move(r));
      write_up(f, shrinker, options.mutant);
      result.failure = std::move(f);
      break;
    }
    // DFS keeps to one harness until its search is done.
    if (exhaustive) --turn;
  }
  result.search_complete = remaining == 0;
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace mv::explore
