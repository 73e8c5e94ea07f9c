// `memcg-verify enumerate`: the JSON contract ({"sequences","states",
// "violations"}), exit 0 on the clean tree, exit 1 and a replayable trace for
// a mutant, exit 2 for usage errors.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/cli_run.h"

namespace mv::testing {
namespace {

using nlohmann::json;

TEST(CliEnumerate, JsonContractOnTheCleanTree) {
  auto run = run_cli({"enumerate", "--depth", "2", "--json"});
  ASSERT_EQ(run.exit, 0) << run.err;
  auto j = json::parse(run.out);
  EXPECT_GT(j.at("sequences").get<int>(), j.at("states").get<int>());
  EXPECT_GT(j.at("states").get<int>(), 10);
  EXPECT_EQ(j.at("violations"), 0);
  EXPECT_TRUE(j.at("first_counterexample").is_null());
}

TEST(CliEnumerate, AMutantFailsWithAReplayableTrace) {
  TempDir dir;
  auto run = run_cli({"enumerate", "--depth", "3", "--mutant", "old_objcg_not_put", "--json",
                      "--out", dir.path().string()});
  ASSERT_EQ(run.exit, 1) << run.err;
  auto j = json::parse(run.out);
  EXPECT_GT(j.at("violations").get<int>(), 0);
  const auto trace = j.at("first_counterexample").at("trace").get<std::string>();
  auto replay = run_cli({"replay", trace, "--model", "both", "--mutant", "old_objcg_not_put"});
  EXPECT_EQ(replay.exit, 1) << replay.out;
  EXPECT_EQ(run_cli({"replay", trace, "--model", "both"}).exit, 0);
  // Its header note names the model and the mutant.
  auto automatic = run_cli({"replay", trace, "--mutant", "auto"});
  EXPECT_EQ(automatic.exit, 1) << automatic.out << automatic.err;
  EXPECT_NE(automatic.err.find("mutant old_objcg_not_put from the header note (--model both)"),
            std::string::npos) << automatic.err;
}

TEST(CliEnumerate, UsageErrors) {
  EXPECT_EQ(run_cli({"enumerate", "--cpus", "1"}).exit, 2);
  EXPECT_EQ(run_cli({"enumerate", "--mutant", "no_such_bug"}).exit, 2);
  EXPECT_EQ(run_cli({"enumerate", "--page-size", "6000"}).exit, 2);
}

}  // namespace
}  // namespace mv::testing
