// The user's workflow of docs/KERNEL-CHANGE.md, end to end through the CLI:
// a copy of the default tree's files (the ones the extractor reads) with one
// realistic slip in the kernel's own code, then `check --kernel-src COPY`:
// the clean copy passes, each slipped copy fails within 10,000 steps with a
// shrunk trace that `replay --model reference,kernel --kernel-src COPY`
// reproduces at the same line, and that the clean tree replays without
// failure. A slip that crashes, loops or trips a BUG_ON is a failure of the
// subject with its trace (exit 1), never a crash of memcg-verify; a tree
// that lacks a definition or does not compile is exit 2 with the reason.
// Skipped when the build has no kernel tree.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "kernel/extract/c_source.h"
#include "kernel/extract/manifest.h"
#include "kernel/tree_build.h"
#include "tests/cli_run.h"

namespace mv::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A copy of the default tree's files under `dir`.
fs::path copy_default_tree(const fs::path& dir) {
  const auto tree = kernel::default_kernel_tree();
  for (const auto& f : kernel::extract::tree_files()) {
    fs::create_directories((dir / f).parent_path());
    fs::copy_file(tree / f, dir / f, fs::copy_options::overwrite_existing);
  }
  return dir;
}

// In `file` of `tree`, inside the definition of `function`, the first `from`
// (token by token) becomes `to`: what a developer's edit does.
void edit(const fs::path& tree, const std::string& file, const std::string& function,
          const std::string& from, const std::string& to) {
  const std::string text = slurp(tree / file);
  const auto source = kernel::extract::split_source(file, text);
  auto chunks = kernel::extract::find_chunks(source, function);
  ASSERT_FALSE(chunks.empty()) << function;
  const auto& chunk = *chunks.front();
  auto changed = kernel::extract::replace_tokens(chunk.text, from, to);
  ASSERT_TRUE(changed) << "\"" << from << "\" is not in " << function;
  const auto at = text.find(chunk.text);
  ASSERT_NE(at, std::string::npos);
  std::ofstream(tree / file, std::ios::binary | std::ios::trunc)
      << text.substr(0, at) + *changed + text.substr(at + chunk.text.size());
}

class CliKernel : public ::testing::Test {
 protected:
  void SetUp() override {
    if (kernel::default_kernel_tree().empty()) GTEST_SKIP() << "this build has no kernel tree";
    // Built trees go to this test's cache, not the build's.
    setenv("MV_KERNEL_CACHE", (dir_.path() / "cache").c_str(), 1);
  }
  fs::path tree(const std::string& name) { return copy_default_tree(dir_.path() / name); }
  TempDir dir_;
};

std::vector<std::string> check_args(const fs::path& tree, const fs::path& out, int runs) {
  return {"check", "--kernel-src", tree.string(), "--seed", "11", "--runs", std::to_string(runs),
          "--steps", "200", "--json", "--out", out.string()};
}

// The slipped copy fails within 10,000 steps, and its trace replays as a
// failure at the same line with the slip and passes on the build's default
// tree (the tree the copy was made from).
void expect_caught(const fs::path& slipped, const fs::path& out) {
  auto run = run_cli(check_args(slipped, out, 2000));
  ASSERT_EQ(run.exit, 1) << run.out << run.err;
  auto summary = json::parse(run.out);
  ASSERT_TRUE(summary["first_failure"].is_object()) << run.out;
  EXPECT_LE(summary["first_failure"]["steps"].get<std::uint64_t>(), 10000u) << run.out;
  ASSERT_EQ(summary["failures"].size(), 1u);
  const auto& failure = summary["failures"][0];
  const std::string trace = failure["trace"];
  ASSERT_TRUE(fs::exists(trace)) << run.out;
  auto replay = run_cli({"replay", trace, "--model", "reference,kernel", "--kernel-src", slipped.string(), "--json"});
  EXPECT_EQ(replay.exit, 1) << replay.out << replay.err;
  auto report = json::parse(replay.out);
  std::size_t line = 0;
  if (!report["disagreement"].is_null()) line = report["disagreement"]["line"];
  else if (!report["model_failure"].is_null()) line = report["model_failure"]["line"];
  else if (!report["violations"].empty()) line = report["violations"][0]["line"];
  EXPECT_EQ(line, failure["line"].get<std::size_t>()) << replay.out;
  auto unslipped = run_cli({"replay", trace, "--model", "reference,kernel"});
  EXPECT_EQ(unslipped.exit, 0) << unslipped.out << unslipped.err;
}

