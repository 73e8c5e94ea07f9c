// memcg-verify explore's bars (issue 9): every interleaving mutant is found
// within 10,000 schedules, shrunk, written as a race trace that replays the
// failure on both models, and its token replays to the same failure at the
// same step ten times out of ten; the correct impl survives random and PCT
// schedules and the whole bounded search of a 2-CPU harness. The budgets here
// are the test's; scripts/verify.sh runs the large ones.
#include <set>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "explore/explore.h"
#include "trace/replay.h"

namespace mv::spec {
void PrintTo(Mutant mutant, std::ostream* os) { *os << mutant_name(mutant); }
}  // namespace mv::spec

namespace mv::explore {
namespace {

ExploreOptions options(StrategyKind kind, spec::Mutant mutant, std::uint64_t schedules) {
  ExploreOptions o;
  o.strategy.kind = kind;
  o.strategy.seed = 1;
  o.mutant = mutant;
  o.schedules = schedules;
  return o;
}

class EveryInterleavingMutant : public ::testing::TestWithParam<spec::Mutant> {};

TEST_P(EveryInterleavingMutant, IsFoundShrunkWrittenAsARaceAndReplaysByToken) {
  const spec::Mutant mutant = GetParam();
  // The first strategy that finds it within the bar's budget (the table of
  // every strategy is scripts/explore-table.sh's).
  std::optional<ExploreResult> found;
  for (auto kind : {StrategyKind::dfs, StrategyKind::random, StrategyKind::pct}) {
    auto r = explore(options(kind, mutant, 10000));
    std::cout << "  " << spec::mutant_name(mutant) << " " << strategy_name(kind) << ": "
              << (r.failure ? std::to_string(r.schedule_of_failure) + " schedules"
                            : std::string("not found"))
              << "\n";
    if (r.failure) {
      found = r;
      break;
    }
  }
  ASSERT_TRUE(found) << "no strategy found " << spec::mutant_name(mutant);
  const Failure& f = *found->failure;
  EXPECT_LE(found->schedule_of_failure, 10000u);
  EXPECT_LE(f.ops, f.original_ops);
  EXPECT_LE(f.preemptions, f.original_preemptions);
  EXPECT_TRUE(f.race_trace) << f.trace_jsonl;
  EXPECT_TRUE(f.trace_reproduces) << f.trace_verdict << "\n" << f.trace_jsonl;
  // The race trace is the impl's bug: the reference alone holds on it.
  std::istringstream in(f.trace_jsonl);
  auto t = trace::read_trace(in, "explore");
  ASSERT_FALSE(t.error) << t.error->what();
  EXPECT_EQ(trace::replay(t, trace::ModelChoice::reference).exit_code(), 0);
  EXPECT_EQ(trace::replay(t, trace::ModelChoice::impl, mutant).exit_code(), 1);
  // The token: the same failure at the same scheduling point, every time.
  auto token = parse_token(f.token);
  ASSERT_TRUE(token);
  EXPECT_EQ(token->mutant, mutant);
  for (int i = 0; i < 10; ++i) {
    auto again = replay_token(*token);
    ASSERT_TRUE(again.failure) << "replay " << i;
    EXPECT_EQ(again.failure->kind, f.kind);
    EXPECT_EQ(again.failure->what, f.what);
    EXPECT_EQ(again.failure->step, f.step);
    EXPECT_EQ(again.failure->message, f.message);
  }
}

INSTANTIATE_TEST_SUITE_P(Catalog, EveryInterleavingMutant,
                         ::testing::ValuesIn(spec::interleaving_mutants(spec::kLayerImpl)),
                         [](const auto& info) { return std::string(spec::mutant_name(info.param)); });

TEST(CorrectImpl, SurvivesRandomAndPctSchedulesOfEveryHarness) {
  for (auto kind : {StrategyKind::random, StrategyKind::pct}) {
    auto o = options(kind, spec::Mutant::none, 1500);
    o.random_harnesses = 10;
    auto r = explore(o);
    EXPECT_FALSE(r.failure) << strategy_name(kind) << ": " << r.failure->kind << ": "
                            << r.failure->message << "\n" << r.failure->token;
    EXPECT_EQ(r.schedules, 1500u);
    // The oracle ran: about a quarter of these histories are linearized
    // (the others are longer than the bound or not atomic by design).
    EXPECT_GT(r.linearizability_checked, r.schedules / 5);
    std::cout << "  " << strategy_name(kind) << ": " << r.schedules << " schedules in " << r.seconds
              << " s, " << r.schedules / r.seconds << "/s\n";
  }
}

TEST(CorrectImpl, SurvivesTheWholeBoundedSearchOfATwoCpuHarness) {
  auto o = options(StrategyKind::dfs, spec::Mutant::none, 1000000);
  o.harnesses.push_back(*find_harness("alloc_free_2x3"));
  auto r = explore(o);
  EXPECT_FALSE(r.failure) << r.failure->message << "\n" << r.failure->token;
  EXPECT_TRUE(r.search_complete);
  EXPECT_GT(r.schedules, 100u);
  std::cout << "  alloc_free_2x3, at most 2 preemptions: " << r.schedules << " schedules in "
            << r.seconds << " s, " << r.schedules / r.seconds << "/s\n";
}

TEST(Tokens, RoundTripAndRefuseGarbage) {
  Schedule s{{0, 5}, {1, 3}, {0, 12}};
  auto text = schedule_token("charge_vs_offline", spec::Mutant::css_get_not_tryget, s);
  EXPECT_EQ(text, "mvx1:charge_vs_offline:css_get_not_tryget:0*5,1*3,0*12");
  auto t = parse_token(text);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->harness, "charge_vs_offline");
  EXPECT_EQ(t->schedule, s);
  for (const char* bad : {"", "mvx1", "mvx2:a:none:0*1", "mvx1:a:nope:0*1", "mvx1:a:none:0*0",
                          "mvx1:a:none:x*1", "mvx1:a:none:01"})
    EXPECT_FALSE(parse_token(bad)) << bad;
}

TEST(Harnesses, CatalogAndRandomOnesAreValidTraces) {
  std::set<std::string> names;
  for (const auto& h : harness_catalog()) {
    EXPECT_TRUE(names.insert(h.name).second) << h.name;
    EXPECT_GE(h.threads.size(), 2u) << h.name;
    EXPECT_FALSE(h.about.empty());
    Harness copy = h;
    EXPECT_EQ(resolve_harness(copy), "") << h.name;
  }
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    auto h = random_harness(seed);
    EXPECT_EQ(h.name, "random-" + std::to_string(seed));
    EXPECT_EQ(resolve_harness(h), "") << h.name;
    EXPECT_EQ(harness_named(h.name)->nr_ops(), h.nr_ops());
  }
  EXPECT_FALSE(harness_named("random-x"));
  EXPECT_FALSE(harness_named("no_such_harness"));
}

}  // namespace
}  // namespace mv::explore