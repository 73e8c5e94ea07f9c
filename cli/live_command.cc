// memcg-verify live [--json | --tap]
// The simulations' experiments, small, on the running kernel through
// cgroupfs, each beside the prediction of the model nearest the kernel
// (docs/SIMULATE.md "live"). Works only in a uniquely named child of this
// process's own cgroup, with at most a few dozen cgroups and a few helper
// processes, and removes them on every way out (signals included). Exit
// status: 0 ran and every experiment agrees with the model, or skipped here
// (status "skipped" and why); 1 the kernel and the model disagree; 3 an
// experiment failed part-way (status "error", after the clean-up).
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "live/live.h"

namespace mv::cli {
namespace {

struct LiveOptions {
  bool json = false;
  bool tap = false;
};

int run_live(const LiveOptions& o) {
  live::ExperimentSizes sizes;
  auto report = live::run_live(sizes);
  if (o.json)
    std::cout << live::live_json(report).dump() << "\n";
  else if (o.tap)
    std::cout << live::live_tap(report);
  else
    std::cout << (quiet() ? live::live_verdict(report) : live::live_table(report));
  if (report.status == live::LiveStatus::skipped && !o.json && !o.tap && !quiet())
    std::cerr << "skipped: " << report.why << "\n";
  switch (report.status) {
    case live::LiveStatus::skipped: return 0;
    case live::LiveStatus::error: return 3;
    case live::LiveStatus::ran: return report.all_agree() ? 0 : 1;
  }
  return 3;
}

void add_live(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<LiveOptions>();
  auto* cmd = app.add_subcommand(
      "live", "The simulations' experiments on the running kernel (cgroupfs), beside the model's "
              "prediction (docs/SIMULATE.md)");
  auto* json = cmd->add_flag("--json", o->json, "print the JSON report (docs/DESIGN.md)");
  cmd->add_flag("--tap", o->tap, "print TAP 13, as kselftest does")->excludes(json);
  run_guarded(cmd, exit_code, [o] { return run_live(*o); }, 3);
}

const CommandRegistration registration(add_live);

}  // namespace
}  // namespace mv::cli
