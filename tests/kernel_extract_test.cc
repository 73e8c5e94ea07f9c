// The extractor's reader (kernel/extract/c_source.h) and the extractor
// itself on small C files written here for the purpose: names, kinds,
// preprocessor conditions, token-wise patches, wrappers, version detection,
// and the errors that name what a tree lacks. (No kernel text: the kernel
// tree is only read at build time, see tests/kernel_model_test.cc.)
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "kernel/extract/c_source.h"
#include "kernel/extract/extract.h"
#include "kernel/tree_build.h"

namespace mv::kernel::extract {
namespace {

namespace fs = std::filesystem;

// A fresh directory, removed with the object.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "mv-kernel-test-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

constexpr const char* kSample = R"(// a sample, not kernel code
#include <linux/none.h>
#define WIDGET_LIMIT 64U
#define WIDGET_PAIR(a, b) \
	((a) + (b))

struct widget {
	int count;
#define WIDGET_FLAG 0
	unsigned long flags;
};

static DEFINE_PER_CPU(struct widget, widgets) = {
	.count = 1,
};
static DEFINE_MUTEX(widget_mutex);
struct widget *root_widget __read_mostly;

static void widget_bump(struct widget *w, unsigned int nr);

#ifdef CONFIG_WIDGETS
static inline bool widget_ready(struct widget *w)
{
	return w->count > 0; /* } not a brace */
}
#else
static inline bool widget_ready(struct widget *w)
{
	return false;
}
#endif

static struct widget * __ref
__widget_find(const char *name, int (*match)(const char *))
{
	if (name[0] == '}')
		return NULL;
	return root_widget;
}
EXPORT_SYMBOL(__widget_find);

#if defined(CONFIG_A) && !defined(CONFIG_B)
# if WIDGET_LIMIT > 10
static void widget_bump(struct widget *w, unsigned int nr)
{
	w->count += nr;
}
# elif defined(CONFIG_C)
static void widget_other(void) {}
# endif
#endif
)";

SourceFile sample() { return split_source("sample.c", kSample); }

const Chunk& only(const SourceFile& f, const std::string& name) {
  auto found = find_chunks(f, name);
  if (found.size() != 1) throw std::runtime_error(name + ": " + std::to_string(found.size()) + " chunks");
  return *found.front();
}

TEST(KernelExtract, NamesAndKindsOfTopLevelDefinitions) {
  auto f = sample();
  EXPECT_EQ(only(f, "WIDGET_LIMIT").kind, ChunkKind::macro);
  EXPECT_NE(only(f, "WIDGET_PAIR").text.find("((a) + (b))"), std::string::npos);
  EXPECT_EQ(only(f, "struct widget").kind, ChunkKind::type);
  // A #define inside a struct stays part of the struct.
  EXPECT_NE(only(f, "struct widget").text.find("WIDGET_FLAG"), std::string::npos);
  EXPECT_TRUE(find_chunks(f, "WIDGET_FLAG").empty());
  EXPECT_EQ(only(f, "widgets").kind, ChunkKind::variable);
  EXPECT_NE(only(f, "widgets").text.find(".count = 1"), std::string::npos);
  EXPECT_EQ(only(f, "widget_mutex").kind, ChunkKind::variable);
  EXPECT_EQ(only(f, "root_widget").kind, ChunkKind::variable);
  const auto& find = only(f, "__widget_find");
  EXPECT_EQ(find.kind, ChunkKind::function);
  EXPECT_EQ(find.head, "static struct widget * __ref");
  EXPECT_EQ(find.params, "const char *name, int (*match)(const char *)");
  EXPECT_EQ(find.line, 33u);
  // The prototype is not a definition; EXPORT_SYMBOL names nothing.
  EXPECT_EQ(find_chunks(f, "widget_bump", false).size(), 2u);
  EXPECT_EQ(find_chunks(f, "widget_bump").size(), 1u);
}

TEST(KernelExtract, EachDefinitionKeepsTheConditionsItSitsUnder) {
  auto f = sample();
  auto ready = find_chunks(f, "widget_ready");
  ASSERT_EQ(ready.size(), 2u);
  EXPECT_EQ(ready[0]->conditions, (std::vector<std::string>{"(defined(CONFIG_WIDGETS))"}));
  EXPECT_EQ(ready[1]->conditions, (std::vector<std::string>{"!(defined(CONFIG_WIDGETS))"}));
  EXPECT_EQ(only(f, "widget_bump").conditions,
            (std::vector<std::string>{"(defined(CONFIG_A) && !defined(CONFIG_B))", "(WIDGET_LIMIT > 10)"}));
  EXPECT_EQ(only(f, "widget_other").conditions,
            (std::vector<std::string>{"(defined(CONFIG_A) && !defined(CONFIG_B))",
                                      "!(WIDGET_LIMIT > 10) && (defined(CONFIG_C))"}));
  EXPECT_TRUE(only(f, "struct widget").conditions.empty());
}

TEST(KernelExtract, UnbalancedInputIsAnErrorWithItsLine) {
  EXPECT_THROW(split_source("a.c", "static int f(void)\n{\n"), std::runtime_error);
  EXPECT_THROW(split_source("a.c", "#ifdef X\nint x;\n"), std::runtime_error);
  EXPECT_THROW(split_source("a.c", "/* never closed\n"), std::runtime_error);
  try {
    split_source("a.c", "int a;\n#endif\n");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), "a.c:2: #endif without #if");
  }
}

