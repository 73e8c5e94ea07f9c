// The simulate and live layers (docs/SIMULATE.md): the workloads on the
// reference models against the seeds' claims, determinism, the report's
// contract; live's parsers on recorded cgroupfs contents, its clean-up on
// every way out, and a run on this machine's kernel where it is permitted.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "live/cgroupfs.h"
#include "live/live.h"
#include "live/scope.h"
#include "trace/replay.h"
#include "trace/trace_reader.h"
#include "sim/claims.h"
#include "sim/machine.h"
#include "sim/report.h"
#include "sim/workload.h"

namespace mv::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// ---------------------------------------------------------------- simulate

sim::RunReport run(spec::Profile profile, sim::Workload workload, std::uint32_t days,
                   std::uint32_t iterations, std::uint64_t seed = 1) {
  sim::SimOptions o;
  o.profile = profile;
  o.workload = workload;
  o.days = days;
  o.iterations = iterations;
  o.seed = seed;
  auto result = sim::simulate(o);
  auto claim = sim::check_claim(result);
  return {std::move(result), std::move(claim)};
}

std::string csv_of(spec::Profile profile, std::uint64_t seed) {
  return sim::runs_csv({run(profile, sim::Workload::seed000, 2, 0, seed)}, 0);
}

TEST(Simulate, TheSameSeedGivesTheSameCsvAndAnotherSeedAnotherOne) {
  const auto a = csv_of(spec::Profile::v6_6, 7);
  EXPECT_EQ(a, csv_of(spec::Profile::v6_6, 7));
  EXPECT_NE(a, csv_of(spec::Profile::v6_6, 8));
  // Two days: a header and a row per day.
  EXPECT_EQ(std::count(a.begin(), a.end(), '\n'), 3);
}

// The seed 000 claim for each modeled profile's design, over 7 days: without
// slab reparenting dying cgroups grow >= 3x from day 1 and still grow over
// the last three days; with it they stay within 2x of day 1. One test per
// profile (each about a second of CPU).
class SimulateProfile : public ::testing::TestWithParam<spec::Profile> {};

TEST_P(SimulateProfile, Seed000DyingCgroupsPerDayFollowTheClaimOfItsDesign) {
  auto r = run(GetParam(), sim::Workload::seed000, 7, 0);
  ASSERT_EQ(r.result.samples.size(), 7u);
  for (std::size_t d = 0; d < 7; ++d) EXPECT_EQ(r.result.samples[d].day, d + 1);
  EXPECT_GT(r.result.jobs, 1000u);  // the workload ran: ~24 services, every 10 min to 2 h
  if (r.claim.outcome == sim::ClaimOutcome::not_claimed) GTEST_SKIP() << "no seed claims this design";
  EXPECT_EQ(r.claim.outcome, sim::ClaimOutcome::holds) << r.claim.statement << "; " << r.claim.measured;
}

