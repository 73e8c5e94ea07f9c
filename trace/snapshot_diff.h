// Names the first field in which two models' states differ, in the report's
// own field names: "cgroups[2].usage_pages: reference 64, impl 65".
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "spec/snapshot.h"
#include "trace/names.h"
#include "trace/snapshot_json.h"

namespace mv::trace {

// The first difference between two JSON values, walking objects in field order
// and arrays by index; nullopt when equal.
std::optional<std::string> first_json_difference(const Json& a, const Json& b,
                                                 std::string_view a_name,
                                                 std::string_view b_name);

std::optional<std::string> snapshot_difference(const spec::Snapshot& a, const spec::Snapshot& b,
                                               const TraceNames& names, std::string_view a_name,
                                               std::string_view b_name);

}  // namespace mv::trace
