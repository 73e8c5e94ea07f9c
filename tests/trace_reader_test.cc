// The trace reader: every op and field of docs/TRACE_FORMAT.md, and every kind
// of bad input rejected with the right line and reason.
#include <algorithm>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "trace/trace_reader.h"

namespace mv::trace {
namespace {

constexpr const char* kHeader = R"({"profile":"v6.6","cpus":4,"page_size":4096})";

Trace read(const std::string& text) {
  std::istringstream in(text);
  return read_trace(in, "t.jsonl");
}

Trace with_header(const std::string& ops) { return read(std::string(kHeader) + "\n" + ops); }

// The error of `text`, which must have one.
TraceError error_of(const Trace& trace) {
  EXPECT_TRUE(trace.error.has_value());
  return trace.error.value_or(TraceError{});
}

void expect_error(const std::string& text, std::size_t line, const std::string& fragment) {
  auto trace = read(text);
  ASSERT_TRUE(trace.error) << "no error for:\n" << text;
  EXPECT_EQ(trace.error->line, line) << trace.error->what();
  EXPECT_NE(trace.error->reason.find(fragment), std::string::npos)
      << "reason: " << trace.error->reason << "\nexpected to contain: " << fragment;
}

TEST(TraceReader, ReadsTheHeader) {
  auto trace = read(R"({"profile":"v6.6","cpus":2,"page_size":16384})");
  ASSERT_FALSE(trace.error) << trace.error->what();
  ASSERT_TRUE(trace.has_config);
  EXPECT_EQ(trace.config.profile, spec::Profile::v6_6);
  EXPECT_EQ(trace.config.ncpus, 2u);
  EXPECT_EQ(trace.config.page_size_bytes, 16384u);
  EXPECT_TRUE(trace.ops.empty());
}

TEST(TraceReader, ReadsEveryOperation) {
  auto trace = with_header(R"({"op":"mkdir","cg":"/a"}
{"op":"mkdir","cg":"/a/b","cpu":3}
{"op":"spawn","task":"t1","cg":"/a","cpu":1}
{"op":"alloc","task":"t1","obj":"o1","kind":"slab","size":128}
{"op":"alloc","task":"t1","obj":"o2","kind":"percpu","size":13,"nofail":true}
{"op":"alloc","task":"t1","obj":"o3","kind":"page","order":2}
{"op":"alloc","task":"t1","obj":"o4","kind":"stack"}
{"op":"free","obj":"o1"}
{"op":"free","obj":"o2","cpu":2}
{"op":"migrate","task":"t1","cg":"/"}
{"op":"run_on","task":"t1","cpu":2}
{"op":"rmdir","cg":"/a/b"}
{"op":"drain","cpu":0}
{"op":"drain_all","cg":"/a"}
{"op":"set_max","cg":"/a","pages":100}
{"op":"set_max","cg":"/a","pages":"max","cpu":1}
{"op":"cpu_offline","cpu":3}
{"op":"exit","task":"t1"}
{"op":"quiesce"}
)");
  ASSERT_FALSE(trace.error) << trace.error->what();
  ASSERT_EQ(trace.ops.size(), 19u);
  const auto& names = trace.names;
  EXPECT_EQ(trace.ops[0].line, 2u);
  EXPECT_EQ(trace.ops[18].line, 20u);

  auto mkdir = std::get<spec::Mkdir>(trace.ops[0].op);
  EXPECT_EQ(names.paths.path(mkdir.cg), "/a");
  EXPECT_FALSE(trace.ops[0].cpu_given);
  auto mkdir_b = std::get<spec::Mkdir>(trace.ops[1].op);
  EXPECT_EQ(names.paths.path(mkdir_b.cg), "/a/b");
  EXPECT_EQ(names.paths.parent(mkdir_b.cg), mkdir.cg);
  EXPECT_TRUE(trace.ops[1].cpu_given);
  EXPECT_EQ(mkdir_b.cpu, 3u);

  auto spawn = std::get<spec::Spawn>(trace.ops[2].op);
  EXPECT_EQ(names.tasks.name(spawn.task), "t1");
  EXPECT_EQ(spawn.cpu, 1u);

  auto slab = std::get<spec::Alloc>(trace.ops[3].op);
  EXPECT_EQ(slab.kind, spec::AllocKind::slab);
  EXPECT_EQ(slab.size_bytes, 128u);
  EXPECT_FALSE(slab.nofail);
  EXPECT_EQ(slab.task, spawn.task);
  EXPECT_EQ(names.objects.name(slab.obj), "o1");
  auto percpu = std::get<spec::Alloc>(trace.ops[4].op);
  EXPECT_EQ(percpu.kind, spec::AllocKind::percpu);
  EXPECT_EQ(percpu.size_bytes, 13u);
  EXPECT_TRUE(percpu.nofail);
  auto page = std::get<spec::Alloc>(trace.ops[5].op);
  EXPECT_EQ(page.kind, spec::AllocKind::page);
  EXPECT_EQ(page.order, 2u);
  EXPECT_EQ(std::get<spec::Alloc>(trace.ops[6].op).kind, spec::AllocKind::stack);

  EXPECT_EQ(std::get<spec::Free>(trace.ops[7].op).obj, slab.obj);
  EXPECT_FALSE(trace.ops[7].cpu_given);
  EXPECT_EQ(std::get<spec::Free>(trace.ops[8].op).cpu, 2u);
  EXPECT_TRUE(trace.ops[8].cpu_given);
  EXPECT_EQ(std::get<spec::Migrate>(trace.ops[9].op).cg, spec::kRootPath);
  EXPECT_EQ(std::get<spec::RunOn>(trace.ops[10].op).cpu, 2u);
  EXPECT_EQ(std::get<spec::Rmdir>(trace.ops[11].op).cg, mkdir_b.cg);
  EXPECT_EQ(std::get<spec::Drain>(trace.ops[12].op).cpu, 0u);
  EXPECT_EQ(std::get<spec::DrainAll>(trace.ops[13].op).cg, mkdir.cg);
  EXPECT_EQ(std::get<spec::SetMax>(trace.ops[14].op).max_pages, std::optional<std::uint64_t>(100));
  EXPECT_EQ(std::get<spec::SetMax>(trace.ops[15].op).max_pages, std::nullopt);
  EXPECT_EQ(std::get<spec::SetMax>(trace.ops[15].op).cpu, 1u);
  EXPECT_EQ(std::get<spec::CpuOffline>(trace.ops[16].op).cpu, 3u);
  EXPECT_EQ(std::get<spec::Exit>(trace.ops[17].op).task, spawn.task);
  EXPECT_TRUE(std::holds_alternative<spec::Quiesce>(trace.ops[18].op));
}

TEST(TraceReader, SetMaxAtOrAbovePageCounterMaxIsMax) {
  // page_counter_memparse clamps to PAGE_COUNTER_MAX = LONG_MAX / PAGE_SIZE.
  auto limit = page_counter_max_pages(spec::Config{});
  EXPECT_EQ(limit, 0x7fffffffffffffffULL / 4096);
  auto trace = with_header(
      "{\"op\":\"set_max\",\"cg\":\"/a\",\"pages\":" + std::to_string(limit - 1) + "}\n" +
      "{\"op\":\"set_max\",\"cg\":\"/a\",\"pages\":" + std::to_string(limit) + "}\n" +
      "{\"op\":\"set_max\",\"cg\":\"/a\",\"pages\":18446744073709551615}\n" +
      "{\"op\":\"set_max\",\"cg\":\"/a\",\"pages\":0}\n");
  ASSERT_FALSE(trace.error) << trace.error->what();
  ASSERT_EQ(trace.ops.size(), 4u);
  EXPECT_EQ(std::get<spec::SetMax>(trace.ops[0].op).max_pages, limit - 1);
  EXPECT_EQ(std::get<spec::SetMax>(trace.ops[1].op).max_pages, std::nullopt);
  EXPECT_EQ(std::get<spec::SetMax>(trace.ops[2].op).max_pages, std::nullopt);
  EXPECT_EQ(std::get<spec::SetMax>(trace.ops[3].op).max_pages, std::optional<std::uint64_t>(0));
}

TEST(TraceReader, NamesKeepTheirKeys) {
  auto trace = with_header(R"({"op":"spawn","task":"a","cg":"/","cpu":0}
{"op":"spawn","task":"b","cg":"/","cpu":0}
{"op":"exit","task":"a"}
{"op":"spawn","task":"a","cg":"/x/y","cpu":0}
)");
  ASSERT_FALSE(trace.error);
  auto a = std::get<spec::Spawn>(trace.ops[0].op).task;
  auto b = std::get<spec::Spawn>(trace.ops[1].op).task;
  EXPECT_NE(a, b);
  EXPECT_EQ(std::get<spec::Exit>(trace.ops[2].op).task, a);
  EXPECT_EQ(std::get<spec::Spawn>(trace.ops[3].op).task, a);
  EXPECT_EQ(trace.names.tasks.size(), 2u);
  // Interning a path interns its ancestors.
  EXPECT_TRUE(trace.names.paths.find("/x").has_value());
}

TEST(TraceReader, BlankLinesAreSkippedAndCounted) {
  auto trace = read(std::string(kHeader) + "\r\n\n   \n{\"op\":\"quiesce\"}\r\n\n");
  ASSERT_FALSE(trace.error) << trace.error->what();
  ASSERT_EQ(trace.ops.size(), 1u);
  EXPECT_EQ(trace.ops[0].line, 4u);
}

TEST(TraceReader, NoteIsAllowedEverywhere) {
  auto trace = read(R"({"profile":"v6.6","cpus":1,"page_size":4096,"note":"one CPU"}
{"op":"quiesce","note":"nothing pending"}
)");
  ASSERT_FALSE(trace.error) << trace.error->what();
  EXPECT_EQ(trace.ops.size(), 1u);
  expect_error(std::string(kHeader) + "\n{\"op\":\"quiesce\",\"note\":3}\n", 2, "\"note\"");
}

TEST(TraceReader, ErrorsNameFileAndLine) {
  auto trace = with_header("{\"op\":\"quiesce\"}\n{\"op\":\"alocc\"}\n{\"op\":\"quiesce\"}\n");
  auto error = error_of(trace);
  EXPECT_EQ(error.what().rfind("t.jsonl:3: unknown op \"alocc\"", 0), 0u) << error.what();
  // The lines before the error are kept; nothing after it.
  ASSERT_EQ(trace.ops.size(), 1u);
  EXPECT_EQ(trace.ops[0].line, 2u);
}

TEST(TraceReader, BadHeaders) {
  expect_error("", 1, "header line");
  expect_error("\n\n", 1, "header line");
  expect_error("{\"op\":\"mkdir\",\"cg\":\"/a\"}\n", 1, "first line must be the header");
  expect_error(R"({"profile":"v9.9","cpus":4,"page_size":4096})", 1, "unknown profile \"v9.9\"");
  expect_error(R"({"profile":"v6.6","cpus":0,"page_size":4096})", 1, "cpus");
  expect_error(R"({"profile":"v6.6","cpus":65,"page_size":4096})", 1, "cpus");
  expect_error(R"({"profile":"v6.6","cpus":-1,"page_size":4096})", 1, "cpus");
  expect_error(R"({"profile":"v6.6","cpus":4,"page_size":4095})", 1, "power of two");
  expect_error(R"({"profile":"v6.6","cpus":4,"page_size":6144})", 1, "power of two");
  expect_error(R"({"profile":"v6.6","cpus":4,"page_size":2048})", 1, "page_size");
  expect_error(R"({"profile":"v6.6","cpus":4,"page_size":131072})", 1, "page_size");
  expect_error(R"({"profile":"v6.6","cpus":4})", 1, "missing field \"page_size\"");
  expect_error(R"({"profile":"v6.6","cpus":4,"page_size":4096,"x":1})", 1, "unknown field \"x\"");
  expect_error(R"({"profile":6.6,"cpus":4,"page_size":4096})", 1, "\"profile\"");
  expect_error(R"({"profile":"v6.6","cpus":"4","page_size":4096})", 1, "\"cpus\"");
  for (auto size : {4096, 16384, 65536}) {
    auto trace = read(R"({"profile":"v6.6","cpus":64,"page_size":)" + std::to_string(size) + "}");
    EXPECT_FALSE(trace.error) << size;
  }
}

TEST(TraceReader, BadJson) {
  expect_error(std::string(kHeader) + "\n{\"op\":\"quiesce\"}\n{\"op\":\"mkdir\",\"cg\":\"/a\"\n", 3,
               "bad JSON");
  expect_error(std::string(kHeader) + "\n{op:quiesce}\n", 2, "bad JSON");
  expect_error(std::string(kHeader) + "\n[1,2]\n", 2, "expected a JSON object");
  expect_error(std::string(kHeader) + "\n\"quiesce\"\n", 2, "expected a JSON object");
  expect_error(std::string(kHeader) + "\n{\"op\":\"quiesce\"} {\"op\":\"quiesce\"}\n", 2, "bad JSON");
  expect_error(std::string(kHeader) + "\n{\"op\":\"mkdir\",\"cg\":\"/a\",\"cg\":\"/b\"}\n", 2,
               "\"cg\" given twice");
  // The JSON library's line number is not the trace's: it must not leak.
  auto trace = with_header("{\"op\":\n");
  ASSERT_TRUE(trace.error);
  EXPECT_EQ(trace.error->reason.find("line 1"), std::string::npos) << trace.error->reason;
}

TEST(TraceReader, UnknownOpFieldAndMissingField) {
  expect_error(std::string(kHeader) + "\n{\"op\":\"alocc\"}\n", 2, "unknown op \"alocc\"");
  expect_error(std::string(kHeader) + "\n{\"cg\":\"/a\"}\n", 2, "missing field \"op\"");
  expect_error(std::string(kHeader) + "\n{\"op\":7}\n", 2, "field \"op\" must be a string");
  expect_error(std::string(kHeader) + "\n{\"op\":\"mkdir\",\"cg\":\"/a\",\"sz\":1}\n", 2,
               "unknown field \"sz\" in mkdir");
  expect_error(std::string(kHeader) + "\n{\"op\":\"quiesce\",\"cpu\":0}\n", 2,
               "unknown field \"cpu\" in quiesce");
  expect_error(std::string(kHeader) + "\n{\"op\":\"exit\",\"task\":\"t\",\"cpu\":0}\n", 2,
               "unknown field \"cpu\" in exit");
  expect_error(std::string(kHeader) + "\n{\"op\":\"mkdir\"}\n", 2, "mkdir: missing field \"cg\"");
  expect_error(std::string(kHeader) + "\n{\"op\":\"spawn\",\"task\":\"t\",\"cg\":\"/\"}\n", 2,
               "spawn: missing field \"cpu\"");
  expect_error(std::string(kHeader) + "\n{\"op\":\"free\"}\n", 2, "free: missing field \"obj\"");
  expect_error(std::string(kHeader) + "\n{\"op\":\"set_max\",\"cg\":\"/a\"}\n", 2,
               "missing field \"pages\"");
  expect_error(std::string(kHeader) + "\n{\"op\":\"run_on\",\"task\":\"t\"}\n", 2,
               "missing field \"cpu\"");
  expect_error(std::string(kHeader) + "\n{\"op\":\"drain\"}\n", 2, "missing field \"cpu\"");
  expect_error(std::string(kHeader) + "\n{\"op\":\"cpu_offline\"}\n", 2, "missing field \"cpu\"");
}

TEST(TraceReader, AllocFieldsDependOnKind) {
  auto alloc = [](const std::string& rest) {
    return std::string(kHeader) + "\n{\"op\":\"alloc\",\"task\":\"t\",\"obj\":\"o\"," + rest + "}\n";
  };
  expect_error(alloc("\"kind\":\"slub\",\"size\":8"), 2, "unknown kind \"slub\"");
  expect_error(alloc("\"kind\":\"slab\""), 2, "missing field \"size\"");
  expect_error(alloc("\"kind\":\"slab\",\"size\":0"), 2, "\"size\"");
  expect_error(alloc("\"kind\":\"slab\",\"size\":-8"), 2, "\"size\"");
  expect_error(alloc("\"kind\":\"slab\",\"size\":8.5"), 2, "\"size\"");
  expect_error(alloc("\"kind\":\"slab\",\"size\":\"128\""), 2, "\"size\"");
  expect_error(alloc("\"kind\":\"slab\",\"size\":1e30"), 2, "\"size\"");
  expect_error(alloc("\"kind\":\"slab\",\"size\":4194305"), 2, "\"size\"");
  expect_error(alloc("\"kind\":\"slab\",\"size\":8,\"order\":0"), 2,
               "\"order\" does not apply to kind slab");
  expect_error(alloc("\"kind\":\"percpu\",\"size\":4294967297"), 2, "\"size\"");
  expect_error(alloc("\"kind\":\"percpu\",\"size\":-1"), 2, "\"size\"");
  expect_error(alloc("\"kind\":\"page\""), 2, "missing field \"order\"");
  expect_error(alloc("\"kind\":\"page\",\"order\":4294967296"), 2, "\"order\"");
  expect_error(alloc("\"kind\":\"page\",\"order\":-1"), 2, "\"order\"");
  expect_error(alloc("\"kind\":\"page\",\"order\":1,\"size\":4096"), 2,
               "\"size\" does not apply to kind page");
  expect_error(alloc("\"kind\":\"stack\",\"size\":8"), 2, "\"size\" does not apply to kind stack");
  expect_error(alloc("\"kind\":\"stack\",\"order\":2"), 2, "\"order\" does not apply");
  expect_error(alloc("\"kind\":\"stack\",\"nofail\":1"), 2, "\"nofail\" must be true or false");
  // memcg_charge_kernel_stack always charges with GFP_KERNEL.
  expect_error(alloc("\"kind\":\"stack\",\"nofail\":true"), 2,
               "\"nofail\": true does not apply to kind stack");
  expect_error(alloc("\"kind\":\"stack\",\"colour\":1"), 2, "unknown field \"colour\" in alloc");
  expect_error(std::string(kHeader) + "\n{\"op\":\"alloc\",\"task\":\"t\",\"kind\":\"stack\"}\n", 2,
               "missing field \"obj\"");
}

TEST(TraceReader, LimitsAreTheKernels) {
  auto ok = [](const std::string& rest) {
    auto trace = with_header("{\"op\":\"alloc\",\"task\":\"t\",\"obj\":\"o\"," + rest + "}\n");
    EXPECT_FALSE(trace.error) << rest << ": " << trace.error->what();
  };
  ok("\"kind\":\"slab\",\"size\":4194304");  // KMALLOC_MAX_SIZE with 4K pages
  ok("\"kind\":\"percpu\",\"size\":32768");  // PCPU_MIN_UNIT_SIZE
  ok("\"kind\":\"page\",\"order\":10");      // MAX_ORDER (inclusive since v6.4)
  // Requests the kernel refuses (ENOMEM) are the model's to answer.
  ok("\"kind\":\"percpu\",\"size\":0");
  ok("\"kind\":\"percpu\",\"size\":32769");
  ok("\"kind\":\"page\",\"order\":11");
  ok("\"kind\":\"page\",\"order\":4294967295");
  ok("\"kind\":\"page\",\"order\":0,\"nofail\":false");
  ok("\"kind\":\"stack\",\"nofail\":false");  // GFP_KERNEL, as always
}

TEST(TraceReader, MalformedPathsAndNames) {
  for (const char* path : {"a", "/a/", "/a//b", "/a/../b", "/./a", "", "//"}) {
    expect_error(std::string(kHeader) + "\n{\"op\":\"mkdir\",\"cg\":\"" + path + "\"}\n", 2,
                 std::string(path).empty() ? "non-empty string" : "malformed cgroup path");
  }
  expect_error(std::string(kHeader) + "\n{\"op\":\"mkdir\",\"cg\":7}\n", 2, "\"cg\"");
  expect_error(std::string(kHeader) + "\n{\"op\":\"exit\",\"task\":\"\"}\n", 2, "\"task\"");
  expect_error(std::string(kHeader) + "\n{\"op\":\"free\",\"obj\":null}\n", 2, "\"obj\"");
}

TEST(TraceReader, CpuMustBeANonNegativeInteger) {
  expect_error(std::string(kHeader) + "\n{\"op\":\"drain\",\"cpu\":-1}\n", 2, "\"cpu\"");
  expect_error(std::string(kHeader) + "\n{\"op\":\"drain\",\"cpu\":1.5}\n", 2, "\"cpu\"");
  expect_error(std::string(kHeader) + "\n{\"op\":\"drain\",\"cpu\":4294967296}\n", 2, "\"cpu\"");
  // Range against the header's CPU count is the replay driver's check.
  auto trace = with_header("{\"op\":\"drain\",\"cpu\":9}\n");
  EXPECT_FALSE(trace.error);
}

TEST(TraceReader, SetMaxPages) {
  expect_error(std::string(kHeader) + "\n{\"op\":\"set_max\",\"cg\":\"/a\",\"pages\":-1}\n", 2,
               "\"pages\" must be \"max\" or a non-negative integer");
  expect_error(std::string(kHeader) + "\n{\"op\":\"set_max\",\"cg\":\"/a\",\"pages\":\"maxx\"}\n",
               2, "\"pages\"");
  expect_error(std::string(kHeader) + "\n{\"op\":\"set_max\",\"cg\":\"/a\",\"pages\":null}\n", 2,
               "\"pages\"");
}

TEST(TraceReader, MissingFileIsAnError) {
  auto trace = read_trace_file("/nonexistent/trace.jsonl");
  ASSERT_TRUE(trace.error);
  EXPECT_EQ(trace.error->line, 0u);
  EXPECT_EQ(trace.error->what(), "/nonexistent/trace.jsonl: cannot open the trace file: No such file or directory");
}

// Whatever the bytes, the reader answers (never throws or crashes), and an
// error names a line that exists.
RC_GTEST_PROP(TraceReaderProperty, NeverThrowsOnArbitraryLines, (std::vector<std::string> lines)) {
  std::string text = std::string(kHeader) + "\n";
  for (const auto& l : lines) text += l + "\n";
  // A generated string may hold newlines: the file's lines are counted.
  const auto nr_lines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
  auto trace = read(text);
  if (trace.error) {
    RC_ASSERT(trace.error->line >= 2u);
    RC_ASSERT(trace.error->line <= nr_lines);
    RC_ASSERT(!trace.error->reason.empty());
  }
  RC_ASSERT(trace.ops.size() < nr_lines);
}

// Mutating one character of a valid trace never crashes the reader.
RC_GTEST_PROP(TraceReaderProperty, NeverThrowsOnMutatedTraces, ()) {
  std::string text = std::string(kHeader) +
                     "\n{\"op\":\"alloc\",\"task\":\"t\",\"obj\":\"o\",\"kind\":\"slab\",\"size\":"
                     "128}\n{\"op\":\"set_max\",\"cg\":\"/a/b\",\"pages\":\"max\"}\n";
  auto at = *rc::gen::inRange<std::size_t>(0, text.size());
  auto ch = *rc::gen::arbitrary<char>();
  text[at] = ch;
  auto trace = read(text);
  RC_ASSERT(trace.ops.size() <= 2u);
  // A mutated newline may split a line in two.
  if (trace.error) RC_ASSERT(trace.error->line >= 1u && trace.error->line <= 4u);
}

}  // namespace
}  // namespace mv::trace