std::string profile_test_name(const ::testing::TestParamInfo<spec::Profile>& info) {
  std::string name(spec::profile_name(info.param));
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(Modeled, SimulateProfile, ::testing::ValuesIn(spec::modeled_profiles()),
                         profile_test_name);

TEST(Simulate, Seed000OnV52GrowsAtLeastThreefoldAndV53StaysWithinTwofold) {
  if (!spec::traits(spec::Profile::v5_2).modeled || !spec::traits(spec::Profile::v5_3).modeled)
    GTEST_SKIP() << "v5.2 or v5.3 has no reference model in this build";
  auto v52 = run(spec::Profile::v5_2, sim::Workload::seed000, 7, 0);
  const auto& s = v52.result.samples;
  ASSERT_GT(s.front().measure.dying, 0u);
  EXPECT_GE(s.back().measure.dying, 3 * s.front().measure.dying);
  EXPECT_GT(s.back().measure.dying, s[3].measure.dying);
  EXPECT_GT(s.back().measure.held_bytes, s.front().measure.held_bytes);
  auto v53 = run(spec::Profile::v5_3, sim::Workload::seed000, 7, 0);
  EXPECT_LE(v53.result.samples.back().measure.dying, 2 * std::max<std::uint32_t>(v53.result.samples.front().measure.dying, 1));
  EXPECT_LT(v53.result.final.dying, v52.result.final.dying);
}

TEST(Simulate, Seed004LeavesNoDyingCgroupOnTheObjcgKernels) {
  for (auto profile : {spec::Profile::v6_1, spec::Profile::v6_6}) {
    SCOPED_TRACE(std::string(spec::profile_name(profile)));
    auto r = run(profile, sim::Workload::seed004, 0, 500);
    EXPECT_EQ(r.result.final.dying, 0u);
    EXPECT_EQ(r.claim.outcome, sim::ClaimOutcome::holds) << r.claim.measured;
    ASSERT_EQ(r.result.samples.size(), 5u);  // one per 100 iterations
    EXPECT_EQ(*r.result.samples.back().iteration, 500u);
    // The sleepers' task_structs are still live and charged: the loop ran.
    EXPECT_GT(r.result.final.slab_bytes, 0u);
  }
}

TEST(Simulate, Seed004LeavesEveryIterationDyingWhereStacksPinTheMemcg) {
  if (!spec::traits(spec::Profile::v5_10).modeled) GTEST_SKIP() << "v5.10 has no reference model in this build";
  auto r = run(spec::Profile::v5_10, sim::Workload::seed004, 0, 500);
  EXPECT_GE(r.result.final.dying, 500u);
  EXPECT_EQ(r.claim.outcome, sim::ClaimOutcome::holds) << r.claim.measured;
  ASSERT_TRUE(r.result.after_exit);
  EXPECT_EQ(r.result.after_exit->dying, 0u);  // once every sleep exited, its stack freed
}

// seed 003: the caches of one root against the cgroups online at once.
TEST(Simulate, Seed003CachesStayWithinTheOnlineBoundOnlyWhereTheNextMemcgReusesThem) {
  for (auto p : {spec::Profile::v5_2, spec::Profile::davydov_2014})
    if (!spec::traits(p).modeled) GTEST_SKIP() << "v5.2 or davydov-2014 has no reference model";
  auto reused = run(spec::Profile::davydov_2014, sim::Workload::seed003, 0, 300);
  EXPECT_EQ(reused.claim.outcome, sim::ClaimOutcome::holds) << reused.claim.measured;
  ASSERT_EQ(reused.result.samples.size(), 3u);
  for (const auto& s : reused.result.samples) {
    EXPECT_EQ(s.measure.max_online, 8u);
    EXPECT_GT(s.measure.memcg_caches, 0u);
    EXPECT_LE(s.measure.memcg_caches, s.measure.max_online);
  }
  // v5.2 keeps a removed memcg's caches until its css_free, which its kept
  // objects' slab pages hold off: about one set per job of the reclaim lag.
  auto kept = run(spec::Profile::v5_2, sim::Workload::seed003, 0, 300);
  EXPECT_EQ(kept.claim.outcome, sim::ClaimOutcome::holds) << kept.claim.measured;
  EXPECT_GT(kept.result.samples.back().measure.memcg_caches, 8u * 10);
  auto objcg = run(spec::Profile::v6_6, sim::Workload::seed003, 0, 100);
  EXPECT_EQ(objcg.claim.outcome, sim::ClaimOutcome::not_claimed);
  EXPECT_EQ(objcg.result.final.memcg_caches, 0u);
  // The claim fires on counts that contradict it.
  auto over = reused.result;
  over.samples[1].measure.memcg_caches = 9;
  EXPECT_EQ(sim::check_claim(over).outcome, sim::ClaimOutcome::fails);
  auto bounded = kept.result;
  for (auto& s : bounded.samples) s.measure.memcg_caches = 8;
  EXPECT_EQ(sim::check_claim(bounded).outcome, sim::ClaimOutcome::fails);
}

// The claim checks fire on curves that contradict them.
TEST(Simulate, AClaimFailsOnACurveThatContradictsIt) {
  auto r = run(spec::Profile::v6_6, sim::Workload::seed000, 4, 0);
  ASSERT_EQ(r.claim.outcome, sim::ClaimOutcome::holds);
  auto grown = r.result;
  for (std::size_t d = 0; d < grown.samples.size(); ++d) grown.samples[d].measure.dying = 10 * (d + 1);
  EXPECT_EQ(sim::check_claim(grown).outcome, sim::ClaimOutcome::fails);  // patched, yet 4x
  auto stacks = run(spec::Profile::v6_6, sim::Workload::seed004, 0, 100).result;
  stacks.final.dying = 3;
  EXPECT_EQ(sim::check_claim(stacks).outcome, sim::ClaimOutcome::fails);
}

TEST(Simulate, TheJsonHasTheContractFields) {
  auto r = run(spec::Profile::v6_6, sim::Workload::seed000, 2, 0);
  json j = sim::runs_json({r}, 0);
  EXPECT_EQ(j["profile"], "v6.6");
  EXPECT_EQ(j["workload"], "seed000");
  ASSERT_EQ(j["samples"].size(), 2u);
  for (const auto& s : j["samples"]) {
    EXPECT_TRUE(s["day"].is_number());
    EXPECT_TRUE(s["dying"].is_number_unsigned());
    EXPECT_TRUE(s["held_bytes"].is_number_unsigned());
  }
  EXPECT_EQ(j["final"]["dying"], r.result.final.dying);
  auto s4 = sim::runs_json({run(spec::Profile::v6_6, sim::Workload::seed004, 0, 200)}, 0);
  EXPECT_EQ(s4["workload"], "seed004");
  EXPECT_EQ(s4["samples"].size(), 2u);
}

TEST(Simulate, ThePlotHasALinePerProfileAndNamesItsData) {
  std::vector<sim::RunReport> runs{run(spec::Profile::v6_1, sim::Workload::seed000, 2, 0),
                                   run(spec::Profile::v6_6, sim::Workload::seed000, 2, 0)};
  const auto csv = sim::runs_csv(runs, 1);
  const auto gp = sim::gnuplot_script(runs, csv, "out.svg", "memcg-verify simulate --days 2");
  EXPECT_NE(gp.find("set terminal svg"), std::string::npos);
  EXPECT_NE(gp.find("title 'v6.1'"), std::string::npos);
  EXPECT_NE(gp.find("title 'v6.6'"), std::string::npos);
  EXPECT_NE(gp.find(sim::data_digest(csv)), std::string::npos);
  EXPECT_NE(sim::data_digest(csv), sim::data_digest(csv + " "));
  // gnuplot runs what is in backquotes inside double quotes: every string is
  // single-quoted (seed004's title names a shell command).
  std::vector<sim::RunReport> loop{run(spec::Profile::v6_6, sim::Workload::seed004, 0, 100)};
  const auto gp4 = sim::gnuplot_script(loop, sim::runs_csv(loop, 0), "o'ut.svg", "c");
  EXPECT_NE(gp4.find("layout 1,2 title 'seed004: "), std::string::npos);
  EXPECT_EQ(gp4.find('`'), std::string::npos);
  EXPECT_NE(gp4.find("'o''ut.svg'"), std::string::npos);
}

// A run the model refuses stops with a SimError; a recording machine's error
// carries the trace up to that operation, which replays to the same answer.
TEST(Simulate, ARefusedOperationGivesATraceThatReplaysToTheSameRefusal) {
  sim::Machine machine(spec::Config{spec::Profile::v6_6, 2, 4096}, true);
  const auto cg = machine.cgroup("/job");
  machine.mkdir(cg);
  const auto task = machine.spawn(cg, 1);
  machine.alloc_slab(task, sim::kDentryCache);
  std::string trace_text;
  try {
    machine.rmdir(cg);  // a task is still in it: EBUSY
    ADD_FAILURE() << "rmdir of a populated cgroup succeeded";
  } catch (const sim::SimError& e) {
    EXPECT_NE(std::string(e.what()).find("EBUSY"), std::string::npos) << e.what();
    trace_text = e.trace_jsonl;
  }
  std::istringstream in(trace_text);
  auto trace = trace::read_trace(in, "simulate-failure.jsonl");
  auto result = trace::replay(trace, trace::ModelChoice::reference);
  EXPECT_FALSE(result.error) << result.error->what();
  ASSERT_EQ(result.steps.size(), 4u);
  EXPECT_EQ(result.steps.back().result, spec::Errno::ebusy);
  EXPECT_EQ(result.steps[2].op.index(), spec::Op(spec::Alloc{}).index());
  EXPECT_EQ(result.snapshot->objects.size(), 1u);
  // Without recording, the error says the same and carries no trace.
  sim::Machine plain(spec::Config{spec::Profile::v6_6, 2, 4096});
  const auto cg2 = plain.cgroup("/job");
  plain.mkdir(cg2);
  plain.spawn(cg2, 0);
  EXPECT_THROW(plain.rmdir(cg2), sim::SimError);
}

// ---------------------------------------------------------------- live: parsers

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(MV_SOURCE_DIR) + "/tests/live_fixtures/" + name, std::ios::binary);
  EXPECT_TRUE(in) << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(LiveCgroupfs, DetectsTheV1MemoryHierarchyOfARecordedMachine) {
  auto d = live::detect_memory_hierarchy(fixture("v1-6.18/proc_self_cgroup"),
                                         fixture("v1-6.18/proc_cgroups"),
                                         fixture("v1-6.18/mountinfo"));
  ASSERT_TRUE(d.hierarchy) << d.why_not;
  EXPECT_EQ(d.hierarchy->version, live::CgroupVersion::v1);
  EXPECT_EQ(d.hierarchy->own_path, "/process_api/ee273737e5d9063cfb0cd990b2f2e39b");
  EXPECT_EQ(d.hierarchy->own_dir, "/sys/fs/cgroup/memory/process_api/ee273737e5d9063cfb0cd990b2f2e39b");
  EXPECT_EQ(d.hierarchy->mount_point, "/sys/fs/cgroup/memory");
  auto row = live::memory_row(live::parse_proc_cgroups(fixture("v1-6.18/proc_cgroups")));
  ASSERT_TRUE(row);
  EXPECT_EQ(row->hierarchy, 4u);
  EXPECT_EQ(row->num_cgroups, 113u);
  auto stat = live::parse_flat_keyed(fixture("v1-6.18/memory.stat"), "memory.stat");
  EXPECT_EQ(stat.at("rss"), 1953792);
  EXPECT_EQ(stat.at("cache"), 48431104);
  // The cgroup2 root beside it has no memory controller: no memory count.
  auto unified = live::parse_flat_keyed(fixture("v1-6.18/unified.cgroup.stat"), "cgroup.stat");
  EXPECT_EQ(live::dying_from_cgroup_stat(unified), 0);
}

