// Every mutant of the catalog (spec/mutant.h) is killed by a bounded
// conformance campaign (properties/mutants.h), its shrunk counterexample
// replays to the same line, and the campaign meets its bars: the canary dies
// within a few steps, the median mutant within 10,000 steps, the median shrunk
// counterexample is at most 8 operations. With the mutant in both models the
// two agree (the impl and reference injections are the same bug), and the
// invariants alone kill all but the three bugs only the comparison sees.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "overlay/overlay.h"
#include "properties/failure_trace.h"
#include "properties/mutants.h"
#include "spec/mutant.h"
#include "trace/replay.h"
#include "trace/trace_reader.h"

namespace mv::spec {
// gtest prints parameters by name.
void PrintTo(Mutant mutant, std::ostream* os) { *os << mutant_name(mutant); }
}  // namespace mv::spec

namespace mv::properties {
namespace {

constexpr std::uint64_t kSeed = 1;

MutantCampaignOptions budget() {
  MutantCampaignOptions options;
  options.seed = kSeed;
  options.runs = 1000;  // the default of `memcg-verify mutants`
  options.max_steps = 100;
  return options;
}

std::string describe(const MutantResult& r) {
  return std::string(spec::mutant_name(r.mutant)) + ": " +
         (r.killed ? killed_by_text(r) + " / " + r.message
                   : "survived " + std::to_string(r.runs) + " runs, " + std::to_string(r.steps) +
                         " steps " + r.error);
}

TEST(MutantCatalog, NamesRoundTripAndEveryEntryIsDescribed) {
  std::set<std::string_view> names;
  std::size_t expressible = 0;
  for (const auto& info : spec::mutant_catalog()) {
    EXPECT_TRUE(names.insert(info.name).second) << "duplicate " << info.name;
    if (info.mutant == spec::Mutant::none) {
      ++expressible;
      continue;
    }
    EXPECT_FALSE(info.bug.empty()) << info.name;
    EXPECT_FALSE(info.function.empty()) << info.name;
    if (info.mutant) {
      ++expressible;
      EXPECT_EQ(spec::parse_mutant(info.name), info.mutant);
      EXPECT_EQ(spec::mutant_name(*info.mutant), info.name);
      EXPECT_FALSE(info.description.empty()) << info.name;
      EXPECT_NE(info.layers, 0) << info.name;
      EXPECT_TRUE(info.not_expressible.empty()) << info.name;
      if (info.kind == spec::MutantKind::historical) {
        EXPECT_FALSE(info.commit.empty()) << info.name;
      }
    } else {
      EXPECT_FALSE(spec::parse_mutant(info.name)) << info.name;
      EXPECT_FALSE(info.not_expressible.empty()) << info.name;
      EXPECT_EQ(info.layers, 0) << info.name;
    }
  }
  EXPECT_EQ(expressible, spec::kNrMutants);
  EXPECT_EQ(spec::all_mutants().size() + spec::interleaving_mutants().size(), spec::kNrMutants - 1);
  EXPECT_EQ(spec::interleaving_mutants().size(), 4u);
  EXPECT_EQ(spec::interleaving_mutants(spec::kLayerImpl).size(), 3u);
  EXPECT_FALSE(spec::parse_mutant("no_such_mutant"));
}

// The bug catalog and the mutant catalog point at each other: every bug is
// re-injected by a catalogued entry (a mutant, or the reason the sequential
// v6.6 model cannot express it), and every historical mutant re-injects a bug
// of the catalog.
TEST(MutantCatalog, CoversEveryBugCatalogEntry) {
  std::set<std::string_view> named_by_bugs;
  for (const auto& bug : spec::kernel_bug_catalog()) {
    EXPECT_FALSE(bug.entries.empty()) << bug.fix;
    for (auto name : bug.entries) {
      named_by_bugs.insert(name);
      bool found = false;
      for (const auto& info : spec::mutant_catalog()) found |= info.name == name;
      EXPECT_TRUE(found) << bug.fix << " names " << name << ", which is not in the mutant catalog";
    }
  }
  EXPECT_GE(spec::kernel_bug_catalog().size(), 10u);
  for (const auto& info : spec::mutant_catalog())
    if (info.kind == spec::MutantKind::historical) {
      EXPECT_TRUE(named_by_bugs.count(info.name))
          << info.name << " is historical but no bug of spec::kernel_bug_catalog() names it";
    }
  std::string markdown = spec::render_mutants_markdown();
  for (const auto& info : spec::mutant_catalog())
    if (info.mutant != spec::Mutant::none) {
      EXPECT_NE(markdown.find("`" + std::string(info.name) + "`"), std::string::npos) << info.name;
    }
  for (const auto& bug : spec::kernel_bug_catalog())
    EXPECT_NE(markdown.find(std::string(bug.title)), std::string::npos) << bug.fix;
}

// The header note check and mutants write is what `replay --mutant auto`
// reads back: the model and every catalog name survive the round trip, and a
// note that says nothing about replaying names nothing.
TEST(ReplayNote, RoundTripsTheModelAndEveryMutant) {
  for (auto mutant : spec::all_mutants()) {
    for (std::string_view model : {"both", "impl", "reference", "reference,kernel"}) {
      const auto note = replay_note("found by a test (--mutant decoy)", model, mutant);
      const auto hint = replay_hint(note);
      EXPECT_EQ(hint.model, model) << note;
      EXPECT_EQ(hint.mutant, spec::mutant_name(mutant)) << note;
    }
  }
  const auto plain = replay_hint(replay_note("found", "both", spec::Mutant::none));
  EXPECT_EQ(plain.model, "both");
  EXPECT_EQ(plain.mutant, "");
  EXPECT_EQ(replay_hint("a hand-written trace --model impl --mutant canary").mutant, "");
  const auto kernel = replay_hint(replay_note("found", "reference,kernel", spec::Mutant::none) +
                                  " --kernel-mutant canary");
  EXPECT_EQ(kernel.model, "reference,kernel");
  EXPECT_EQ(kernel.mutant, "");
  const auto trace = with_header_note("{\"profile\":\"v6.6\",\"note\":\"old\"}\n{\"op\":\"x\"}\n", "new");
  EXPECT_EQ(trace, "{\"profile\":\"v6.6\",\"note\":\"new\"}\n{\"op\":\"x\"}\n");
}

class EveryMutant : public ::testing::TestWithParam<spec::Mutant> {};

TEST_P(EveryMutant, IsKilledAndItsCounterexampleReplays) {
  const auto result = run_mutant_campaign(GetParam(), budget());
  ASSERT_TRUE(result.error.empty()) << result.error;
  ASSERT_TRUE(result.killed) << describe(result);
  EXPECT_GE(result.shrunk_steps, 1u);
  EXPECT_GE(result.steps_to_kill, result.shrunk_steps);
  EXPECT_LE(result.runs_to_kill, 1000u);
  ASSERT_TRUE(result.failure);
  EXPECT_FALSE(result.reproduce_token.empty());
  std::string why;
  EXPECT_TRUE(replay_reproduces(result, false, &why)) << describe(result) << ": " << why;
}

INSTANTIATE_TEST_SUITE_P(Catalog, EveryMutant, ::testing::ValuesIn(spec::all_mutants()),
                         [](const auto& info) { return std::string(spec::mutant_name(info.param)); });

TEST(MutantCampaign, CanaryDiesAtOnce) {
  const auto result = run_mutant_campaign(spec::Mutant::canary, budget());
  ASSERT_TRUE(result.killed);
  EXPECT_LE(result.steps_to_kill, 5u);
  EXPECT_EQ(result.shrunk_steps, 1u);  // the first mkdir
  EXPECT_EQ(result.kind, "disagreement");
  EXPECT_EQ(result.invariants, std::vector<std::string>{"INV-REF-BALANCE"});
}

// The bars of the whole catalog; the numbers are printed for the report.
TEST(MutantCampaign, MedianStepsToKillAndShrunkLengthMeetTheBars) {
  std::vector<double> steps, shrunk, seconds;
  for (auto mutant : spec::all_mutants()) {
    const auto r = run_mutant_campaign(mutant, budget());
    ASSERT_TRUE(r.killed) << describe(r);
    std::cout << "  " << spec::mutant_name(mutant) << ": " << r.steps_to_kill << " steps, "
              << r.seconds_to_kill << " s, shrunk " << r.shrunk_steps << " (" << killed_by_text(r)
              << ")\n";
    steps.push_back(static_cast<double>(r.steps_to_kill));
    shrunk.push_back(static_cast<double>(r.shrunk_steps));
    seconds.push_back(r.seconds_to_kill);
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  };
  std::cout << "median steps to kill " << median(steps) << ", median seconds " << median(seconds)
            << ", median shrunk " << median(shrunk) << "\n";
  EXPECT_LE(median(steps), 10000);
  EXPECT_LE(median(shrunk), 8);
}

// The mutated impl in both seats (the reference has no mutants): the two
// agree step for step, so only a violated invariant can end a run.
// Three mutants keep every invariant: a different but conserving policy
// (thresholds, a smaller percpu charge); only the comparison with the correct
// reference catches them.
TEST(MutantCampaign, InvariantsAloneKillMost) {
  const std::set<spec::Mutant> only_the_comparison = {spec::Mutant::percpu_without_metadata,
                                                      spec::Mutant::refill_obj_stock_at_page_size,
                                                      spec::Mutant::refill_stock_at_batch};
  auto options = budget();
  options.invariants_only = true;
  for (auto mutant : spec::all_mutants()) {
    ASSERT_TRUE(spec::mutant_in_layer(mutant, spec::kLayerImpl) ||
                spec::mutant_in_layer(mutant, spec::kLayerOverlay));
    const auto r = run_mutant_campaign(mutant, options);
    ASSERT_TRUE(r.error.empty()) << r.error;
    if (only_the_comparison.count(mutant)) {
      EXPECT_FALSE(r.killed) << describe(r);
      continue;
    }
    ASSERT_TRUE(r.killed) << describe(r);
    EXPECT_EQ(r.kind, "violation") << describe(r);
    EXPECT_FALSE(r.invariants.empty()) << describe(r);
    std::string why;
    EXPECT_TRUE(replay_reproduces(r, true, &why)) << describe(r) << ": " << why;
  }
}

// GONG Ruiqi's stock fix reverted on v5.3 (an overlay: the reference booted
// with the 5.4 stock before the fix, the stock of v5.2): the campaign runs it
// on v5.3, the one profile with the fix, in both seats, and INV-REF-BALANCE
// kills it at the first refill that caches a memcg. The UAF itself, by hand
// (batch 32, 4K pages): the stock of 31 pages is consumed to 0 by orders
// 4+3+2+1+0, the pages are freed, the task moves out and /b is removed: the
// correct v5.3 keeps /b dying on the stock's reference, the mutant frees it
// while the stock still caches it (INV-NO-UAF stock-dangling, not the known
// bug it is on v5.2).
TEST(OverlayMutant, StockCachedUnreferencedIsV52sStockOnV53) {
  const auto r = run_mutant_campaign(spec::Mutant::stock_cached_unreferenced, budget());
  ASSERT_TRUE(r.killed) << describe(r);
  EXPECT_EQ(r.profile, spec::Profile::v5_3);
  EXPECT_EQ(r.kind, "violation");
  EXPECT_EQ(r.invariants, std::vector<std::string>{"INV-REF-BALANCE"});
  std::string why;
  EXPECT_TRUE(replay_reproduces(r, false, &why)) << why;
  EXPECT_NE(r.failure->trace_jsonl.find("--model reference --mutant stock_cached_unreferenced"),
            std::string::npos);
  EXPECT_FALSE(spec::mutant_applies(spec::Mutant::stock_cached_unreferenced,
                                    spec::traits(spec::Profile::v5_2)));

  std::string text = R"({"profile":"v5.3","cpus":1,"page_size":4096})" "\n"
                     R"({"op":"mkdir","cg":"/b"})" "\n"
                     R"({"op":"spawn","task":"t0","cg":"/b","cpu":0})" "\n";
  const int orders[] = {0, 4, 3, 2, 1, 0};
  for (int i = 0; i < 6; ++i)
    text += R"({"op":"alloc","task":"t0","obj":"o)" + std::to_string(i) +
            R"(","kind":"page","order":)" + std::to_string(orders[i]) + "}\n";
  for (int i = 0; i < 6; ++i) text += R"({"op":"free","obj":"o)" + std::to_string(i) + "\"}\n";
  text += R"({"op":"migrate","task":"t0","cg":"/"})" "\n"
          R"({"op":"rmdir","cg":"/b"})" "\n"
          R"({"op":"quiesce"})" "\n";
  std::istringstream in(text);
  const auto t = trace::read_trace(in, "gong.jsonl");
  ASSERT_FALSE(t.error) << t.error->what();
  const auto clean = trace::replay(t, trace::ModelChoice::reference);
  EXPECT_EQ(clean.exit_code(), 0) << clean.verdict();
  const auto mutated =
      trace::replay(t, trace::ModelChoice::reference, spec::Mutant::stock_cached_unreferenced);
  bool dangling = false;
  for (const auto& v : mutated.violations)
    if (v.violation.invariant == "INV-NO-UAF") {
      EXPECT_EQ(v.violation.clause, "stock-dangling");
      EXPECT_EQ(v.line, 18u);  // the quiesce: /b's offline and free
      EXPECT_TRUE(v.violation.known_bug.empty());
      dangling = true;
    }
  EXPECT_TRUE(dangling) << mutated.verdict();
}

