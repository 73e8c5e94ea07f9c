#include "sim/report.h"

#include <cstdio>

#include <fmt/format.h>

namespace mv::sim {
namespace {

using nlohmann::json;

constexpr double kMiB = 1024.0 * 1024.0;

std::int64_t mem_diff(const Sample& s, const Sample& base) {
  return static_cast<std::int64_t>(s.measure.kernel_bytes()) -
         static_cast<std::int64_t>(base.measure.kernel_bytes());
}

// The baseline's sample at the same point of the run, if it has one.
const Sample* baseline_sample(const RunReport* baseline, std::size_t i) {
  if (!baseline || i >= baseline->result.samples.size()) return nullptr;
  return &baseline->result.samples[i];
}

json measure_json(const Measure& m) {
  return {{"dying", m.dying},
          {"held_bytes", m.held_bytes},
          {"online", m.online},
          {"dying_charged_pages", m.dying_charged_pages},
          {"slab_bytes", m.slab_bytes},
          {"percpu_bytes", m.percpu_bytes},
          {"memcg_caches", m.memcg_caches},
          {"max_online", m.max_online}};
}

json claim_json(const Claim& c) {
  json j = {{"source", c.source},
            {"design", c.design},
            {"statement", c.statement},
            {"outcome", claim_outcome_name(c.outcome)},
            {"measured", c.measured}};
  j["ratio"] = c.ratio ? json(*c.ratio) : json(nullptr);
  return j;
}

std::string day_text(const Sample& s) {
  return s.iteration ? fmt::format("{:.6f}", s.day) : fmt::format("{}", s.day);
}

std::string x_text(const Sample& s) {
  return s.iteration ? fmt::format("{}", *s.iteration) : fmt::format("{}", s.day);
}

bool per_iteration(const std::vector<RunReport>& runs) {
  return runs.front().result.options.workload != Workload::seed000;
}

std::string workload_summary(const SimOptions& o) {
  switch (o.workload) {
    case Workload::seed000:
      return fmt::format("seed000: periodic jobs, each in a new cgroup, sharing the dentry and "
                         "inode caches; seed {}, {} simulated days, {} CPUs",
                         o.seed, o.days, o.cpus);
    case Workload::seed004:
      return fmt::format("seed004: the kernel-stack loop, {} iterations (a \"sleep 3600\" each); "
                         "{} CPUs", o.iterations, o.cpus);
    case Workload::kmem_dead:
      return fmt::format("kmem_dead: {} children allocate negative dentries and are removed "
                         "(kselftest test_kmem_dead_cgroups); {} CPUs", o.iterations, o.cpus);
    case Workload::seed003:
      return fmt::format("seed003: {} jobs, at most 8 online at once, each in a new cgroup, "
                         "dentries and inodes of which a few outlive the job; {} CPUs",
                         o.iterations, o.cpus);
  }
  return "";
}

}  // namespace

json run_json(const RunReport& run, const RunReport* baseline) {
  const auto& r = run.result;
  const auto& o = r.options;
  json j = {{"profile", spec::profile_name(o.profile)},
            {"workload", workload_name(o.workload)},
            {"seed", o.seed},
            {"cpus", o.cpus},
            {"memcg_estimate_bytes", o.footprint.bytes(o.cpus)}};
  if (o.workload == Workload::seed000) j["days"] = o.days;
  if (o.workload != Workload::seed000) j["iterations"] = o.iterations;
  json samples = json::array();
  for (std::size_t i = 0; i < r.samples.size(); ++i) {
    const auto& s = r.samples[i];
    json js = measure_json(s.measure);
    js["day"] = s.day;
    js["jobs"] = s.jobs;
    if (s.iteration) js["iteration"] = *s.iteration;
    if (const Sample* base = baseline_sample(baseline, i)) js["mem_diff_bytes"] = mem_diff(s, *base);
    samples.push_back(js);
  }
  j["samples"] = samples;
  j["final"] = measure_json(r.final);
  if (r.after_exit) j["after_exit"] = measure_json(*r.after_exit);
  j["claim"] = claim_json(run.claim);
  j["ops"] = r.ops;
  j["jobs"] = r.jobs;
  return j;
}

json runs_json(const std::vector<RunReport>& runs, std::size_t baseline) {
  if (runs.size() == 1) return run_json(runs.front());
  json j = {{"workload", workload_name(runs.front().result.options.workload)},
            {"baseline", spec::profile_name(runs[baseline].result.options.profile)}};
  json all = json::array();
  for (const auto& run : runs) all.push_back(run_json(run, &runs[baseline]));
  j["runs"] = all;
  return j;
}

std::string runs_table(const std::vector<RunReport>& runs, std::size_t baseline) {
  const auto& first = runs.front().result;
  std::string out = workload_summary(first.options) + "\n";
  out += fmt::format("a memcg is estimated at {:.1f} KiB (struct mem_cgroup and its per-CPU "
                     "statistics; docs/SIMULATE.md); held = that per dying cgroup plus the pages "
                     "still charged to it; Δmem = slab and percpu in use minus {}'s\n\n",
                     first.options.footprint.bytes(first.options.cpus) / 1024.0,
                     spec::profile_name(runs[baseline].result.options.profile));
  const bool iterations = per_iteration(runs);
  out += fmt::format("{:<10}", iterations ? "iteration" : "day");
  for (const auto& run : runs)
    out += fmt::format("| {:<30}", spec::profile_name(run.result.options.profile));
  out += "\n";
  out += fmt::format("{:<10}", "");
  // seed003 is about the caches: their count and its bound beside the dying.
  const bool caches = first.options.workload == Workload::seed003;
  for (std::size_t i = 0; i < runs.size(); ++i)
    out += caches ? fmt::format("| {:>6} {:>10} {:>11} ", "dying", "caches", "online max")
                  : fmt::format("| {:>6} {:>10} {:>11} ", "dying", "held MiB", "Δmem MiB");
  out += "\n";
  for (std::size_t i = 0; i < first.samples.size(); ++i) {
    out += fmt::format("{:<10}", x_text(first.samples[i]));
    for (const auto& run : runs) {
      if (i >= run.result.samples.size()) {
        out += fmt::format("| {:<30}", "");
        continue;
      }
      const auto& s = run.result.samples[i];
      const Sample* base = baseline_sample(&runs[baseline], i);
      if (caches)
        out += fmt::format("| {:>6} {:>10} {:>11} ", s.measure.dying, s.measure.memcg_caches,
                           s.measure.max_online);
      else
        out += fmt::format("| {:>6} {:>10.1f} {:>11.1f} ", s.measure.dying,
                           s.measure.held_bytes / kMiB, base ? mem_diff(s, *base) / kMiB : 0.0);
    }
    out += "\n";
  }
  for (const auto& run : runs) {
    if (run.result.after_exit)
      out += fmt::format("{}: {} dying once every sleep has exited\n",
                         spec::profile_name(run.result.options.profile),
                         run.result.after_exit->dying);
  }
  return out + "\n" + claims_text(runs);
}

std::string claims_text(const std::vector<RunReport>& runs) {
  std::string out;
  for (const auto& run : runs) {
    const auto& c = run.claim;
    out += fmt::format("{}, {} design: {}\n  claim: {}\n  {}: {}\n",
                       spec::profile_name(run.result.options.profile), c.source, c.design,
                       c.statement, claim_outcome_name(c.outcome), c.measured);
  }
  return out;
}

std::string runs_csv(const std::vector<RunReport>& runs, std::size_t baseline) {
  std::string out =
      "profile,workload,seed,day,iteration,jobs,dying,held_bytes,dying_charged_pages,online,"
      "slab_bytes,percpu_bytes,mem_diff_bytes,memcg_caches,max_online\n";
  for (const auto& run : runs) {
    const auto& r = run.result;
    for (std::size_t i = 0; i < r.samples.size(); ++i) {
      const auto& s = r.samples[i];
      const Sample* base = baseline_sample(&runs[baseline], i);
      out += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
                         spec::profile_name(r.options.profile), workload_name(r.options.workload),
                         r.options.seed, day_text(s), s.iteration ? fmt::format("{}", *s.iteration) : "",
                         s.jobs, s.measure.dying, s.measure.held_bytes,
                         s.measure.dying_charged_pages, s.measure.online, s.measure.slab_bytes,
                         s.measure.percpu_bytes, base ? mem_diff(s, *base) : 0,
                         s.measure.memcg_caches, s.measure.max_online);
    }
  }
  return out;
}

