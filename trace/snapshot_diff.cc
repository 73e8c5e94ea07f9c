#include "trace/snapshot_diff.h"

#include <algorithm>
#include <set>

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

// The field that names an entry of a state array, as the report's tables
// show it: a cgroup by its path, an objcg, object or task by its id, a stock
// by its CPU. Empty when the entries have no such field, or it is not unique
// (then they are compared by position).
std::string identity_key(const Json& a, const Json& b) {
  for (const char* key : {"path", "id", "cpu"}) {
    std::set<std::string> seen;
    bool usable = true;
    for (const Json* array : {&a, &b}) {
      std::set<std::string> mine;
      for (const auto& entry : *array)
        if (!entry.is_object() || !entry.contains(key) || !mine.insert(entry.at(key).dump()).second)
          usable = false;
    }
    if (usable && !(a.empty() && b.empty())) return key;
  }
  return {};
}

// "objcgs[id=1]", "cgroups[path=/a]", "stocks[cpu=0]".
std::string entry_path(const std::string& at, std::string_view key, const Json& value) {
  return fmt::format("{}[{}={}]", at, key, value.is_string() ? value.get<std::string>() : value.dump());
}

const Json* find_entry(const Json& array, const std::string& key, const Json& value) {
  for (const auto& entry : array)
    if (entry.at(key) == value) return &entry;
  return nullptr;
}

// Every leaf in which `a` and `b` differ, at most `limit`.
void walk(const Json& a, const Json& b, const std::string& at, std::vector<FieldDifference>& out,
          std::size_t limit) {
  if (out.size() >= limit) return;
  auto differ = [&](const std::string& what, std::string va, std::string vb) {
    out.push_back(FieldDifference{what.empty() ? "(top)" : what, std::move(va), std::move(vb)});
  };
  if (a.is_object() && b.is_object()) {
    for (const auto& [key, va] : a.items()) {
      auto where = field_path(at, key);
      if (!b.contains(key)) differ(where, va.dump(), "(absent)");
      else walk(va, b.at(key), where, out, limit);
    }
    for (const auto& [key, vb] : b.items())
      if (!a.contains(key)) differ(field_path(at, key), "(absent)", vb.dump());
    return;
  }
  if (a.is_array() && b.is_array()) {
    if (const auto key = identity_key(a, b); !key.empty()) {
      // Entries matched by what they are, not where they sit.
      for (const auto& ea : a) {
        const auto where = entry_path(at, key, ea.at(key));
        if (const Json* eb = find_entry(b, key, ea.at(key))) walk(ea, *eb, where, out, limit);
        else differ(where, "present", "(absent)");
      }
      for (const auto& eb : b)
        if (!find_entry(a, key, eb.at(key))) differ(entry_path(at, key, eb.at(key)), "(absent)", "present");
      return;
    }
    auto common = std::min(a.size(), b.size());
    for (std::size_t i = 0; i < common; ++i) walk(a[i], b[i], fmt::format("{}[{}]", at, i), out, limit);
    if (a.size() != b.size())
      differ(at, fmt::format("{} entries", a.size()), fmt::format("{} entries", b.size()));
    return;
  }
  if (a != b) differ(at, shown(a), shown(b));
}

Json config_json(const spec::Config& c) {
  return Json{{"profile", spec::profile_name(c.profile)},
              {"ncpus", c.ncpus},
              {"page_size", c.page_size_bytes}};
}

}  // namespace

std::string FieldDifference::message(std::string_view a_name, std::string_view b_name) const {
  return fmt::format("{}: {} {}, {} {}", field, a_name, a_value, b_name, b_value);
}

std::vector<FieldDifference> json_differences(const Json& a, const Json& b, std::size_t limit) {
  std::vector<FieldDifference> out;
  walk(a, b, "", out, limit);
  return out;
}

std::optional<std::string> first_json_difference(const Json& a, const Json& b,
                                                 std::string_view a_name,
                                                 std::string_view b_name) {
  auto d = json_differences(a, b, 1);
  if (d.empty()) return std::nullopt;
  return d.front().message(a_name, b_name);
}

std::vector<FieldDifference> snapshot_differences(const spec::Snapshot& a, const spec::Snapshot& b,
                                                  const TraceNames& names, std::size_t limit) {
  if (a == b) return {};
  Json ja = config_json(a.config);
  Json jb = config_json(b.config);
  ja.update(snapshot_json(a, names));
  jb.update(snapshot_json(b, names));
  auto d = json_differences(ja, jb, limit);
  // Unreachable while snapshot_json renders every field; never claim equality.
  if (d.empty()) d.push_back(FieldDifference{"(a field the report does not show)", "?", "?"});
  return d;
}

std::optional<std::string> snapshot_difference(const spec::Snapshot& a, const spec::Snapshot& b,
                                               const TraceNames& names, std::string_view a_name,
                                               std::string_view b_name) {
  auto d = snapshot_differences(a, b, names, 1);
  if (d.empty()) return std::nullopt;
  return d.front().message(a_name, b_name);
}

}  // namespace mv::trace