TEST(LiveCgroupfs, DetectsAV2Hierarchy) {
  auto d = live::detect_memory_hierarchy(fixture("v2/proc_self_cgroup"), fixture("v2/proc_cgroups"),
                                         fixture("v2/mountinfo"));
  ASSERT_TRUE(d.hierarchy) << d.why_not;
  EXPECT_EQ(d.hierarchy->version, live::CgroupVersion::v2);
  EXPECT_EQ(d.hierarchy->own_dir, "/sys/fs/cgroup/user.slice/user-1000.slice/session-3.scope");
  auto stat = live::parse_flat_keyed(fixture("v2/cgroup.stat"), "cgroup.stat");
  EXPECT_EQ(live::dying_from_cgroup_stat(stat), 4);  // the memory controller's, not all 5
  stat.erase("nr_dying_subsys_memory");
  EXPECT_EQ(live::dying_from_cgroup_stat(stat), 5);  // before v6.13: every dying cgroup
}

TEST(LiveCgroupfs, SaysWhyThereIsNoHierarchy) {
  const std::string no_memory = "#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpu\t0\t1\t1\n";
  auto d = live::detect_memory_hierarchy(fixture("v2/proc_self_cgroup"), no_memory, fixture("v2/mountinfo"));
  EXPECT_FALSE(d.hierarchy);
  EXPECT_NE(d.why_not.find("no memory controller"), std::string::npos) << d.why_not;
  // v1 memory hierarchy not mounted here (only the v2 mount is).
  auto v1 = live::detect_memory_hierarchy(fixture("v1-6.18/proc_self_cgroup"),
                                          fixture("v1-6.18/proc_cgroups"), fixture("v2/mountinfo"));
  EXPECT_FALSE(v1.hierarchy);
  EXPECT_NE(v1.why_not.find("not mounted"), std::string::npos) << v1.why_not;
}

