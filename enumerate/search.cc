#include "enumerate/search.h"

#include <chrono>
#include <memory>
#include <unordered_set>

#include <fmt/format.h>

#include "enumerate/state_key.h"
#include "properties/failure_trace.h"

namespace mv::enumerate {

namespace {

using Word = std::vector<std::uint8_t>;  // letter indices after the prologue

struct Run {
  std::unique_ptr<properties::Conformance> sut;
  bool last_skipped = false;  // the last letter had nothing to act on
};

// A fresh lock-step run of the prologue and `word`: the models cannot be
// copied, so each string is run from the start (the prefix was checked when
// it was reached; it passes again).
Run run_word(const SearchOptions& o, const std::vector<Letter>& start,
             const std::vector<Letter>& alphabet, const Word& word) {
  Run run;
  run.sut = std::make_unique<properties::Conformance>(
      o.config, properties::impl_factory(o.mutant), "impl", properties::CheckMode::full);
  run.sut->monitor_subject = true;
  for (const auto& letter : start) run.sut->run(letter.recipe);
  for (std::size_t i = 0; i < word.size() && !run.sut->failure(); ++i) {
    const std::size_t before = run.sut->steps().size();
    run.sut->run(alphabet[word[i]].recipe);
    run.last_skipped = run.sut->steps().size() == before && !run.sut->failure();
  }
  return run;
}

Counterexample counterexample(const SearchOptions& o, const std::vector<Letter>& alphabet,
                              const Word& word, const properties::Conformance& sut) {
  Counterexample c;
  for (auto index : word) c.letters.push_back(alphabet[index].name);
  c.failure = *sut.failure();
  c.trace_jsonl = properties::trace_jsonl(
      o.config, sut.names(), sut.steps(),
      fmt::format("memcg-verify enumerate: shortest counterexample ({} at line {}); replay: "
                  "memcg-verify replay FILE --model both{}",
                  c.failure.kind, c.failure.line,
                  o.mutant == spec::Mutant::none
                      ? std::string()
                      : fmt::format(" --mutant {}", spec::mutant_name(o.mutant))));
  return c;
}

}  // namespace

SearchResult search(const SearchOptions& o) {
  const auto start_letters = prologue();
  const auto alphabet = small_alphabet(o.config);
  SearchResult result;
  result.alphabet_size = alphabet.size();
  const auto t0 = std::chrono::steady_clock::now();
  std::unordered_set<std::string> seen;
  std::vector<Word> frontier;

  Run root = run_word(o, start_letters, alphabet, {});
  result.sequences = 1;
  result.steps += root.sut->steps().size();
  if (root.sut->failure()) {
    result.violations = 1;
    result.first = counterexample(o, alphabet, {}, *root.sut);
  } else {
    seen.insert(state_key(*root.sut));
    frontier.push_back({});
  }
  result.levels.push_back({0, 1, seen.size()});

  for (std::uint32_t depth = 1; depth <= o.depth && !frontier.empty(); ++depth) {
    LevelStats level{depth, 0, 0};
    std::vector<Word> next;
    for (const auto& word : frontier) {
      for (std::size_t letter = 0; letter < alphabet.size(); ++letter) {
        Word longer = word;
        longer.push_back(static_cast<std::uint8_t>(letter));
        Run run = run_word(o, start_letters, alphabet, longer);
        result.steps += run.sut->steps().size();
        if (run.last_skipped) continue;  // not a new string: the letter did nothing
        ++level.sequences;
        if (run.sut->failure()) {
          ++result.violations;
          if (!result.first) result.first = counterexample(o, alphabet, longer, *run.sut);
          continue;  // a failing state is not extended
        }
        if (!o.dedup || seen.insert(state_key(*run.sut)).second) {
          ++level.new_states;
          next.push_back(std::move(longer));
        }
      }
    }
    result.sequences += level.sequences;
    result.levels.push_back(level);
    frontier = std::move(next);
  }
  result.states = o.dedup ? seen.size() : 0;
  if (!o.dedup)
    for (const auto& level : result.levels) result.states += level.new_states;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return result;
}

}  // namespace mv::enumerate
