// Names the fields in which two models' states differ, in the report's own
// field names, an entry of a state array by what the tables call it (a cgroup
// by path, an objcg, object or task by id, a stock by CPU), not by position:
// "objcgs[id=1].refs: reference 2, impl 3", "cgroups[path=/a].usage_pages".
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "spec/snapshot.h"
#include "trace/names.h"
#include "trace/snapshot_json.h"

namespace mv::trace {

// One differing field and both sides' values (JSON text).
struct FieldDifference {
  std::string field;  // "objcgs[id=1].refs"
  std::string a_value, b_value;
  // "objcgs[id=1].refs: reference 2, impl 3"
  std::string message(std::string_view a_name, std::string_view b_name) const;
};

// The differences between two JSON values, at most `limit`, walking objects
// in field order and arrays by entry identity (or index); empty when equal.
std::vector<FieldDifference> json_differences(const Json& a, const Json& b, std::size_t limit);

// The first of them as a message; nullopt when equal.
std::optional<std::string> first_json_difference(const Json& a, const Json& b,
                                                 std::string_view a_name,
                                                 std::string_view b_name);

std::vector<FieldDifference> snapshot_differences(const spec::Snapshot& a, const spec::Snapshot& b,
                                                  const TraceNames& names, std::size_t limit);

std::optional<std::string> snapshot_difference(const spec::Snapshot& a, const spec::Snapshot& b,
                                               const TraceNames& names, std::string_view a_name,
                                               std::string_view b_name);

}  // namespace mv::trace
