// `memcg-verify mutants` end to end: the seed first, one row per mutant, the
// counterexample traces written and replayable with `replay --model both
// --mutant NAME`, the JSON summary, the catalog listing, exit 1 when a mutant
// survives and 2 on usage errors.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/cli_run.h"

namespace mv::testing {
namespace {

using nlohmann::json;

TEST(CliMutants, TableTracesAndReplay) {
  TempDir dir;
  auto run = run_cli({"mutants", "--seed", "3", "--only", "canary", "--only",
                      "free_without_uncharge", "--out", dir.path().string()});
  ASSERT_EQ(run.exit, 0) << run.out << run.err;
  EXPECT_EQ(run.out.rfind("seed: 3\n", 0), 0u) << run.out;
  EXPECT_NE(run.out.find("canary"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("free_without_uncharge"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("2 of 2 mutants killed"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("OK: every mutant was killed"), std::string::npos) << run.out;
  auto trace = dir.path() / "mutant-free_without_uncharge-3.jsonl";
  ASSERT_TRUE(std::filesystem::exists(trace)) << run.out;
  auto replay = run_cli({"replay", trace.string(), "--model", "both", "--mutant",
                         "free_without_uncharge"});
  EXPECT_EQ(replay.exit, 1) << replay.out << replay.err;
  EXPECT_NE(replay.err.find("reference and impl disagree"), std::string::npos) << replay.err;
  // The same mutant in the reference alone: the invariants fire.
  auto alone = run_cli({"replay", trace.string(), "--mutant", "free_without_uncharge"});
  EXPECT_EQ(alone.exit, 1) << alone.out << alone.err;
  EXPECT_NE(alone.out.find("VIOLATED"), std::string::npos) << alone.out;
  EXPECT_EQ(run_cli({"replay", trace.string(), "--model", "both"}).exit, 0);
}

TEST(CliMutants, JsonSummary) {
  TempDir dir;
  auto run = run_cli({"mutants", "--seed", "3", "--only", "rollback_misses_level", "--json",
                      "--out", dir.path().string()});
  ASSERT_EQ(run.exit, 0) << run.out << run.err;
  EXPECT_EQ(run.err.rfind("seed: 3\n", 0), 0u) << run.err;
  auto summary = json::parse(run.out);
  EXPECT_EQ(summary["seed"], 3);
  EXPECT_EQ(summary["killed"], 1);
  EXPECT_EQ(summary["survived"], 0);
  ASSERT_EQ(summary["mutants"].size(), 1u);
  const auto& m = summary["mutants"][0];
  EXPECT_EQ(m["mutant"], "rollback_misses_level");
  EXPECT_TRUE(m["killed"].get<bool>());
  EXPECT_TRUE(m["replayed"].get<bool>());
  EXPECT_GT(m["steps_to_kill"].get<std::uint64_t>(), 0u);
  EXPECT_GT(m["shrunk_steps"].get<std::uint64_t>(), 0u);
  EXPECT_TRUE(std::filesystem::exists(m["trace"].get<std::string>()));
  EXPECT_EQ(summary["exit"], 0);
}

TEST(CliMutants, ASurvivorFailsTheCampaign) {
  TempDir dir;
  // One run of one step cannot reach a reparented objcg.
  auto run = run_cli({"mutants", "--seed", "1", "--runs", "1", "--steps", "1", "--only",
                      "root_skipped_on_uncharge", "--out", dir.path().string()});
  EXPECT_EQ(run.exit, 1) << run.out << run.err;
  EXPECT_NE(run.out.find("SURVIVED"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("FAILED: 1 mutant survived"), std::string::npos) << run.out;
}

TEST(CliMutants, ListNamesEveryEntryAndWhyNot) {
  auto run = run_cli({"mutants", "--list"});
  ASSERT_EQ(run.exit, 0) << run.err;
  EXPECT_NE(run.out.find("stock_without_css_ref"), std::string::npos);
  EXPECT_NE(run.out.find("eefbfa7fd678"), std::string::npos);
  EXPECT_NE(run.out.find("not expressible"), std::string::npos);
  auto md = run_cli({"mutants", "--list", "--markdown"});
  ASSERT_EQ(md.exit, 0);
  EXPECT_EQ(md.out.rfind("# Mutants", 0), 0u);
  // docs/MUTANTS.md is this output: regenerate it when the catalog changes.
  EXPECT_EQ(slurp(std::filesystem::path(MV_SOURCE_DIR) / "docs" / "MUTANTS.md"), md.out)
      << "run: memcg-verify mutants --list --markdown > docs/MUTANTS.md";
}

TEST(CliMutants, UsageErrorsExitTwo) {
  auto unknown = run_cli({"mutants", "--only", "nope"});
  EXPECT_EQ(unknown.exit, 2);
  EXPECT_NE(unknown.err.find("unknown mutant \"nope\""), std::string::npos) << unknown.err;
  EXPECT_EQ(run_cli({"mutants", "--runs", "0"}).exit, 2);
  EXPECT_EQ(run_cli({"mutants", "--cpus", "0"}).exit, 2);
  EXPECT_EQ(run_cli({"mutants", "--seed", "x"}).exit, 2);
}

}  // namespace
}  // namespace mv::testing
