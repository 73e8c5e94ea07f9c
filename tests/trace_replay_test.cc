// Replay: steps, violations, trace errors, model failures, and lock-step
// comparison naming the first differing field. A "broken" model wraps the
// reference and changes one answer or one snapshot field at one line.
#include <csignal>
#include <filesystem>
#include <fstream>
#include <cstdlib>
#include <functional>
#include <optional>
#include <utility>
#include <vector>
#include <sstream>
#include <stdexcept>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>
#include <rapidcheck/gtest.h>

#include "reference/model.h"
#include "trace/isolated_replay.h"
#include "trace/replay.h"
#include "trace/report.h"
#include "trace/scenario_check.h"
#include "trace/snapshot_diff.h"

namespace mv::trace {
namespace {

const std::string kTrace = R"({"profile":"v6.6","cpus":2,"page_size":4096}
{"op":"mkdir","cg":"/a"}
{"op":"spawn","task":"t1","cg":"/a","cpu":0}
{"op":"alloc","task":"t1","obj":"o1","kind":"slab","size":128}
{"op":"free","obj":"o1"}
{"op":"quiesce"}
)";

Trace read(const std::string& text) {
  std::istringstream in(text);
  return read_trace(in, "r.jsonl");
}

// The reference, except that after the op on `line` (counted as trace lines,
// from 2) it answers or shows something else.
class BrokenModel : public spec::Model {
 public:
  using SnapshotEdit = std::function<void(spec::Snapshot&)>;
  BrokenModel(const Trace& trace, std::size_t line) : inner_(reference::make_reference_model(trace.config, trace.names.paths)), line_(line) {}

  BrokenModel& answer(spec::Errno err) { answer_ = err; return *this; }
  BrokenModel& edit(SnapshotEdit e) { edit_ = std::move(e); return *this; }
  BrokenModel& throws() { throws_ = true; return *this; }
  // What a slipped model does instead of answering (issue 12 item 7).
  enum class Fault { none, segfault, abort, loop };
  BrokenModel& fault(Fault f) { fault_ = f; return *this; }

  spec::Errno apply(const spec::Op& op) override {
    ++applied_;
    auto result = inner_->apply(op);
    if (broken_now() && throws_) throw std::runtime_error("broken on purpose");
    if (broken_now()) misbehave();
    if (broken_now() && answer_) return *answer_;
    return result;
  }
  spec::Snapshot snapshot() const override {
    auto s = inner_->snapshot();
    if (broken_now() && edit_) edit_(s);
    return s;
  }
  std::string_view name() const override { return "broken"; }

 private:
  // Line 1 is the header (the initial state); the n-th op is on line n + 1 in kTrace.
  bool broken_now() const { return applied_ + 1 == line_; }

  std::unique_ptr<spec::Model> inner_;
  std::size_t line_;
  std::size_t applied_ = 0;
  std::optional<spec::Errno> answer_;
  SnapshotEdit edit_;
  bool throws_ = false;
  Fault fault_ = Fault::none;

