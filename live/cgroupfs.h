// What the kernel says about cgroups, read from procfs and cgroupfs: the
// parsers are pure functions of a file's text, so recorded contents of a v1
// and a v2 machine test them (tests/live_cgroupfs_test.cc). A malformed line
// is a CgroupfsError naming the file and the line.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace mv::live {

class CgroupfsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// /proc/self/cgroup: "hierarchy-ID:controller-list:path" per line; the v2
// hierarchy is "0::/path". Named v1 hierarchies ("name=systemd") are kept.
struct ProcCgroupEntry {
  std::uint32_t hierarchy = 0;
  std::vector<std::string> controllers;
  std::string path;
};
std::vector<ProcCgroupEntry> parse_proc_self_cgroup(std::string_view text);

// /proc/cgroups: "subsys_name hierarchy num_cgroups enabled" per line after
// the "#subsys_name ..." header. num_cgroups counts the cgroups of the
// subsystem's hierarchy that are not yet freed, dying ones included.
struct ProcCgroupsRow {
  std::string subsys;
  std::uint32_t hierarchy = 0;
  std::uint64_t num_cgroups = 0;
  bool enabled = false;
};
std::vector<ProcCgroupsRow> parse_proc_cgroups(std::string_view text);

// A flat-keyed cgroupfs file ("key value" lines: cgroup.stat, memory.stat).
std::map<std::string, std::int64_t> parse_flat_keyed(std::string_view text, std::string_view file);

// A list of words on one line (cgroup.controllers, cgroup.subtree_control).
std::vector<std::string> parse_word_list(std::string_view text);

// /proc/self/mountinfo's cgroup mounts: fstype "cgroup" (v1; its super
// options name its controllers) or "cgroup2".
struct CgroupMount {
  std::string mount_point;  // octal escapes (\040) decoded
  std::string root;         // the hierarchy path mounted there
  bool v2 = false;
  std::vector<std::string> controllers;  // v1: from the super options
};
std::vector<CgroupMount> parse_mountinfo(std::string_view text);

enum class CgroupVersion : std::uint8_t { v1, v2 };
std::string_view cgroup_version_name(CgroupVersion version);  // "v1", "v2"

// Where this process may experiment with the memory controller: the
// hierarchy it is bound to, and this process's own cgroup directory there.
struct MemoryHierarchy {
  CgroupVersion version = CgroupVersion::v1;
  std::string own_path;   // in the hierarchy ("/process_api/x")
  std::string own_dir;    // on the filesystem ("/sys/fs/cgroup/memory/process_api/x")
  std::string mount_point;
};

// From the texts of /proc/self/cgroup, /proc/cgroups and /proc/self/mountinfo:
// the memory controller's hierarchy (v1 if it is bound to one, else v2), or
// why there is none this process can see.
struct Detection {
  std::optional<MemoryHierarchy> hierarchy;
  std::string why_not;
};
Detection detect_memory_hierarchy(std::string_view proc_self_cgroup, std::string_view proc_cgroups,
                                  std::string_view mountinfo);

// The memory row of /proc/cgroups (v1: num_cgroups of its hierarchy).
std::optional<ProcCgroupsRow> memory_row(const std::vector<ProcCgroupsRow>& rows);

// The dying memcgs a v2 cgroup.stat reports below its cgroup:
// nr_dying_subsys_memory where the kernel has it (v6.13+), else
// nr_dying_descendants (every dying cgroup, memory or not).
std::optional<std::int64_t> dying_from_cgroup_stat(const std::map<std::string, std::int64_t>& stat);

// A kernel release ("6.18.44-fc-v973") as (major, minor).
std::optional<std::pair<unsigned, unsigned>> kernel_version(std::string_view release);

}  // namespace mv::live
