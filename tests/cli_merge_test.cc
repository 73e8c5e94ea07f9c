// `check --jobs N`, `check --shard I/N --json` and `memcg-verify merge`: a
// campaign split in 4 shards merges to the verdict and totals of the unsplit
// one (passing, and failing with a mutant), 2 jobs give the same report as 1,
// and reports that are not shards of one campaign, or a missing shard, are
// refused (exit 2) or undecided (exit 3).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/cli_run.h"

namespace mv::testing {
namespace {

using nlohmann::json;

std::vector<std::string> campaign(const std::vector<std::string>& more) {
  std::vector<std::string> args = {"check", "--seed", "9", "--runs", "400", "--steps", "80", "--json"};
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

void expect_same_totals(const json& a, const json& b) {
  for (const char* key : {"runs", "steps", "max_live_objects", "marks", "missing_marks", "exit"})
    EXPECT_EQ(a.at(key), b.at(key)) << key;
  ASSERT_EQ(a.at("failures").size(), b.at("failures").size());
  for (std::size_t i = 0; i < a.at("failures").size(); ++i)
    for (const char* key : {"line", "kind", "message", "steps", "reproduce"})
      EXPECT_EQ(a.at("failures")[i].at(key), b.at("failures")[i].at(key)) << key;
}

json merged_four_shards(const TempDir& dir, const std::vector<std::string>& more, int* exit_code) {
  std::vector<std::string> merge = {"merge", "--json", "--out", dir.path().string()};
  for (int i = 0; i < 4; ++i) {
    auto args = campaign(more);
    args.insert(args.end(), {"--shard", std::to_string(i) + "/4", "--out", dir.path().string()});
    auto shard = run_cli(args);
    EXPECT_TRUE(shard.exit == 0 || shard.exit == 1) << shard.err;
    merge.push_back(dir.write("shard-" + std::to_string(i) + ".json", shard.out).string());
  }
  auto run = run_cli(merge);
  *exit_code = run.exit;
  return json::parse(run.out);
}

TEST(CliMerge, FourShardsMergeToTheUnsplitCampaign) {
  TempDir dir;
  auto whole = run_cli(campaign({}));
  ASSERT_EQ(whole.exit, 0) << whole.err;
  const auto unsplit = json::parse(whole.out);
  EXPECT_EQ(unsplit.at("chunks"), 4);
  int exit_code = -1;
  const auto merged = merged_four_shards(dir, {}, &exit_code);
  EXPECT_EQ(exit_code, 0);
  expect_same_totals(unsplit, merged);
  auto two = run_cli(campaign({"--jobs", "2"}));
  ASSERT_EQ(two.exit, 0) << two.err;
  expect_same_totals(unsplit, json::parse(two.out));
}

TEST(CliMerge, AFailingCampaignMergesToTheSameFailure) {
  TempDir dir;
  const std::vector<std::string> mutant = {"--mutant", "refill_stock_at_batch"};
  auto args = campaign(mutant);
  args.insert(args.end(), {"--out", dir.path().string()});
  auto whole = run_cli(args);
  ASSERT_EQ(whole.exit, 1) << whole.err;
  const auto unsplit = json::parse(whole.out);
  int exit_code = -1;
  const auto merged = merged_four_shards(dir, mutant, &exit_code);
  EXPECT_EQ(exit_code, 1);
  expect_same_totals(unsplit, merged);
  // merge writes the failure's trace like check: it replays.
  const auto trace = merged.at("failures")[0].at("trace").get<std::string>();
  EXPECT_EQ(run_cli({"replay", trace, "--model", "both", "--mutant", "refill_stock_at_batch"}).exit, 1);
}

TEST(CliMerge, RefusesWhatIsNotOneCampaignAndIsUndecidedWithAShardMissing) {
  TempDir dir;
  auto a = run_cli(campaign({"--shard", "0/2"}));
  auto other_seed = run_cli({"check", "--seed", "10", "--runs", "400", "--steps", "80", "--json",
                             "--shard", "1/2"});
  const auto a_path = dir.write("a.json", a.out).string();
  EXPECT_EQ(run_cli({"merge", a_path, dir.write("b.json", other_seed.out).string()}).exit, 2);
  EXPECT_EQ(run_cli({"merge", a_path, a_path}).exit, 2);  // the same shard twice
  EXPECT_EQ(run_cli({"merge", dir.write("c.json", "{}").string()}).exit, 2);
  auto alone = run_cli({"merge", a_path, "--json"});
  EXPECT_EQ(alone.exit, 3) << alone.out;
  EXPECT_EQ(json::parse(alone.out).at("missing_chunks"), json::array({1, 3}));
  EXPECT_EQ(run_cli(campaign({"--shard", "2/2"})).exit, 2);
  EXPECT_EQ(run_cli(campaign({"--jobs", "0"})).exit, 2);
}

TEST(CliMerge, MutantsGiveTheSameTableOnTwoJobs) {
  TempDir dir;
  auto table = [&](const std::string& jobs) {
    auto run = run_cli({"mutants", "--seed", "1", "--runs", "200", "--only", "canary", "--only",
                        "double_uncharge", "--only", "refill_stock_at_batch", "--json", "--jobs", jobs,
                        "--out", dir.path().string()});
    EXPECT_EQ(run.exit, 0) << run.err;
    auto rows = json::parse(run.out).at("mutants");
    for (auto& row : rows) row.erase("seconds"), row.erase("seconds_to_kill");
    return rows;
  };
  const auto one = table("1");
  EXPECT_EQ(one.size(), 3u);
  EXPECT_EQ(one, table("2"));
}

}  // namespace
}  // namespace mv::testing
