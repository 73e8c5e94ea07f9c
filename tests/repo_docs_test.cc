// What the project relies on is written into its own documents: no file of
// the repository, and no help text of the tool, points at documents outside
// it, and every document a file names exists in the checkout.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/cli_run.h"

namespace mv::testing {
namespace {

namespace fs = std::filesystem;

// Spelled in two pieces so that this file does not match what it looks for.
const std::string kOutsideRefs[] = {std::string("..") + "/shared", std::string("/work") + "/shared"};

// Build trees and git's own files are not the project's files.
bool skipped_top_folder(const std::string& name) {
  return name == ".git" || name.rfind("build", 0) == 0;
}

bool is_text(const std::string& content) {
  return content.find('\0', 0) == std::string::npos;
}

// Every text file of the checkout (build trees and hidden folders excluded),
// relative to root.
std::vector<fs::path> text_files(const fs::path& root) {
  std::vector<fs::path> files;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    const auto rel = fs::relative(it->path(), root);
    if (it->is_directory() && it.depth() == 0 && skipped_top_folder(rel.string())) {
      it.disable_recursion_pending();
      continue;
    }
    if (it.depth() == 0 && rel.string() == ".git") continue;  // a worktree's .git file
    if (it->is_regular_file() && is_text(slurp(it->path()))) files.push_back(rel);
  }
  std::sort(files.begin(), files.end());
  return files;
}

// FILE:LINE: the reference, for every line naming a place outside the checkout.
std::vector<std::string> outside_references(const fs::path& root) {
  std::vector<std::string> found;
  for (const auto& rel : text_files(root)) {
    std::ifstream in(root / rel);
    std::string line;
    for (int nr = 1; std::getline(in, line); ++nr)
      for (const auto& ref : kOutsideRefs)
        if (line.find(ref) != std::string::npos)
          found.push_back(rel.string() + ":" + std::to_string(nr) + ": " + ref);
  }
  return found;
}

// FILE:LINE: NAME for every Markdown document a file names that exists
// neither relative to the checkout's top nor to the naming file. tests/ is
// left out: tests build the names of the files they write and compare.
std::vector<std::string> missing_documents(const fs::path& root) {
  const std::regex doc_re(R"((^|[^A-Za-z0-9_./-])([A-Za-z0-9_./-]*[A-Za-z0-9_-]\.md)\b)");
  const std::regex url_re(R"([a-z]+://[^\s)>\]]*)");
  std::vector<std::string> missing;
  for (const auto& rel : text_files(root)) {
    if (*rel.begin() == "tests") continue;
    std::ifstream in(root / rel);
    std::string line;
    for (int nr = 1; std::getline(in, line); ++nr) {
      line = std::regex_replace(line, url_re, "");
      for (std::sregex_iterator m(line.begin(), line.end(), doc_re), end; m != end; ++m) {
        const std::string name = (*m)[2];
        if (fs::exists(root / name) || fs::exists(root / rel.parent_path() / name)) continue;
        missing.push_back(rel.string() + ":" + std::to_string(nr) + ": " + name);
      }
    }
  }
  return missing;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

TEST(RepoDocs, NoFileRefersToDocumentsOutsideTheRepository) {
  auto found = outside_references(MV_SOURCE_DIR);
  EXPECT_TRUE(found.empty()) << joined(found);
}

TEST(RepoDocs, EveryDocumentAFileNamesExists) {
  auto missing = missing_documents(MV_SOURCE_DIR);
  EXPECT_TRUE(missing.empty()) << joined(missing);
}

// issue 11 item 6: the model's description and the trace format agree on
// where an operation runs, and say what nr_kmem_pages counts.
TEST(RepoDocs, TheModelAndTheTraceFormatAgree) {
  const auto model = slurp(fs::path(MV_SOURCE_DIR) / "docs/MODEL-v6.6.md");
  const auto format = slurp(fs::path(MV_SOURCE_DIR) / "docs/TRACE_FORMAT.md");
  EXPECT_EQ(model.find("(default 0)"), std::string::npos);
  EXPECT_NE(model.find("for `free` the op's optional `cpu`, else the CPU of the task that allocated"),
            std::string::npos);
  EXPECT_NE(format.find("(for `cpu_offline`, the CPU taken offline)"), std::string::npos);
  EXPECT_NE(format.find("`objects[].nr_kmem_pages` counts kmem page *charges*, not pages"),
            std::string::npos);
}

TEST(RepoDocs, TheProjectDocumentsItsDesignAndTheKernel) {
  for (const auto* doc : {"docs/DESIGN.md", "docs/KERNEL.md", "docs/MUTANTS.md"}) {
    const auto text = slurp(fs::path(MV_SOURCE_DIR) / doc);
    EXPECT_GT(text.size(), 2000u) << doc;
  }
  const auto design = slurp(fs::path(MV_SOURCE_DIR) / "docs/DESIGN.md");
  for (const auto* section : {"## Layers", "### Trace format", "### Report", "### Exit statuses",
                              "### Known kernel bugs", "### Invariant ids", "### Commands"})
    EXPECT_NE(design.find(section), std::string::npos) << section;
  EXPECT_NE(slurp(fs::path(MV_SOURCE_DIR) / "docs/MUTANTS.md").find("## Bug catalog"),
            std::string::npos);
}

TEST(RepoDocs, NoHelpTextRefersOutsideTheRepository) {
  auto top = run_cli({"--help"});
  ASSERT_EQ(top.exit, 0) << top.err;
  std::vector<std::string> texts = {top.out};
  // The subcommands, from the "Subcommands:" list of the top-level help.
  const auto list = top.out.find("ubcommands:");
  ASSERT_NE(list, std::string::npos) << top.out;
  std::istringstream lines(top.out.substr(list));
  std::string line;
  std::getline(lines, line);
  while (std::getline(lines, line)) {
    std::string word;
    std::istringstream(line) >> word;
    if (word.empty()) continue;
    auto sub = run_cli({word, "--help"});
    EXPECT_EQ(sub.exit, 0) << word << ": " << sub.err;
    texts.push_back(sub.out);
  }
  EXPECT_GE(texts.size(), 7u);  // replay, scenarios, check, mutants, prove, doc
  for (const auto& text : texts)
    for (const auto& ref : kOutsideRefs) EXPECT_EQ(text.find(ref), std::string::npos) << text;
}

// The scans can fail: a small checkout with a reference outside and a
// document that does not exist.
TEST(RepoDocs, TheScansReportFileAndLine) {
  TempDir dir;
  fs::create_directories(dir.path() / "docs");
  fs::create_directories(dir.path() / "build" / "x");
  dir.write("docs/A.md", "see docs/B.md and B.md\nsee " + kOutsideRefs[0] + "/notes.md\n");
  dir.write("docs/B.md", "https://example.org/C.md is a link, README.md is not here\n");
  dir.write("build/x/ignored.txt", kOutsideRefs[1] + "\n");
  auto outside = outside_references(dir.path());
  ASSERT_EQ(outside.size(), 1u) << joined(outside);
  EXPECT_EQ(outside[0], "docs/A.md:2: " + kOutsideRefs[0]);
  auto missing = missing_documents(dir.path());
  EXPECT_EQ(joined(missing), "docs/A.md:2: " + kOutsideRefs[0] + "/notes.md\ndocs/B.md:1: README.md\n");
}

}  // namespace
}  // namespace mv::testing
