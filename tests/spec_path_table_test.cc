// spec::PathTable: the cgroup path rules and limits (PATH_MAX, NAME_MAX), keys
// in interning order with ancestors first, and interning that stays linear in
// the path's length (a component tree, each component stored once).
#include <gtest/gtest.h>

#include <string>

#include "spec/path_table.h"

namespace mv::spec {
namespace {

std::string repeated(const std::string& part, std::size_t times) {
  std::string out;
  for (std::size_t i = 0; i < times; ++i) out += part;
  return out;
}

TEST(SpecPathTable, InternsAncestorsFirstAndFindsEveryPrefix) {
  PathTable paths;
  EXPECT_EQ(paths.find("/"), kRootPath);
  auto ab = paths.intern("/a/b");
  ASSERT_TRUE(ab);
  EXPECT_EQ(*ab, 2u);
  EXPECT_EQ(paths.find("/a"), 1u);
  EXPECT_EQ(paths.parent(*ab), 1u);
  EXPECT_EQ(paths.parent(1), kRootPath);
  EXPECT_EQ(paths.parent(kRootPath), std::nullopt);
  EXPECT_EQ(paths.path(*ab), "/a/b");
  EXPECT_EQ(paths.path(kRootPath), "/");
  EXPECT_EQ(paths.depth(*ab), 2u);
  EXPECT_EQ(paths.intern("/a"), 1u);
  EXPECT_EQ(paths.intern("/b/a"), 4u);  // "/b" is 3: a component is named within its parent
  EXPECT_EQ(paths.find("/a/b/c"), std::nullopt);
  EXPECT_EQ(paths.find("/b"), 3u);
  EXPECT_EQ(paths.size(), 5u);
}

TEST(SpecPathTable, RejectsMalformedPaths) {
  PathTable paths;
  for (const char* bad : {"", "a", "a/b", "//", "/a/", "/a//b", "/.", "/a/..", "/a/./b"}) {
    EXPECT_NE(PathTable::problem(bad), "") << bad;
    EXPECT_EQ(paths.intern(bad), std::nullopt) << bad;
    EXPECT_EQ(paths.find(bad), std::nullopt) << bad;
  }
  EXPECT_EQ(paths.size(), 1u);
  EXPECT_EQ(PathTable::problem("/a/...b/.c"), "");
}

TEST(SpecPathTable, BoundsComponentsByNameMaxAndPathsByPathMax) {
  PathTable paths;
  const std::string longest_component = "/" + std::string(255, 'c');
  EXPECT_EQ(PathTable::problem(longest_component), "");
  EXPECT_NE(PathTable::problem("/" + std::string(256, 'c')).find("NAME_MAX = 255"), std::string::npos);
  const std::string deepest = repeated("/a", PathTable::kMaxDepth);  // 4094 bytes
  ASSERT_EQ(deepest.size(), 4094u);
  EXPECT_EQ(PathTable::problem(deepest + "b"), "");  // 4095 bytes
  EXPECT_NE(PathTable::problem(deepest + "/b").find("more than PATH_MAX - 1 = 4095"),
            std::string::npos);
  auto key = paths.intern(deepest);
  ASSERT_TRUE(key);
  EXPECT_EQ(paths.depth(*key), PathTable::kMaxDepth);
  EXPECT_EQ(paths.path(*key), deepest);
  EXPECT_EQ(paths.size(), PathTable::kMaxDepth + 1);
  EXPECT_EQ(paths.intern(repeated("/a", 200000)), std::nullopt);
}

TEST(SpecPathTable, ADeepHierarchyInternedLevelByLevelStoresEachComponentOnce) {
  // 2047 levels, each interned by its full path as a trace's mkdir lines do:
  // each intern walks its path once, and the table holds one node per level.
  PathTable paths;
  std::string path;
  for (std::size_t level = 1; level <= PathTable::kMaxDepth; ++level) {
    path += "/a";
    auto key = paths.intern(path);
    ASSERT_EQ(key, level);
  }
  EXPECT_EQ(paths.size(), PathTable::kMaxDepth + 1);
  EXPECT_EQ(paths.find(path), PathTable::kMaxDepth);
}

}  // namespace
}  // namespace mv::spec
