#include "spec/path_table.h"

namespace mv::spec {

PathTable::PathTable() {
  paths_.push_back("/");
  parents_.push_back(std::nullopt);
  keys_.emplace("/", kRootPath);
}

static bool well_formed(std::string_view path) {
  if (path.empty() || path.front() != '/') return false;
  if (path == "/") return true;
  if (path.back() == '/') return false;
  std::size_t start = 1;
  while (start <= path.size()) {
    auto end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    auto part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

std::optional<PathKey> PathTable::intern(std::string_view path) {
  if (!well_formed(path)) return std::nullopt;
  if (auto found = find(path)) return found;
  auto cut = path.rfind('/');
  auto parent_path = cut == 0 ? std::string_view("/") : path.substr(0, cut);
  auto parent_key = intern(parent_path);
  auto key = static_cast<PathKey>(paths_.size());
  paths_.emplace_back(path);
  parents_.push_back(parent_key);
  keys_.emplace(std::string(path), key);
  return key;
}

std::optional<PathKey> PathTable::find(std::string_view path) const {
  auto it = keys_.find(std::string(path));
  if (it == keys_.end()) return std::nullopt;
  return it->second;
}

std::optional<PathKey> PathTable::parent(PathKey key) const { return parents_.at(key); }

}  // namespace mv::spec
