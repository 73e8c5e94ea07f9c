// TAP (Test Anything Protocol, version 13) for the commands a kernel CI runs
// (`scenarios --tap`, `mutants --tap`, `check --tap`): the format kselftest
// and most CI harnesses read. One "ok"/"not ok" line per test point, a
// "# SKIP" directive for what could not be decided, and the reasons as a
// YAML-ish block under a failing point.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace mv::cli {

inline std::string tap_header(std::size_t nr_points) {
  return fmt::format("TAP version 13\n1..{}\n", nr_points);
}

// One test point; `skip` (non-empty) marks it undecided, not failed.
inline std::string tap_point(std::size_t number, bool ok, std::string_view name,
                             const std::vector<std::string>& reasons = {},
                             std::string_view skip = {}) {
  std::string out = fmt::format("{} {} - {}", ok ? "ok" : "not ok", number, name);
  if (!skip.empty()) out += fmt::format(" # SKIP {}", skip);
  out += "\n";
  if (!ok && !reasons.empty()) {
    out += "  ---\n  message: |\n";
    for (const auto& r : reasons) out += fmt::format("    {}\n", r);
    out += "  ...\n";
  }
  return out;
}

}  // namespace mv::cli
