// `memcg-verify mutants` end to end: the seed first, one row per mutant, the
// counterexample traces written and replayable with `replay --model both
// --mutant NAME`, the JSON summary, the catalog listing, exit 1 when a mutant
// survives and 2 on usage errors.
#include <map>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "spec/mutant.h"
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
  // The same mutant in the impl alone: the invariants fire. The reference has
  // no mutants: the pair is a usage error.
  EXPECT_EQ(run_cli({"replay", trace.string(), "--model", "reference", "--mutant",
                     "free_without_uncharge"}).exit, 2);
  auto alone = run_cli({"replay", trace.string(), "--model", "impl", "--mutant",
                        "free_without_uncharge"});
  EXPECT_EQ(alone.exit, 1) << alone.out << alone.err;
  EXPECT_NE(alone.out.find("VIOLATED"), std::string::npos) << alone.out;
  EXPECT_EQ(run_cli({"replay", trace.string(), "--model", "both"}).exit, 0);
  // The header note names the mutant: `--mutant auto` needs nothing else.
  auto automatic = run_cli({"replay", trace.string(), "--mutant", "auto"});
  EXPECT_EQ(automatic.exit, 1) << automatic.out << automatic.err;
  EXPECT_NE(automatic.err.find("mutant free_without_uncharge from the header note (--model both)"),
            std::string::npos) << automatic.err;
  EXPECT_NE(automatic.err.find("reference and impl disagree"), std::string::npos) << automatic.err;
}

// Without --out the traces go to the run folder, and the summary says where.
TEST(CliMutants, TracesGoToTheRunFolderByDefault) {
  TempDir dir;
  auto run = run_cli({"mutants", "--seed", "3", "--only", "free_without_uncharge"}, dir.path());
  ASSERT_EQ(run.exit, 0) << run.out << run.err;
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "memcg-verify-out" /
                                      "mutant-free_without_uncharge-3.jsonl"))
      << run.out;
  EXPECT_NE(run.out.find("memcg-verify-out"), std::string::npos) << run.out;
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

TEST(CliMutants, TapIsOnePointPerMutant) {
  TempDir dir;
  auto run = run_cli({"mutants", "--seed", "1", "--runs", "3", "--steps", "3", "--only", "canary",
                      "--only", "root_skipped_on_uncharge", "--tap", "--out", dir.path().string()});
  EXPECT_EQ(run.exit, 1) << run.out << run.err;
  EXPECT_EQ(run.out.rfind("TAP version 13\n1..2\n# seed: 1\n", 0), 0u) << run.out;
  EXPECT_NE(run.out.find("\nok 1 - canary\n"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("\nnot ok 2 - root_skipped_on_uncharge\n  ---\n  message: |\n    survived"),
            std::string::npos) << run.out;
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

// The fix column is the whole upstream fix, not its first word ("GONG",
// "fead2b869764,").
TEST(CliMutants, ListShowsEveryFixInFull) {
  auto run = run_cli({"mutants", "--list"});
  ASSERT_EQ(run.exit, 0) << run.err;
  for (const auto& info : spec::mutant_catalog()) {
    if (info.mutant == spec::Mutant::none) continue;
    EXPECT_NE(run.out.find(std::string(info.name)), std::string::npos) << info.name;
    if (!info.commit.empty()) {
      EXPECT_NE(run.out.find("fix: " + std::string(info.commit) + "\n"), std::string::npos)
          << info.name;
    }
  }
}

// Each row of the text list: name, kind, then where the mutant is injected
// (its layers), as the catalog says; scripts read the first two columns
// (verify.sh and explore-table.sh take `$2 == "interleaving"`).
TEST(CliMutants, ListRowShowsKindAndLayers) {
  auto run = run_cli({"mutants", "--list"});
  ASSERT_EQ(run.exit, 0) << run.err;
  std::istringstream lines(run.out);
  std::map<std::string, std::string> rows;
  for (std::string line; std::getline(lines, line);)
    if (!line.empty() && line[0] != ' ') rows[line.substr(0, line.find(' '))] = line;
  for (const auto& info : spec::mutant_catalog()) {
    if (info.mutant == spec::Mutant::none) continue;
    ASSERT_TRUE(rows.count(std::string(info.name))) << info.name;
    std::istringstream row(rows[std::string(info.name)]);
    std::string name, kind;
    row >> name >> kind;
    EXPECT_EQ(kind, spec::mutant_kind_name(info.kind)) << info.name;
    const std::string layers = info.layers ? spec::mutant_layers_text(info.layers) : "-";
    EXPECT_NE(rows[std::string(info.name)].find(" " + layers + " "), std::string::npos)
        << info.name << ": " << rows[std::string(info.name)];
  }
}

// `mutants --list --json` (a contract): an array of objects with at least
// `name` and `kind`, one per catalog entry, from the catalog itself.
TEST(CliMutants, ListJsonIsAnArrayOfTheCatalog) {
  auto run = run_cli({"mutants", "--list", "--json"});
  ASSERT_EQ(run.exit, 0) << run.err;
  auto list = nlohmann::json::parse(run.out);
  ASSERT_TRUE(list.is_array());
  std::size_t i = 0;
  for (const auto& info : spec::mutant_catalog()) {
    if (info.mutant == spec::Mutant::none) continue;
    ASSERT_LT(i, list.size());
    const auto& entry = list[i++];
    EXPECT_EQ(entry["name"], std::string(info.name));
    EXPECT_EQ(entry["kind"], std::string(spec::mutant_kind_name(info.kind)));
    EXPECT_EQ(entry["expressible"], info.mutant.has_value()) << info.name;
    EXPECT_TRUE(entry["layers"].is_array()) << info.name;
    if (info.mutant) {
      EXPECT_FALSE(entry["layers"].empty()) << info.name;
    }
  }
  EXPECT_EQ(i, list.size());
  auto by_name = [&](const std::string& name) {
    for (const auto& e : list)
      if (e["name"] == name) return e;
    return nlohmann::json();
  };
  EXPECT_EQ(by_name("hotplug_drains_page_stock_only")["bug_catalog_fix"], "9f01b4954490");
  EXPECT_EQ(by_name("objcg_not_reset")["expressible"], false);
  // The contract of issue 9: the races are in the catalog as kind interleaving.
  EXPECT_EQ(by_name("css_get_not_tryget")["expressible"], true);
  EXPECT_EQ(by_name("css_get_not_tryget")["kind"], "interleaving");
  EXPECT_EQ(by_name("flush_required_double_read")["kind"], "interleaving");
  EXPECT_TRUE(by_name("canary")["bug_catalog_fix"].is_null());
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