// The interleaving mutants (memcg-verify explore kills them,
// tests/explore_explore_test.cc): every sequential run of each is correct, so
// the conformance campaign cannot tell them from the correct impl.
TEST(MutantCampaign, InterleavingMutantsSurviveTheSequentialCampaign) {
  auto options = budget();
  options.runs = 300;
  // The overlay ones (reference-only profiles) survive `check`: tests/cli_check_test.cc.
  for (auto mutant : spec::interleaving_mutants(spec::kLayerImpl)) {
    ASSERT_EQ(spec::mutant_info(mutant).kind, spec::MutantKind::interleaving);
    ASSERT_TRUE(spec::mutant_in_layer(mutant, spec::kLayerImpl));
    const auto r = run_mutant_campaign(mutant, options);
    EXPECT_TRUE(r.error.empty()) << r.error;
    EXPECT_FALSE(r.killed) << describe(r);
    EXPECT_EQ(r.runs, 300u);
  }
}

TEST(MutantCampaign, TheCorrectModelSurvivesItsOwnCampaign) {
  auto options = budget();
  options.runs = 200;
  const auto result = run_mutant_campaign(spec::Mutant::none, options);
  EXPECT_FALSE(result.killed) << describe(result);
  EXPECT_TRUE(result.error.empty()) << result.error;
  EXPECT_EQ(result.runs, 200u);
}

}  // namespace
}  // namespace mv::properties
