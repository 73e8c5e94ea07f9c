#include "spec/path_table.h"

#include <fmt/format.h>

namespace mv::spec {

PathTable::PathTable() { nodes_.push_back(Node{std::nullopt, "", 0}); }

template <class Each>
void PathTable::for_each_component(std::string_view path, Each each) {
  for (std::size_t start = 1; start < path.size();) {
    auto end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    each(path.substr(start, end - start));
    start = end + 1;
  }
}

std::string PathTable::problem(std::string_view path) {
  if (path.empty() || path.front() != '/') return "it must start with '/'";
  if (path.size() > kMaxPathBytes)
    return fmt::format("it is {} bytes long, more than PATH_MAX - 1 = {}", path.size(), kMaxPathBytes);
  if (path == "/") return {};
  if (path.back() == '/') return "it must not end with '/'";
  std::string why;
  for_each_component(path, [&](std::string_view part) {
    if (!why.empty()) return;
    if (part.empty())
      why = "it has an empty component (\"//\")";
    else if (part == "." || part == "..")
      why = fmt::format("it has a \"{}\" component", part);
    else if (part.size() > kMaxComponentBytes)
      why = fmt::format("a component is {} bytes long, more than NAME_MAX = {}", part.size(),
                        kMaxComponentBytes);
  });
  return why;
}

std::optional<PathKey> PathTable::intern(std::string_view path) {
  if (!problem(path).empty()) return std::nullopt;
  PathKey key = kRootPath;
  for_each_component(path, [&](std::string_view part) {
    auto it = children_.find(Child{key, part});
    if (it != children_.end()) {
      key = it->second;
      return;
    }
    auto child = static_cast<PathKey>(nodes_.size());
    const Node& node = nodes_.emplace_back(Node{key, std::string(part), nodes_[key].depth + 1});
    children_.emplace(Child{key, node.name}, child);
    key = child;
  });
  return key;
}

std::optional<PathKey> PathTable::find(std::string_view path) const {
  if (!problem(path).empty()) return std::nullopt;
  std::optional<PathKey> key = kRootPath;
  for_each_component(path, [&](std::string_view part) {
    if (!key) return;
    auto it = children_.find(Child{*key, part});
    key = it == children_.end() ? std::nullopt : std::optional<PathKey>(it->second);
  });
  return key;
}

std::string PathTable::path(PathKey key) const {
  if (key == kRootPath) return "/";
  std::size_t length = 0;
  for (PathKey k = key; k != kRootPath; k = *nodes_.at(k).parent) length += 1 + nodes_[k].name.size();
  std::string out(length, '/');
  for (PathKey k = key; k != kRootPath; k = *nodes_[k].parent) {
    const auto& name = nodes_[k].name;
    length -= name.size();
    out.replace(length, name.size(), name);
    length -= 1;
  }
  return out;
}

}  // namespace mv::spec
