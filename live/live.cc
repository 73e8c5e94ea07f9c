#include "live/live.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>

#include "sim/workload.h"

namespace mv::live {
namespace {

std::string uname_release() {
  struct utsname u;
  if (uname(&u) != 0) return "unknown";
  return u.release;
}

bool within(std::int64_t measured, std::int64_t predicted, std::int64_t tolerance) {
  return std::llabs(measured - predicted) <= tolerance;
}

ExperimentReport compare(Measured m, Prediction p) {
  ExperimentReport r{std::move(m), std::move(p), false};
  r.agree = within(r.measured.dying_after_rmdir, r.predicted.dying, r.measured.tolerance);
  if (r.measured.dying_after_release && r.predicted.after_release)
    r.agree = r.agree && within(*r.measured.dying_after_release, *r.predicted.after_release,
                                r.measured.tolerance);
  return r;
}

sim::SimResult simulate(spec::Profile profile, sim::Workload workload, std::uint32_t iterations) {
  sim::SimOptions o;
  o.profile = profile;
  o.workload = workload;
  o.iterations = iterations;
  return sim::simulate(o);
}

// The v2 scope's children get a memory controller only if this process's
// own cgroup already gives its children one (the no-internal-process rule
// keeps live from enabling it while this process is in that cgroup).
std::string v2_problem(const MemoryHierarchy& h) {
  auto controllers = parse_word_list(read_file(h.own_dir + "/cgroup.subtree_control"));
  if (std::find(controllers.begin(), controllers.end(), "memory") == controllers.end())
    return fmt::format("the memory controller is not enabled for the children of this process's "
                       "cgroup ({}/cgroup.subtree_control), and cgroup v2 does not let live "
                       "enable it while this process is in that cgroup",
                       h.own_dir);
  return {};
}

}  // namespace

bool LiveReport::all_agree() const {
  return std::all_of(experiments.begin(), experiments.end(),
                     [](const ExperimentReport& e) { return e.agree; });
}

std::optional<spec::Profile> nearest_profile(std::string_view release) {
  auto running = kernel_version(release);
  std::optional<spec::Profile> best, oldest;
  std::pair<unsigned, unsigned> best_v{0, 0}, oldest_v{~0u, ~0u};
  for (const auto& t : spec::all_profiles()) {
    if (!t.modeled || t.name.empty() || t.name[0] != 'v') continue;
    auto v = kernel_version(t.name.substr(1));
    if (!v) continue;
    if (*v < oldest_v) oldest_v = *v, oldest = t.profile;
    if (running && *v <= *running && (!best || *v > best_v)) best_v = *v, best = t.profile;
  }
  return best ? best : oldest;
}

Prediction predict_stack_loop(spec::Profile profile, std::uint32_t iterations) {
  auto r = simulate(profile, sim::Workload::seed004, iterations);
  return Prediction{r.final.dying, r.after_exit ? std::optional<std::int64_t>(r.after_exit->dying) : std::nullopt,
                    fmt::format("memcg-verify simulate --workload seed004 --iterations {} --profile {}",
                                iterations, spec::profile_name(profile))};
}

Prediction predict_user_pages_control(std::uint32_t cgroups) {
  return Prediction{cgroups, 0,
                    "not the models' (they have no user pages): a charged user page holds a "
                    "css reference on its memcg until it is freed (no modeled kernel reparents user pages)"};
}

Prediction predict_kmem_dead(spec::Profile profile, std::uint32_t cgroups) {
  auto r = simulate(profile, sim::Workload::kmem_dead, cgroups);
  return Prediction{r.final.dying, std::nullopt,
                    fmt::format("memcg-verify simulate --workload kmem_dead --iterations {} --profile {}",
                                cgroups, spec::profile_name(profile))};
}

LiveReport run_live(const ExperimentSizes& sizes) {
  LiveReport report;
  report.kernel = uname_release();
  report.profile = nearest_profile(report.kernel);
  if (geteuid() != 0) {
    report.why = "not root: creating and removing cgroups needs it";
    return report;
  }
  if (!report.profile) {
    report.why = "no modeled kernel profile to compare with";
    return report;
  }
  Detection d;
  try {
    d = detect_memory_hierarchy(read_file("/proc/self/cgroup"), read_file("/proc/cgroups"),
                                read_file("/proc/self/mountinfo"));
  } catch (const std::exception& e) {
    report.why = e.what();
    return report;
  }
  if (!d.hierarchy) {
    report.why = d.why_not;
    return report;
  }
  report.hierarchy = d.hierarchy;
  if (d.hierarchy->version == CgroupVersion::v2)
    if (auto problem = v2_problem(*d.hierarchy); !problem.empty()) {
      report.why = problem;
      return report;
    }
  const auto profile = *report.profile;
  // The predictions first: nothing of the machine is touched yet.
  auto stack_prediction = predict_stack_loop(profile, sizes.stack_loop);
  auto control_prediction = predict_user_pages_control(sizes.user_pages_control);
  auto dead_prediction = predict_kmem_dead(profile, sizes.kmem_dead_cgroups);
  try {
    Scope scope(*d.hierarchy);
    report.scope_dir = scope.dir();
    if (d.hierarchy->version == CgroupVersion::v2) {
      // Where cgroup v2 does not let the scope's children have a memory
      // controller (a delegation that forbids it, a container's own rules),
      // live cannot run here: a skip, not a failure.
      try {
        write_file(scope.dir() + "/cgroup.subtree_control", "+memory");
      } catch (const std::exception& e) {
        throw NotPermitted(e.what());
      }
    }
    report.experiments.push_back(compare(run_stack_loop(scope, sizes), stack_prediction));
    report.experiments.push_back(compare(run_user_pages_control(scope, sizes), control_prediction));
    report.experiments.push_back(compare(run_kmem_dead_cgroups(scope, sizes), dead_prediction));
  } catch (const NotPermitted& e) {
    report.why = e.what();
    return report;
  } catch (const std::exception& e) {
    report.status = LiveStatus::error;
    report.why = e.what();
    report.experiments.clear();
    return report;
  }
  report.status = LiveStatus::ran;
  return report;
}

std::string_view live_status_name(LiveStatus status) {
  switch (status) {
    case LiveStatus::ran: return "ran";
    case LiveStatus::skipped: return "skipped";
    case LiveStatus::error: return "error";
  }
  return "?";
}

}  // namespace mv::live
