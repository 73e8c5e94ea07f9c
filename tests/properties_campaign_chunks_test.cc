// A campaign spread over processes and shards (properties/campaign_chunks.h,
// properties/worker_pool.h) has the same verdict and totals however it is
// spread: one job, two jobs, and four shards merged give the same runs, steps,
// op counts, marks and failure, for a passing and for a failing campaign.
#include <gtest/gtest.h>

#include <numeric>

#include "properties/campaign_chunks.h"
#include "properties/campaign_guard.h"
#include "properties/injected_fault.h"
#include "properties/worker_pool.h"

namespace mv::properties {
namespace {

CampaignOptions campaign(int runs, spec::Mutant mutant = spec::Mutant::none) {
  CampaignOptions o;
  o.seed = 42;
  o.runs = runs;
  o.max_steps = 60;
  o.subject = impl_factory(mutant);
  return o;
}

std::vector<std::size_t> all_chunks(int runs) {
  std::vector<std::size_t> all(campaign_chunks(runs));
  std::iota(all.begin(), all.end(), 0);
  return all;
}

void expect_same(const CampaignResult& a, const CampaignResult& b) {
  EXPECT_EQ(a.passed, b.passed);
  EXPECT_EQ(a.stats.runs, b.stats.runs);
  EXPECT_EQ(a.stats.steps, b.stats.steps);
  EXPECT_EQ(a.stats.ops, b.stats.ops);
  EXPECT_EQ(a.stats.allocs, b.stats.allocs);
  EXPECT_EQ(a.stats.max_live_objects, b.stats.max_live_objects);
  EXPECT_EQ(a.stats.first_failure_runs, b.stats.first_failure_runs);
  EXPECT_EQ(a.stats.first_failure_steps, b.stats.first_failure_steps);
  EXPECT_EQ(a.marks, b.marks);
  EXPECT_EQ(a.missing_marks, b.missing_marks);
  EXPECT_EQ(a.stats.known_bug_violations, b.stats.known_bug_violations);
  EXPECT_EQ(a.stats.claims_seen, b.stats.claims_seen);
  ASSERT_EQ(a.failure.has_value(), b.failure.has_value());
  if (a.failure) {
    EXPECT_EQ(a.failure->failure.line, b.failure->failure.line);
    EXPECT_EQ(a.failure->failure.message, b.failure->failure.message);
    EXPECT_EQ(a.failure->trace_jsonl, b.failure->trace_jsonl);
    EXPECT_EQ(a.reproduce_token, b.reproduce_token);
  }
}

CampaignResult merged_shards(const CampaignOptions& o, std::size_t shards, unsigned jobs) {
  std::vector<ChunkResult> all;
  const auto chunks = campaign_chunks(o.runs);
  for (std::size_t i = 0; i < shards; ++i) {
    // Through JSON, as shard reports travel between machines.
    for (const auto& c : run_chunks(o, shard_chunks(chunks, Shard{i, shards}), jobs))
      all.push_back(chunk_result_from_json(trace::Json::parse(chunk_result_json(c).dump())));
  }
  return merge_chunks(std::move(all), all_chunks(o.runs)).result;
}

TEST(CampaignChunks, ThePlanDependsOnlyOnTheRuns) {
  EXPECT_EQ(campaign_chunks(100), 1u);
  EXPECT_EQ(campaign_chunks(101), 2u);
  EXPECT_EQ(campaign_chunks(30000), 256u);
  for (int runs : {1, 99, 250, 1000, 30001}) {
    const auto n = campaign_chunks(runs);
    int total = 0;
    for (std::size_t c = 0; c < n; ++c) total += chunk_runs(runs, c, n);
    EXPECT_EQ(total, runs);
  }
  EXPECT_EQ(chunk_seed(7, 0, 1), 7u);
  EXPECT_NE(chunk_seed(7, 0, 2), chunk_seed(7, 1, 2));
  ASSERT_TRUE(parse_shard("3/4"));
  EXPECT_EQ(parse_shard("3/4")->index, 3u);
  for (const char* bad : {"4/4", "1/0", "x/2", "1", "1/2/3", "-1/2", ""})
    EXPECT_FALSE(parse_shard(bad)) << bad;
  std::vector<int> seen(10, 0);
  for (std::size_t i = 0; i < 4; ++i)
    for (auto c : shard_chunks(10, Shard{i, 4})) ++seen[c];
  EXPECT_EQ(seen, std::vector<int>(10, 1));
}

TEST(CampaignChunks, OneJobTwoJobsAndFourShardsAgreeOnAPassingCampaign) {
  const auto o = campaign(400);
  const auto one = merge_chunks(run_chunks(o, all_chunks(o.runs), 1), all_chunks(o.runs)).result;
  ASSERT_TRUE(one.passed) << one.error;
  EXPECT_GT(one.stats.runs, 399u);
  expect_same(one, merge_chunks(run_chunks(o, all_chunks(o.runs), 2), all_chunks(o.runs)).result);
  expect_same(one, merged_shards(o, 4, 1));
}

// The merged verdict keeps what the chunks counted as results, not failures:
// v6.6's known hotplug bug, v5.10's design claims.
TEST(CampaignChunks, TheMergeKeepsKnownBugsAndClaims) {
  auto o = campaign(600);
  o.max_steps = 150;
  const auto v66 = merge_chunks(run_chunks(o, all_chunks(o.runs), 2), all_chunks(o.runs)).result;
  ASSERT_TRUE(v66.passed) << v66.error;
  EXPECT_GT(v66.stats.known_bug_violations.count("hotplug_obj_stock_leak"), 0u);
  o.configs.profile = spec::Profile::v5_10;
  const auto v510 = merge_chunks(run_chunks(o, all_chunks(o.runs), 1), all_chunks(o.runs)).result;
  ASSERT_TRUE(v510.passed) << v510.error;
  EXPECT_GT(v510.stats.claims_seen.count("v5.10-kmem-pages-pin"), 0u);
}

TEST(CampaignChunks, OneJobTwoJobsAndFourShardsAgreeOnAFailure) {
  const auto o = campaign(400, spec::Mutant::double_uncharge);
  const auto one = merge_chunks(run_chunks(o, all_chunks(o.runs), 1), all_chunks(o.runs)).result;
  ASSERT_TRUE(one.failure) << one.error;
  expect_same(one, merge_chunks(run_chunks(o, all_chunks(o.runs), 2), all_chunks(o.runs)).result);
  expect_same(one, merged_shards(o, 4, 2));
}

// The guard (properties/campaign_guard.h) changes nothing when nothing
// crashes: the same verdict and totals as the campaign in this process, for a
// passing and for a failing one. When the subject crashes (here unguarded it
// would take this test down), the rerun with the subject isolated fails at
// the step: a model failure naming the signal, its trace ending at the
// crashing stack allocation.
TEST(CampaignGuard, AGuardedCampaignIsTheCampaignAndACrashIsItsFailure) {
  for (auto mutant : {spec::Mutant::none, spec::Mutant::double_uncharge}) {
    SCOPED_TRACE(std::string(spec::mutant_name(mutant)));
    const auto o = campaign(150, mutant);
    expect_same(run_campaign(o), run_campaign_guarded(o));
  }
  auto crashing = campaign(150);
  crashing.subject = with_injected_fault(impl_factory(), InjectedFault::segfault);
  const auto guarded = run_campaign_guarded(crashing);
  ASSERT_TRUE(guarded.failure) << guarded.error;
  EXPECT_EQ(guarded.failure->failure.kind, "model failure");
  EXPECT_NE(guarded.failure->failure.message.find("killed by signal 11"), std::string::npos)
      << guarded.failure->failure.message;
  EXPECT_NE(guarded.failure->trace_jsonl.find("\"kind\":\"stack\""), std::string::npos);
  // A throw needs no rerun: the same failure guarded or not.
  auto throwing = campaign(150);
  throwing.subject = with_injected_fault(impl_factory(), InjectedFault::throws);
  const auto thrown = run_campaign_guarded(throwing);
  ASSERT_TRUE(thrown.failure) << thrown.error;
  expect_same(run_campaign(throwing), thrown);
  EXPECT_FALSE(parse_injected_fault("explode"));
  EXPECT_EQ(parse_injected_fault("throw"), InjectedFault::throws);
}

TEST(CampaignChunks, AMissingOrDuplicateChunkIsNotAVerdict) {
  const auto o = campaign(300);
  auto chunks = run_chunks(o, all_chunks(o.runs), 1);
  ASSERT_EQ(chunks.size(), 3u);
  auto without = chunks;
  without.erase(without.begin() + 1);
  const auto merged = merge_chunks(without, all_chunks(o.runs));
  EXPECT_FALSE(merged.result.passed);
  EXPECT_FALSE(merged.result.failure);
  EXPECT_EQ(merged.missing, std::vector<std::size_t>{1});
  auto twice = chunks;
  twice.push_back(chunks.front());
  EXPECT_THROW(merge_chunks(twice, all_chunks(o.runs)), std::runtime_error);
}

TEST(WorkerPool, EveryTaskAnswersOnceAndADeadWorkerIsReported) {
  std::vector<std::size_t> tasks(20);
  std::iota(tasks.begin(), tasks.end(), 0);
  std::vector<std::string> answers(tasks.size());
  run_tasks(tasks, 3, [](std::size_t t) { return std::to_string(t * t); },
            [&](const TaskOutput& out) {
              EXPECT_TRUE(out.ok) << out.problem;
              answers.at(out.task) = out.text;
              return true;
            });
  for (std::size_t t = 0; t < tasks.size(); ++t) EXPECT_EQ(answers[t], std::to_string(t * t));
  std::vector<std::string> problems;
  std::size_t answered = 0;
  run_tasks({0, 1, 2, 3}, 2,
            [](std::size_t t) -> std::string {
              if (t == 2) std::abort();
              return "ok";
            },
            [&](const TaskOutput& out) {
              if (out.ok) ++answered;
              else problems.push_back(out.problem);
              return true;
            });
  EXPECT_EQ(answered, 3u);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("signal 6"), std::string::npos) << problems[0];
}

}  // namespace
}  // namespace mv::properties
