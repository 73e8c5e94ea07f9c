// The strategies on a synthetic schedule tree: two threads of n points each,
// no locks. The bounded depth-first search runs every schedule within its
// preemption bound exactly once; PCT and the random walk are reproducible
// from their seed; a guided schedule is followed, then the non-preemptive
// default.
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "explore/strategy.h"

namespace mv::explore {
namespace {

// Runs a strategy over two threads with n points each (a thread's first
// point is its start: switching there is free), each point a store to
// `address(thread, point)`; returns each complete schedule as the sequence
// of threads chosen (abandoned ones are left out).
int g_cells[2][16];
const void* shared_address(std::uint32_t, std::uint32_t) { return &g_cells[0][0]; }
const void* own_address(std::uint32_t t, std::uint32_t i) { return &g_cells[t][i]; }

std::vector<std::vector<std::uint32_t>> run_all(Strategy& s, std::uint32_t n, std::size_t limit,
                                                const void* (*address)(std::uint32_t, std::uint32_t) =
                                                    shared_address) {
  std::vector<std::vector<std::uint32_t>> out;
  while (out.size() < limit && s.next_schedule()) {
    std::uint32_t left[2] = {n, n};
    std::optional<std::uint32_t> current = 0;
    std::vector<std::uint32_t> picks;
    std::size_t step = 0;
    bool fresh[2] = {true, true};
    while (left[0] + left[1] > 0) {
      Decision d;
      d.step = step++;
      d.current = current;
      for (std::uint32_t t = 0; t < 2; ++t)
        if (left[t]) d.enabled.push_back(t);
      d.current_enabled = current && left[*current] && !fresh[*current];
      for (std::uint32_t t = 0; t < 2; ++t)
        d.next.push_back(left[t] ? NextAccess{true, spec::Access::store, address(t, n - left[t])}
                                 : NextAccess{});
      std::uint32_t t = s.pick(d);
      if (t == kAbandon) break;
      picks.push_back(t);
      fresh[t] = false;
      --left[t];
      current = left[t] ? std::optional<std::uint32_t>(t) : std::nullopt;
    }
    s.end_schedule(step);
    if (left[0] + left[1] == 0) out.push_back(picks);
  }
  return out;
}

TEST(Dfs, RunsEveryScheduleWithinTheBoundOnce) {
  for (std::uint32_t bound : {0u, 1u, 2u}) {
    auto dfs = make_strategy(StrategyOptions{StrategyKind::dfs, 1, 3, bound}, 2);
    auto all = run_all(*dfs, 4, 100000);
    std::set<std::vector<std::uint32_t>> distinct(all.begin(), all.end());
    EXPECT_EQ(distinct.size(), all.size()) << "bound " << bound;
    // Every interleaving of 4 + 4 points with at most `bound` switches away
    // from a thread that could go on (after its first point).
    std::size_t expected = 0;
    for (unsigned mask = 0; mask < 256; ++mask) {
      if (__builtin_popcount(mask) != 4) continue;
      std::vector<std::uint32_t> seq;
      for (int i = 0; i < 8; ++i) seq.push_back((mask >> i) & 1u);
      std::size_t switches = 0;
      int seen[2] = {0, 0};
      for (std::size_t i = 1; i < seq.size(); ++i) {
        ++seen[seq[i - 1]];
        if (seq[i] != seq[i - 1] && seen[seq[i - 1]] < 4 && seen[seq[i - 1]] > 0) ++switches;
      }
      if (switches <= bound) ++expected;
    }
    EXPECT_EQ(all.size(), expected) << "bound " << bound;
  }
}

// Sleep sets: when the two threads touch only their own cells every
// interleaving is equivalent to the first, so the search runs far fewer
// (the rest are cut as repeats); when every point touches one cell nothing is
// cut.
TEST(Dfs, SleepSetsCutOnlyCommutingInterleavings) {
  auto dependent_all = make_strategy(StrategyOptions{StrategyKind::dfs, 1, 3, 8}, 2);
  EXPECT_EQ(run_all(*dependent_all, 4, 100000, shared_address).size(), 70u);  // C(8, 4)
  auto independent = make_strategy(StrategyOptions{StrategyKind::dfs, 1, 3, 8}, 2);
  auto runs = run_all(*independent, 4, 100000, own_address);
  EXPECT_GE(runs.size(), 1u);
  EXPECT_LT(runs.size(), 10u);
}

TEST(RandomAndPct, AreReproducibleFromTheirSeed) {
  for (auto kind : {StrategyKind::random, StrategyKind::pct}) {
    auto a = make_strategy(StrategyOptions{kind, 42, 3, 2}, 2);
    auto b = make_strategy(StrategyOptions{kind, 42, 3, 2}, 2);
    auto c = make_strategy(StrategyOptions{kind, 43, 3, 2}, 2);
    auto ra = run_all(*a, 6, 50), rb = run_all(*b, 6, 50), rc = run_all(*c, 6, 50);
    EXPECT_EQ(ra, rb);
    EXPECT_NE(ra, rc);
    std::set<std::vector<std::uint32_t>> distinct(ra.begin(), ra.end());
    EXPECT_GT(distinct.size(), 5u) << strategy_name(kind);
  }
}

TEST(Guided, FollowsItsSegmentsThenTheDefault) {
  GuidedStrategy g(Schedule{{1, 2}, {0, 1}});
  auto runs = run_all(g, 3, 10);
  ASSERT_EQ(runs.size(), 1u);
  // 1, 1, then 0 once, then no preemption: 0 runs on, then 1 finishes.
  EXPECT_EQ(runs[0], (std::vector<std::uint32_t>{1, 1, 0, 0, 0, 1}));
  Schedule s;
  for (auto t : runs[0]) append_choice(s, t);
  EXPECT_EQ(s, (Schedule{{1, 2}, {0, 3}, {1, 1}}));
}

}  // namespace
}  // namespace mv::explore
