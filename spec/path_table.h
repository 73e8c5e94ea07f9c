// Cgroup paths named by a trace ("/", "/a", "/a/b"), interned to small keys.
// A key names a path, not a cgroup: after rmdir and mkdir of the same path the
// key is the same while the memcg is a new one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mv::spec {

using PathKey = std::uint32_t;
inline constexpr PathKey kRootPath = 0;

class PathTable {
 public:
  PathTable();
  // Interns a well-formed path and all its ancestors; nullopt if malformed
  // (must start with '/', no empty or "."/".." components, no trailing '/').
  std::optional<PathKey> intern(std::string_view path);
  std::optional<PathKey> find(std::string_view path) const;
  // The parent path's key; nullopt for the root.
  std::optional<PathKey> parent(PathKey key) const;
  const std::string& path(PathKey key) const { return paths_[key]; }
  std::size_t size() const { return paths_.size(); }

 private:
  std::vector<std::string> paths_;
  std::vector<std::optional<PathKey>> parents_;
  std::unordered_map<std::string, PathKey> keys_;
};

}  // namespace mv::spec
