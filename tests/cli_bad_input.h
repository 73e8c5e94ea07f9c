// The bad-input contract of `memcg-verify replay`, shared by the cli_ tests:
// exit status 2, `FILE:LINE: reason` on stderr with the right line, and the
// report of every line before it still printed (tables, and --json that parses
// and holds the earlier results), every output valid UTF-8 with the only
// control character the newline ending a line.
#pragma once

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/cli_run.h"
#include "trace/text.h"

namespace mv::testing {

constexpr const char* kHeader = R"({"profile":"v6.6","cpus":2,"page_size":4096})";
// Lines 2-5: all valid.
constexpr const char* kGoodLines = R"({"op":"mkdir","cg":"/a"}
{"op":"spawn","task":"t1","cg":"/a","cpu":1}
{"op":"alloc","task":"t1","obj":"o1","kind":"slab","size":64}
{"op":"free","obj":"o1"}
)";

struct BadCase {
  const char* name;
  std::string trace;     // the whole file
  std::size_t line;      // where the error must be reported
  const char* fragment;  // part of the reason
};

// ctest lists each case by name, not by its bytes.
inline void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

inline std::string good_then(const std::string& bad_line) {
  return std::string(kHeader) + "\n" + kGoodLines + bad_line + "\n";
}

// Replays c.trace from a file (with --json, then with tables) and checks the
// contract above.
inline void expect_bad_input_contract(const BadCase& c) {
  using nlohmann::json;
  TempDir dir;
  auto file = dir.write(std::string(c.name) + ".jsonl", c.trace).string();
  auto prefix = file + ":" + std::to_string(c.line) + ": ";

  auto run = run_cli({"replay", file, "--json"});
  EXPECT_EQ(run.exit, 2) << run.err;
  EXPECT_EQ(run.err.rfind(prefix, 0), 0u) << "stderr: " << run.err << "\nexpected prefix " << prefix;
  EXPECT_NE(run.err.find(c.fragment), std::string::npos)
      << "stderr: " << run.err << "\nexpected to contain: " << c.fragment;

  EXPECT_EQ(trace::character_problem(run.err.substr(0, run.err.find('\n'))), "") << run.err;
  EXPECT_EQ(run.err.find('\n'), run.err.size() - 1) << run.err;

  // The JSON report of everything before the bad line.
  json report;
  ASSERT_NO_THROW(report = json::parse(run.out)) << run.out;
  ASSERT_TRUE(report["error"].is_object()) << run.out;
  EXPECT_EQ(report["error"]["line"], c.line);
  EXPECT_EQ(report["exit"], 2);
  std::vector<std::size_t> lines;
  for (const auto& r : report["results"]) lines.push_back(r["line"].get<std::size_t>());
  std::vector<std::size_t> expected;
  if (c.line > 1)
    for (std::size_t l = 2; l < c.line; ++l) expected.push_back(l);
  EXPECT_EQ(lines, expected) << run.out;
  if (c.line > 1) {
    EXPECT_EQ(report["profile"], "v6.6");
    EXPECT_EQ(report["cgroups"][1]["path"], "/a");  // line 2 was applied
  } else {
    EXPECT_TRUE(report["profile"].is_null());
  }

  // The table report too.
  auto text = run_cli({"replay", file});
  EXPECT_EQ(text.exit, 2);
  EXPECT_EQ(text.err.rfind(prefix, 0), 0u) << text.err;
  EXPECT_TRUE(trace::valid_utf8(text.out));
  EXPECT_NE(text.out.find("verdict: BAD INPUT: " + prefix), std::string::npos) << text.out;
  if (c.line > 2) {
    EXPECT_NE(text.out.find("mkdir"), std::string::npos) << text.out;
  }
}

}  // namespace mv::testing
