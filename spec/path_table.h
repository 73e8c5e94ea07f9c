// Cgroup paths named by a trace ("/", "/a", "/a/b"), interned to small keys.
// A key names a path, not a cgroup: after rmdir and mkdir of the same path the
// key is the same while the memcg is a new one.
//
// The table is a tree of path components: interning and looking up a path
// cost time linear in its length, and each component is stored once, so a
// deep hierarchy costs memory linear in its size (not in the sum of its
// paths' lengths). Paths are bounded like the kernel's: a component by
// NAME_MAX (255 bytes, the VFS refuses a longer name with ENAMETOOLONG) and
// the whole path by PATH_MAX less its NUL (4095 bytes), which also bounds the
// depth (2047 levels of one-character names).
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace mv::spec {

using PathKey = std::uint32_t;
inline constexpr PathKey kRootPath = 0;

class PathTable {
 public:
  static constexpr std::size_t kMaxComponentBytes = 255;  // NAME_MAX (include/uapi/linux/limits.h)
  static constexpr std::size_t kMaxPathBytes = 4095;      // PATH_MAX (4096) without the NUL
  static constexpr std::size_t kMaxDepth = kMaxPathBytes / 2;  // "/a/a/...": 2047 levels

  PathTable();
  // Why `path` is not a cgroup path this table accepts, or empty: it must
  // start with '/', have no empty, "." or ".." component and no trailing
  // '/', and keep within the limits above.
  static std::string problem(std::string_view path);
  // Interns a path without a problem() and all its ancestors (ancestors get
  // the smaller keys); nullopt if it has one.
  std::optional<PathKey> intern(std::string_view path);
  std::optional<PathKey> find(std::string_view path) const;
  // The parent path's key; nullopt for the root.
  std::optional<PathKey> parent(PathKey key) const { return nodes_.at(key).parent; }
  // Components below the root: "/" is 0, "/a/b" is 2.
  std::uint32_t depth(PathKey key) const { return nodes_.at(key).depth; }
  std::string path(PathKey key) const;
  std::size_t size() const { return nodes_.size(); }

 private:
  struct Node {
    std::optional<PathKey> parent;
    std::string name;  // the last component ("" for the root)
    std::uint32_t depth = 0;
  };
  struct Child {
    PathKey parent;
    std::string_view name;  // views a Node::name (a deque never moves its elements)
    bool operator==(const Child&) const = default;
  };
  struct ChildHash {
    std::size_t operator()(const Child& c) const {
      return std::hash<std::string_view>{}(c.name) * 31 + c.parent;
    }
  };
  // Calls `each(component)` for the components of a path without a problem().
  template <class Each>
  static void for_each_component(std::string_view path, Each each);

  std::deque<Node> nodes_;
  std::unordered_map<Child, PathKey, ChildHash> children_;
};

}  // namespace mv::spec
