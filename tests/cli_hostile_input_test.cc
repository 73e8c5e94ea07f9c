// Hostile input to `memcg-verify replay` (issue 12's audit: each case is the
// smallest input that crashed the reader, escaped the error path or broke the
// JSON report): every one is a trace error with the bad-input contract of
// tests/cli_bad_input.h, so stdout always parses and stderr is one printable line.
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/cli_bad_input.h"

namespace mv {
namespace {

using nlohmann::json;
using testing::BadCase;
using testing::good_then;
using testing::kGoodLines;
using testing::kHeader;
using testing::run_cli;
using testing::TempDir;

std::string nested(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

std::string repeated(const std::string& part, std::size_t times) {
  std::string out;
  for (std::size_t i = 0; i < times; ++i) out += part;
  return out;
}

std::vector<BadCase> hostile_cases() {
  const std::string deep = nested(100000);
  return {
      // 1. Deeply nested JSON: SIGSEGV in the recursive dump() of the value shown.
      {"nested_line", good_then(deep), 6, "JSON nested more than 8 levels deep"},
      {"nested_file", deep + "\n", 1, "JSON nested more than 8 levels deep"},
      {"nested_op", good_then(R"({"op":)" + deep + "}"), 6, "nested more than 8"},
      {"nested_size",
       good_then(R"({"op":"alloc","task":"t1","obj":"o2","kind":"slab","size":)" + deep + "}"), 6,
       "nested more than 8"},
      {"nested_profile", R"({"profile":)" + deep + R"(,"cpus":2,"page_size":4096})", 1,
       "nested more than 8"},
      {"shallow_nesting_is_shown", good_then(R"({"op":[[["mkdir"]]]})"), 6,
       R"(field "op" must be a string, got [[["mkdir"]]])"},
      // 2. Long cgroup paths: quadratic interning, then a stack overflow.
      {"path_of_200000_components", good_then(R"({"op":"mkdir","cg":")" + repeated("/a", 200000) + "\"}"),
       6, "is 400000 bytes long, more than 4095"},
      {"component_longer_than_name_max",
       good_then(R"({"op":"mkdir","cg":"/)" + std::string(256, 'c') + "\"}"), 6,
       "a component is 256 bytes long, more than NAME_MAX = 255"},
      // 4. A number out of range: out_of_range.406 escaped past the parse_error catch.
      {"number_out_of_range", good_then(R"({"op":"drain","cpu":1e400})"), 6,
       "bad JSON: number overflow parsing '1e400'"},
      {"number_out_of_range_in_header", R"({"profile":"v6.6","cpus":1e400,"page_size":4096})", 1,
       "number overflow"},
      // 5. Invalid UTF-8: the parser's "last read" bytes broke report_json().dump().
      {"invalid_utf8_in_name", good_then("{\"op\":\"mkdir\",\"cg\":\"/a\xff\"}"), 6,
       "ill-formed UTF-8 byte; last read: '\"/a\\xFF'"},
      {"invalid_utf8_in_key", good_then("{\"op\":\"drain\",\"\xc3\":0}"), 6, "ill-formed UTF-8"},
      // A shown value cut inside a multi-byte character.
      {"multibyte_value_cut", good_then(R"({"op":")" + repeated("\xc3\xa9", 100) + "\"}"), 6,
       "unknown op \"\xc3\xa9\xc3\xa9"},
      {"multibyte_kind_cut",
       good_then(R"({"op":"alloc","task":"t1","obj":"o2","kind":")" + repeated("\xe2\x82\xac", 50) +
                 "\"}"),
       6, "unknown kind"},
      // 8. Control characters, a late BOM, an oversized name.
      {"nul_in_path", good_then(R"({"op":"mkdir","cg":"/a\u0000b"})"), 6,
       "field \"cg\" has a control character \\x00 at byte 2"},
      {"newline_in_task", good_then(R"({"op":"spawn","task":"t\nverdict: OK","cg":"/","cpu":0})"), 6,
       "field \"task\" has a control character \\x0A at byte 1"},
      {"escape_in_object",
       good_then(R"({"op":"alloc","task":"t1","obj":"o\u001b[2J","kind":"stack"})"), 6,
       "control character \\x1B"},
      {"c1_control_in_object", good_then("{\"op\":\"free\",\"obj\":\"o\xc2\x9b\"}"), 6,
       "control character \\xC2\\x9B"},
      {"bom_on_a_later_line", good_then("\xef\xbb\xbf{\"op\":\"quiesce\"}"), 6,
       "a byte order mark is only allowed at the start of the file"},
      {"name_of_8_megabytes",
       good_then(R"({"op":"spawn","task":")" + std::string(8 << 20, 'x') + R"(","cg":"/","cpu":0})"),
       6, "field \"task\" is 8388608 bytes long, more than 255"},
  };
}

class HostileInput : public ::testing::TestWithParam<BadCase> {};

TEST_P(HostileInput, IsATraceErrorWithFileLineAndTheEarlierReport) {
  testing::expect_bad_input_contract(GetParam());
}