TEST_F(CliKernel, TheCleanTreeConforms) {
  auto run = run_cli(check_args(tree("clean"), dir_.path(), 600));
  ASSERT_EQ(run.exit, 0) << run.out << run.err;
  EXPECT_NE(json::parse(run.out)["kernel"].get<std::string>().find("Linux 6."), std::string::npos);
}

// `>` becomes `>=`: refill_obj_stock gives back a page at exactly PAGE_SIZE.
TEST_F(CliKernel, ASlippedPageThresholdIsCaught) {
  auto at_page_size = tree("at_page_size");
  edit(at_page_size, "mm/memcontrol.c", "refill_obj_stock", "stock->nr_bytes > PAGE_SIZE",
       "stock->nr_bytes >= PAGE_SIZE");
  expect_caught(at_page_size, dir_.path() / "out");
}

// The atomic_xchg of nr_charged_bytes dropped: the bytes are counted twice.
TEST_F(CliKernel, ADroppedXchgOfTheChargedBytesIsCaught) {
  auto no_xchg = tree("no_xchg");
  edit(no_xchg, "mm/memcontrol.c", "refill_obj_stock", "atomic_xchg(&objcg->nr_charged_bytes, 0)",
       "atomic_read(&objcg->nr_charged_bytes)");
  expect_caught(no_xchg, dir_.path() / "out");
}

// The obj_cgroup_put of the old objcg missing: its reference leaks.
TEST_F(CliKernel, AMissingPutOfTheOldObjcgIsCaught) {
  auto no_put = tree("no_put");
  edit(no_put, "mm/memcontrol.c", "refill_obj_stock", "if (old) obj_cgroup_put(old);", "");
  expect_caught(no_put, dir_.path() / "out");
}

// A slip that crashes the kernel code: a failure of the subject, with the
// signal and the shrunk trace up to the step that crashed.
TEST_F(CliKernel, ACrashOfTheKernelCodeIsAFailureWithItsTrace) {
  auto crash = tree("crash");
  edit(crash, "mm/memcontrol.c", "refill_obj_stock", "stock = this_cpu_ptr(&memcg_stock);",
       "stock = this_cpu_ptr(&memcg_stock); if (!allow_uncharge) *(volatile int *)0 = 0;");
  auto run = run_cli(check_args(crash, dir_.path(), 500));
  ASSERT_EQ(run.exit, 1) << run.out << run.err;
  auto failure = json::parse(run.out)["failures"][0];
  EXPECT_EQ(failure["kind"], "model failure");
  EXPECT_NE(failure["message"].get<std::string>().find("killed by signal 11"), std::string::npos) << failure;
  auto replay = run_cli({"replay", failure["trace"], "--model", "kernel", "--kernel-src", crash.string(), "--json"});
  EXPECT_EQ(replay.exit, 1) << replay.out << replay.err;
  auto report = json::parse(replay.out);
  ASSERT_FALSE(report["model_failure"].is_null()) << replay.out;
  EXPECT_EQ(report["model_failure"]["line"], failure["line"]);
  EXPECT_EQ(report["results"].size(), failure["line"].get<std::size_t>() - 2) << "the steps before the crash";
}

// A loop that calls into the kernel's helpers is stopped at once by the
// step's call budget; a loop that calls nothing by the watchdog.
TEST_F(CliKernel, AStepThatNeverReturnsIsAFailureWithItsTrace) {
  auto looping = tree("looping");
  edit(looping, "mm/memcontrol.c", "obj_cgroup_charge", "if (consume_obj_stock(objcg, size))",
       "while (size > 1000) atomic_read(&objcg->nr_charged_bytes); if (consume_obj_stock(objcg, size))");
  auto run = run_cli(check_args(looping, dir_.path(), 500));
  ASSERT_EQ(run.exit, 1) << run.out << run.err;
  auto failure = json::parse(run.out)["failures"][0];
  EXPECT_NE(failure["message"].get<std::string>().find("without finishing (a loop?)"), std::string::npos)
      << failure;

  auto spinning = tree("spinning");
  edit(spinning, "mm/memcontrol.c", "obj_cgroup_charge", "if (consume_obj_stock(objcg, size))",
       "while (size > 1000) ; if (consume_obj_stock(objcg, size))");
  auto args = check_args(spinning, dir_.path(), 500);
  args.insert(args.end(), {"--step-timeout", "0.3", "--no-shrink"});
  run = run_cli(args);
  ASSERT_EQ(run.exit, 1) << run.out << run.err;
  failure = json::parse(run.out)["failures"][0];
  EXPECT_NE(failure["message"].get<std::string>().find("did not answer within 0.3 s"), std::string::npos)
      << failure;
}