TEST(KernelExtract, PatchesMatchTokenByToken) {
  const std::string text = "if (w->count   >\n\tLIMIT) /* c */ return;";
  EXPECT_EQ(replace_tokens(text, "w->count > LIMIT", "w->count >= LIMIT"), "if (w->count >= LIMIT) /* c */ return;");
  EXPECT_EQ(replace_tokens(text, "w -> count>LIMIT)", "0)"), "if (0) /* c */ return;");
  EXPECT_EQ(replace_tokens(text, "count >= LIMIT", "x"), std::nullopt);
  // Only the first occurrence.
  EXPECT_EQ(replace_tokens("a; a;", "a;", "b;"), "b; a;");
}

TEST(KernelExtract, ParameterNames) {
  EXPECT_EQ(parameter_names("struct widget *w, unsigned int nr"), (std::vector<std::string>{"w", "nr"}));
  EXPECT_EQ(parameter_names("void"), std::vector<std::string>{});
  EXPECT_EQ(parameter_names("int (*match)(const char *), char buf[16]"),
            (std::vector<std::string>{"match", "buf"}));
}

// A tree of our own making, with the manifest's files as empty stubs except
// where a test writes one.
class TinyTree {
 public:
  TinyTree() {
    write("Makefile", "# SPDX\nVERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 7\nEXTRAVERSION = -rc2\nNAME = x\n");
    for (const auto& f : manifest()) write(f.path, "");
  }
  void write(const std::string& rel, const std::string& text) {
    fs::create_directories((dir_.path() / rel).parent_path());
    std::ofstream(dir_.path() / rel) << text;
  }
  const fs::path& path() const { return dir_.path(); }

 private:
  TempDir dir_;
};

TEST(KernelExtract, TheProfileComesFromTheTopMakefile) {
  TinyTree tree;
  auto v = read_tree_version(tree.path());
  EXPECT_EQ(v.text(), "6.1.7-rc2");
  EXPECT_EQ(v.profile_name(), "v6.1");
  TempDir empty;
  EXPECT_THROW(read_tree_version(empty.path()), std::runtime_error);
}

TEST(KernelExtract, AMissingDefinitionIsNamedWithItsFile) {
  TinyTree tree;
  try {
    extract_tree(tree.path());
    FAIL() << "a tree without the definitions extracted";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    // The first file of the manifest, and its first name.
    EXPECT_NE(what.find("include/linux/page_counter.h"), std::string::npos) << what;
    EXPECT_NE(what.find("no definition of struct page_counter"), std::string::npos) << what;
    EXPECT_NE(what.find("6.1.7-rc2"), std::string::npos) << what;
  }
  fs::remove(tree.path() / "include/linux/page_counter.h");
  try {
    extract_tree(tree.path());
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("include/linux/page_counter.h: missing from the tree"),
              std::string::npos)
        << e.what();
  }
}

// A cached model is keyed by the toolchain too: a change of the compiler, a
// flag, or a file of our glue or shims builds the tree again.
TEST(KernelExtract, TheCacheKeyCoversTheCompilerTheFlagsAndTheGlue) {
  TempDir source;
  fs::create_directories(source.path() / "kernel/c");
  fs::create_directories(source.path() / "kernel/shim");
  std::ofstream(source.path() / "kernel/c/model.c") << "int x;";
  std::ofstream(source.path() / "kernel/shim/dup.h") << "#define A 1";
  Toolchain toolchain{"cc", {"-O2"}, source.path(), source.path() / "cache"};
  const auto base = toolchain_digest(toolchain);
  EXPECT_EQ(toolchain_digest(toolchain), base);
  auto other = toolchain;
  other.c_compiler = "clang";
  EXPECT_NE(toolchain_digest(other), base);
  other = toolchain;
  other.c_flags = {"-O0"};
  EXPECT_NE(toolchain_digest(other), base);
  std::ofstream(source.path() / "kernel/shim/dup.h") << "#define A 2";
  EXPECT_NE(toolchain_digest(toolchain), base);
}

}  // namespace
}  // namespace mv::kernel::extract