  void misbehave() const {
    switch (fault_) {
      case Fault::none: return;
      case Fault::segfault: std::raise(SIGSEGV); return;
      case Fault::abort: std::abort();
      case Fault::loop:
        for (volatile bool forever = true; forever;) {
        }
    }
  }
};

std::vector<NamedModel> reference_and(const Trace& trace, std::unique_ptr<spec::Model> other) {
  std::vector<NamedModel> models;
  models.push_back({"reference", reference::make_reference_model(trace.config, trace.names.paths)});
  models.push_back({"broken", std::move(other)});
  return models;
}

TEST(Replay, ReferenceReplaysAndHolds) {
  auto trace = read(kTrace);
  auto result = replay(trace, ModelChoice::reference);
  EXPECT_EQ(result.exit_code(), 0) << result.verdict();
  ASSERT_EQ(result.steps.size(), 5u);
  EXPECT_EQ(result.steps[0].line, 2u);
  EXPECT_EQ(result.steps[4].line, 6u);
  for (const auto& s : result.steps) EXPECT_EQ(s.result, spec::Errno::ok);
  EXPECT_TRUE(result.violations.empty());
  ASSERT_TRUE(result.snapshot);
  EXPECT_EQ(result.snapshot->cgroups.size(), 2u);
  EXPECT_EQ(result.steps[3].cpu, std::optional<spec::Cpu>(0));  // the free ran on t1's CPU
}

TEST(Replay, KernelRefusalsAreResultsNotTraceErrors) {
  auto trace = read(R"({"profile":"v6.6","cpus":2,"page_size":4096}
{"op":"mkdir","cg":"/a"}
{"op":"spawn","task":"t1","cg":"/a","cpu":0}
{"op":"alloc","task":"t1","obj":"p0","kind":"percpu","size":0}
{"op":"alloc","task":"t1","obj":"p1","kind":"percpu","size":32769}
{"op":"alloc","task":"t1","obj":"k","kind":"page","order":11}
{"op":"rmdir","cg":"/"}
{"op":"rmdir","cg":"/a"}
{"op":"mkdir","cg":"/x/y"}
{"op":"mkdir","cg":"/a"}
{"op":"cpu_offline","cpu":1}
{"op":"cpu_offline","cpu":1}
{"op":"cpu_offline","cpu":0}
{"op":"alloc","task":"t1","obj":"k","kind":"page","order":0}
)");
  auto result = replay(trace, ModelChoice::reference);
  ASSERT_FALSE(result.error) << result.error->what();
  std::vector<spec::Errno> got;
  for (const auto& s : result.steps) got.push_back(s.result);
  using E = spec::Errno;
  EXPECT_EQ(got, (std::vector<E>{E::ok, E::ok, E::enomem, E::enomem, E::enomem, E::ebusy, E::ebusy,
                                 E::enoent, E::eexist, E::ok, E::einval, E::ebusy, E::ok}));
  // The refused allocations created nothing: "k" could be allocated.
  EXPECT_EQ(result.snapshot->objects.size(), 1u);
  EXPECT_EQ(result.exit_code(), 0) << result.verdict();
}

TEST(Replay, TwoEqualModelsAgree) {
  auto trace = read(kTrace);
  auto result = replay_models(
      trace, reference_and(trace, reference::make_reference_model(trace.config, trace.names.paths)),
      ModelChoice::both);
  EXPECT_EQ(result.exit_code(), 0) << result.verdict();
  EXPECT_FALSE(result.disagreement);
  EXPECT_EQ(result.steps.size(), 5u);
}

TEST(Replay, LockStepNamesTheFirstDifferingField) {
  auto trace = read(kTrace);
  auto broken = std::make_unique<BrokenModel>(trace, 4);
  broken->edit([](spec::Snapshot& s) { s.cgroups.at(1).usage_pages += 1; });
  auto result = replay_models(trace, reference_and(trace, std::move(broken)), ModelChoice::both);
  EXPECT_EQ(result.exit_code(), 1);
  ASSERT_TRUE(result.disagreement);
  EXPECT_EQ(result.disagreement->line, 4u);
  EXPECT_EQ(result.disagreement->message, "cgroups[path=/a].usage_pages: reference 64, broken 65");
  // The step is recorded, nothing after it.
  ASSERT_EQ(result.steps.size(), 3u);
  EXPECT_EQ(result.steps.back().line, 4u);
  EXPECT_EQ(result.snapshot->cgroups.at(1).usage_pages, 64);
}

TEST(Replay, LockStepComparesResults) {
  auto trace = read(kTrace);
  auto broken = std::make_unique<BrokenModel>(trace, 4);
  broken->answer(spec::Errno::enomem);
  auto result = replay_models(trace, reference_and(trace, std::move(broken)), ModelChoice::both);
  EXPECT_EQ(result.exit_code(), 1);
  ASSERT_TRUE(result.disagreement);
  EXPECT_EQ(result.disagreement->line, 4u);
  EXPECT_EQ(result.disagreement->message, "result: reference ok, broken ENOMEM");
  EXPECT_NE(result.verdict().find("DISAGREEMENT at line 4"), std::string::npos);
}

TEST(Replay, LockStepComparesTheInitialState) {
  auto trace = read(kTrace);
  auto broken = std::make_unique<BrokenModel>(trace, 1);
  broken->edit([](spec::Snapshot& s) { s.stocks.at(1).online = false; });
  auto result = replay_models(trace, reference_and(trace, std::move(broken)), ModelChoice::both);
  ASSERT_TRUE(result.disagreement);
  EXPECT_EQ(result.disagreement->line, 1u);
  EXPECT_EQ(result.disagreement->message, "stocks[cpu=1].online: reference true, broken false");
  EXPECT_TRUE(result.steps.empty());
}

TEST(Replay, AModelThatThrowsIsAFailureNotACrash) {
  auto trace = read(kTrace);
  std::vector<NamedModel> models;
  auto broken = std::make_unique<BrokenModel>(trace, 5);
  broken->throws();
  models.push_back({"broken", std::move(broken)});
  auto result = replay_models(trace, std::move(models), ModelChoice::reference);
  EXPECT_EQ(result.exit_code(), 1);
  ASSERT_TRUE(result.model_failure);
  EXPECT_EQ(result.model_failure->line, 5u);
  EXPECT_EQ(result.model_failure->message, "broken on purpose");
  EXPECT_EQ(result.steps.size(), 3u);
}

// The replay in a child process (trace/isolated_replay.h): whatever the model
// does on line 5, the result is a model failure there with the three steps
// before it, and the checker goes on to report it.
TEST(Replay, AModelThatCrashesAbortsOrLoopsIsAFailureNotACrash) {
  auto trace = read(kTrace);
  using Fault = BrokenModel::Fault;
  for (auto [fault, words] : std::vector<std::pair<Fault, std::string>>{
           {Fault::segfault, "crashed while applying the line: Segmentation fault (signal 11)"},
           {Fault::abort, "crashed while applying the line: Aborted (signal 6)"},
           {Fault::loop, "no answer for 0.5 s while applying the line (a loop?); stopped"}}) {
    std::optional<ReplayResult> reported;  // set here only when the child could not report
    const int exit = run_isolated(
        trace,
        [&](const Trace& t, ReplayProgress* progress) {
          std::vector<NamedModel> models;
          auto broken = std::make_unique<BrokenModel>(t, 5);
          broken->fault(fault);
          models.push_back({"broken", std::move(broken)});
          return replay_models(t, std::move(models), ModelChoice::reference, progress);
        },
        [&](const ReplayResult& r) {
          reported = r;
          return r.exit_code();
        },
        ModelChoice::reference, Isolation{.step_timeout_seconds = 0.5});
    EXPECT_EQ(exit, 1) << words;
    ASSERT_TRUE(reported && reported->model_failure) << words;
    EXPECT_EQ(reported->model_failure->line, 5u);
    EXPECT_EQ(reported->model_failure->model, "broken");
    EXPECT_EQ(reported->model_failure->message, words);
    EXPECT_EQ(reported->steps.size(), 3u) << words;
    ASSERT_TRUE(reported->snapshot) << words;  // the state after line 4
    EXPECT_FALSE(reported->error) << words;
  }
}

// scenarios replays each scenario in a child too: a model that crashes or
// loops fails its scenario with a model failure at its line, and the next
// scenario still runs.
TEST(Replay, AScenarioWhoseModelCrashesOrLoopsFailsAndTheNextOneRuns) {
  const auto dir = std::filesystem::temp_directory_path() /
                   fmt::format("mv-scenario-crash-{}", static_cast<long>(getpid()));
  std::filesystem::create_directories(dir);
  { std::ofstream(dir / "s.jsonl") << kTrace; }
  { std::ofstream(dir / "s.expect.json") << R"({"exit": 0, "checks": {"/cgroups/1/path": "/a"}})"; }
  const ScenarioFiles files{"s", dir / "s.jsonl", dir / "s.expect.json"};
  using Fault = BrokenModel::Fault;
  for (auto fault : {Fault::segfault, Fault::loop, Fault::none}) {
    auto outcome = run_scenario(
        files, ModelChoice::reference, nullptr,
        [&](const Trace& t, ReplayProgress* progress) {
          std::vector<NamedModel> models;
          if (fault == Fault::none) return replay(t, ModelChoice::reference, spec::Mutant::none,
                                                  nullptr, progress);
          auto broken = std::make_unique<BrokenModel>(t, 5);
          broken->fault(fault);
          models.push_back({"broken", std::move(broken)});
          return replay_models(t, std::move(models), ModelChoice::reference, progress);
        },
        Isolation{.step_timeout_seconds = 0.5});
    if (fault == Fault::none) {
      EXPECT_TRUE(outcome.passed()) << outcome.verdict;
      EXPECT_EQ(outcome.exit, 0);
      continue;
    }
    EXPECT_FALSE(outcome.passed());
    EXPECT_EQ(outcome.exit, 1);
    EXPECT_NE(outcome.verdict.find("MODEL FAILURE at line 5: broken"), std::string::npos)
        << outcome.verdict;
  }
  std::filesystem::remove_all(dir);
}

TEST(Replay, AnIsolatedReplayThatEndsWellIsReportedByItsProcess) {
  auto trace = read(kTrace);
  bool reported_here = false;
  const int exit = run_isolated(
      trace, [](const Trace& t, ReplayProgress* progress) {
        return replay(t, ModelChoice::reference, spec::Mutant::none, nullptr, progress);
      },
      [&](const ReplayResult& r) {
        reported_here = true;  // in the child: not seen here
        return r.exit_code() + 40;
      },
      ModelChoice::reference);
  EXPECT_EQ(exit, 40);
  EXPECT_FALSE(reported_here);
}

TEST(Replay, AViolationIsRecordedAndTheReplayGoesOn) {
  auto trace = read(kTrace);
  std::vector<NamedModel> models;
  auto broken = std::make_unique<BrokenModel>(trace, 4);
  // A page the counter holds that nothing accounts for.
  broken->edit([](spec::Snapshot& s) {
    s.cgroups.at(1).usage_pages += 1;
    s.cgroups.at(0).usage_pages += 1;
  });
  models.push_back({"broken", std::move(broken)});
  auto result = replay_models(trace, std::move(models), ModelChoice::reference);
  EXPECT_EQ(result.exit_code(), 1);
  EXPECT_EQ(result.steps.size(), 5u);
  ASSERT_FALSE(result.violations.empty());
  EXPECT_EQ(result.violations.front().line, 4u);
  bool conservation = false;
  for (const auto& v : result.violations)
    conservation |= v.violation.invariant == "INV-PAGE-CONSERVATION";
  EXPECT_TRUE(conservation);
  EXPECT_NE(result.verdict().find("VIOLATED"), std::string::npos);
  // The table shows it inline under its line.
  auto text = report_text(trace, result);
  std::istringstream lines(text);
  bool inline_row = false;
  for (std::string row; std::getline(lines, row);)
    inline_row |= row.find(" ! ") != std::string::npos &&
                  row.find("INV-PAGE-CONSERVATION") != std::string::npos;
  EXPECT_TRUE(inline_row) << text;
}

TEST(Replay, ATraceErrorStopsAndKeepsEverythingBefore) {
  auto trace = read(kTrace + R"({"op":"free","obj":"o1"})" + "\n" + R"({"op":"quiesce"})" + "\n");
  auto result = replay(trace, ModelChoice::reference);
  EXPECT_EQ(result.exit_code(), 2);
  ASSERT_TRUE(result.error);
  EXPECT_EQ(result.error->what(), "r.jsonl:7: double free of object \"o1\" (freed at line 5)");
  EXPECT_EQ(result.steps.size(), 5u);
  // A reader error after good lines: the good lines are replayed first.
  auto bad_json = read(kTrace + "{\n");
  auto r2 = replay(bad_json, ModelChoice::reference);
  EXPECT_EQ(r2.exit_code(), 2);
  EXPECT_EQ(r2.error->line, 7u);
  EXPECT_EQ(r2.steps.size(), 5u);
  ASSERT_TRUE(r2.snapshot);
}

TEST(Replay, ImplChoiceNeedsTheImpl) {
  auto trace = read(kTrace);
  if (impl_available()) {
    auto result = replay(trace, ModelChoice::both);
    EXPECT_EQ(result.exit_code(), 0) << result.verdict();
  } else {
    EXPECT_THROW(replay(trace, ModelChoice::impl), std::invalid_argument);
  }
}

TEST(SnapshotDiff, NamesNestedFieldsAndLengths) {
  Json a = Json::parse(R"({"x":1,"list":[{"p":[1,2]},{"p":[3]}],"z":null})");
  Json b = Json::parse(R"({"x":1,"list":[{"p":[1,2]},{"p":[3,4]}],"z":null})");
  EXPECT_EQ(first_json_difference(a, a, "A", "B"), std::nullopt);
  EXPECT_EQ(first_json_difference(a, b, "A", "B"), "list[1].p: A 1 entries, B 2 entries");
  Json c = Json::parse(R"({"x":2,"list":[],"z":null})");
  EXPECT_EQ(first_json_difference(a, c, "A", "B"), "x: A 1, B 2");
  Json d = Json::parse(R"({"x":1,"list":[{"p":[1,2]},{"p":[3]}],"z":"max"})");
  EXPECT_EQ(first_json_difference(a, d, "A", "B"), "z: A null, B \"max\"");
}

TEST(SnapshotDiff, EveryFieldCounts) {
  auto trace = read(kTrace);
  auto model = reference::make_reference_model(trace.config, trace.names.paths);
  auto base = model->snapshot();
  EXPECT_EQ(snapshot_difference(base, base, trace.names, "a", "b"), std::nullopt);
  auto edited = base;
  edited.pending_work = 3;
  EXPECT_EQ(snapshot_difference(base, edited, trace.names, "a", "b"), "pending_work: a 0, b 3");
  edited = base;
  edited.cgroups[0].watermark_pages = 9;
  EXPECT_EQ(snapshot_difference(base, edited, trace.names, "a", "b"),
            "cgroups[path=/].watermark_pages: a 0, b 9");
  edited = base;
  edited.events.push_back(spec::Event{spec::EventKind::css_ref_underflow, 0, -1});
  EXPECT_EQ(snapshot_difference(base, edited, trace.names, "a", "b"),
            "events: a 0 entries, b 1 entries");
  edited = base;
  edited.config.ncpus = 3;
  EXPECT_EQ(snapshot_difference(base, edited, trace.names, "a", "b"), "ncpus: a 2, b 3");
}

// issue 11 item 5: an entry is named by what the tables call it (the objcg
// with id 1 is objcgs[id=1], whatever its position), entries are matched by
// identity, and a disagreement shows both sides of every differing field.
TEST(SnapshotDiff, NamesEntriesByIdentityAndShowsBothSides) {
  Json a = Json::parse(R"({"objcgs":[{"id":1,"refs":2},{"id":2,"refs":1}]})");
  Json b = Json::parse(R"({"objcgs":[{"id":2,"refs":1},{"id":1,"refs":3}]})");
  EXPECT_EQ(first_json_difference(a, b, "reference", "impl"), "objcgs[id=1].refs: reference 2, impl 3");
  Json c = Json::parse(R"({"cgroups":[{"path":"/a","usage_pages":1}],"stocks":[{"cpu":0,"n":1}]})");
  Json d = Json::parse(R"({"cgroups":[{"path":"/b","usage_pages":1}],"stocks":[{"cpu":0,"n":2}]})");
  const auto all = json_differences(c, d, 10);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].message("a", "b"), "cgroups[path=/a]: a present, b (absent)");
  EXPECT_EQ(all[1].message("a", "b"), "cgroups[path=/b]: a (absent), b present");
  EXPECT_EQ(all[2].message("a", "b"), "stocks[cpu=0].n: a 1, b 2");
  EXPECT_EQ(json_differences(c, d, 2).size(), 2u);

  // A replay names the objcg by its id and reports both sides.
  auto trace = read(kTrace);
  auto broken = std::make_unique<BrokenModel>(trace, 4);
  broken->edit([](spec::Snapshot& s) {
    s.objcgs.back().refs += 5;
    s.pending_work += 1;
  });
  auto result = replay_models(trace, reference_and(trace, std::move(broken)), ModelChoice::both);
  ASSERT_TRUE(result.disagreement);
  const auto& objcg = result.snapshot->objcgs.back();
  const auto field = "objcgs[id=" + std::to_string(objcg.id) + "].refs";
  EXPECT_EQ(result.disagreement->message,
            fmt::format("{}: reference {}, broken {}", field, objcg.refs, objcg.refs + 5));
  ASSERT_EQ(result.disagreement->differences.size(), 2u);
  EXPECT_EQ(result.disagreement->differences[1].field, "pending_work");
  const auto text = report_text(trace, result);
  EXPECT_NE(text.find("reference and broken differ after line 4"), std::string::npos) << text;
  EXPECT_NE(text.find(field), std::string::npos) << text;
  const auto json = report_json(trace, result);
  const auto& first = json["disagreement"]["differences"][0];
  EXPECT_EQ(first["field"], field);
  EXPECT_EQ(first["reference"], std::to_string(objcg.refs));
  EXPECT_EQ(first["broken"], std::to_string(objcg.refs + 5));
}

