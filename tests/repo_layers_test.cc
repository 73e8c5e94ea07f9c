// The layers depend one way (docs/DESIGN.md "Layers"): every #include of every
// C++ file, headers included, is checked against the layer table of
// CMakeLists.txt (written to build/layers.txt). The compiler already refuses a
// wrong-way include in a .cc file, since each layer's target sees only the
// include roots of its dependencies (the layering_probe_* ctests show it); a
// header is compiled only as part of some other layer's files, so only this
// scan sees a header that includes upward.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/cli_run.h"

namespace mv::testing {
namespace {

namespace fs = std::filesystem;

// layer -> the layers it depends on directly.
using LayerTable = std::map<std::string, std::vector<std::string>>;

LayerTable parse_layer_table(const std::string& text) {
  LayerTable table;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto colon = line.find(':');
    if (colon == std::string::npos) throw std::runtime_error("layers.txt: no ':' in \"" + line + "\"");
    auto& deps = table[line.substr(0, colon)];
    std::istringstream words(line.substr(colon + 1));
    for (std::string dep; words >> dep;) deps.push_back(dep);
  }
  return table;
}

// The layer itself and everything it depends on, directly or not.
std::set<std::string> visible_layers(const LayerTable& table, const std::string& layer) {
  std::set<std::string> seen;
  std::vector<std::string> todo{layer};
  while (!todo.empty()) {
    auto next = todo.back();
    todo.pop_back();
    if (!seen.insert(next).second) continue;
    if (auto it = table.find(next); it != table.end())
      for (const auto& dep : it->second) todo.push_back(dep);
  }
  return seen;
}

bool is_cxx_file(const fs::path& path) {
  static const std::set<std::string> kExtensions = {".h", ".hh", ".hpp", ".c", ".cc", ".cpp"};
  return kExtensions.count(path.extension().string()) != 0;
}

// Build trees and hidden folders at the top of the checkout are not sources.
bool skipped_top_folder(const std::string& name) {
  return name.empty() || name[0] == '.' || name.rfind("build", 0) == 0;
}

// Every problem of the tree under root, one line each: a wrong-way include
// (FILE:LINE: ...) or C++ code outside any layer of the table.
std::vector<std::string> layering_problems(const fs::path& root, const LayerTable& table) {
  std::set<std::string> top_folders;
  for (const auto& entry : fs::directory_iterator(root))
    if (entry.is_directory()) top_folders.insert(entry.path().filename().string());
  // A layer named by the first component of an include path: "impl/x.h".
  const std::regex include_re(R"(^\s*#\s*include\s*["<]([A-Za-z0-9_]+)/[^">]*[">])");
  std::vector<std::string> problems;
  std::set<std::string> unlisted;
  for (const auto& folder : top_folders) {
    if (skipped_top_folder(folder)) continue;
    for (const auto& entry : fs::recursive_directory_iterator(root / folder)) {
      if (!entry.is_regular_file() || !is_cxx_file(entry.path())) continue;
      const auto rel = fs::relative(entry.path(), root).string();
      if (!table.count(folder)) {
        if (unlisted.insert(folder).second)
          problems.push_back(folder + "/: C++ code (" + rel +
                             ") in a folder with no row in the layer table (CMakeLists.txt, "
                             "mv_layer)");
        continue;
      }
      const auto visible = visible_layers(table, folder);
      std::ifstream in(entry.path());
      std::string line;
      for (int nr = 1; std::getline(in, line); ++nr) {
        std::smatch m;
        if (!std::regex_search(line, m, include_re)) continue;
        const std::string target = m[1];
        const bool is_layer = table.count(target) || top_folders.count(target);
        if (!is_layer || visible.count(target)) continue;
        std::string deps;
        for (const auto& d : table.at(folder)) deps += (deps.empty() ? "" : " ") + d;
        problems.push_back(rel + ":" + std::to_string(nr) + ": " + folder + "/ may not include " +
                           target + "/ (" + folder + " depends on: " +
                           (deps.empty() ? "nothing" : deps) + ")");
      }
    }
  }
  return problems;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

LayerTable build_layer_table() {
  auto text = slurp(fs::path(MV_BINARY_DIR) / "layers.txt");
  if (text.empty()) throw std::runtime_error("no layers.txt in " MV_BINARY_DIR " (run CMake)");
  return parse_layer_table(text);
}

TEST(RepoLayers, EveryIncludeOfTheRepositoryFollowsTheLayerTable) {
  auto problems = layering_problems(MV_SOURCE_DIR, build_layer_table());
  EXPECT_TRUE(problems.empty()) << joined(problems);
}

// The direction the project is built on, pinned here so that a wrong-way
// include cannot be "fixed" by loosening the table: spec and arith depend on
// nothing; proofs on arith and spec; a model (reference, impl, and the
// kernel's own code when that layer exists) on spec and arith only.
TEST(RepoLayers, TheTableKeepsTheProjectsDirection) {
  const auto table = build_layer_table();
  const std::map<std::string, std::set<std::string>> at_most = {
      {"spec", {}},
      {"arith", {}},
      {"proofs", {"arith", "spec"}},
      {"reference", {"spec", "arith"}},
      {"impl", {"spec", "arith"}},
      {"kernel", {"spec", "arith"}},
      {"overlay", {"spec", "arith", "reference"}},
  };
  for (const auto& [layer, allowed] : at_most) {
    if (!table.count(layer)) continue;
    for (const auto& dep : visible_layers(table, layer))
      EXPECT_TRUE(dep == layer || allowed.count(dep)) << layer << " depends on " << dep;
  }
  for (const auto& layer : {"spec", "arith", "reference", "impl", "trace", "properties"})
    EXPECT_TRUE(table.count(layer)) << layer << " has no row";
  // No cycle: a layer never reaches itself through its dependencies.
  for (const auto& [layer, deps] : table)
    for (const auto& dep : deps)
      EXPECT_FALSE(visible_layers(table, dep).count(layer)) << layer << " <-> " << dep;
}

// docs/DESIGN.md describes every layer the build has: a row per folder.
TEST(RepoLayers, TheDesignDocumentHasARowForEveryLayer) {
  std::istringstream design(slurp(fs::path(MV_SOURCE_DIR) / "docs/DESIGN.md"));
  std::string rows;  // the first cells of the table rows
  for (std::string line; std::getline(design, line);)
    if (line.rfind("| `", 0) == 0) rows += line.substr(0, line.find(" | ", 1)) + "\n";
  for (const auto& [layer, deps] : build_layer_table())
    EXPECT_NE(rows.find("`" + layer + "/`"), std::string::npos)
        << layer << "/ has no row in the layer table of docs/DESIGN.md";
}

// The scan itself can fail: a small tree with a wrong-way include in a header,
// one in a .cc file, and a folder of code with no row.
TEST(RepoLayers, AWrongWayIncludeIsReportedWithItsFileAndLine) {
  TempDir dir;
  const auto table = parse_layer_table(
      "# comment\nspec:\narith:\nreference: spec arith\nimpl: spec arith\ntrace: reference impl\n"
      "properties: trace\n");
  for (const auto* folder : {"spec", "arith", "reference", "impl", "trace", "properties", "extra"})
    fs::create_directories(dir.path() / folder);
  dir.write("spec/snapshot.h", "#pragma once\n#include <vector>\n#include \"spec/ids.h\"\n");
  dir.write("spec/bad.h", "#pragma once\n\n  #  include \"impl/model.h\"\n");
  dir.write("reference/model.cc",
            "#include \"reference/model.h\"\n#include \"spec/snapshot.h\"\n#include "
            "\"arith/domain.h\"\n#include <fmt/format.h>\n#include \"z3++.h\"\n");
  dir.write("reference/bad.cc", "#include <impl/system.h>\n");
  dir.write("properties/ok.cc", "#include \"spec/snapshot.h\"\n#include \"impl/model.h\"\n");
  dir.write("trace/bad.h", "// #include \"properties/x.h\" in a comment is not an include\n"
                           "#include \"properties/campaign.h\"\n");
  dir.write("extra/new.cc", "int x;\n");
  dir.write("extra/notes.md", "#include \"impl/x.h\"\n");

  auto problems = layering_problems(dir.path(), table);
  const std::string text = joined(problems);
  ASSERT_EQ(problems.size(), 4u) << text;
  EXPECT_NE(text.find("spec/bad.h:3: spec/ may not include impl/ (spec depends on: nothing)"),
            std::string::npos) << text;
  EXPECT_NE(text.find("reference/bad.cc:1: reference/ may not include impl/ (reference depends "
                      "on: spec arith)"),
            std::string::npos) << text;
  EXPECT_NE(text.find("trace/bad.h:2: trace/ may not include properties/"), std::string::npos)
      << text;
  EXPECT_NE(text.find("extra/: C++ code (extra/new.cc) in a folder with no row"), std::string::npos)
      << text;
}

// issue 11 item 10: the reference is free of mutant hooks. Every line of a
// C++ file under DIR/reference that names a mutant, the mutant catalog or the
// deliberately wrong arithmetic (arith/slips.h), as FILE:LINE: text.
std::vector<std::string> mutant_hooks_in_reference(const fs::path& root) {
  const std::regex hook_re(R"(mutat|Mutant|spec/mutant\.h|slips)", std::regex::icase);
  std::vector<std::string> found;
  for (const auto& entry : fs::recursive_directory_iterator(root / "reference")) {
    if (!entry.is_regular_file() || !is_cxx_file(entry.path())) continue;
    std::ifstream in(entry.path());
    std::string line;
    for (int nr = 1; std::getline(in, line); ++nr)
      if (std::regex_search(line, hook_re))
        found.push_back(fs::relative(entry.path(), root).string() + ":" + std::to_string(nr) +
                        ": " + line);
  }
  return found;
}

TEST(RepoLayers, TheReferenceHasNoMutantHooks) {
  const auto hooks = mutant_hooks_in_reference(MV_SOURCE_DIR);
  EXPECT_TRUE(hooks.empty()) << "a mutant lives in impl/ (or a campaign puts the mutated impl in "
                                "the reference's seat), never in reference/:\n"
                             << joined(hooks);
  // The scan can fail: a planted hook is found with its file and line.
  TempDir dir;
  fs::create_directories(dir.path() / "reference");
  dir.write("reference/objcg.cc", "int a;\n  if (k.mutated(spec::Mutant::canary)) return;\n");
  const auto planted = mutant_hooks_in_reference(dir.path());
  ASSERT_EQ(planted.size(), 1u) << joined(planted);
  EXPECT_EQ(planted[0].rfind("reference/objcg.cc:2: ", 0), 0u) << planted[0];
}

// issue 11 item 8: no warning is an error in any compile command of this
// build, so a compiler's false positive (GCC 12's -Wrestrict in libstdc++,
// silenced per file in CMakeLists.txt) can print at worst, never fail a clean
// build.
TEST(RepoBuild, NoWarningIsAnErrorInAnyCompileCommand) {
  const auto text = slurp(fs::path(MV_BINARY_DIR) / "compile_commands.json");
  ASSERT_FALSE(text.empty()) << "no compile_commands.json in " MV_BINARY_DIR;
  const auto commands = nlohmann::json::parse(text);
  ASSERT_FALSE(commands.empty());
  std::vector<std::string> problems;
  for (const auto& entry : commands)
    if (entry.value("command", std::string()).find("-Werror") != std::string::npos)
      problems.push_back(entry.value("file", std::string()) + ": -Werror");
  EXPECT_TRUE(problems.empty()) << joined(problems);
}

TEST(RepoLayers, TransitiveDependenciesAreVisible) {
  const auto table = parse_layer_table("spec:\narith:\nimpl: spec arith\ntrace: impl\nprops: trace\n");
  EXPECT_EQ(visible_layers(table, "props"),
            (std::set<std::string>{"props", "trace", "impl", "spec", "arith"}));
  EXPECT_EQ(visible_layers(table, "spec"), (std::set<std::string>{"spec"}));
}

}  // namespace
}  // namespace mv::testing