TEST(LiveCgroupfs, AMalformedLineNamesItsFileAndLine) {
  auto message = [](auto f) {
    try {
      f();
    } catch (const live::CgroupfsError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message([] { live::parse_proc_cgroups("#subsys_name hierarchy num_cgroups enabled\nmemory 4 x 1\n"); }),
            "/proc/cgroups:2: hierarchy, num_cgroups and enabled must be numbers");
  EXPECT_EQ(message([] { live::parse_proc_self_cgroup("0::/\nbroken\n"); }),
            "/proc/self/cgroup:2: expected ID:CONTROLLERS:PATH");
  EXPECT_EQ(message([] { live::parse_flat_keyed("a 1\nb\n", "cgroup.stat"); }),
            "cgroup.stat:2: expected \"key value\"");
}

TEST(LiveCgroupfs, MountPointsWithEscapedSpacesAndControllersFromSuperOptions) {
  auto mounts = live::parse_mountinfo(
      "35 31 0:32 / /sys/fs/cgroup/mem\\040ory rw,relatime - cgroup cgroup rw,memory,nosuid\n"
      "36 31 0:33 / /x rw - cgroup cgroup rw,name=systemd\n");
  ASSERT_EQ(mounts.size(), 2u);
  EXPECT_EQ(mounts[0].mount_point, "/sys/fs/cgroup/mem ory");
  EXPECT_EQ(mounts[0].controllers, (std::vector<std::string>{"memory", "nosuid"}));
  EXPECT_TRUE(mounts[1].controllers.empty());
}

TEST(LiveCgroupfs, TheNearestProfileIsTheNewestModeledOneNotNewerThanTheKernel) {
  EXPECT_EQ(live::nearest_profile("6.1.0-18-amd64"), spec::Profile::v6_1);
  EXPECT_EQ(live::nearest_profile("6.5.13"), spec::Profile::v6_1);
  EXPECT_EQ(live::nearest_profile("6.6.30"), spec::Profile::v6_6);
  auto newest = live::nearest_profile("6.18.44-fc-v973");
  ASSERT_TRUE(newest);
  EXPECT_GE(*newest, spec::Profile::v6_6);
  EXPECT_TRUE(spec::traits(*newest).modeled);
  EXPECT_EQ(live::kernel_version("6.18.44-fc-v973"), (std::pair<unsigned, unsigned>{6, 18}));
  EXPECT_FALSE(live::kernel_version("garbage"));
}

TEST(LiveReport, TheVerdictAndTapNameTheExperimentsThatDisagree) {
  live::LiveReport r;
  r.status = live::LiveStatus::ran;
  r.kernel = "6.18.0";
  r.profile = spec::Profile::v6_6;
  r.hierarchy = live::MemoryHierarchy{};
  live::ExperimentReport ok, bad;
  ok.measured.name = "stack_loop";
  ok.agree = true;
  bad.measured.name = "kmem_dead_cgroups";
  bad.measured.dying_after_rmdir = 8;
  r.experiments = {ok, bad};
  EXPECT_FALSE(r.all_agree());
  EXPECT_EQ(live::live_verdict(r), "ran: the kernel 6.18.0 and the v6.6 model disagree in kmem_dead_cgroups\n");
  const auto tap = live::live_tap(r);
  EXPECT_NE(tap.find("ok 1 stack_loop"), std::string::npos);
  EXPECT_NE(tap.find("not ok 2 kmem_dead_cgroups # measured 8 dying, predicted 0"), std::string::npos);
  EXPECT_NE(tap.find("pass:1 fail:1"), std::string::npos);
  r.experiments.pop_back();
  EXPECT_EQ(live::live_verdict(r), "ran: the kernel 6.18.0 and the v6.6 model agree in all 1 experiments\n");
  r.status = live::LiveStatus::skipped;
  r.why = "not root";
  EXPECT_EQ(live::live_verdict(r), "skipped: not root\n");
  EXPECT_EQ(live::live_json(r)["status"], "skipped");
}

// ---------------------------------------------------------------- live: clean-up

// A scope over a plain directory (mkdir and rmdir behave as on cgroupfs for
// empty directories): the clean-up runs on any machine, root or not.
struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/memcg-verify-live-test.XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
  live::MemoryHierarchy hierarchy() const { return {live::CgroupVersion::v1, "/", path.string(), path.string()}; }
  std::size_t entries() const { return std::distance(fs::directory_iterator(path), fs::directory_iterator()); }
};