// One random trace line over a small vocabulary, with names that may or may
// not exist, so that trace errors and kernel refusals both happen.
rc::Gen<std::string> gen_line() {
  auto cg = rc::gen::element<std::string>("/", "/a", "/a/b", "/c");
  auto task = rc::gen::element<std::string>("t1", "t2");
  auto obj = rc::gen::element<std::string>("o1", "o2", "o3");
  auto cpu = rc::gen::inRange(0, 3);  // one past the 2 CPUs of the header
  return rc::gen::oneOf(
      rc::gen::map(cg, [](std::string c) { return R"({"op":"mkdir","cg":")" + c + "\"}"; }),
      rc::gen::map(cg, [](std::string c) { return R"({"op":"rmdir","cg":")" + c + "\"}"; }),
      rc::gen::apply(
          [](std::string t, std::string c, int p) {
            return R"({"op":"spawn","task":")" + t + R"(","cg":")" + c + R"(","cpu":)" +
                   std::to_string(p) + "}";
          },
          task, cg, cpu),
      rc::gen::map(task, [](std::string t) { return R"({"op":"exit","task":")" + t + "\"}"; }),
      rc::gen::apply(
          [](std::string t, std::string o, int size) {
            return R"({"op":"alloc","task":")" + t + R"(","obj":")" + o +
                   R"(","kind":"slab","size":)" + std::to_string(size) + "}";
          },
          task, obj, rc::gen::inRange(1, 9000)),
      rc::gen::apply(
          [](std::string t, std::string o) {
            return R"({"op":"alloc","task":")" + t + R"(","obj":")" + o + R"(","kind":"stack"})";
          },
          task, obj),
      rc::gen::map(obj, [](std::string o) { return R"({"op":"free","obj":")" + o + "\"}"; }),
      rc::gen::apply(
          [](std::string c, int pages) {
            return R"({"op":"set_max","cg":")" + c + R"(","pages":)" + std::to_string(pages) + "}";
          },
          cg, rc::gen::inRange(0, 200)),
      rc::gen::map(cpu, [](int p) { return R"({"op":"drain","cpu":)" + std::to_string(p) + "}"; }),
      rc::gen::map(cg, [](std::string c) { return R"({"op":"drain_all","cg":")" + c + "\"}"; }),
      rc::gen::map(cpu,
                   [](int p) { return R"({"op":"cpu_offline","cpu":)" + std::to_string(p) + "}"; }),
      rc::gen::just(std::string(R"({"op":"quiesce"})")));
}

