// docs/INVARIANTS.md is generated (memcg-verify doc): the committed file must
// be what the current spec generates.
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "tests/cli_run.h"

namespace mv {
namespace {

using testing::run_cli;
using testing::slurp;
using testing::TempDir;

const std::string kCommitted = std::string(MV_SOURCE_DIR) + "/docs/INVARIANTS.md";

TEST(CliDoc, CommittedInvariantsDocIsUpToDate) {
  auto run = run_cli({"doc", "--check", "--out", kCommitted});
  EXPECT_EQ(run.exit, 0) << run.err
                         << "(regenerate: build/memcg-verify doc --out docs/INVARIANTS.md)";
}

TEST(CliDoc, WritesWhatCheckAccepts) {
  TempDir dir;
  auto out = (dir.path() / "INVARIANTS.md").string();
  auto write = run_cli({"doc", "--out", out});
  ASSERT_EQ(write.exit, 0) << write.err;
  auto text = slurp(out);
  EXPECT_NE(text.find("INV-PAGE-CONSERVATION"), std::string::npos);
  EXPECT_NE(text.find("INV-REPARENT"), std::string::npos);
  EXPECT_EQ(run_cli({"doc", "--check", "--out", out}).exit, 0);
  // Same text on stdout.
  EXPECT_EQ(run_cli({"doc", "--out", "-"}).out, text);
}

// With no arguments `doc` prints and writes nothing: it never overwrites a
// docs/INVARIANTS.md relative to where the user stands.
TEST(CliDoc, NoArgumentsPrintsToStdoutAndWritesNothing) {
  TempDir dir;
  auto run = run_cli({"doc"}, dir.path());
  ASSERT_EQ(run.exit, 0) << run.err;
  EXPECT_NE(run.out.find("INV-PAGE-CONSERVATION"), std::string::npos);
  EXPECT_EQ(run.out, run_cli({"doc", "--out", "-"}).out);
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
  auto check = run_cli({"doc", "--check"}, dir.path());
  EXPECT_EQ(check.exit, 2);
  EXPECT_NE(check.err.find("--check needs --out FILE"), std::string::npos) << check.err;
}

TEST(CliDoc, CheckFailsOnAStaleOrMissingFile) {
  TempDir dir;
  auto out = (dir.path() / "INVARIANTS.md").string();
  ASSERT_EQ(run_cli({"doc", "--out", out}).exit, 0);
  dir.write("INVARIANTS.md", slurp(out) + "\nedited by hand\n");
  auto stale = run_cli({"doc", "--check", "--out", out});
  EXPECT_EQ(stale.exit, 1);
  EXPECT_NE(stale.err.find("stale"), std::string::npos) << stale.err;
  EXPECT_NE(stale.err.find("memcg-verify doc --out"), std::string::npos) << stale.err;
  auto missing = run_cli({"doc", "--check", "--out", (dir.path() / "none.md").string()});
  EXPECT_EQ(missing.exit, 1);
  EXPECT_NE(missing.err.find("missing"), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace mv
