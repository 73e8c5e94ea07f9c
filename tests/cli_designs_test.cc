// The design matrix (memcg-verify designs): docs/DESIGNS.md is rendered from
// the committed matrix (scenarios/designs/matrix.json) and must be current;
// every committed trace of a claim replays on its profile's model and shows
// the claim; the matrix has the outcomes the seeds' claims say; and a small
// campaign reproduces the command's contract.
#include <filesystem>
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/cli_run.h"

namespace mv {
namespace {

using nlohmann::json;
using testing::run_cli;
using testing::slurp;
using testing::TempDir;

const std::string kSource = MV_SOURCE_DIR;
const std::string kMatrix = kSource + "/scenarios/designs/matrix.json";
const std::string kDoc = kSource + "/docs/DESIGNS.md";

json committed_matrix() { return json::parse(slurp(kMatrix)); }

const json* profile_of(const json& matrix, const std::string& name) {
  for (const auto& p : matrix.at("profiles"))
    if (p.at("profile") == name) return &p;
  return nullptr;
}

std::string outcome(const json& matrix, const std::string& profile, const std::string& id) {
  const json* p = profile_of(matrix, profile);
  if (!p) return "no such profile";
  for (const auto& i : p->at("invariants"))
    if (i.at("id") == id) return i.at("outcome");
  return "no such invariant";
}

TEST(CliDesigns, CommittedDocIsUpToDateWithTheMatrix) {
  auto run = run_cli({"designs", "--check", "--matrix", kMatrix, "--doc", kDoc});
  EXPECT_EQ(run.exit, 0) << run.err << "(regenerate: build/memcg-verify designs)";
}

TEST(CliDesigns, CheckFailsOnAStaleDoc) {
  TempDir dir;
  auto doc = (dir.path() / "DESIGNS.md").string();
  testing::write_file(doc, "# stale\n");
  auto run = run_cli({"designs", "--check", "--matrix", kMatrix, "--doc", doc});
  EXPECT_EQ(run.exit, 1);
  EXPECT_NE(run.err.find("stale"), std::string::npos) << run.err;
  ASSERT_EQ(run_cli({"designs", "--render", "--matrix", kMatrix, "--doc", doc}).exit, 0);
  EXPECT_EQ(slurp(doc), slurp(kDoc));
}

// The seeds' claims, as the issue states them: v5.2 breaks INV-NO-PIN through
// slab pages; v5.3 keeps it for slab but not for kmem pages; v5.10 breaks it
// through stacks; v6.6 keeps it; Davydov's design keeps the number of caches
// bounded.
TEST(CliDesigns, CommittedMatrixShowsTheSeedsClaims) {
  const json m = committed_matrix();
  for (const auto& p : {"v5.2", "v5.3", "davydov-2014", "v5.10", "v6.6"}) {
    const json* profile = profile_of(m, p);
    ASSERT_NE(profile, nullptr) << p;
    EXPECT_TRUE(profile->at("modeled").get<bool>()) << p;
    EXPECT_TRUE(profile->at("failure").is_null()) << p << ": " << profile->at("failure");
  }
  EXPECT_EQ(outcome(m, "v5.2", "INV-NO-PIN"), "violated");
  EXPECT_EQ(outcome(m, "v5.3", "INV-NO-PIN"), "violated");
  EXPECT_EQ(outcome(m, "v5.10", "INV-NO-PIN"), "violated");
  EXPECT_EQ(outcome(m, "v6.6", "INV-NO-PIN"), "holds");
  EXPECT_EQ(outcome(m, "v5.10", "INV-PAGE-CONSERVATION"), "known");  // root_charge_skipped, a race
  EXPECT_EQ(outcome(m, "davydov-2014", "INV-CACHES-BOUNDED"), "holds");
  EXPECT_EQ(outcome(m, "v5.2", "INV-CACHES-BOUNDED"), "violated");
  EXPECT_EQ(outcome(m, "v6.6", "INV-CACHES-BOUNDED"), "n/a");
  EXPECT_EQ(outcome(m, "v5.2", "INV-BYTE-CONSERVATION"), "n/a");
  // Which clause broke it: the slab page in v5.2, the kmem page (and no slab
  // page) in v5.3.
  auto claims_found = [&](const std::string& profile) {
    std::set<std::string> ids;
    for (const auto& i : profile_of(m, profile)->at("invariants"))
      for (const auto& c : i.at("claims"))
        if (c.at("found").get<bool>()) ids.insert(c.at("id"));
    return ids;
  };
  EXPECT_TRUE(claims_found("v5.2").count("v5.2-slab-pages-pin"));
  EXPECT_TRUE(claims_found("v5.3").count("v5.3-kmem-pages-pin"));
  EXPECT_TRUE(claims_found("v5.10").count("v5.10-kmem-pages-pin"));
}

// Every committed trace replays on the profile its header names, shows the
// claim it was written for, and fails nothing else.
TEST(CliDesigns, EveryCommittedTraceShowsItsClaim) {
  const json m = committed_matrix();
  std::size_t traces = 0;
  for (const auto& p : m.at("profiles"))
    for (const auto& i : p.at("invariants"))
      for (const auto& c : i.at("claims")) {
        if (!c.at("found").get<bool>()) continue;
        ++traces;
        const std::string path = kSource + "/" + c.at("trace").get<std::string>();
        auto run = run_cli({"replay", path, "--json"});
        ASSERT_EQ(run.exit, 0) << path << "\n" << run.out.substr(0, 2000) << run.err;
        json report = json::parse(run.out);
        EXPECT_EQ(report.at("profile"), p.at("profile")) << path;
        bool shown = false;
        for (const auto& v : report.at("violations"))
          shown |= v.at("design_claim") == c.at("id") || v.at("known_bug") == c.at("id");
        EXPECT_TRUE(shown) << path << " does not show " << c.at("id");
      }
  EXPECT_GE(traces, 5u);
}

TEST(CliDesigns, JsonHasTheContractShape) {
  TempDir dir;
  auto run = run_cli({"designs", "--json", "--runs", "20", "--steps", "40", "--claim-runs", "200",
                      "--profile", "v5.10", "--traces", dir.path().string()});
  ASSERT_TRUE(run.exit == 0 || run.exit == 3) << run.err << run.out.substr(0, 2000);
  json j = json::parse(run.out);
  ASSERT_EQ(j.at("profiles").size(), 1u);
  const auto& p = j.at("profiles")[0];
  EXPECT_EQ(p.at("profile"), "v5.10");
  EXPECT_TRUE(p.at("modeled").get<bool>());
  std::set<std::string> outcomes = {"holds", "violated", "known", "n/a"};
  for (const auto& i : p.at("invariants")) {
    EXPECT_TRUE(i.at("id").get<std::string>().rfind("INV-", 0) == 0);
    EXPECT_TRUE(outcomes.count(i.at("outcome").get<std::string>())) << i.at("outcome");
    EXPECT_TRUE(i.at("steps").is_number_unsigned());
    EXPECT_TRUE(i.contains("trace"));
    if (i.at("outcome") == "violated") {
      EXPECT_TRUE(i.at("trace").is_string());
    }
  }
}

// v5.10's root_charge_skipped (c5c8b16b596e) is reached only by a race, which
// the sequential search never tries: the bundled race trace stands in, and
// without it the cell is not what the profile documents (exit 3).
TEST(CliDesigns, ARaceOnlyKnownBugIsShownByItsRaceTrace) {
  auto page_conservation = [](const json& j) {
    for (const auto& i : j.at("profiles")[0].at("invariants"))
      if (i.at("id") == "INV-PAGE-CONSERVATION") return i;
    return json();
  };
  auto run = run_cli({"designs", "--json", "--no-write", "--profile", "v5.10", "--scenarios",
                      kSource + "/scenarios"});
  ASSERT_EQ(run.exit, 0) << run.err << run.out.substr(0, 2000);
  json cell = page_conservation(json::parse(run.out));
  EXPECT_EQ(cell.at("outcome"), "known");
  ASSERT_EQ(cell.at("claims").size(), 1u);
  const json& claim = cell.at("claims")[0];
  EXPECT_EQ(claim.at("id"), "root_charge_skipped");
  EXPECT_EQ(claim.at("found_by"), "race scenario");
  EXPECT_NE(claim.at("trace").get<std::string>().find("race_charge_vs_offline_v510.jsonl"),
            std::string::npos);

  auto without = run_cli({"designs", "--json", "--no-write", "--profile", "v5.10", "--scenarios", ""});
  EXPECT_EQ(without.exit, 3) << without.err;
  json bare = page_conservation(json::parse(without.out));
  EXPECT_EQ(bare.at("outcome"), "holds");
  EXPECT_EQ(bare.at("expected"), "known");
}

TEST(CliDesigns, UnknownProfileIsAUsageError) {
  auto run = run_cli({"designs", "--profile", "v9.9", "--no-write"});
  EXPECT_EQ(run.exit, 2);
  EXPECT_NE(run.err.find("unknown profile"), std::string::npos) << run.err;
}

}  // namespace
}  // namespace mv
