// Bad input to `memcg-verify replay`: exit status 2, `FILE:LINE: reason` on
// stderr with the right line, and the report of every line before it still
// printed (tables, and --json that parses and holds the earlier results).
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/cli_bad_input.h"

namespace mv {
namespace {

using nlohmann::json;
using testing::BadCase;
using testing::expect_bad_input_contract;
using testing::good_then;
using testing::kGoodLines;
using testing::kHeader;
using testing::run_cli;
using testing::slurp;
using testing::TempDir;

std::vector<BadCase> bad_cases() {
  return {
      {"bad_json", good_then(R"({"op":"mkdir","cg":"/b")"), 6, "bad JSON"},
      {"unknown_op", good_then(R"({"op":"alocc","task":"t1"})"), 6, "unknown op \"alocc\""},
      {"unknown_field", good_then(R"({"op":"drain","cpu":0,"cpus":1})"), 6,
       "unknown field \"cpus\" in drain"},
      {"missing_field", good_then(R"({"op":"alloc","task":"t1","obj":"o2","kind":"slab"})"), 6,
       "missing field \"size\""},
      {"wrong_type", good_then(R"({"op":"alloc","task":"t1","obj":"o2","kind":"slab","size":"64"})"),
       6, "field \"size\" must be an integer"},
      {"negative_number", good_then(R"({"op":"set_max","cg":"/a","pages":-5})"), 6, "\"pages\""},
      {"unknown_task", good_then(R"({"op":"alloc","task":"t9","obj":"o2","kind":"stack"})"), 6,
       "unknown task \"t9\""},
      {"exited_task",
       good_then("{\"op\":\"exit\",\"task\":\"t1\"}\n{\"op\":\"run_on\",\"task\":\"t1\",\"cpu\":0}"),
       7, "task \"t1\" has exited (line 6)"},
      {"live_task_spawned_again", good_then(R"({"op":"spawn","task":"t1","cg":"/","cpu":0})"), 6,
       "task \"t1\" is already running (spawned at line 3)"},
      {"unknown_object", good_then(R"({"op":"free","obj":"o7"})"), 6,
       "unknown object \"o7\" (never allocated)"},
      {"double_free", good_then(R"({"op":"free","obj":"o1","cpu":0})"), 6,
       "double free of object \"o1\" (freed at line 5)"},
      {"live_object_allocated_again",
       good_then("{\"op\":\"alloc\",\"task\":\"t1\",\"obj\":\"o2\",\"kind\":\"stack\"}\n"
                 "{\"op\":\"alloc\",\"task\":\"t1\",\"obj\":\"o2\",\"kind\":\"stack\"}"),
       7, "object \"o2\" is already allocated (line 6)"},
      {"free_without_cpu_after_exit",
       good_then("{\"op\":\"alloc\",\"task\":\"t1\",\"obj\":\"o2\",\"kind\":\"page\",\"order\":0}\n"
                 "{\"op\":\"exit\",\"task\":\"t1\"}\n{\"op\":\"free\",\"obj\":\"o2\"}"),
       8, "gives no \"cpu\" and its allocating task \"t1\" has exited"},
      {"malformed_cgroup_path", good_then(R"({"op":"mkdir","cg":"/a//b"})"), 6,
       "malformed cgroup path \"/a//b\""},
      {"cpu_out_of_range", good_then(R"({"op":"drain","cpu":2})"), 6,
       "CPU 2 is out of range (the trace has 2 CPUs: 0-1)"},
      {"cpu_offline",
       good_then("{\"op\":\"cpu_offline\",\"cpu\":1}\n{\"op\":\"spawn\",\"task\":\"t2\",\"cg\":\"/\","
                 "\"cpu\":1}"),
       7, "CPU 1 is offline (cpu_offline at line 6)"},
      {"page_size_not_power_of_two", R"({"profile":"v6.6","cpus":2,"page_size":12288})", 1,
       "page_size must be a power of two"},
      {"unknown_profile", R"({"profile":"v4.19","cpus":2,"page_size":4096})", 1,
       "unknown profile \"v4.19\""},
      {"cpus_out_of_range", R"({"profile":"v6.6","cpus":65,"page_size":4096})", 1, "cpus"},
      {"empty_file", "", 1, "header line"},
      {"missing_header", std::string(kGoodLines), 1, "first line must be the header"},
  };
}

class BadInput : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadInput, ExitsTwoWithFileLineReasonAndTheEarlierReport) {
  expect_bad_input_contract(GetParam());
}

INSTANTIATE_TEST_SUITE_P(Cli, BadInput, ::testing::ValuesIn(bad_cases()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(CliUsage, MissingTraceFileIsExitTwo) {
  auto run = run_cli({"replay", "/nonexistent/t.jsonl"});
  EXPECT_EQ(run.exit, 2);
  EXPECT_NE(run.err.find("/nonexistent/t.jsonl: cannot open"), std::string::npos) << run.err;
  // An error, not an empty report.
  EXPECT_EQ(run.out, "");
}

// The conventions of a command-line tool (issue 11 item 7).
TEST(CliConventions, VersionAndAnUnknownCommandNamingTheValidOnes) {
  auto version = run_cli({"--version"});
  EXPECT_EQ(version.exit, 0);
  EXPECT_EQ(version.out.rfind("memcg-verify ", 0), 0u) << version.out;
  auto unknown = run_cli({"chekc", "--seed", "1"});
  EXPECT_EQ(unknown.exit, 2);
  EXPECT_NE(unknown.err.find("unknown command \"chekc\""), std::string::npos) << unknown.err;
  for (const char* name : {"check", "replay", "scenarios", "mutants", "invariants", "profiles"})
    EXPECT_NE(unknown.err.find(name), std::string::npos) << name << ": " << unknown.err;
}

// Issue 12 item 8: a negative seed is a usage error, not 2^64 - 1.
TEST(CliConventions, ANegativeSeedIsRefused) {
  for (const char* command : {"check", "mutants", "explore"}) {
    auto run = run_cli({command, "--seed", "-1"});
    EXPECT_EQ(run.exit, 2) << command << ": " << run.out;
    EXPECT_NE(run.err.find("a seed is a non-negative integer, got \"-1\""), std::string::npos)
        << command << ": " << run.err;
    EXPECT_EQ(run.out.find("18446744073709551615"), std::string::npos) << command;
  }
}

TEST(CliConventions, InvariantsAndProfilesAreListed) {
  auto text = run_cli({"invariants"});
  ASSERT_EQ(text.exit, 0) << text.err;
  auto list = run_cli({"invariants", "--json"});
  ASSERT_EQ(list.exit, 0) << list.err;
  auto invariants = json::parse(list.out);
  ASSERT_GE(invariants.size(), 5u);
  for (const auto& inv : invariants) {
    EXPECT_NE(text.out.find(inv.at("id").get<std::string>()), std::string::npos) << inv;
    EXPECT_FALSE(inv.at("profiles").empty()) << inv;
  }
  auto profiles = json::parse(run_cli({"profiles", "--json"}).out);
  bool v66_modeled = false;
  for (const auto& p : profiles)
    if (p.at("name") == "v6.6") v66_modeled = p.at("modeled").get<bool>();
  EXPECT_TRUE(v66_modeled) << profiles;
  EXPECT_NE(run_cli({"profiles"}).out.find("v6.6     modeled"), std::string::npos);
}

TEST(CliConventions, QuietReplayPrintsOnlyTheVerdict) {
  TempDir dir;
  auto file = dir.write("t.jsonl", std::string(kHeader) + "\n" + kGoodLines).string();
  auto run = run_cli({"--quiet", "replay", file});
  EXPECT_EQ(run.exit, 0) << run.err;
  EXPECT_EQ(run.out, "verdict: OK: every invariant holds over 4 steps\n");
  // After the command name too, and the same exit status.
  EXPECT_EQ(run_cli({"replay", file, "-q"}).out, run.out);
  EXPECT_EQ(run_cli({"-q", "-v", "replay", file}).exit, 2);  // exclusive
}

// scenarios --json, --tap, -q and -v (issue 11 item 7) on a directory of two
// scenarios: one that meets its expectation, one whose expectation is wrong.
TEST(CliConventions, ScenariosJsonTapQuietVerbose) {
  TempDir dir;
  const auto trace = slurp(MV_SOURCE_DIR "/scenarios/first_slab_alloc.jsonl");
  dir.write("a_good.jsonl", trace);
  dir.write("a_good.expect.json", R"({"exit":0,"checks":{"/objcgs/0/refs":3}})");
  dir.write("b_bad.jsonl", trace);
  dir.write("b_bad.expect.json", R"({"exit":0,"checks":{"/objcgs/0/refs":4}})");
  const auto d = dir.path().string();

  auto j = run_cli({"scenarios", d, "--model", "reference", "--json"});
  EXPECT_EQ(j.exit, 1) << j.err;
  auto report = json::parse(j.out);
  EXPECT_EQ(report["passed"], 1);
  EXPECT_EQ(report["failed"], 1);
  ASSERT_EQ(report["scenarios"].size(), 2u);
  EXPECT_EQ(report["scenarios"][0]["name"], "a_good");
  EXPECT_EQ(report["scenarios"][0]["status"], "pass");
  EXPECT_EQ(report["scenarios"][1]["status"], "FAIL");
  EXPECT_EQ(report["scenarios"][1]["mismatches"][0], "/objcgs/0/refs: 3, expected 4");

  auto tap = run_cli({"scenarios", d, "--model", "reference", "--tap"});
  EXPECT_EQ(tap.exit, 1);
  EXPECT_EQ(tap.out.rfind("TAP version 13\n1..2\nok 1 - a_good\nnot ok 2 - b_bad\n", 0), 0u)
      << tap.out;
  EXPECT_NE(tap.out.find("    /objcgs/0/refs: 3, expected 4\n"), std::string::npos) << tap.out;

  auto normal = run_cli({"scenarios", d, "--model", "reference"});
  auto quiet = run_cli({"-q", "scenarios", d, "--model", "reference"});
  auto verbose = run_cli({"scenarios", d, "--model", "reference", "-v"});
  for (const auto* r : {&normal, &quiet, &verbose}) EXPECT_EQ(r->exit, 1);
  EXPECT_NE(normal.out.find("a_good"), std::string::npos);
  EXPECT_EQ(quiet.out.find("a_good"), std::string::npos) << quiet.out;  // only what did not pass
  EXPECT_NE(quiet.out.find("b_bad"), std::string::npos) << quiet.out;
  EXPECT_EQ(normal.out.find("/objcgs/0/refs = 3"), std::string::npos);
  EXPECT_NE(verbose.out.find("/objcgs/0/refs = 3"), std::string::npos) << verbose.out;

  // A scenario without its expectation is a usage error, not a failure.
  dir.write("c_none.jsonl", trace);
  auto missing = run_cli({"scenarios", d, "--model", "reference"});
  EXPECT_EQ(missing.exit, 2);
  EXPECT_NE(missing.err.find("c_none.expect.json: missing"), std::string::npos) << missing.err;
}


TEST(CliUsage, BadOptionsAreExitTwo) {
  EXPECT_EQ(run_cli({}).exit, 2);
  EXPECT_EQ(run_cli({"replay"}).exit, 2);
  EXPECT_EQ(run_cli({"replay", "x.jsonl", "--model", "kernel"}).exit, 2);
  EXPECT_EQ(run_cli({"no-such-command"}).exit, 2);
}

TEST(CliUsage, ModelImplNeedsTheImpl) {
  TempDir dir;
  auto file = dir.write("t.jsonl", std::string(kHeader) + "\n" + kGoodLines).string();
  auto run = run_cli({"replay", file, "--model", "impl"});
#ifdef MV_HAVE_IMPL
  EXPECT_NE(run.exit, 2) << run.err;
#else
  EXPECT_EQ(run.exit, 2);
  EXPECT_NE(run.err.find("needs the impl model"), std::string::npos) << run.err;
#endif
}

TEST(CliReplay, AGoodTraceExitsZeroWithTheReport) {
  TempDir dir;
  auto file = dir.write("t.jsonl", std::string(kHeader) + "\n" + kGoodLines).string();
  auto run = run_cli({"replay", file, "--json"});
  ASSERT_EQ(run.exit, 0) << run.err << run.out;
  EXPECT_EQ(run.err, "");
  auto report = json::parse(run.out);
  ASSERT_EQ(report["results"].size(), 4u);
  // The free names no CPU: it runs on t1's CPU.
  EXPECT_EQ(report["results"][3]["op"], "free");
  EXPECT_EQ(report["results"][3]["cpu"], 1);
  EXPECT_TRUE(report["error"].is_null());
  EXPECT_TRUE(report["violations"].empty());
}

TEST(CliReplay, ReadsStandardInputAsDash) {
  // run_cli feeds /dev/null: an empty trace, reported as <stdin>:1.
  auto run = run_cli({"replay", "-"});
  EXPECT_EQ(run.exit, 2);
  EXPECT_EQ(run.err.rfind("<stdin>:1: ", 0), 0u) << run.err;
}

// simulate and live (docs/SIMULATE.md): the JSON contracts as a script sees
// them, and bad usage is exit 2 with the reason.
TEST(CliSimulate, TheJsonContractAndBadUsage) {
  auto run = run_cli({"simulate", "--profile", "v6.6", "--days", "2", "--json"});
  ASSERT_EQ(run.exit, 0) << run.err;
  EXPECT_EQ(run.err, "seed: 1\n");  // stdout is the JSON alone
  auto j = json::parse(run.out);
  EXPECT_EQ(j.at("profile"), "v6.6");
  EXPECT_EQ(j.at("workload"), "seed000");
  ASSERT_EQ(j.at("samples").size(), 2u);
  EXPECT_EQ(j.at("samples")[1].at("day"), 2);
  EXPECT_TRUE(j.at("samples")[1].at("held_bytes").is_number());
  EXPECT_TRUE(j.at("final").at("dying").is_number());
  auto loop = run_cli({"simulate", "--workload", "seed004", "--iterations", "200", "--profile", "v6.6", "--json"});
  ASSERT_EQ(loop.exit, 0) << loop.err;
  EXPECT_EQ(json::parse(loop.out).at("samples").size(), 2u);
  auto quiet = run_cli({"-q", "simulate", "--workload", "seed004", "--iterations", "100", "--profile", "v6.6"});
  EXPECT_EQ(quiet.exit, 0) << quiet.err;
  EXPECT_EQ(quiet.out.find("dying   held"), std::string::npos) << quiet.out;  // no table
  EXPECT_NE(quiet.out.find("holds: 0 dying after 100 iterations"), std::string::npos) << quiet.out;
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"simulate", "--workload", "nope"},
        std::vector<std::string>{"simulate", "--days", "0"},
        std::vector<std::string>{"simulate", "--profile", "v9.9"}}) {
    auto bad = run_cli(args);
    EXPECT_EQ(bad.exit, 2) << args.back() << ": " << bad.err;
    EXPECT_FALSE(bad.err.empty());
  }
}

TEST(CliLive, JsonIsTheContractWhetherItRanOrWasSkipped) {
  auto run = run_cli({"live", "--json"});
  auto j = json::parse(run.out);
  const auto status = j.at("status").get<std::string>();
  ASSERT_TRUE(status == "ran" || status == "skipped") << run.out;
  EXPECT_FALSE(j.at("kernel").get<std::string>().empty());
  if (status == "skipped") {
    EXPECT_EQ(run.exit, 0);
    EXPECT_TRUE(j.at("why").is_string());
    return;
  }
  ASSERT_FALSE(j.at("experiments").empty());
  bool all_agree = true;
  for (const auto& e : j.at("experiments")) {
    for (const char* key : {"name", "measured_dying", "predicted_dying", "profile", "agree"})
      EXPECT_TRUE(e.contains(key)) << key << ": " << e;
    all_agree = all_agree && e.at("agree").get<bool>();
  }
  EXPECT_EQ(run.exit, all_agree ? 0 : 1);  // exit 1 only when the kernel and the model disagree
}

}  // namespace
}  // namespace mv
