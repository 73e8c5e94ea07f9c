// `memcg-verify check` end to end: the seed printed first, the JSON summary,
// every coverage mark hit, usage errors (exit 2), and a failing campaign whose
// trace file `memcg-verify replay --model both` reproduces (exit 1, the same line).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <iterator>
#include <string>
#include <vector>

#include "tests/cli_run.h"

namespace mv::testing {
namespace {

using nlohmann::json;

TEST(CliCheck, CampaignPrintsTheSeedFirstAndHitsEveryMark) {
  auto run = run_cli({"check", "--seed", "5", "--runs", "600", "--steps", "200"});
  ASSERT_EQ(run.exit, 0) << run.out << run.err;
  EXPECT_EQ(run.out.rfind("seed: 5\n", 0), 0u) << run.out;
  EXPECT_NE(run.out.find("OK: the impl conforms"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("obj_stock_hit"), std::string::npos);
  // No progress bar when stderr is not a terminal.
  EXPECT_EQ(run.err.find("runs,"), std::string::npos) << run.err;
}

TEST(CliCheck, JsonSummary) {
  auto run = run_cli({"check", "--seed", "5", "--runs", "600", "--steps", "200", "--json"});
  ASSERT_EQ(run.exit, 0) << run.out << run.err;
  EXPECT_EQ(run.err.rfind("seed: 5\n", 0), 0u) << run.err;
  auto summary = json::parse(run.out);
  EXPECT_EQ(summary["seed"], 5);
  EXPECT_EQ(summary["runs"], 600);
  EXPECT_GT(summary["steps"].get<std::uint64_t>(), 1000u);
  EXPECT_GT(summary["steps_per_second"].get<double>(), 0.0);
  ASSERT_TRUE(summary["marks"].is_object());
  EXPECT_EQ(summary["marks"].size(), 9u);
  for (const auto& [name, count] : summary["marks"].items())
    EXPECT_GT(count.get<std::uint64_t>(), 0u) << name;
  EXPECT_TRUE(summary["missing_marks"].empty());
  EXPECT_TRUE(summary["failures"].empty());
  EXPECT_EQ(summary["exit"], 0);
}

TEST(CliCheck, RandomSeedIsPrinted) {
  auto run = run_cli({"check", "--runs", "3", "--steps", "5"});
  EXPECT_EQ(run.out.rfind("seed: ", 0), 0u) << run.out;
  EXPECT_NE(run.exit, 1) << run.out;
}

// A campaign too small to reach every mark found nothing wrong: incomplete
// coverage is undecided (3), with the marks named, never "the subject is
// wrong" (1).
TEST(CliCheck, AMarkNeverHitIsIncompleteCoverageNotAFailure) {
  auto run = run_cli({"check", "--seed", "1", "--runs", "3", "--steps", "5"});
  EXPECT_EQ(run.exit, 3) << run.out;
  EXPECT_NE(run.out.find("INCOMPLETE: no failure, but coverage marks never hit: "),
            std::string::npos) << run.out;
  EXPECT_NE(run.out.find("release_with_pages"), std::string::npos) << run.out;
  EXPECT_EQ(run.out.find("FAILED"), std::string::npos) << run.out;
  auto json_run = run_cli({"check", "--seed", "1", "--runs", "3", "--steps", "5", "--json"});
  EXPECT_EQ(json_run.exit, 3);
  auto summary = json::parse(json_run.out);
  EXPECT_EQ(summary["exit"], 3);
  EXPECT_EQ(summary["coverage_complete"], false);
  EXPECT_FALSE(summary["missing_marks"].empty());
  EXPECT_TRUE(summary["failures"].empty());
}

// The defaults, with no option but the seed, hit every mark: exit 0.
TEST(CliCheck, TheDefaultsPassAndHitEveryMark) {
  for (const char* seed : {"1", "2"}) {
    auto run = run_cli({"check", "--seed", seed, "--json"});
    ASSERT_EQ(run.exit, 0) << seed << ": " << run.out << run.err;
    auto summary = json::parse(run.out);
    EXPECT_EQ(summary["runs"], 1000) << seed;
    EXPECT_EQ(summary["coverage_complete"], true) << seed;
  }
}

// -v prints each chunk's verdict and seed; without it there is none; -q drops
// the tables but keeps the verdict and the exit status.
TEST(CliCheck, VerbosePrintsEachChunkQuietOnlyTheVerdict) {
  const std::vector<std::string> args = {"check", "--seed", "5", "--runs", "150", "--steps", "4"};
  auto with = [&](std::vector<std::string> extra) {
    auto a = args;
    a.insert(a.end(), extra.begin(), extra.end());
    return run_cli(a);
  };
  auto normal = with({}), verbose = with({"-v"}), quiet = with({"-q"});
  EXPECT_EQ(verbose.exit, normal.exit);
  EXPECT_EQ(quiet.exit, normal.exit);
  EXPECT_EQ(normal.out.find("chunk 0:"), std::string::npos) << normal.out;
  EXPECT_NE(verbose.out.find("chunk 0: seed "), std::string::npos) << verbose.out;
  EXPECT_NE(verbose.out.find(", 75 runs, "), std::string::npos) << verbose.out;
  EXPECT_NE(verbose.out.find("chunk 1: seed "), std::string::npos) << verbose.out;
  EXPECT_NE(normal.out.find("coverage marks:"), std::string::npos) << normal.out;
  EXPECT_EQ(quiet.out.find("coverage marks:"), std::string::npos) << quiet.out;
}

// `--steps N` is the most operations a run has: N = 1 is exactly one each.
TEST(CliCheck, StepsIsTheMostOperationsOfARun) {
  auto one = json::parse(run_cli({"check", "--seed", "3", "--runs", "40", "--steps", "1", "--json"}).out);
  EXPECT_EQ(one["runs"], 40);
  EXPECT_EQ(one["steps"], 40);
  auto three = json::parse(run_cli({"check", "--seed", "3", "--runs", "40", "--steps", "3", "--json"}).out);
  EXPECT_LE(three["steps"].get<int>(), 3 * 40);
  EXPECT_GT(three["steps"].get<int>(), 40);
}

// The user's options first; the benchmark and the internals in their own
// sections of --help.
TEST(CliCheck, HelpSeparatesTheBenchmarkAndInternalFlags) {
  auto help = run_cli({"check", "--help"});
  ASSERT_EQ(help.exit, 0);
  const auto bench = help.out.find("Benchmark");
  const auto internal = help.out.find("Internal");
  ASSERT_NE(bench, std::string::npos) << help.out;
  ASSERT_NE(internal, std::string::npos) << help.out;
  const auto user_part = help.out.substr(0, std::min(bench, internal));
  EXPECT_NE(user_part.find("--seed"), std::string::npos);
  EXPECT_NE(user_part.find("--mutant"), std::string::npos);
  for (const char* flag : {"--bench-live", "--bench-steps", "--check-mode", "--monitor-subject"})
    EXPECT_EQ(user_part.find(flag), std::string::npos) << flag;
}

// TAP for a kernel CI: one point, a skip for incomplete coverage.
TEST(CliCheck, TapIsOnePointAndIncompleteCoverageASkip) {
  auto small = run_cli({"check", "--seed", "1", "--runs", "3", "--steps", "5", "--tap"});
  EXPECT_EQ(small.exit, 3);
  EXPECT_EQ(small.out.rfind("TAP version 13\n1..1\n# seed: 1\nok 1 - check --seed 1", 0), 0u) << small.out;
  EXPECT_NE(small.out.find("# SKIP coverage marks never hit:"), std::string::npos) << small.out;
  EXPECT_EQ(small.err.rfind("seed: 1\n", 0), 0u) << small.err;
}

TEST(CliCheck, UsageErrorsExitTwo) {
  EXPECT_EQ(run_cli({"check", "--cpus", "0"}).exit, 2);
  EXPECT_EQ(run_cli({"check", "--cpus", "65"}).exit, 2);
  EXPECT_EQ(run_cli({"check", "--page-size", "6000"}).exit, 2);
  auto profile = run_cli({"check", "--profile", "v9.9"});
  EXPECT_EQ(profile.exit, 2);
  EXPECT_NE(profile.err.find("unknown profile"), std::string::npos) << profile.err;
  EXPECT_EQ(run_cli({"check", "--runs", "0"}).exit, 2);
  EXPECT_EQ(run_cli({"check", "--seed", "x"}).exit, 2);
  EXPECT_EQ(run_cli({"check", "--reproduce", "garbage"}).exit, 3);
}

// A bug injected into the impl (`--mutant`, spec/mutant.h) makes a real
// failure: shrunk, written, reproducible from its token, and reproduced by
// `replay --model both --mutant` at the same line (and not without the mutant).
TEST(CliCheck, FailureIsShrunkWrittenAndReplayReproducesIt) {
  TempDir dir;
  const std::vector<std::string> flags = {"check", "--seed", "2", "--runs", "300", "--steps", "200",
                                          "--mutant", "old_objcg_not_put"};
  auto with = [&](std::vector<std::string> more) {
    auto args = flags;
    args.insert(args.end(), more.begin(), more.end());
    return args;
  };
  // No --out: the trace goes to the run folder under the current directory,
  // and nothing else lands there.
  auto run = run_cli(flags, dir.path());
  ASSERT_EQ(run.exit, 1) << run.out << run.err;
  EXPECT_NE(run.out.find("trace: memcg-verify-out/check-failure-2.jsonl\n"), std::string::npos)
      << run.out;
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()),
                          std::filesystem::directory_iterator()),
            1);
  EXPECT_EQ(run.out.rfind("seed: 2\n", 0), 0u);
  EXPECT_NE(run.out.find("mutant old_objcg_not_put in the impl"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("FAILED: "), std::string::npos) << run.out;
  // The shrunk table: a header row, then one row per operation.
  auto shrunk_at = run.out.find("shrunk sequence (");
  ASSERT_NE(shrunk_at, std::string::npos) << run.out;
  const int nr_ops = std::stoi(run.out.substr(shrunk_at + 17));
  EXPECT_GE(nr_ops, 2);
  EXPECT_LE(nr_ops, 12);
  EXPECT_NE(run.out.find("line  op"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("--model both --mutant old_objcg_not_put"), std::string::npos) << run.out;
  auto token_at = run.out.find("--reproduce '");
  ASSERT_NE(token_at, std::string::npos) << run.out;
  token_at += 13;
  const auto token = run.out.substr(token_at, run.out.find('\'', token_at) - token_at);
  EXPECT_EQ(token.rfind("reproduce=", 0), 0u) << token;
  auto trace = dir.path() / "memcg-verify-out" / "check-failure-2.jsonl";
  ASSERT_TRUE(std::filesystem::exists(trace)) << run.out;
  auto failing_line = run.out.substr(run.out.find("FAILED: "));
  failing_line = failing_line.substr(failing_line.find("line "), 12);
  auto line_number = failing_line.substr(5, failing_line.find(':') - 5);

  // The token reruns just the failing case: the same shrunk trace.
  TempDir again;
  auto rerun = run_cli(with({"--reproduce", token, "--out", again.path().string()}));
  EXPECT_EQ(rerun.exit, 1) << rerun.out << rerun.err;
  EXPECT_EQ(slurp(again.path() / "check-failure-2.jsonl"), slurp(trace));

  auto replay = run_cli({"replay", trace.string(), "--model", "both", "--mutant", "old_objcg_not_put"});
  EXPECT_EQ(replay.exit, 1) << replay.out << replay.err;
  // The same line fails in both: "...jsonl:LINE: reference and impl disagree".
  EXPECT_NE(replay.err.find(".jsonl:" + line_number + ": reference and impl disagree"),
            std::string::npos)
      << failing_line << " / " << replay.err;
  // Without the mutant the same trace holds.
  EXPECT_EQ(run_cli({"replay", trace.string(), "--model", "both"}).exit, 0);

  // The header note says how it was found and how to replay it, and
  // `--mutant auto` reads it: the model and the mutant, the same line.
  auto header = json::parse(slurp(trace).substr(0, slurp(trace).find('\n')));
  const auto note = header.value("note", std::string());
  EXPECT_NE(note.find("memcg-verify check --seed 2 --runs 300 --steps 200 --mutant old_objcg_not_put"),
            std::string::npos) << note;
  EXPECT_NE(note.find("replay: memcg-verify replay FILE --model both --mutant old_objcg_not_put"),
            std::string::npos) << note;
  auto automatic = run_cli({"replay", trace.string(), "--mutant", "auto"});
  EXPECT_EQ(automatic.exit, 1) << automatic.out << automatic.err;
  EXPECT_NE(automatic.err.find("mutant old_objcg_not_put from the header note (--model both)"),
            std::string::npos) << automatic.err;
  EXPECT_NE(automatic.err.find(".jsonl:" + line_number + ": reference and impl disagree"),
            std::string::npos) << automatic.err;
  // An explicit --model wins over the note's.
  auto explicit_model = run_cli({"replay", trace.string(), "--mutant", "auto", "--model", "reference"});
  EXPECT_NE(explicit_model.err.find("mutant old_objcg_not_put from the header note (--model reference)"),
            std::string::npos) << explicit_model.err;
}

// A subject that crashes, aborts, throws or loops (issue 12 item 7; here the
// impl with --inject-fault, properties/injected_fault.h: on its first
// kernel-stack allocation) is a failure of the campaign, never a signal or a
// hang of memcg-verify: exit 1, a parseable --json report naming the signal
// or the watchdog, and a trace up to the failing step (the stack allocation)
// that replay reads. The looping subject's watchdog is short for the test;
// a step of the correct models comes nowhere near 2 s even on a loaded
// machine, and nothing here is timed.
TEST(CliCheck, ASubjectThatCrashesThrowsOrLoopsFailsWithItsTrace) {
  struct Case {
    const char* fault;
    const char* says;
    const char* jobs;
  };
  for (const Case& c : {Case{"segfault", "killed by signal 11 (Segmentation fault) while applying alloc", "1"},
                        Case{"segfault", "killed by signal 11", "2"},  // in --jobs workers
                        Case{"abort", "killed by signal 6 (Aborted)", "1"},
                        Case{"throw", "threw: injected fault: a stack page index out of range", "1"},
                        Case{"loop", "did not answer within 2.0 s while applying alloc (a loop?)", "1"}}) {
    SCOPED_TRACE(std::string(c.fault) + " --jobs " + c.jobs);
    TempDir dir;
    auto run = run_cli({"check", "--seed", "3", "--runs", "200", "--inject-fault", c.fault, "--watchdog",
                        "2", "--jobs", c.jobs, "--out", dir.path().string(), "--json"});
    ASSERT_EQ(run.exit, 1) << run.out << run.err;
    auto summary = json::parse(run.out);
    EXPECT_EQ(summary["exit"], 1);
    ASSERT_EQ(summary["failures"].size(), 1u) << run.out;
    const auto& failure = summary["failures"][0];
    EXPECT_EQ(failure["kind"], "model failure");
    EXPECT_NE(failure["message"].get<std::string>().find(c.says), std::string::npos) << failure["message"];
    EXPECT_EQ(failure["trace"], (dir.path() / "check-failure-3.jsonl").string());
    EXPECT_EQ(failure["reproduce"].get<std::string>().rfind("reproduce=", 0), 0u);
    // The trace ends at the failing step: the subject's stack allocation.
    const auto trace = slurp(dir.path() / "check-failure-3.jsonl");
    std::vector<json> lines;
    for (std::size_t at = 0, end; (end = trace.find('\n', at)) != std::string::npos; at = end + 1)
      lines.push_back(json::parse(trace.substr(at, end - at)));
    ASSERT_EQ(lines.size(), failure["line"].get<std::size_t>()) << trace;
    EXPECT_EQ(lines.back()["op"], "alloc") << trace;
    EXPECT_EQ(lines.back()["kind"], "stack") << trace;
    EXPECT_NE(lines.front()["note"].get<std::string>().find(std::string("--inject-fault ") + c.fault),
              std::string::npos) << trace;
    // The models without the fault replay it whole.
    auto replay = run_cli({"replay", (dir.path() / "check-failure-3.jsonl").string(), "--model", "both",
                           "--json"});
    EXPECT_EQ(replay.exit, 0) << replay.out << replay.err;
    EXPECT_EQ(json::parse(replay.out)["exit"], 0);
  }
  // The text report: the failure, the shrunk table, how to replay and rerun it.
  TempDir dir;
  auto text = run_cli({"check", "--seed", "3", "--runs", "200", "--inject-fault", "segfault", "--out",
                       dir.path().string()});
  ASSERT_EQ(text.exit, 1) << text.out << text.err;
  EXPECT_NE(text.out.find("model failure: the impl threw: the impl model's process was killed by signal 11"),
            std::string::npos) << text.out;
  // Shrunk as any failure: a spawn and the stack allocation, and little else.
  const auto shrunk_at = text.out.find("shrunk sequence (");
  ASSERT_NE(shrunk_at, std::string::npos) << text.out;
  EXPECT_LE(std::stoi(text.out.substr(shrunk_at + 17)), 4) << text.out;
  EXPECT_NE(text.out.find("replay: memcg-verify replay " + (dir.path() / "check-failure-3.jsonl").string()),
            std::string::npos) << text.out;
  EXPECT_NE(text.out.find("rerun: memcg-verify check --seed 3 --runs 200 --steps 100 --inject-fault segfault"),
            std::string::npos) << text.out;
  EXPECT_EQ(run_cli({"check", "--inject-fault", "explode"}).exit, 2);
  EXPECT_EQ(run_cli({"check", "--watchdog", "0"}).exit, 2);
}

// `replay --mutant auto` of a trace whose note names no mutant (a hand-written
// one, or check's trace of an unmutated failure) replays without one.
TEST(CliReplayAuto, ANoteWithoutAMutantReplaysWithout) {
  TempDir dir;
  auto trace = dir.write("t.jsonl",
                         "{\"profile\":\"v6.6\",\"cpus\":1,\"page_size\":4096,\"note\":\"by hand\"}\n"
                         "{\"op\":\"mkdir\",\"cg\":\"/a\"}\n");
  auto run = run_cli({"replay", trace.string(), "--mutant", "auto"});
  EXPECT_EQ(run.exit, 0) << run.out << run.err;
  EXPECT_NE(run.err.find("no mutant named in the header note (--model reference)"),
            std::string::npos) << run.err;
  auto named = dir.write("n.jsonl",
                         "{\"profile\":\"v6.6\",\"cpus\":1,\"page_size\":4096,\"note\":\"x; replay: "
                         "memcg-verify replay FILE --model impl --mutant no_such_bug\"}\n");
  auto unknown = run_cli({"replay", named.string(), "--mutant", "auto"});
  EXPECT_EQ(unknown.exit, 2) << unknown.out << unknown.err;
  EXPECT_NE(unknown.err.find("unknown mutant \"no_such_bug\""), std::string::npos) << unknown.err;
}

TEST(CliCheck, UnknownMutantIsAUsageError) {
  auto check = run_cli({"check", "--mutant", "no_such_bug"});
  EXPECT_EQ(check.exit, 2);
  EXPECT_NE(check.err.find("unknown mutant \"no_such_bug\""), std::string::npos) << check.err;
  TempDir dir;
  auto trace = dir.write("t.jsonl", "{\"profile\":\"v6.6\",\"cpus\":1,\"page_size\":4096}\n");
  auto replay = run_cli({"replay", trace.string(), "--mutant", "no_such_bug"});
  EXPECT_EQ(replay.exit, 2);
  EXPECT_NE(replay.err.find("unknown mutant"), std::string::npos) << replay.err;
}

// An overlay mutant (overlay/overlay.h) of a reference-only profile:
// cache_put_before_alloc is a race, so the sequential campaign of v5.2 (the
// overlaid reference against the correct one, lock-step) cannot tell it from
// the reference; replay runs it only in the reference's seat, and the race
// trace of seed 002 kills it there.
TEST(CliCheck, AnOverlayMutantSurvivesTheSequentialCampaignAndDiesOnItsRace) {
  auto run = run_cli({"check", "--profile", "v5.2", "--mutant", "cache_put_before_alloc", "--seed",
                      "1", "--runs", "400", "--json"});
  ASSERT_NE(run.exit, 1) << run.out << run.err;
  ASSERT_NE(run.exit, 2) << run.out << run.err;
  auto summary = json::parse(run.out);
  EXPECT_EQ(summary["mutant"], "cache_put_before_alloc");
  EXPECT_EQ(summary["subject"], "reference");
  EXPECT_TRUE(summary["failures"].empty()) << run.out;
  EXPECT_GT(summary["steps"].get<std::uint64_t>(), 5000u);
  EXPECT_EQ(run_cli({"check", "--profile", "v6.6", "--mutant", "cache_put_before_alloc"}).exit, 2);

  const std::string race = std::string(MV_SOURCE_DIR) + "/scenarios/race_move_and_destroy_v52.jsonl";
  EXPECT_EQ(run_cli({"replay", race}).exit, 0);
  auto mutated = run_cli({"replay", race, "--mutant", "cache_put_before_alloc", "-q"});
  EXPECT_EQ(mutated.exit, 1) << mutated.out << mutated.err;
  EXPECT_NE(mutated.out.find("INV-NO-UAF"), std::string::npos) << mutated.out;
  auto both = run_cli({"replay", race, "--model", "both", "--mutant", "cache_put_before_alloc"});
  EXPECT_EQ(both.exit, 2);
  EXPECT_NE(both.err.find("is an overlay of the reference"), std::string::npos) << both.err;
  // An impl mutant still has no reference version.
  EXPECT_EQ(run_cli({"replay", race, "--mutant", "canary"}).exit, 2);
}

// explore's contract (issue 9): --json, exit 0 when nothing was found and 1
// with a failure whose schedule token and race trace are in the JSON; the
// token reruns the same failure and the trace replays it from its own note.
TEST(CliExplore, JsonExitStatusesTokenAndTraceReplay) {
  TempDir dir;
  auto clean = run_cli({"explore", "--strategy", "random", "--schedules", "40", "--seed", "3",
                        "--json", "--out", dir.path().string()});
  ASSERT_EQ(clean.exit, 0) << clean.out << clean.err;
  auto ok = nlohmann::json::parse(clean.out);
  EXPECT_EQ(ok.at("strategy"), "random");
  EXPECT_EQ(ok.at("schedules"), 40);
  EXPECT_TRUE(ok.at("failures").empty());

  auto found = run_cli({"explore", "--strategy", "random", "--schedules", "200", "--seed", "1",
                        "--mutant", "requeued_work_read_unlocked", "--json", "--out",
                        dir.path().string()});
  ASSERT_EQ(found.exit, 1) << found.out << found.err;
  auto bad = nlohmann::json::parse(found.out);
  ASSERT_EQ(bad.at("failures").size(), 1u);
  const auto& f = bad.at("failures")[0];
  EXPECT_EQ(f.at("kind"), "data_race");
  EXPECT_TRUE(f.at("trace_reproduces").get<bool>());
  const std::string token = f.at("token");
  EXPECT_EQ(token.rfind("mvx1:", 0), 0u) << token;

  auto rerun = run_cli({"explore", "--replay", token, "--json"});
  EXPECT_EQ(rerun.exit, 1) << rerun.out << rerun.err;
  auto again = nlohmann::json::parse(rerun.out);
  EXPECT_EQ(again.at("token"), token);
  EXPECT_EQ(again.at("failure").at("message"), f.at("message"));
  EXPECT_EQ(again.at("failure").at("step"), f.at("step"));

  const std::string trace = f.at("trace_path");
  EXPECT_EQ(run_cli({"replay", trace, "--mutant", "auto"}).exit, 1);
  EXPECT_EQ(run_cli({"replay", trace, "--model", "reference"}).exit, 0);
}

// An impl that crashes or loops in a schedule (here --inject-fault: on its
// first operation after the set-up) cannot take explore down
// (explore/explore_guard.h): exit 1, a model failure naming the signal or
// the watchdog, and a token whose replay (with the same fault) ends in the
// same failure, while the token without the fault runs clean. A throw needs
// no guard and is covered as a model failure too. The watchdog is short for
// the test; nothing here is timed.
TEST(CliExplore, AnImplThatCrashesOrLoopsIsAModelFailureWithItsToken) {
  struct Case {
    const char* fault;
    const char* says;
  };
  for (const Case& c : {Case{"segfault", "killed by signal 11 (Segmentation fault)"},
                        Case{"abort", "killed by signal 6 (Aborted)"},
                        Case{"loop", "made no step for 1 s"},
                        Case{"throw", "threw: injected fault"}}) {
    SCOPED_TRACE(c.fault);
    TempDir dir;
    auto run = run_cli({"explore", "--seed", "2", "--schedules", "20", "--harness", "charge_vs_offline",
                        "--inject-fault", c.fault, "--watchdog", "1", "--json", "--out",
                        dir.path().string()});
    ASSERT_EQ(run.exit, 1) << run.out << run.err;
    auto summary = nlohmann::json::parse(run.out);
    EXPECT_EQ(summary.at("exit"), 1);
    EXPECT_EQ(summary.at("schedule_of_failure"), 1);
    ASSERT_EQ(summary.at("failures").size(), 1u) << run.out;
    const auto& f = summary.at("failures")[0];
    EXPECT_EQ(f.at("kind"), "model_failure");
    EXPECT_EQ(f.at("harness"), "charge_vs_offline");
    EXPECT_NE(f.at("message").get<std::string>().find(c.says), std::string::npos) << f.at("message");
    const std::string token = f.at("token");
    ASSERT_EQ(token.rfind("mvx1:charge_vs_offline:none:", 0), 0u) << token;

    auto again = run_cli({"explore", "--replay", token, "--inject-fault", c.fault, "--watchdog", "1", "--json"});
    EXPECT_EQ(again.exit, 1) << again.out << again.err;
    const auto replayed = nlohmann::json::parse(again.out).at("failure");
    EXPECT_EQ(replayed.at("kind"), "model_failure");
    EXPECT_EQ(replayed.at("step"), f.at("step"));
    EXPECT_NE(replayed.at("message").get<std::string>().find(c.says), std::string::npos) << replayed;
    EXPECT_EQ(run_cli({"explore", "--replay", token, "--json"}).exit, 0);
  }
  EXPECT_EQ(run_cli({"explore", "--inject-fault", "explode"}).exit, 2);
}

// explore --profile P (a profile without impl): the race search over the
// reference; the overlay mutant is found, its race trace written with the
// note replay --mutant auto reads, and that trace passes on the reference.
TEST(CliExplore, TheRaceSearchOfAReferenceOnlyProfileFindsTheOverlayMutant) {
  TempDir dir;
  auto clean = run_cli({"explore", "--profile", "v5.2", "--seed", "1", "--json", "--out",
                        dir.path().string()});
  ASSERT_EQ(clean.exit, 0) << clean.out << clean.err;
  auto ok = nlohmann::json::parse(clean.out);
  EXPECT_EQ(ok.at("strategy"), "race-traces");
  EXPECT_TRUE(ok.at("search_complete").get<bool>());
  EXPECT_TRUE(ok.at("failures").empty());
  // An overlay mutant without --profile runs on its first profile.
  auto found = run_cli({"explore", "--mutant", "cache_put_before_alloc", "--seed", "1", "--json",
                        "--out", dir.path().string()});
  ASSERT_EQ(found.exit, 1) << found.out << found.err;
  auto bad = nlohmann::json::parse(found.out);
  EXPECT_EQ(bad.at("profile"), "v5.2");
  ASSERT_EQ(bad.at("failures").size(), 1u);
  const auto& f = bad.at("failures")[0];
  EXPECT_EQ(f.at("invariant"), "INV-NO-UAF");
  EXPECT_TRUE(f.at("trace_reproduces").get<bool>());
  const std::string trace = f.at("trace_path");
  EXPECT_EQ(run_cli({"replay", trace, "--mutant", "auto"}).exit, 1);
  EXPECT_EQ(run_cli({"replay", trace}).exit, 0);
  EXPECT_EQ(run_cli({"explore", "--profile", "v6.6"}).exit, 2);
  EXPECT_EQ(run_cli({"explore", "--profile", "v5.2", "--mutant", "canary"}).exit, 2);
}

// The race search runs in a watched child too: a reference (an overlay
// mutant, a broken model) that a race trace takes down is a model failure
// carrying that trace, never a crash of explore. The fault is injected on the
// first operation of every replay, so the first candidate of the first
// program is the one; without the fault that trace passes.
TEST(CliExplore, ARaceTraceTheReferenceDoesNotSurviveIsAModelFailureWithThatTrace) {
  struct Case {
    const char* fault;
    const char* says;
  };
  for (const Case& c : {Case{"segfault", "killed by signal 11 (Segmentation fault)"},
                        Case{"loop", "made no step for 1 s"}}) {
    SCOPED_TRACE(c.fault);
    TempDir dir;
    auto run = run_cli({"explore", "--profile", "v5.2", "--seed", "1", "--inject-fault", c.fault,
                        "--watchdog", "1", "--json", "--out", dir.path().string()});
    ASSERT_EQ(run.exit, 1) << run.out << run.err;
    auto summary = nlohmann::json::parse(run.out);
    EXPECT_EQ(summary.at("schedule_of_failure"), 1);
    ASSERT_EQ(summary.at("failures").size(), 1u) << run.out;
    const auto& f = summary.at("failures")[0];
    EXPECT_EQ(f.at("kind"), "model_failure");
    EXPECT_EQ(f.at("harness"), "move_and_destroy");
    EXPECT_NE(f.at("message").get<std::string>().find(c.says), std::string::npos) << f.at("message");
    EXPECT_FALSE(f.at("trace_reproduces").get<bool>());
    const std::string trace = f.at("trace");
    EXPECT_EQ(trace.rfind("{", 0), 0u) << trace;
    EXPECT_GT(f.at("ops").get<std::size_t>(), 0u);
    const std::string path = f.at("trace_path");
    EXPECT_NE(slurp(path).find(trace.substr(trace.find('\n') + 1)), std::string::npos);
    EXPECT_EQ(run_cli({"replay", path}).exit, 0);
  }
  EXPECT_EQ(run_cli({"explore", "--profile", "v5.2", "--inject-fault", "explode"}).exit, 2);
}

}  // namespace
}  // namespace mv::testing