TEST(LiveScope, RemovesEverythingItMadeWhenAnErrorUnwindsIt) {
  TempDir tmp;
  try {
    live::Scope scope(tmp.hierarchy());
    scope.mkdir("a");
    scope.mkdir("a/b");
    scope.mkdir("c");
    EXPECT_EQ(scope.live_cgroups(), 4u);
    scope.rmdir(scope.dir() + "/c");
    EXPECT_EQ(scope.live_cgroups(), 3u);
    EXPECT_EQ(tmp.entries(), 1u);
    throw std::runtime_error("an experiment failed");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(tmp.entries(), 0u);
}

TEST(LiveScope, ASignalKillsTheHelpersAndRemovesTheCgroups) {
  TempDir tmp;
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(ready[0]);
    live::Scope scope(tmp.hierarchy());
    scope.mkdir("x");
    scope.mkdir("x/y");
    pid_t helper = scope.fork_helper([] {
      pause();
      return 0;
    });
    [[maybe_unused]] auto n = write(ready[1], &helper, sizeof helper);
    for (;;) pause();
  }
  close(ready[1]);
  pid_t helper = 0;
  ASSERT_EQ(read(ready[0], &helper, sizeof helper), static_cast<ssize_t>(sizeof helper));
  close(ready[0]);
  EXPECT_EQ(tmp.entries(), 1u);
  EXPECT_EQ(kill(helper, 0), 0);
  kill(child, SIGTERM);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) << status;
  EXPECT_EQ(tmp.entries(), 0u);
  EXPECT_NE(kill(helper, 0), 0);  // killed and reaped by the handler
}

