#include "trace/names.h"

namespace mv::trace {

std::uint32_t NameTable::intern(std::string_view name) {
  if (auto found = find(name)) return *found;
  auto key = static_cast<std::uint32_t>(names_.size());
  names_.emplace_back(name);
  keys_.emplace(std::string(name), key);
  return key;
}

std::optional<std::uint32_t> NameTable::find(std::string_view name) const {
  auto it = keys_.find(std::string(name));
  if (it == keys_.end()) return std::nullopt;
  return it->second;
}

}  // namespace mv::trace