// Whatever the sequence, replay answers: steps up to the first trace error,
// no model failure, an exit status from the contract.
RC_GTEST_PROP(ReplayProperty, ArbitraryTracesNeverBreakTheReplay, ()) {
  auto lines = *rc::gen::container<std::vector<std::string>>(gen_line());
  std::string text = R"({"profile":"v6.6","cpus":2,"page_size":4096})" "\n";
  for (const auto& l : lines) text += l + "\n";
  auto trace = read(text);
  RC_ASSERT(!trace.error);
  auto result = replay(trace, impl_available() ? ModelChoice::both : ModelChoice::reference);
  RC_ASSERT(!result.model_failure);
  if (result.error) {
    RC_ASSERT(result.error->line >= 2u);
    RC_ASSERT(result.steps.size() == result.error->line - 2);
  } else if (!result.disagreement) {
    RC_ASSERT(result.steps.size() == lines.size());
  }
  auto exit = result.exit_code();
  RC_TAG(result.error ? "stopped by a trace error" : "replayed to the end");
  RC_ASSERT(exit == 0 || exit == 1 || exit == 2);
  RC_ASSERT(report_json(trace, result)["exit"] == exit);
}

// The same with every line the driver rejects dropped: long valid traces, run
// to the end with every invariant checked on every step (and the impl in
// lock-step when built).
RC_GTEST_PROP(ReplayProperty, ValidTracesReplayToTheEnd, ()) {
  auto lines = *rc::gen::container<std::vector<std::string>>(gen_line());
  const std::string header = R"({"profile":"v6.6","cpus":2,"page_size":4096})" "\n";
  auto choice = impl_available() ? ModelChoice::both : ModelChoice::reference;
  while (true) {
    std::string text = header;
    for (const auto& l : lines) text += l + "\n";
    auto trace = read(text);
    auto result = replay(trace, choice);
    RC_ASSERT(!result.model_failure);
    if (result.error) {
      lines.erase(lines.begin() + static_cast<long>(result.error->line - 2));
      continue;
    }
    RC_TAG(lines.size() < 10 ? "under 10 steps" : "10 steps or more");
    if (result.exit_code() != 0) RC_FAIL(report_text(trace, result));
    RC_ASSERT(result.steps.size() == lines.size());
    RC_ASSERT(report_json(trace, result)["exit"] == 0);
    break;
  }
}

}  // namespace
}  // namespace mv::trace
