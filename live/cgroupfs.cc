#include "live/cgroupfs.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

namespace mv::live {
namespace {

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    auto pos = text.find(sep, start);
    out.push_back(text.substr(start, pos == std::string_view::npos ? pos : pos - start));
    if (pos == std::string_view::npos) return out;
    start = pos + 1;
  }
}

std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    std::size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

// Calls f(line_number, line) for every non-empty line.
template <class F>
void for_each_line(std::string_view text, F f) {
  int nr = 0;
  for (auto line : split(text, '\n')) {
    ++nr;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    f(nr, line);
  }
}

template <class Int>
std::optional<Int> number(std::string_view s) {
  Int v{};
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

[[noreturn]] void fail(std::string_view file, int line, const std::string& reason) {
  throw CgroupfsError(fmt::format("{}:{}: {}", file, line, reason));
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape_octal(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() &&
        std::all_of(s.begin() + i + 1, s.begin() + i + 4, [](char c) { return c >= '0' && c <= '7'; })) {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

bool has(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// The directory of hierarchy path `path` under a mount of hierarchy path
// `root`, or nullopt if the mount does not contain it.
std::optional<std::string> dir_under(const CgroupMount& m, const std::string& path) {
  if (m.root == "/") return path == "/" ? m.mount_point : m.mount_point + path;
  if (path == m.root) return m.mount_point;
  if (path.rfind(m.root + "/", 0) == 0) return m.mount_point + path.substr(m.root.size());
  return std::nullopt;
}

}  // namespace

std::vector<ProcCgroupEntry> parse_proc_self_cgroup(std::string_view text) {
  constexpr std::string_view file = "/proc/self/cgroup";
  std::vector<ProcCgroupEntry> out;
  for_each_line(text, [&](int nr, std::string_view line) {
    auto first = line.find(':');
    auto second = first == std::string_view::npos ? first : line.find(':', first + 1);
    if (second == std::string_view::npos) fail(file, nr, "expected ID:CONTROLLERS:PATH");
    ProcCgroupEntry e;
    auto id = number<std::uint32_t>(line.substr(0, first));
    if (!id) fail(file, nr, fmt::format("hierarchy ID \"{}\" is not a number", line.substr(0, first)));
    e.hierarchy = *id;
    auto controllers = line.substr(first + 1, second - first - 1);
    if (!controllers.empty())
      for (auto c : split(controllers, ',')) e.controllers.emplace_back(c);
    e.path = std::string(line.substr(second + 1));  // a path may contain ':'
    if (e.path.empty() || e.path[0] != '/') fail(file, nr, fmt::format("path \"{}\" is not absolute", e.path));
    out.push_back(std::move(e));
  });
  return out;
}

std::vector<ProcCgroupsRow> parse_proc_cgroups(std::string_view text) {
  constexpr std::string_view file = "/proc/cgroups";
  std::vector<ProcCgroupsRow> out;
  for_each_line(text, [&](int nr, std::string_view line) {
    if (line[0] == '#') return;
    auto w = words(line);
    if (w.size() != 4) fail(file, nr, fmt::format("expected 4 columns, got {}", w.size()));
    auto hierarchy = number<std::uint32_t>(w[1]);
    auto num = number<std::uint64_t>(w[2]);
    auto enabled = number<std::uint32_t>(w[3]);
    if (!hierarchy || !num || !enabled || *enabled > 1) fail(file, nr, "hierarchy, num_cgroups and enabled must be numbers");
    out.push_back(ProcCgroupsRow{std::string(w[0]), *hierarchy, *num, *enabled == 1});
  });
  return out;
}

std::map<std::string, std::int64_t> parse_flat_keyed(std::string_view text, std::string_view file) {
  std::map<std::string, std::int64_t> out;
  for_each_line(text, [&](int nr, std::string_view line) {
    auto w = words(line);
    if (w.size() != 2) fail(file, nr, "expected \"key value\"");
    auto v = number<std::int64_t>(w[1]);
    if (!v) fail(file, nr, fmt::format("value \"{}\" of {} is not a number", w[1], w[0]));
    out[std::string(w[0])] = *v;
  });
  return out;
}

std::vector<std::string> parse_word_list(std::string_view text) {
  std::vector<std::string> out;
  for_each_line(text, [&](int, std::string_view line) {
    for (auto w : words(line)) out.emplace_back(w);
  });
  return out;
}

std::vector<CgroupMount> parse_mountinfo(std::string_view text) {
  constexpr std::string_view file = "/proc/self/mountinfo";
  std::vector<CgroupMount> out;
  for_each_line(text, [&](int nr, std::string_view line) {
    auto w = words(line);
    auto dash = std::find(w.begin(), w.end(), "-");
    if (w.size() < 7 || dash == w.end() || dash - w.begin() < 6 || w.end() - dash < 3)
      fail(file, nr, "expected ID PARENT MAJ:MIN ROOT MOUNT_POINT OPTIONS ... - FSTYPE SOURCE SUPER_OPTIONS");
    std::string_view fstype = dash[1];
    if (fstype != "cgroup" && fstype != "cgroup2") return;
    CgroupMount m;
    m.root = unescape_octal(w[3]);
    m.mount_point = unescape_octal(w[4]);
    m.v2 = fstype == "cgroup2";
    if (!m.v2)
      for (auto opt : split(dash[3], ','))
        if (opt != "rw" && opt != "ro" && opt.find('=') == std::string_view::npos)
          m.controllers.emplace_back(opt);
    out.push_back(std::move(m));
  });
  return out;
}

std::string_view cgroup_version_name(CgroupVersion version) {
  return version == CgroupVersion::v1 ? "v1" : "v2";
}

std::optional<ProcCgroupsRow> memory_row(const std::vector<ProcCgroupsRow>& rows) {
  for (const auto& r : rows)
    if (r.subsys == "memory") return r;
  return std::nullopt;
}

Detection detect_memory_hierarchy(std::string_view proc_self_cgroup, std::string_view proc_cgroups,
                                  std::string_view mountinfo) {
  const auto entries = parse_proc_self_cgroup(proc_self_cgroup);
  const auto rows = parse_proc_cgroups(proc_cgroups);
  const auto mounts = parse_mountinfo(mountinfo);
  Detection d;
  auto memory = memory_row(rows);
  if (!memory || !memory->enabled) {
    d.why_not = "the kernel has no memory controller (/proc/cgroups has no enabled memory row)";
    return d;
  }
  // A memory row with hierarchy 0 is the v2 hierarchy (or unmounted v1).
  for (const auto& e : entries) {
    if (e.hierarchy == 0 || !has(e.controllers, "memory")) continue;
    for (const auto& m : mounts) {
      if (m.v2 || !has(m.controllers, "memory")) continue;
      if (auto dir = dir_under(m, e.path)) {
        d.hierarchy = MemoryHierarchy{CgroupVersion::v1, e.path, *dir, m.mount_point};
        return d;
      }
    }
    d.why_not = fmt::format("the v1 memory hierarchy is not mounted where this process can see "
                            "its own cgroup ({})", e.path);
    return d;
  }
  if (memory->hierarchy != 0) {
    d.why_not = "the memory controller is bound to a v1 hierarchy this process is not in";
    return d;
  }
  for (const auto& e : entries) {
    if (e.hierarchy != 0) continue;
    for (const auto& m : mounts) {
      if (!m.v2) continue;
      if (auto dir = dir_under(m, e.path)) {
        d.hierarchy = MemoryHierarchy{CgroupVersion::v2, e.path, *dir, m.mount_point};
        return d;
      }
    }
    d.why_not = fmt::format("cgroup2 is not mounted where this process can see its own cgroup ({})",
                            e.path);
    return d;
  }
  d.why_not = "this process is in no cgroup v2 hierarchy and no v1 memory hierarchy";
  return d;
}

std::optional<std::int64_t> dying_from_cgroup_stat(const std::map<std::string, std::int64_t>& stat) {
  if (auto it = stat.find("nr_dying_subsys_memory"); it != stat.end()) return it->second;
  if (auto it = stat.find("nr_dying_descendants"); it != stat.end()) return it->second;
  return std::nullopt;
}

std::optional<std::pair<unsigned, unsigned>> kernel_version(std::string_view release) {
  auto dot = release.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  auto major = number<unsigned>(release.substr(0, dot));
  auto rest = release.substr(dot + 1);
  std::size_t end = 0;
  while (end < rest.size() && rest[end] >= '0' && rest[end] <= '9') ++end;
  auto minor = number<unsigned>(rest.substr(0, end));
  if (!major || !minor) return std::nullopt;
  return std::pair{*major, *minor};
}

}  // namespace mv::live