INSTANTIATE_TEST_SUITE_P(Cli, HostileInput, ::testing::ValuesIn(hostile_cases()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(CliHostileInput, AnOversizedNameIsNotCopiedIntoTheOutput) {
  TempDir dir;
  auto file = dir.write("big.jsonl", good_then(R"({"op":"spawn","task":")" +
                                               std::string(8 << 20, 'x') +
                                               R"(","cg":"/","cpu":0})"))
                  .string();
  auto run = run_cli({"replay", file, "--json"});
  EXPECT_EQ(run.exit, 2);
  EXPECT_LT(run.out.size() + run.err.size(), 8192u);
}

TEST(CliHostileInput, AByteOrderMarkOnTheFirstLineIsAccepted) {
  TempDir dir;
  auto file = dir.write("bom.jsonl", "\xef\xbb\xbf" + std::string(kHeader) + "\n" + kGoodLines);
  auto run = run_cli({"replay", file.string(), "--json"});
  EXPECT_EQ(run.exit, 0) << run.err;
  EXPECT_EQ(json::parse(run.out)["results"].size(), 4u);
}

TEST(CliHostileInput, ADirectoryAsTraceSaysSo) {
  TempDir dir;
  auto run = run_cli({"replay", dir.path().string(), "--json"});
  EXPECT_EQ(run.exit, 2);
  EXPECT_EQ(run.err, dir.path().string() + ": is a directory, not a trace file\n");
  auto report = json::parse(run.out);
  EXPECT_EQ(report["error"]["line"], 0);
  EXPECT_EQ(report["exit"], 2);
}

// The same for every other file a command reads (issue 12 item 8): a
// directory where a scenario's trace or expectation, a shard report or the
// design matrix should be is exit 2 naming the path, never libstdc++'s
// "basic_filebuf::underflow" read error; scenarios --json still prints a
// report (no rows, the error), --tap a bail-out.
TEST(CliHostileInput, ADirectoryWhereAnyFileIsReadSaysSo) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "expect" / "s.expect.json");
  dir.write("expect/s.jsonl", std::string(kHeader) + "\n" + kGoodLines);
  std::filesystem::create_directories(dir.path() / "trace" / "s.jsonl");
  dir.write("trace/s.expect.json", R"({"exit": 0})");
  for (const auto& [sub, says] :
       {std::pair{"expect", "/s.expect.json: is a directory, not an expectation file"},
        std::pair{"trace", "/s.jsonl: is a directory, not a trace file"}}) {
    const auto scenarios = (dir.path() / sub).string();
    auto run = run_cli({"scenarios", scenarios, "--json"});
    EXPECT_EQ(run.exit, 2) << run.out << run.err;
    EXPECT_EQ(run.err, "memcg-verify scenarios: " + scenarios + says + "\n");
    auto report = json::parse(run.out);
    EXPECT_EQ(report["exit"], 2);
    EXPECT_EQ(report["error"], scenarios + says);
    EXPECT_TRUE(report["scenarios"].empty());
    auto tap = run_cli({"scenarios", scenarios, "--tap"});
    EXPECT_EQ(tap.exit, 2);
    EXPECT_EQ(tap.out, "Bail out! " + scenarios + says + "\n");
    EXPECT_EQ(run_cli({"scenarios", scenarios}).exit, 2);
  }
  auto merge = run_cli({"merge", dir.path().string(), "--json"});
  EXPECT_EQ(merge.exit, 2);
  EXPECT_EQ(merge.err, "memcg-verify merge: " + dir.path().string() + ": is a directory, not a shard report\n");
  auto designs = run_cli({"designs", "--render", "--matrix", dir.path().string()});
  EXPECT_EQ(designs.exit, 2);
  EXPECT_EQ(designs.err,
            "memcg-verify designs: " + dir.path().string() + ": is a directory, not a design matrix\n");
}

TEST(CliHostileInput, AFileNameIsShownEscaped) {
  TempDir dir;
  auto file = dir.write("bad\xff\n.jsonl", good_then(R"({"op":"drain","cpu":7})")).string();
  auto run = run_cli({"replay", file, "--json"});
  EXPECT_EQ(run.exit, 2);
  EXPECT_NE(run.err.find("bad\\xFF\\x0A.jsonl:6: CPU 7 is out of range"), std::string::npos)
      << run.err;
  EXPECT_FALSE(json::parse(run.out).is_discarded());  // parses (a throw fails the test)
}

// Issue 12 item 6: an output that cannot be written is exit 2, also when the
// campaign found what it was looking for (a file where --out needs a folder).
TEST(CliHostileInput, AnUnwritableOutIsExitTwo) {
  TempDir dir;
  const auto file = dir.path() / "a-file";
  std::ofstream(file) << "x";
  const std::string out = (file / "sub").string();
  auto mutants = run_cli({"mutants", "--seed", "3", "--only", "canary", "--out", out});
  EXPECT_EQ(mutants.exit, 2) << mutants.out << mutants.err;
  EXPECT_NE(mutants.err.find("cannot write"), std::string::npos) << mutants.err;
  EXPECT_NE(mutants.out.find("could not be written"), std::string::npos) << mutants.out;
  auto json_run = run_cli({"mutants", "--seed", "3", "--only", "canary", "--json", "--out", out});
  EXPECT_EQ(json_run.exit, 2) << json_run.err;
  EXPECT_EQ(json::parse(json_run.out).at("unwritten"), 1) << json_run.out;
  auto check = run_cli({"check", "--seed", "2", "--runs", "300", "--steps", "200", "--mutant",
                        "old_objcg_not_put", "--out", out});
  EXPECT_EQ(check.exit, 2) << check.out << check.err;
  EXPECT_NE(check.err.find("cannot write"), std::string::npos) << check.err;
}

}  // namespace
}  // namespace mv

