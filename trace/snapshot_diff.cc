#include "trace/snapshot_diff.h"

#include <fmt/format.h>

namespace mv::trace {

namespace {

std::string field_path(const std::string& prefix, std::string_view key) {
  return prefix.empty() ? std::string(key) : fmt::format("{}.{}", prefix, key);
}

std::string shown(const Json& value) {
  if (!value.is_structured()) return value.dump();
  return value.is_array() ? fmt::format("{} entries", value.size()) : value.dump();
}

std::optional<std::string> walk(const Json& a, const Json& b, const std::string& at,
                                std::string_view a_name, std::string_view b_name) {
  auto differ = [&](const std::string& what, const std::string& va, const std::string& vb) {
    return fmt::format("{}: {} {}, {} {}", what.empty() ? "(top)" : what, a_name, va, b_name, vb);
  };
  if (a.is_object() && b.is_object()) {
    for (const auto& [key, va] : a.items()) {
      auto where = field_path(at, key);
      if (!b.contains(key)) return differ(where, va.dump(), "(absent)");
      if (auto d = walk(va, b.at(key), where, a_name, b_name)) return d;
    }
    for (const auto& [key, vb] : b.items())
      if (!a.contains(key)) return differ(field_path(at, key), "(absent)", vb.dump());
    return std::nullopt;
  }
  if (a.is_array() && b.is_array()) {
    auto common = std::min(a.size(), b.size());
    for (std::size_t i = 0; i < common; ++i)
      if (auto d = walk(a[i], b[i], fmt::format("{}[{}]", at, i), a_name, b_name)) return d;
    if (a.size() != b.size())
      return differ(at, fmt::format("{} entries", a.size()), fmt::format("{} entries", b.size()));
    return std::nullopt;
  }
  if (a != b) return differ(at, shown(a), shown(b));
  return std::nullopt;
}

Json config_json(const spec::Config& c) {
  return Json{{"profile", spec::profile_name(c.profile)},
              {"ncpus", c.ncpus},
              {"page_size", c.page_size_bytes}};
}

}  // namespace

std::optional<std::string> first_json_difference(const Json& a, const Json& b,
                                                 std::string_view a_name,
                                                 std::string_view b_name) {
  return walk(a, b, "", a_name, b_name);
}

std::optional<std::string> snapshot_difference(const spec::Snapshot& a, const spec::Snapshot& b,
                                               const TraceNames& names, std::string_view a_name,
                                               std::string_view b_name) {
  if (a == b) return std::nullopt;
  Json ja = config_json(a.config);
  Json jb = config_json(b.config);
  ja.update(snapshot_json(a, names));
  jb.update(snapshot_json(b, names));
  if (auto d = first_json_difference(ja, jb, a_name, b_name)) return d;
  // Unreachable while snapshot_json renders every field; never claim equality.
  return fmt::format("the snapshots differ in a field the report does not show");
}

}  // namespace mv::trace
