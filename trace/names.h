// The names a trace gives: cgroup paths (spec::PathTable), task names and
// object names. Each is interned to the small key the operations carry, so a
// report can print the trace's own names back.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "spec/path_table.h"

namespace mv::trace {

// Task or object names. A name keeps its key for the whole trace, so a task
// spawned again after it exited (or an object allocated again after its free)
// is the same key.
class NameTable {
 public:
  std::uint32_t intern(std::string_view name);
  std::optional<std::uint32_t> find(std::string_view name) const;
  const std::string& name(std::uint32_t key) const { return names_.at(key); }
  std::size_t size() const { return names_.size(); }

 private:
  std::vector<std::string> names_;
  std::unordered_map<std::string, std::uint32_t> keys_;
};

struct TraceNames {
  spec::PathTable paths;
  NameTable tasks;
  NameTable objects;
  NameTable caches;  // kmem_caches named by slab allocations ("cache")
};

}  // namespace mv::trace