// ---------------------------------------------------------------- live: this kernel

std::vector<std::string> scopes_left(const std::string& own_dir) {
  std::vector<std::string> left;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(own_dir, ec))
    if (e.path().filename().string().rfind(std::string(live::kScopePrefix), 0) == 0)
      left.push_back(e.path().string());
  return left;
}

TEST(LiveKernel, RunsWherePermittedAndLeavesNoCgroupBehind) {
  live::ExperimentSizes sizes;
  sizes.stack_loop = 4;
  sizes.user_pages_control = 3;
  sizes.kmem_dead_cgroups = 3;
  auto report = live::run_live(sizes);
  json j = live::live_json(report);
  EXPECT_FALSE(j["kernel"].get<std::string>().empty());
  if (report.status == live::LiveStatus::skipped) {
    EXPECT_FALSE(report.why.empty());
    EXPECT_EQ(live::live_tap(report).find("1..0 # SKIP"), 15u);
    GTEST_SKIP() << "live is not permitted here: " << report.why;
  }
  ASSERT_EQ(report.status, live::LiveStatus::ran) << report.why;
  ASSERT_TRUE(report.hierarchy);
  EXPECT_TRUE(scopes_left(report.hierarchy->own_dir).empty());
  EXPECT_FALSE(fs::exists(report.scope_dir));
  ASSERT_EQ(j["experiments"].size(), 3u);
  for (const auto& e : j["experiments"]) {
    for (const char* key : {"name", "measured_dying", "predicted_dying", "profile", "agree"})
      EXPECT_TRUE(e.contains(key)) << key;
  }
  const auto& stack = report.experiments[0];
  EXPECT_EQ(stack.measured.name, "stack_loop");
  // The loop charged kernel memory to the removed cgroups (not vacuous).
  if (stack.measured.charged.kernel_bytes) {
    EXPECT_GT(*stack.measured.charged.kernel_bytes, 0);
  }
  // The control: user pages hold their cgroups dying until they are freed,
  // on every kernel; a count that saw none of them sees nothing. (Not the
  // exact number: on v1 the count is the machine's, and other users' cgroups
  // die and are freed meanwhile, so agreement is the report's, not a test's.)
  const auto& control = report.experiments[1];
  EXPECT_EQ(control.measured.name, "user_pages_control");
  EXPECT_GT(control.measured.charged.user_bytes, 0);
  EXPECT_GE(control.measured.dying_after_rmdir, 1);
}

}  // namespace
}  // namespace mv::testing
