// The JSON report keeps the contract's fields (docs/DESIGN.md "Report"), with the
// types and names a script relies on.
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "trace/replay.h"
#include "trace/report.h"

namespace mv::trace {
namespace {

Trace read(const std::string& text) {
  std::istringstream in(text);
  return read_trace(in, "p.jsonl");
}

const std::string kTrace = R"({"profile":"v6.6","cpus":2,"page_size":4096}
{"op":"mkdir","cg":"/a"}
{"op":"spawn","task":"t1","cg":"/a","cpu":1}
{"op":"alloc","task":"t1","obj":"o1","kind":"slab","size":128}
{"op":"alloc","task":"t1","obj":"o2","kind":"page","order":0}
{"op":"set_max","cg":"/a","pages":1}
)";

TEST(Report, ContractFields) {
  auto trace = read(kTrace);
  auto result = replay(trace, ModelChoice::reference);
  auto r = report_json(trace, result);
  EXPECT_EQ(r["profile"], "v6.6");
  EXPECT_EQ(r["ncpus"], 2);
  EXPECT_EQ(r["page_size"], 4096);
  ASSERT_EQ(r["results"].size(), 5u);
  EXPECT_EQ(r["results"][0], (Json{{"line", 2}, {"op", "mkdir"}, {"result", "ok"}, {"cpu", 0}}));
  EXPECT_EQ(r["results"][4]["op"], "set_max");
  EXPECT_EQ(r["results"][4]["result"], "EBUSY");  // usage is a whole batch (64 pages)

  const auto& root = r["cgroups"][0];
  EXPECT_EQ(root["path"], "/");
  EXPECT_TRUE(root["max_pages"].is_null());
  const auto& a = r["cgroups"][1];
  for (const char* field : {"path", "state", "usage_pages", "max_pages", "failcnt", "css_refs"})
    EXPECT_TRUE(a.contains(field)) << field;
  EXPECT_EQ(a["path"], "/a");
  EXPECT_EQ(a["state"], "online");
  EXPECT_TRUE(a["usage_pages"].is_number_integer());

  ASSERT_EQ(r["objcgs"].size(), 1u);
  for (const char* field : {"id", "origin", "memcg", "state", "refs", "nr_charged_bytes"})
    EXPECT_TRUE(r["objcgs"][0].contains(field)) << field;
  EXPECT_EQ(r["objcgs"][0]["origin"], "/a");
  EXPECT_EQ(r["objcgs"][0]["state"], "active");

  ASSERT_EQ(r["stocks"].size(), 2u);
  EXPECT_EQ(r["stocks"][0]["cpu"], 0);
  EXPECT_TRUE(r["stocks"][0]["obj_stock"].is_null());
  EXPECT_TRUE(r["stocks"][0]["page_stock"].is_array());
  const auto& s1 = r["stocks"][1];
  EXPECT_EQ(s1["page_stock"][0]["memcg"], "/a");
  EXPECT_TRUE(s1["page_stock"][0]["nr_pages"].is_number());
  EXPECT_EQ(s1["obj_stock"]["objcg"], 1);
  EXPECT_TRUE(s1["obj_stock"]["nr_bytes"].is_number());

  ASSERT_EQ(r["objects"].size(), 2u);
  EXPECT_EQ(r["objects"][0]["id"], "o1");
  EXPECT_EQ(r["objects"][0]["kind"], "slab");
  EXPECT_EQ(r["objects"][0]["charged_bytes"], 136);
  EXPECT_EQ(r["objects"][0]["objcg"], 1);
  EXPECT_EQ(r["objects"][1]["kind"], "page");
  EXPECT_EQ(r["objects"][1]["charged_bytes"], 4096);

  EXPECT_TRUE(r["violations"].is_array());
  EXPECT_TRUE(r["error"].is_null());
  EXPECT_EQ(r["exit"], 0);
}

TEST(Report, ObjectsOfRootTasksAreUncharged) {
  auto trace = read(R"({"profile":"v6.6","cpus":1,"page_size":4096}
{"op":"spawn","task":"t","cg":"/","cpu":0}
{"op":"alloc","task":"t","obj":"o","kind":"slab","size":8}
)");
  auto r = report_json(trace, replay(trace, ModelChoice::reference));
  EXPECT_EQ(r["objects"][0]["charged_bytes"], 0);
  EXPECT_TRUE(r["objects"][0]["objcg"].is_null());
}

// A violation a known kernel bug explains is marked known, with the fix, and
// does not fail the replay; on the profile with the fix the same trace is clean.
TEST(Report, KnownKernelBugsAreMarkedAndDoNotFail) {
  const std::string body = R"(
{"op":"mkdir","cg":"/a"}
{"op":"spawn","task":"t","cg":"/a","cpu":1}
{"op":"alloc","task":"t","obj":"o1","kind":"slab","size":100}
{"op":"cpu_offline","cpu":1}
)";
  for (const char* profile : {"v6.1", "v6.6"}) {
    auto trace = read(std::string(R"({"profile":")") + profile +
                      R"(","cpus":2,"page_size":4096})" + body);
    ASSERT_FALSE(trace.error) << trace.error->what();
    for (auto choice : {ModelChoice::reference, ModelChoice::both}) {
      auto result = replay(trace, choice);
      EXPECT_EQ(result.exit_code(), 0) << result.verdict();
      EXPECT_EQ(result.nr_unexplained(), 0u);
      auto r = report_json(trace, result);
      ASSERT_EQ(r["violations"].size(), 1u) << r["violations"].dump();
      const auto& v = r["violations"][0];
      EXPECT_EQ(v["invariant"], "INV-STOCK-BOUNDS");
      EXPECT_EQ(v["line"], 5);
      EXPECT_EQ(v["known"], true);
      EXPECT_EQ(v["known_bug"], "hotplug_obj_stock_leak");
      EXPECT_EQ(v["fix"], "9f01b4954490");
      ASSERT_EQ(r["known_bugs"].size(), 1u);
      EXPECT_EQ(r["known_bugs"][0]["violations"], 1);
      EXPECT_EQ(r["known_bugs"][0]["function"], "memcg_hotplug_cpu_dead");
      EXPECT_NE(result.verdict().find("known kernel bug hotplug_obj_stock_leak (fixed by "
                                      "9f01b4954490)"),
                std::string::npos)
          << result.verdict();
      auto text = report_text(trace, result);
      EXPECT_NE(text.find("known kernel bug hotplug_obj_stock_leak"), std::string::npos) << text;
    }
  }
  auto fixed = read(R"({"profile":"v6.6+9f01b4954490","cpus":2,"page_size":4096})" + body);
  auto result = replay(fixed, ModelChoice::both);
  EXPECT_EQ(result.exit_code(), 0) << result.verdict();
  EXPECT_TRUE(result.violations.empty());
  auto r = report_json(fixed, result);
  EXPECT_TRUE(r["known_bugs"].empty());
  EXPECT_TRUE(r["stocks"][1]["obj_stock"].is_null());
}

TEST(Report, HeaderErrorHasNoState) {
  auto trace = read(R"({"profile":"v6.6","cpus":2,"page_size":1000})");
  auto result = replay(trace, ModelChoice::reference);
  auto r = report_json(trace, result);
  EXPECT_TRUE(r["profile"].is_null());
  EXPECT_TRUE(r["results"].empty());
  EXPECT_TRUE(r["cgroups"].empty());
  EXPECT_EQ(r["error"]["line"], 1);
  EXPECT_EQ(r["exit"], 2);
  auto text = report_text(trace, result);
  EXPECT_NE(text.find("verdict: BAD INPUT: p.jsonl:1: page_size"), std::string::npos) << text;
}

TEST(Report, TablesShowEverySection) {
  auto trace = read(kTrace);
  auto text = report_text(trace, replay(trace, ModelChoice::reference));
  for (const char* section : {"results\n", "cgroups\n", "objcgs\n", "stocks\n", "objects\n",
                              "tasks\n", "verdict: OK"})
    EXPECT_NE(text.find(section), std::string::npos) << section << "\n" << text;
  EXPECT_NE(text.find("o1 by t1: slab size 128"), std::string::npos) << text;
}

}  // namespace
}  // namespace mv::trace
