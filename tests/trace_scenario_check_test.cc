// The scenario checker: expectations are parsed strictly, and every kind of
// mismatch is reported (a checker that cannot fail checks nothing).
#include <string>

#include <gtest/gtest.h>

#include "trace/scenario_check.h"

namespace mv::trace {
namespace {

const Json kReport = Json::parse(R"J({
  "results":[{"line":2,"op":"mkdir","result":"ok"}],
  "cgroups":[{"path":"/","usage_pages":64},{"path":"/a","usage_pages":64,"max_pages":null}],
  "violations":[{"invariant":"INV-LIMIT","line":3,"message":"m"},
                {"invariant":"INV-LIMIT","line":4,"message":"m"},
                {"invariant":"INV-NO-PIN","line":4,"message":"m"}],
  "error":{"line":5,"message":"double free of object \"o1\" (freed at line 4)"}})J");

std::vector<std::string> mismatches(const std::string& expect, int exit) {
  return expectation_mismatches(parse_expectation(Json::parse(expect)), exit, kReport);
}

TEST(ScenarioCheck, AMatchingExpectationPasses) {
  EXPECT_TRUE(mismatches(R"({"about":"x","exit":2,
      "checks":{"/cgroups/1/usage_pages":64,"/cgroups/1/max_pages":null,"/results/0/result":"ok"},
      "violations":["INV-NO-PIN","INV-LIMIT"],
      "error":{"line":5,"contains":"double free"}})",
                         2)
                  .empty());
  // Numbers compare by value.
  EXPECT_TRUE(mismatches(R"({"exit":0,"checks":{"/cgroups/0/usage_pages":64.0}})", 0).empty());
}

TEST(ScenarioCheck, EveryMismatchIsReported) {
  auto m = mismatches(R"({"exit":0,
      "checks":{"/cgroups/1/usage_pages":65,"/cgroups/2/path":"/b","/cgroups/1/path":"/a"},
      "violations":["INV-LIMIT"],
      "error":{"line":6,"contains":"unknown op"}})",
                      2);
  ASSERT_EQ(m.size(), 6u);
  EXPECT_EQ(m[0], "exit status 2, expected 0");
  EXPECT_EQ(m[1], "/cgroups/1/usage_pages: 64, expected 65");
  EXPECT_EQ(m[2], "/cgroups/2/path: absent from the report, expected \"/b\"");
  EXPECT_EQ(m[3], "violations: INV-LIMIT, INV-NO-PIN, expected INV-LIMIT");
  EXPECT_EQ(m[4], "trace error at line 5, expected line 6");
  EXPECT_NE(m[5].find("does not contain \"unknown op\""), std::string::npos) << m[5];
}

TEST(ScenarioCheck, ExpectedErrorButNone) {
  auto m = expectation_mismatches(parse_expectation(Json::parse(R"({"exit":0,"error":{"line":2}})")),
                                  0, Json::parse(R"({"error":null})"));
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0], "no trace error, expected one");
}

TEST(ScenarioCheck, NoViolationsExpected) {
  auto m = mismatches(R"({"exit":1,"violations":[]})", 1);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0], "violations: INV-LIMIT, INV-NO-PIN, expected none");
}

// Known violations (a known kernel bug of the profile) are not "violations"
// of an expectation; they are expected by bug id, exactly.
TEST(ScenarioCheck, KnownBugsAreExpectedByIdAndExactly) {
  const Json report = Json::parse(R"J({"violations":[
      {"invariant":"INV-STOCK-BOUNDS","line":5,"message":"m","known":true,
       "known_bug":"hotplug_obj_stock_leak","fix":"9f01b4954490"},
      {"invariant":"INV-LIMIT","line":6,"message":"m","known":false,"known_bug":null}]})J");
  auto check = [&](const std::string& expect) {
    return expectation_mismatches(parse_expectation(Json::parse(expect)), 0, report);
  };
  EXPECT_TRUE(check(R"({"exit":0,"violations":["INV-LIMIT"],
                        "known_bugs":["hotplug_obj_stock_leak"]})")
                  .empty());
  auto absent = check(R"({"exit":0,"violations":["INV-LIMIT"]})");
  ASSERT_EQ(absent.size(), 1u);
  EXPECT_EQ(absent[0], "known bugs: hotplug_obj_stock_leak, expected none");
  auto counted = check(R"({"exit":0,"violations":["INV-LIMIT","INV-STOCK-BOUNDS"],
                           "known_bugs":["hotplug_obj_stock_leak"]})");
  ASSERT_EQ(counted.size(), 1u);
  EXPECT_EQ(counted[0], "violations: INV-LIMIT, expected INV-LIMIT, INV-STOCK-BOUNDS");
  auto other = check(R"({"exit":0,"violations":["INV-LIMIT"],"known_bugs":["another"]})");
  ASSERT_EQ(other.size(), 1u);
  EXPECT_EQ(other[0], "known bugs: hotplug_obj_stock_leak, expected another");
  EXPECT_THROW(parse_expectation(Json::parse(R"({"exit":0,"known_bugs":"x"})")),
               std::invalid_argument);
}

TEST(ScenarioCheck, ExpectationsAreParsedStrictly) {
  auto bad = [](const std::string& text) {
    EXPECT_THROW(parse_expectation(Json::parse(text)), std::invalid_argument) << text;
  };
  bad(R"({"checks":{}})");                        // no exit
  bad(R"({"exit":4})");                           // not an exit status
  bad(R"({"exit":-1})");
  bad(R"({"exit":0,"check":{}})");                // typo
  bad(R"({"exit":0,"checks":{"cgroups/0":1}})");  // not a JSON pointer
  bad(R"({"exit":0,"checks":[1]})");
  bad(R"({"exit":0,"violations":"INV-LIMIT"})");
  bad(R"({"exit":0,"error":{"lines":3}})");
  bad(R"([])");
}

TEST(ScenarioCheck, FindsTracesAndTheirExpectations) {
  auto all = find_scenarios(std::filesystem::path(MV_SOURCE_DIR) / "scenarios");
  ASSERT_FALSE(all.empty());
  for (std::size_t i = 1; i < all.size(); ++i) EXPECT_LT(all[i - 1].name, all[i].name);
  for (const auto& s : all) {
    EXPECT_EQ(s.trace.extension(), ".jsonl");
    EXPECT_EQ(s.expect.filename().string(), s.name + ".expect.json");
  }
}

TEST(ScenarioCheck, RunScenarioReportsAMissingExpectation) {
  ScenarioFiles files{"nope", "/nonexistent/nope.jsonl", "/nonexistent/nope.expect.json"};
  auto outcome = run_scenario(files, ModelChoice::reference);
  EXPECT_FALSE(outcome.passed());
  ASSERT_EQ(outcome.mismatches.size(), 1u);
  EXPECT_NE(outcome.mismatches[0].find("cannot open"), std::string::npos);
}

}  // namespace
}  // namespace mv::trace