std::string data_digest(const std::string& text) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return fmt::format("{:016x}", h);
}

namespace {

// A gnuplot string literal: single-quoted, since gnuplot runs a command in
// backquotes inside a double-quoted string (a title naming `sleep 3600` would
// sleep for an hour); a single quote is doubled.
std::string gp_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

}  // namespace

std::string gnuplot_script(const std::vector<RunReport>& runs, const std::string& csv,
                           const std::string& svg_path, const std::string& command) {
  const bool iterations = per_iteration(runs);
  std::string gp;
  gp += "set terminal svg size 1000,440 font 'sans,12' background 'white'\n";
  gp += "set output " + gp_quote(svg_path) + "\n";
  for (std::size_t r = 0; r < runs.size(); ++r) {
    gp += fmt::format("$run{} << EOD\n", r);
    for (const auto& s : runs[r].result.samples)
      gp += fmt::format("{} {} {:.3f} {} {}\n", x_text(s), s.measure.dying,
                        s.measure.held_bytes / kMiB, s.measure.memcg_caches, s.measure.max_online);
    gp += "EOD\n";
  }
  gp += "set multiplot layout 1,2 title " +
        gp_quote(workload_summary(runs.front().result.options)) + " font ',12'\n";
  gp += "set key top left\nset grid\nset yrange [0:*]\nset bmargin 6\n";
  gp += fmt::format("set xlabel '{}'\n", iterations ? "iteration" : "day");
  if (!iterations) gp += "set xtics 1\n";
  gp += "set label 1 " + gp_quote(command + "  (data " + data_digest(csv) + ")") +
        " at screen 0.01,0.03 font ',9'\n";
  auto plot = [&](const std::string& ylabel, int column) {
    gp += "set ylabel " + gp_quote(ylabel) + "\nplot ";
    for (std::size_t r = 0; r < runs.size(); ++r)
      gp += fmt::format("{}$run{} using 1:{} with linespoints lw 2 title {}", r ? ", " : "", r,
                        column, gp_quote(std::string(spec::profile_name(runs[r].result.options.profile))));
    gp += "\n";
  };
  if (runs.front().result.options.workload == Workload::seed003) {
    plot("memcg caches of one root cache", 4);
    gp += "unset label 1\n";
    plot("dying cgroups", 2);
  } else {
    plot("dying cgroups", 2);
    gp += "unset label 1\n";
    plot("MiB held by dying cgroups (estimate)", 3);
  }
  gp += "unset multiplot\nset output\n";
  return gp;
}

}  // namespace mv::sim
