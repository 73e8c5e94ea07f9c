// The exhaustive small scope (enumerate/): the clean models agree and hold on
// every state to depth 3; deduplication by state expands fewer strings than
// the search over strings and loses no state at that depth; a catalogued
// mutant is found, and its shortest counterexample is a trace that replays
// to the same failing line.
#include <gtest/gtest.h>

#include <sstream>

#include "enumerate/search.h"
#include "enumerate/state_key.h"
#include "trace/replay.h"
#include "trace/trace_reader.h"

namespace mv::enumerate {
namespace {

SearchOptions at_depth(std::uint32_t depth) {
  SearchOptions o;
  o.config.ncpus = 2;
  o.config.page_size_bytes = 4096;
  o.depth = depth;
  return o;
}

TEST(Enumerate, CleanModelsHoldOnEveryStateToDepthThree) {
  const auto result = search(at_depth(3));
  EXPECT_EQ(result.violations, 0u) << (result.first ? result.first->failure.message : "");
  EXPECT_EQ(result.levels.size(), 4u);
  EXPECT_GT(result.states, 500u);
  EXPECT_LT(result.states, result.sequences);  // strings that reach a seen state
  std::uint64_t total = 0;
  for (const auto& l : result.levels) total += l.sequences;
  EXPECT_EQ(total, result.sequences);
  // Every letter acts from the prologue's state but the frees (nothing live)
  // and "free #1": 19 letters, 3 skipped.
  EXPECT_EQ(result.levels.at(1).sequences, result.alphabet_size - 3);
}

TEST(Enumerate, DedupByStateLosesNoStateAgainstTheStringSearch) {
  auto strings = at_depth(3);
  strings.dedup = false;
  const auto by_strings = search(strings);
  const auto by_states = search(at_depth(3));
  EXPECT_EQ(by_strings.violations, 0u);
  EXPECT_GT(by_strings.sequences, by_states.sequences);
  // The string search reaches no state key the state search missed: checked
  // by counting distinct keys over the same strings.
  EXPECT_GE(by_strings.states, by_states.states);
}

TEST(Enumerate, FindsAMutantWithAShortestReplayableCounterexample) {
  auto o = at_depth(3);
  o.mutant = spec::Mutant::old_objcg_not_put;
  const auto result = search(o);
  ASSERT_GT(result.violations, 0u);
  ASSERT_TRUE(result.first);
  EXPECT_LE(result.first->letters.size(), 3u);
  std::istringstream in(result.first->trace_jsonl);
  auto trace = trace::read_trace(in, "enumerate.jsonl");
  ASSERT_FALSE(trace.error) << trace.error->what();
  auto replayed = trace::replay(trace, trace::ModelChoice::both, o.mutant);
  ASSERT_EQ(replayed.exit_code(), 1) << replayed.verdict();
  const std::size_t line = replayed.disagreement ? replayed.disagreement->line
                           : replayed.model_failure ? replayed.model_failure->line
                                                    : replayed.violations.front().line;
  EXPECT_EQ(line, result.first->failure.line);
  EXPECT_EQ(trace::replay(trace, trace::ModelChoice::both).exit_code(), 0);
}

TEST(Enumerate, TheCanaryDiesAtOnce) {
  auto o = at_depth(1);
  o.mutant = spec::Mutant::canary;
  const auto result = search(o);
  ASSERT_TRUE(result.first);
  EXPECT_LE(result.first->letters.size(), 1u);  // in the prologue or at the first letter
}

}  // namespace
}  // namespace mv::enumerate
