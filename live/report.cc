// live's output: the JSON contract (docs/DESIGN.md "live --json"), a table,
// and TAP 13 as kselftest prints it (tools/testing/selftests/kselftest.h).
#include <fmt/format.h>

#include "live/live.h"

namespace mv::live {
namespace {

using nlohmann::json;

json optional_json(const std::optional<std::int64_t>& v) { return v ? json(*v) : json(nullptr); }

std::string what_it_shows(const std::string& name) {
  if (name == "stack_loop") return "seed 004's loop, a kernel stack charged to each removed cgroup";
  if (name == "user_pages_control") return "control: user pages charged to each removed cgroup";
  if (name == "kmem_dead_cgroups") return "kselftest test_kmem_dead_cgroups: negative dentries";
  return name;
}

}  // namespace

json live_json(const LiveReport& r) {
  json j = {{"status", live_status_name(r.status)},
            {"why", r.why.empty() ? json(nullptr) : json(r.why)},
            {"kernel", r.kernel}};
  j["profile"] = r.profile ? json(spec::profile_name(*r.profile)) : json(nullptr);
  if (r.hierarchy) {
    j["cgroup"] = cgroup_version_name(r.hierarchy->version);
    j["own_cgroup"] = r.hierarchy->own_path;
  }
  if (!r.scope_dir.empty()) j["scope_dir"] = r.scope_dir;
  json experiments = json::array();
  for (const auto& e : r.experiments) {
    const auto& m = e.measured;
    json series = json::array();
    for (const auto& s : m.series)
      series.push_back({{"phase", s.phase}, {"t_seconds", s.t_seconds}, {"dying", s.dying}});
    experiments.push_back({{"name", m.name},
                           {"measured_dying", m.dying_after_rmdir},
                           {"predicted_dying", e.predicted.dying},
                           {"profile", r.profile ? json(spec::profile_name(*r.profile)) : json(nullptr)},
                           {"agree", e.agree},
                           {"cgroups", m.cgroups},
                           {"tolerance", m.tolerance},
                           {"measured_after_release", optional_json(m.dying_after_release)},
                           {"predicted_after_release", optional_json(e.predicted.after_release)},
                           {"predicted_by", e.predicted.basis},
                           {"charged_kernel_bytes", optional_json(m.charged.kernel_bytes)},
                           {"charged_user_bytes", m.charged.user_bytes},
                           {"series", series}});
  }
  j["experiments"] = experiments;
  return j;
}

std::string live_table(const LiveReport& r) {
  std::string out = fmt::format("kernel {}", r.kernel);
  if (r.hierarchy)
    out += fmt::format(", cgroup {} (own cgroup {})", cgroup_version_name(r.hierarchy->version),
                       r.hierarchy->own_path);
  if (r.profile) out += fmt::format(", nearest modeled profile {}", spec::profile_name(*r.profile));
  out += "\n";
  if (r.status != LiveStatus::ran) return out + fmt::format("{}: {}\n", live_status_name(r.status), r.why);
  out += fmt::format("experiments in {} (removed)\n\n", r.scope_dir);
  out += fmt::format("{:<20} {:>7} {:>9} {:>10} {:>15} {:>16} {:>6}  {}\n", "experiment", "cgroups",
                     "measured", "predicted", "after release", "charged kernel", "agree",
                     "what it shows");
  for (const auto& e : r.experiments) {
    const auto& m = e.measured;
    std::string release = m.dying_after_release
                              ? fmt::format("{} / {}", *m.dying_after_release,
                                            e.predicted.after_release ? fmt::format("{}", *e.predicted.after_release) : "-")
                              : "-";
    std::string kernel = m.charged.kernel_bytes ? fmt::format("{} KiB", *m.charged.kernel_bytes / 1024) : "-";
    out += fmt::format("{:<20} {:>7} {:>9} {:>10} {:>15} {:>16} {:>6}  {}\n", m.name, m.cgroups,
                       m.dying_after_rmdir, e.predicted.dying, release, kernel,
                       e.agree ? "yes" : "NO", what_it_shows(m.name));
  }
  out += "\nmeasured: dying cgroups once the count settled after the removals (the v1 count is the "
         "machine's, within ±tolerance of other users); predicted by:\n";
  for (const auto& e : r.experiments)
    out += fmt::format("  {}: {}\n", e.measured.name, e.predicted.basis);
  return out;
}

std::string live_verdict(const LiveReport& r) {
  if (r.status != LiveStatus::ran) return fmt::format("{}: {}\n", live_status_name(r.status), r.why);
  std::string disagree;
  for (const auto& e : r.experiments)
    if (!e.agree) disagree += fmt::format("{}{}", disagree.empty() ? "" : ", ", e.measured.name);
  const std::string profile(r.profile ? spec::profile_name(*r.profile) : "");
  if (disagree.empty())
    return fmt::format("ran: the kernel {} and the {} model agree in all {} experiments\n", r.kernel,
                       profile, r.experiments.size());
  return fmt::format("ran: the kernel {} and the {} model disagree in {}\n", r.kernel, profile, disagree);
}

std::string live_tap(const LiveReport& r) {
  std::string out = "TAP version 13\n";
  if (r.status == LiveStatus::skipped) return out + fmt::format("1..0 # SKIP {}\n", r.why);
  if (r.status == LiveStatus::error)
    return out + fmt::format("1..1\nnot ok 1 live # {}\n# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:0 error:1\n", r.why);
  out += fmt::format("1..{}\n", r.experiments.size());
  out += fmt::format("# kernel {}, cgroup {}, model {}\n", r.kernel,
                     cgroup_version_name(r.hierarchy->version), spec::profile_name(*r.profile));
  int pass = 0, fail = 0;
  for (std::size_t i = 0; i < r.experiments.size(); ++i) {
    const auto& e = r.experiments[i];
    (e.agree ? pass : fail) += 1;
    out += fmt::format("{} {} {} # measured {} dying, predicted {}\n", e.agree ? "ok" : "not ok", i + 1,
                       e.measured.name, e.measured.dying_after_rmdir, e.predicted.dying);
  }
  out += fmt::format("# Totals: pass:{} fail:{} xfail:0 xpass:0 skip:0 error:0\n", pass, fail);
  return out;
}

}  // namespace mv::live
