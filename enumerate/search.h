// Exhaustive small-scope search (`memcg-verify enumerate`): every string over
// the alphabet (enumerate/alphabet.h) up to a depth, after the prologue, run on
// the reference and the impl in lock-step with every invariant checked at
// every state (properties/conformance.h, full snapshots, both Monitors).
// Breadth first over states, not strings: a string whose end state has a key
// (enumerate/state_key.h) seen before is checked but not extended, so each
// distinct state is expanded once, at the smallest depth it is reached. The
// first failure found is therefore a shortest counterexample, kept as a trace.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "enumerate/alphabet.h"
#include "properties/conformance.h"
#include "spec/mutant.h"
#include "spec/profile.h"

namespace mv::enumerate {

struct SearchOptions {
  spec::Config config;  // 2 CPUs, 4K pages unless told
  std::uint32_t depth = 4;
  bool dedup = true;  // false: every string is extended (a search over strings)
  spec::Mutant mutant = spec::Mutant::none;  // injected into the impl (teeth)
};

struct LevelStats {
  std::uint32_t depth = 0;
  std::uint64_t sequences = 0;  // strings of this length that ran (no letter skipped)
  std::uint64_t new_states = 0;
};

struct Counterexample {
  std::vector<std::string> letters;  // after the prologue
  properties::StepFailure failure;
  std::string trace_jsonl;  // prologue and letters, replayable with --model both
};

struct SearchResult {
  std::size_t alphabet_size = 0;
  std::uint64_t sequences = 0;  // strings checked (the empty one, after the prologue, included)
  std::uint64_t states = 0;     // distinct states reached
  std::uint64_t steps = 0;      // operations run, prologue replays included
  std::uint64_t violations = 0;  // strings whose last step failed
  double seconds = 0;
  std::vector<LevelStats> levels;
  std::optional<Counterexample> first;
  double states_per_second() const { return seconds > 0 ? static_cast<double>(states) / seconds : 0; }
};

SearchResult search(const SearchOptions& options);

}  // namespace mv::enumerate