// A BUG_ON the slip trips: the kernel's own report, with file and line.
TEST_F(CliKernel, ABugOnIsAFailureNamingItsPlace) {
  auto bug = tree("bug");
  edit(bug, "mm/memcontrol.c", "__refill_stock", "stock->nr_pages += nr_pages;",
       "stock->nr_pages += nr_pages; BUG_ON(nr_pages == 1);");
  auto run = run_cli(check_args(bug, dir_.path(), 500));
  ASSERT_EQ(run.exit, 1) << run.out << run.err;
  auto failure = json::parse(run.out)["failures"][0];
  EXPECT_NE(failure["message"].get<std::string>().find("BUG_ON(nr_pages == 1) at mm/memcontrol.c:"),
            std::string::npos)
      << failure;
}

TEST_F(CliKernel, ATreeWithoutTheCodeOrThatDoesNotCompileIsBadInput) {
  auto renamed = tree("renamed");
  edit(renamed, "mm/memcontrol.c", "refill_obj_stock", "refill_obj_stock", "refill_obj_stock_elsewhere");
  auto run = run_cli(check_args(renamed, dir_.path(), 10));
  EXPECT_EQ(run.exit, 2) << run.out << run.err;
  EXPECT_NE(run.err.find("no definition of refill_obj_stock"), std::string::npos) << run.err;

  auto broken = tree("broken");
  edit(broken, "mm/memcontrol.c", "refill_obj_stock", "stock->nr_bytes += nr_bytes;", "stock->nr_bytes += ;");
  run = run_cli(check_args(broken, dir_.path(), 10));
  EXPECT_EQ(run.exit, 2) << run.out << run.err;
  EXPECT_NE(run.err.find("does not compile"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("mm/memcontrol.c:"), std::string::npos) << run.err;

  run = run_cli({"replay", MV_SOURCE_DIR "/scenarios/first_slab_alloc.jsonl", "--model", "kernel",
                 "--kernel-src", (dir_.path() / "nowhere").string()});
  EXPECT_EQ(run.exit, 2) << run.out << run.err;
  EXPECT_NE(run.err.find("not a kernel tree"), std::string::npos) << run.err;
}

// A mutant of the catalog as a patch of the kernel's code is killed, and its
// counterexample replays (the table's check); a mutant the trees already are
// is listed as not applicable, never as a survivor.
TEST_F(CliKernel, KernelMutantsAreKilledAndTheirTracesReplay) {
  auto run = run_cli({"mutants", "--kernel", "--seed", "1", "--only", "old_objcg_not_put", "--only",
                      "refill_obj_stock_at_page_size", "--only", "hotplug_drains_page_stock_only",
                      "--out", dir_.path().string()});
  ASSERT_EQ(run.exit, 0) << run.out << run.err;
  EXPECT_NE(run.out.find("2 of 3 mutants killed"), std::string::npos) << run.out;
  EXPECT_EQ(run.out.find("does not replay"), std::string::npos) << run.out;
  const auto trace = dir_.path() / "mutant-old_objcg_not_put-1.jsonl";
  ASSERT_TRUE(fs::exists(trace)) << run.out;
  auto replay = run_cli({"replay", trace.string(), "--model", "reference,kernel", "--kernel-mutant",
                         "old_objcg_not_put"});
  EXPECT_EQ(replay.exit, 1) << replay.out << replay.err;
  replay = run_cli({"replay", trace.string(), "--model", "reference,kernel"});
  EXPECT_EQ(replay.exit, 0) << replay.out << replay.err;
}

TEST_F(CliKernel, ReplayOnTheKernelModel) {
  auto run = run_cli({"replay", MV_SOURCE_DIR "/scenarios/first_slab_alloc.jsonl", "--model", "kernel", "--json"});
  ASSERT_EQ(run.exit, 0) << run.out << run.err;
  auto report = json::parse(run.out);
  EXPECT_EQ(report["model"], "kernel");
  EXPECT_NE(report["kernel"].get<std::string>().find("Linux 6."), std::string::npos);
  EXPECT_EQ(report["stocks"][0]["obj_stock"]["nr_bytes"], 3960);
  run = run_cli({"replay", MV_SOURCE_DIR "/scenarios/first_slab_alloc.jsonl", "--model", "reference,kernel"});
  EXPECT_EQ(run.exit, 0) << run.out << run.err;
  EXPECT_NE(run.out.find("reference and kernel agree on all 3 steps"), std::string::npos) << run.out;
  run = run_cli({"replay", MV_SOURCE_DIR "/scenarios/first_slab_alloc.jsonl", "--kernel-src", "/tmp"});
  EXPECT_EQ(run.exit, 2) << run.out << run.err;
}

}  // namespace
}  // namespace mv::testing
